// Anti-rollback state on the target, per container name, in a state directory:
//   "<state_dir>/<name>.version"           the highest installed version
//   "<state_dir>/<name>.security_version"  the rollback index floor (like
//                                          AVB's rollback index): never lowered
// Each is decimal + "\n", updated atomically (temp file, fsync, rename, fsync
// of the directory; a power cut leaves the old or the new value) under an
// flock of the directory, so two writers never lower each other's value.
// A missing record is not "0": verifier::Store rebuilds it from the installed
// slots (store.h). Target-safe.
//
// The store uses the *_at forms: the state directory held open (StateDir),
// checked through that fd, and every record read, written, renamed and
// fsynced beneath it, so a directory on the way swapped for a symlink after
// the check cannot send a record elsewhere. The path forms (nestbox verify,
// tests) open the directory once and call them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.h"

namespace nestbox::verifier {

// A directory held open: `fd` for every operation, `path` only in messages.
struct StateDir {
  int fd = -1;
  std::string path;
};

// A container name usable as a file name: [A-Za-z0-9._-], 1..63 bytes, not
// starting with '.'.
Status check_container_name(const std::string& name);

// The recorded version; 0 when nothing was ever installed under `name`.
Result<uint64_t> read_installed_version(const std::string& state_dir, const std::string& name);
// The same, nullopt when there is no record (to tell "never" from "lost").
Result<std::optional<uint64_t>> read_version_record(const std::string& state_dir, const std::string& name);

// Records `version` for `name`. Refuses to lower the recorded version unless
// `allow_downgrade`.
Status record_installed_version(const std::string& state_dir, const std::string& name, uint64_t version,
                                bool allow_downgrade);

// The recorded rollback index of `name`; nullopt when there is no record.
// A record that is not a regular file or not a decimal number is an error.
Result<std::optional<uint64_t>> read_security_version(const std::string& state_dir, const std::string& name);

// Raises the recorded rollback index of `name` to `index`; a lower or equal
// `index` leaves the record as it is (it is never lowered), and so does 0
// when there is no record. Creates `state_dir` (mode 0700) when missing.
Status raise_security_version(const std::string& state_dir, const std::string& name, uint64_t index);

// The same beneath a held directory (which must exist).
Result<std::optional<uint64_t>> read_version_record_at(const StateDir& dir, const std::string& name);
Status record_installed_version_at(const StateDir& dir, const std::string& name, uint64_t version,
                                   bool allow_downgrade);
Result<std::optional<uint64_t>> read_security_version_at(const StateDir& dir, const std::string& name);
Status raise_security_version_at(const StateDir& dir, const std::string& name, uint64_t index);

}  // namespace nestbox::verifier
