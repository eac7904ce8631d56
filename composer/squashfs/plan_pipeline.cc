#include "composer/squashfs/plan_pipeline.h"

#include <filesystem>

#include "composer/compose.h"
#include "composer/content_index.h"
#include "composer/squashfs/image_writers.h"
#include "composer/squashfs/runtime_measure.h"
#include "util/temp_path.h"

namespace nestbox::composer::squashfs {

Result<Plan> plan_manifests(const std::vector<manifests::Manifest>& ms, const PlanRunOptions& opts) {
  auto scratch = TempDir::create((std::filesystem::temp_directory_path() / "nestbox-plan-").string());
  if (!scratch.ok()) return std::move(scratch).error();
  const std::string& tmpl = scratch->path();
  std::vector<ComposedContainer> cs;
  std::vector<std::string> notes;
  for (const auto& m : ms) {
    auto c = prepare_container(m, tmpl + "/" + m.name, opts.source_date_epoch, &notes);
    if (!c.ok()) return std::move(c).error();
    cs.push_back(std::move(*c));
  }
  std::vector<FsTree*> trees;
  for (auto& c : cs) trees.push_back(&c.tree);
  auto index = ContentIndex::build(trees, opts.threads);
  if (!index.ok()) return std::move(index).error();
  auto plan = make_plan(cs, *index, opts.threads);
  if (!plan.ok()) return plan;
  if (opts.measure) {
    ImageOptions io;
    io.threads = opts.threads;
    io.progress = opts.progress;
    if (opts.source_date_epoch) io.mkfs_time = static_cast<uint32_t>(*opts.source_date_epoch);
    auto m = measure_flash(cs, tmpl + "/measure", io);
    if (!m.ok()) return std::move(m).error();
    plan->measured_squashfs = m->squashfs_bytes;
    plan->measured_overlay = m->overlay_bytes;
    // The images written are what an upgrade downloads.
    plan->rows[0].manage.upgrade_download_bytes = m->squashfs_image_bytes;
    plan->rows[1].manage.upgrade_download_bytes = m->layer_image_bytes;
    // The flash figures stand without privileges; memory and read times
    // need mounts: when they cannot be taken the plan says why.
    auto runtime = measure_runtime(cs, *index, *m, tmpl + "/measure");
    if (!runtime.ok()) {
      plan->runtime_unmeasured = runtime.error().message;
    } else {
      for (size_t i = 0; i < plan->rows.size() && i < runtime->size(); ++i)
        plan->rows[i].runtime = std::move((*runtime)[i]);
    }
  }
  return plan;
}

}  // namespace nestbox::composer::squashfs
