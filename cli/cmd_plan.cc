// nestbox plan MANIFEST... [--json]: the four rootfs strategies compared on
// the containers' real content (flash estimated by compressing, page cache
// shared, standalone or not). Writes nothing but a scratch dir it removes.
#include <stdlib.h>

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "composer/compose.h"
#include "composer/plan.h"
#include "composer/select.h"
#include "composer/squashfs/image_writers.h"
#include "manifests/manifest.h"
#include "util/temp_path.h"

namespace nestbox::cli {

Runner define_plan(CLI::App& sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<unsigned>(0);
  auto measure = std::make_shared<bool>(false);
  auto staging = std::make_shared<std::string>();
  sub.add_flag("--measure", *measure,
               "Write the squashfs and overlay images (scratch, removed) and report their real "
               "sizes instead of the estimate");
  sub.add_option("manifests", *files, "Manifest files")->required();
  sub.add_flag("--json", *json, "Print JSON instead of a table");
  sub.add_option("--threads", *threads, "Worker threads (default: one per core)");
  sub.add_option("--staging", *staging, kStagingHelp);
  return [files, json, threads, measure, staging] {
    auto loaded = load_manifest_set(*files, *staging);
    if (!loaded.ok()) return report("plan", loaded.error());
    std::vector<manifests::Manifest>& ms = *loaded;
    auto sde = composer::source_date_epoch_from_env();
    if (!sde.ok()) return report("plan", sde.error());
    auto scratch = TempDir::create((std::filesystem::temp_directory_path() / "nestbox-plan-").string());
    if (!scratch.ok()) return report("plan", scratch.error());
    const std::string& tmpl = scratch->path();
    std::vector<composer::ComposedContainer> cs;
    std::vector<std::string> notes;
    for (const auto& m : ms) {
      auto c = composer::prepare_container(m, tmpl + "/" + m.name, *sde, &notes);
      if (!c.ok()) return report("plan", c.error());
      cs.push_back(std::move(*c));
    }
    std::vector<composer::FsTree*> trees;
    for (auto& c : cs) trees.push_back(&c.tree);
    auto index = composer::ContentIndex::build(trees, *threads);
    if (!index.ok()) return report("plan", index.error());
    auto plan = composer::make_plan(cs, *index, *threads);
    if (!plan.ok()) return report("plan", plan.error());
    if (*measure) {
      composer::squashfs::ImageOptions io;
      io.threads = *threads;
      auto m = composer::squashfs::measure_flash(cs, tmpl + "/measure", io);
      if (!m.ok()) return report("plan", m.error());
      plan->measured_squashfs = m->squashfs_bytes;
      plan->measured_overlay = m->overlay_bytes;
    }
    std::cout << (*json ? composer::plan_to_json(*plan) : composer::plan_to_text(*plan));
    return kExitOk;
  };
}

}  // namespace nestbox::cli
