// The base below an overlay container (nestbox-launch run): found by path
// (`--base IMG`) or by name in the container store, verified like the
// container's own image (same keyring, mode and device identity), and held to
// what the layer's signed policy says of it: either a pin (its verified
// payload digest must equal `base_sha256`) or a requirement (signed by the
// key `base_requirement.key_id`, its signed version in the stated range).
// Every refusal happens before anything is mounted; a policy with neither is
// refused too (fail closed). Part of the nestbox-launch front end: libc +
// libcrypto.
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
  std::string rollback_dir;  // the store's anti-rollback records (StoreOptions::rollback_dir)
};

// A verified base image: its path, the fd it was verified from (the one the
// loop device gets; the path is never opened again) and the verifier's result.
struct VerifiedBase {
  std::string path;
  std::shared_ptr<UniqueFd> fd;
  verifier::ImageInfo info;
};

// The bootable, verified image of base `name` in the store at `store_root`
// (verifier::Store::bootable: the active slot, else the other one). With
// `app` stating a base requirement, a slot that does not satisfy it is passed
// over: the active slot when it does, else the other one, never one below the
// base's rollback index.
Result<VerifiedBase> base_from_store(const std::string& store_root, const std::string& rollback_dir,
                                     const std::string& name,
                                     const verifier::Keyring& keyring, verifier::Mode mode,
                                     const policy::Policy* app = nullptr,
                                     const verifier::DeviceIdentity& device = {});

// "\"appbase\", version >= 2 and <= 9, signed by key 0123456789abcdef".
std::string describe_requirement(const policy::Policy& policy);

// Whether verified base `base` meets `policy.base_requirement`: its name, one
// verified signature by the required key (not merely by some trusted key),
// its signed version within the range. The error says which, and why.
Status satisfies_requirement(const policy::Policy& policy, const verifier::ImageInfo& base);

// The identity checks of a verified base against the overlay policy: a
// squashfs image named `policy.base`, for this device, and either the pinned
// payload digest `policy.base_sha256` or the base requirement.
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
