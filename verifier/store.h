// The on-target container store: two slots per container, an atomically
// flipped active pointer, rollback. Target-safe (libc + libcrypto). Used by
// nestbox-launch install / rollback / list / boot.
//
//   <root>/<name>/slot-a.img, slot-b.img   the two slots
//   <root>/<name>/active                   "a\n" or "b\n" (temp + fsync + rename)
//   <root>/<name>/lock                     flock: one writer per container
//   <root>/.state/<name>.version           anti-rollback state (rollback_state.h)
//   <root>/.state/<name>.security_version  the rollback index floor
//                                          (.state: StoreOptions::rollback_dir when set)
//
// The store's directories must be real directories (no symlink) owned by
// root and writable by nobody else; the lock must be a regular file.
// Every image and slot is opened once (verifier::open_image: no symlink, no
// FIFO, a regular file) and verified, copied and handed to the loop device
// through that fd, never through its path again.
// install(): verify the source fully, check arch/compat/anti-rollback, copy
// the same fd into a temp file beside the inactive slot, verify the written
// copy fully through its fd (what lands in the slot is what was verified),
// rename it into the slot, flip `active` (temp, fsync, rename, fsync dir),
// record the version and raise the rollback index. The active slot is never
// written, so a power cut at any step leaves the old version (or, once the
// flip is durable, the new one) bootable.
// bootable() verifies the active slot and falls back to the other slot when the
// active one fails or the pointer is unreadable: never neither. Neither slot
// is ever used when its security_version is below the device's floor
// (floor(): the record, rebuilt from the slots when it is missing).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "verifier/trial_state.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

struct StoreOptions {
  std::string root;
  Keyring keyring;
  DeviceIdentity device;
  // Where the anti-rollback records live; empty: <root>/.state. A store on
  // media others can write (a USB disk) keeps them here instead, on the
  // device's own flash: whoever writes the store could otherwise lower them.
  std::string rollback_dir;
};

struct SlotStatus {
  char slot = 'a';
  bool present = false;
  bool active = false;
  uint64_t version = 0;        // from the slot's metadata (structure checked, not the signature)
  std::string version_string;
  std::string problem;         // why the slot's header could not be read
};

struct ContainerStatus {
  std::string name;
  std::vector<SlotStatus> slots;  // a, b
  std::optional<TrialRecord> trial;      // a live trial (install --trial)
  std::optional<TrialResult> last_trial;  // how the last one ended
  std::string trial_problem;              // a trial record that does not read
};

struct BootImage {
  std::string path;
  std::shared_ptr<UniqueFd> fd;  // the slot as verified: mount this, never `path`
  char slot = 'a';
  ImageInfo info;
  bool fell_back = false;  // the active slot failed; this is the other one
  std::string active_problem;  // why, when fell_back
};

// Called at each durable step of install/rollback ("copy", "slot-renamed",
// "pointer-renamed", ...); tests kill the process there.
using StepHook = std::function<void(const char* step)>;

// The device's anti-rollback floor of one container.
struct RollbackFloor {
  uint64_t version = 0;           // install refuses lower (unless --allow-downgrade)
  uint64_t security_version = 0;  // nothing runs or installs lower, ever
};

class Store {
 public:
  explicit Store(StoreOptions options) : o_(std::move(options)) {}

  // `up_to_date` (install --if-newer, the first-boot install of the images a
  // firmware ships): when given, an image whose version is not above the
  // installed one (with a bootable slot) is verified but not installed; it
  // is set true and the image's info returned, the store left as it was.
  //
  // `trial_seconds` > 0 (install --trial): the new slot's next start is
  // provisional. The trial record is written (durably) before the pointer
  // flips; the version record and the rollback index are left where the
  // committed version put them until commit_trial(). Needs a bootable
  // committed version to fall back to, and no other trial live.
  Result<ImageInfo> install(const std::string& image_path, bool allow_downgrade, const StepHook& hook = {},
                            bool* up_to_date = nullptr, uint32_t trial_seconds = 0);
  // Makes the other slot active after verifying it fully.
  Result<ImageInfo> rollback(const std::string& name, const StepHook& hook = {});
  // The image to start for `name`, verified in `mode`. `accept` (an overlay
  // layer's base requirement): a verified slot it refuses is passed over
  // like a damaged one, its reason kept in the error and in active_problem.
  Result<BootImage> bootable(const std::string& name, Mode mode,
                             const std::function<Status(const ImageInfo&)>& accept = {}) const;
  // Every container (sorted by name) with both slots.
  Result<std::vector<ContainerStatus>> list() const;
  // The floor of `name`: each record, or, when a record is missing, the
  // highest value among the installed slots whose signed metadata verifies
  // (written back, so it is never reset to zero by deleting it).
  Result<RollbackFloor> floor(const std::string& name) const;
  // For an image about to run (run IMAGE, run NAME, boot): refuses it below
  // the rollback index floor, and raises the floor to its index when higher.
  // `raise` false (the slot on trial): checked against the floor, never raising it.
  Status admit(const ImageInfo& image, bool raise = true) const;

  // Trials (trial_state.h). The live trial of `name`: its record when it
  // names the slot the pointer selects (a record left by an install cut
  // before the flip, or by a rollback, is stale: removed here), else nullopt.
  Result<std::optional<TrialRecord>> live_trial(const std::string& name, const StepHook& hook = {});
  // Marks the live pending trial "started" (durably) before its slot starts.
  Status start_trial(const std::string& name, const StepHook& hook = {});
  // The trial stayed up: its version becomes the recorded version, its
  // rollback index the floor (anti-rollback moves forward only here), the
  // result "committed"; the record goes.
  Status commit_trial(const std::string& name, const StepHook& hook = {});
  // The trial failed (`reason`): the pointer goes back to the other slot, the
  // result "rolled-back" with `reason`. Only for a trial never committed: the
  // slot it returns to must verify fully, be at or above the recorded
  // (committed) version and the rollback index; else refused and the trial
  // slot stays (never a downgrade below a committed version).
  Result<ImageInfo> abandon_trial(const std::string& name, const std::string& reason, const StepHook& hook = {});

 // The directories one operation uses, held open (store.cc).
  struct Dirs;

 private:
  Result<Dirs> open_dirs(const std::string& name, bool create) const;
  Result<RollbackFloor> floor_in(Dirs* d, const std::string& name) const;
  Status admit_in(Dirs* d, const ImageInfo& image, bool raise) const;
  Result<BootImage> bootable_in(Dirs* d, const std::string& name, Mode mode,
                                const std::function<Status(const ImageInfo&)>& accept = {}) const;

  StoreOptions o_;
};

}  // namespace nestbox::verifier
