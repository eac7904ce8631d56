// The trial record of a container in the store (install --trial): the newly
// installed slot's next start is provisional until `boot` has seen it stay up
// for the set time. docs/launcher.md, "Trial installs".
//
//   <root>/<name>/trial         slot, version, seconds, state (pending|started)
//   <root>/<name>/trial-result  the last trial's outcome, version and reason
//
// Both are "key=value" lines written aside, fsynced and renamed, then the
// directory fsynced: a power cut leaves the old record or the new one. The
// record is written before the pointer flips to the trial slot and moved to
// "started" before that slot is started, so a trial that was never judged
// (launcher SIGKILLed, power lost) is found "started" at the next boot and
// rolled back. Target-safe.
//
// `dir` is the container's directory held open by the store: records are
// read, written (O_EXCL | O_NOFOLLOW temp, renameat), removed (unlinkat) and
// fsynced beneath that fd, never by joining its path again.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "util/result.h"
#include "verifier/rollback_state.h"

namespace nestbox::verifier {

struct TrialRecord {
  char slot = 'a';        // the slot on trial
  uint64_t version = 0;   // its version
  uint32_t seconds = 0;   // how long it must stay up
  bool started = false;   // a boot started it and has not judged it yet
};

struct TrialResult {
  std::string outcome;  // "committed" or "rolled-back"
  uint64_t version = 0;  // the trial's version
  std::string reason;  // why it was rolled back; empty when committed
};

// The longest trial accepted (a day): a longer one is a typo.
inline constexpr uint32_t kMaxTrialSeconds = 86400;

// nullopt when there is none; a record that is not a regular file or does
// not parse is an error (never read as "no trial").
Result<std::optional<TrialRecord>> read_trial(const StateDir& dir);
Status write_trial(const StateDir& dir, const TrialRecord& t);
Status remove_trial(const StateDir& dir);

Result<std::optional<TrialResult>> read_trial_result(const StateDir& dir);
Status write_trial_result(const StateDir& dir, const TrialResult& r);

}  // namespace nestbox::verifier
