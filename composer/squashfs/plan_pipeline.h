// The pipeline behind `nestbox plan`: each manifest's sources selected as
// compose selects them, one content index over all, the four strategies
// compared, and with `measure` the squashfs and overlay images really written
// (to a scratch directory that is removed) for their flash sizes. It lives
// here, beside the image writers it measures with, so the front end only
// parses, calls and prints.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "composer/plan.h"
#include "composer/progress.h"
#include "manifests/manifest.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

struct PlanRunOptions {
  unsigned threads = 0;                      // 0: one per core
  bool measure = false;                      // write the images for real sizes
  std::optional<int64_t> source_date_epoch;  // as compose would clamp
  ProgressFn progress;                       // measure: each image written (composer/progress.h)
};

Result<Plan> plan_manifests(const std::vector<manifests::Manifest>& ms, const PlanRunOptions& opts);

}  // namespace nestbox::composer::squashfs
