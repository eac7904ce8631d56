// The performance half of `nestbox plan --measure`: what running containers
// cost in memory and read time through each strategy's real layout.
//
//   squashfs       each container's image on its own loop device and mount
//   overlay        the base image mounted once, each layer mounted, and an
//                  overlay(layer:base) per container, as the launcher stacks it
//   host-hardlink  the host staging rootfs's own files (the inodes its trees
//                  link to); what is not linked is read from the tree layout
//   tree           the hardlinked trees, written in the scratch directory
//
// Two passes per strategy. Cold: for each container, the caches of its
// backing files are dropped (fdatasync + POSIX_FADV_DONTNEED, a fresh loop
// device and mount), then the time to mount and read every file is taken.
// Shared: with the layout mounted once, every container reads its whole
// rootfs; the page cache then held by the files (mincore over distinct
// inodes) against the pages read is the memory the containers share.
//
// The mounts are made in a child process in a private mount namespace: they
// (and their autoclear loop devices) go when it exits, however it exits.
// Needs CAP_SYS_ADMIN and loop devices.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "composer/compose.h"
#include "composer/content_index.h"
#include "composer/plan.h"
#include "composer/squashfs/image_writers.h"
#include "util/result.h"

namespace nestbox::composer::squashfs {

// Figures in the plan's row order: squashfs, overlay, host-hardlink, tree.
// `images` are measure_flash's; the tree layout and mount points go beneath
// `scratch` (an existing, empty directory the caller removes).
Result<std::vector<RuntimeFigures>> measure_runtime(std::span<const ComposedContainer> containers,
                                                    const ContentIndex& index,
                                                    const MeasuredFlash& images,
                                                    const std::string& scratch);

}  // namespace nestbox::composer::squashfs
