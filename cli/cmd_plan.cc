// nestbox plan MANIFEST... [--json]: the four rootfs strategies compared on
// the containers' real content (flash estimated by compressing, page cache
// shared, standalone or not, manageability; --measure: real images, memory
// and cold reads). Writes nothing but a scratch dir it removes.
#include <iostream>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "cli/progress_line.h"
#include "composer/plan.h"
#include "composer/squashfs/plan_pipeline.h"
#include "util/source_date_epoch.h"

namespace nestbox::cli {

Runner define_plan(CLI::App& sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<unsigned>(0);
  auto measure = std::make_shared<bool>(false);
  auto staging = std::make_shared<std::string>();
  sub.add_flag("--measure", *measure,
               "Write the squashfs and overlay images and the tree (scratch, removed), report their "
               "real sizes, and mount each layout to measure the page cache the containers share "
               "and each container's cold read time (needs root and loop devices)");
  sub.add_option("manifests", *files, "Manifest files")->required();
  sub.add_flag("--json", *json, "Print JSON instead of a table");
  sub.add_option("--threads", *threads, "Worker threads (default: one per core)");
  sub.add_option("--staging", *staging, kStagingHelp);
  return [files, json, threads, measure, staging] {
    auto loaded = load_manifest_set(*files, *staging);
    if (!loaded.ok()) return report("plan", loaded.error());
    auto sde = source_date_epoch_from_env();
    if (!sde.ok()) return report("plan", sde.error());
    // --measure writes every image: its progress on a terminal.
    ProgressLine progress(ProgressLine::wanted(false));
    auto plan = composer::squashfs::plan_manifests(*loaded, {*threads, *measure, *sde, progress.callback()});
    if (!plan.ok()) return report("plan", plan.error());
    std::cout << (*json ? composer::plan_to_json(*plan) : composer::plan_to_text(*plan));
    return kExitOk;
  };
}

}  // namespace nestbox::cli
