// The on-target container store: two slots per container, an atomically
// flipped active pointer, rollback. Target-safe (libc + libcrypto). Used by
// nestbox-launch install / rollback / list / boot.
//
//   <root>/<name>/slot-a.img, slot-b.img   the two slots
//   <root>/<name>/active                   "a\n" or "b\n" (temp + fsync + rename)
//   <root>/<name>/lock                     flock: one writer per container
//   <root>/.state/<name>.version           anti-rollback state (rollback_state.h)
//
// install(): verify the source fully, check arch/compat/anti-rollback, copy it
// into the inactive slot (temp file, fsync, rename, fsync dir), verify the
// written slot fully, flip `active` (temp, fsync, rename, fsync dir), record the
// version. The active slot is never written, so a power cut at any step leaves
// the old version (or, once the flip is durable, the new one) bootable.
// bootable() verifies the active slot and falls back to the other slot when the
// active one fails or the pointer is unreadable: never neither.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/result.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

struct StoreOptions {
  std::string root;
  Keyring keyring;
  DeviceIdentity device;
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
};

struct BootImage {
  std::string path;
  char slot = 'a';
  ImageInfo info;
  bool fell_back = false;  // the active slot failed; this is the other one
  std::string active_problem;  // why, when fell_back
};

// Called at each durable step of install/rollback ("copy", "slot-renamed",
// "pointer-renamed", ...); tests kill the process there.
using StepHook = std::function<void(const char* step)>;

class Store {
 public:
  explicit Store(StoreOptions options) : o_(std::move(options)) {}

  Result<ImageInfo> install(const std::string& image_path, bool allow_downgrade, const StepHook& hook = {});
  // Makes the other slot active after verifying it fully.
  Result<ImageInfo> rollback(const std::string& name, const StepHook& hook = {});
  // The image to start for `name`, verified in `mode`.
  Result<BootImage> bootable(const std::string& name, Mode mode) const;
  // Every container (sorted by name) with both slots.
  Result<std::vector<ContainerStatus>> list() const;

 private:
  StoreOptions o_;
};

}  // namespace nestbox::verifier
