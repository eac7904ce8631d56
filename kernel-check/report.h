// The kernel-check report: which facilities this kernel has, and per
// container whether it can enforce what the container's policy uses.
// Target-safe: built from a kernel config on the host (kernel_check.h) or by
// probing the running kernel on the device (probe.h); rendered the same way.
//
// Order of use: fill Report::facilities (one status per checked facility),
// then add_containers(), then render_text() / render_json().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

enum class State : uint8_t {
  kAvailable,  // built in
  kModule,     // built as a module: available once loaded
  kMissing,    // not configured / not present
  kTooOld,     // the kernel predates the facility
  kUnknown,    // the probe cannot tell on a running kernel
  kUnusable,   // the kernel has it, this host cannot use it now (detail: why,
               // e.g. no disk uses an I/O scheduler that honours weights)
};
const char* to_string(State s);
inline bool enforceable(State s) { return s == State::kAvailable || s == State::kModule; }

struct FacilityStatus {
  const Facility* facility = nullptr;
  State state = State::kUnknown;
  std::string detail;  // evidence: "CONFIG_USER_NS=y", "/proc/self/ns/user", "needs 4.6"
  std::string enable;  // kMissing: the CONFIG_ symbols to enable
};

// One feature a container's policy uses and the manifest key that uses it.
struct Requirement {
  Feature feature;
  std::string key;  // "namespaces.user", "network.interfaces[0].type"
};

struct ContainerNeeds {
  std::string name;
  std::string file;  // manifest or policy the needs came from
  std::vector<Requirement> requirements;
  std::optional<Version> kernel_min;  // the manifest's own minimum kernel
};

struct Use {
  Requirement requirement;
  State state = State::kUnknown;
  std::string enable;  // missing: what to enable; too old: "kernel >= X"
};

struct ContainerVerdict {
  std::string name, file;
  std::vector<Use> uses;
  std::optional<Version> kernel_min;
  bool kernel_min_ok = true;
  bool enforceable() const;
};

struct Report {
  std::string source;          // "config /path/.config" or "running kernel"
  std::string arch;            // from the config header or uname, may be empty
  Version version;
  std::string version_source;  // "--kernel-version", "config header", "uname -r"
  std::vector<FacilityStatus> facilities;
  std::vector<ContainerVerdict> containers;

  const FacilityStatus* find(Feature f) const;
  const FacilityStatus* find(std::string_view name) const;
  // True when every container can be enforced (vacuously with no containers).
  bool all_enforceable() const;
};

// Checks each container's requirements against report->facilities. A feature
// that has no status in the report counts as unknown (not enforceable).
void add_containers(Report* report, const std::vector<ContainerNeeds>& containers);

// The talk's table (facility x available/module/missing/too old), every
// facility by category, then the per-container verdicts.
std::string render_text(const Report& report);
// The same as one JSON object (stable key order; schema in docs/kernel-check.md).
std::string render_json(const Report& report);

}  // namespace nestbox::kernel_check
