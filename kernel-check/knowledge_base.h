// The knowledge base: every facility kernel-check knows, as one table. The
// requirable features of features.h come first (indexed by Feature), then the
// rows no policy can require but lxc-checkconfig and moby's check-config.sh
// check (netfilter, checkpoint/restore, storage drivers, ...), so one report
// answers everything those scripts answer. Documented in docs/kernel-check.md.
#pragma once

#include <span>
#include <string_view>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

// kFeatures followed by the informational rows (bit == -1).
std::span<const Facility> knowledge_base();

// The row called `name`, or nullptr.
const Facility* find_facility(std::string_view name);

}  // namespace nestbox::kernel_check
