// The base below an overlay container (nestbox-launch run): found by path
// (`--base IMG`) or by name in the container store, verified like the
// container's own image (same keyring, mode and device identity), and pinned:
// its verified payload digest must equal the policy's `base_sha256`. Every
// refusal happens before anything is mounted; an empty pin is refused too
// (fail closed). Part of the nestbox-launch front end: libc + libcrypto.
#pragma once

#include <memory>
#include <string>

#include "launcher/launcher.h"
#include "policy/policy.h"
#include "util/result.h"
#include "verifier/verifier.h"

namespace nestbox::launcher {

struct BaseLookup {
  std::string image;       // explicit base image path (--base); wins over the store
  std::string store_root;  // else: the container store, base looked up by name
  verifier::Keyring keyring;
  verifier::Mode mode = verifier::Mode::kFull;
  verifier::DeviceIdentity device;
};

// A verified base image: its path, the fd it was verified from (the one the
// loop device gets; the path is never opened again) and the verifier's result.
struct VerifiedBase {
  std::string path;
  std::shared_ptr<UniqueFd> fd;
  verifier::ImageInfo info;
};

// The bootable, verified image of base `name` in the store at `store_root`
// (verifier::Store::bootable: the active slot, else the other one).
Result<VerifiedBase> base_from_store(const std::string& store_root, const std::string& name,
                                     const verifier::Keyring& keyring, verifier::Mode mode);

// The pin and identity checks of a verified base against the overlay policy:
// a squashfs image named `policy.base`, for this device, whose payload digest
// is `policy.base_sha256` (which must be set).
Status check_base(const policy::Policy& policy, const VerifiedBase& base,
                  const verifier::DeviceIdentity& device);

// The window of a verified image to mount: its squashfs and, when the
// verifier did not hash the payload (verity mode), the signed dm-verity
// parameters the launcher must mount it through. An unhashed payload without
// a hash tree is refused (it could only be mounted unchecked).
Result<ImageWindow> verified_window(const std::string& path, std::shared_ptr<UniqueFd> fd,
                                    const verifier::ImageInfo& info);

// Finds, verifies and checks the base of overlay policy `policy`; returns the
// window to mount below the container's layer, carrying the verified fd. A
// base given by path is also held to the store's rollback index of its name
// (when a store is given).
Result<ImageWindow> resolve_overlay_base(const policy::Policy& policy, const BaseLookup& lookup);

}  // namespace nestbox::launcher
