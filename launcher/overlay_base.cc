#include "launcher/overlay_base.h"

#include <utility>

#include "verifier/store.h"

namespace nestbox::launcher {

Result<VerifiedBase> base_from_store(const std::string& store_root, const std::string& name,
                                     const verifier::Keyring& keyring, verifier::Mode mode) {
  verifier::StoreOptions so;
  so.root = store_root;
  so.keyring = keyring;
  verifier::Store store(std::move(so));
  auto boot = store.bootable(name, mode);
  if (!boot.ok()) return std::move(boot.error().context("store " + store_root));
  return VerifiedBase{std::move(boot->path), std::move(boot->fd), std::move(boot->info)};
}

Status check_base(const policy::Policy& p, const VerifiedBase& base, const verifier::DeviceIdentity& device) {
  const std::string where = "base " + base.path;
  if (p.base_sha256.empty())
    return failure("policy of " + p.name + " pins no base digest (rootfs.base_sha256); refusing an unpinned base");
  if (base.info.name != p.base)
    return failure(where + ": image is \"" + base.info.name + "\" but " + p.name + " needs base \"" + p.base + "\"");
  if (base.info.tree_manifest) return failure(where + ": a tree image cannot be an overlay base");
  NESTBOX_TRY_CTX(verifier::check_installable(base.info, device, 0, false), where);
  if (base.info.payload_sha256_hex != p.base_sha256)
    return failure(where + ": payload digest " + base.info.payload_sha256_hex + " differs from the digest " +
                   p.base_sha256 + " that " + p.name + " was built against");
  return ok_status();
}

Result<ImageWindow> resolve_overlay_base(const policy::Policy& p, const BaseLookup& lookup) {
  if (p.base.empty()) return bad_input("policy of " + p.name + " has an overlay root but names no base");
  // Cheap refusal first: an unpinned policy never gets its base verified.
  if (p.base_sha256.empty())
    return failure("policy of " + p.name + " pins no base digest (rootfs.base_sha256); refusing an unpinned base");
  VerifiedBase base;
  if (!lookup.image.empty()) {
    auto file = verifier::open_verified(lookup.image, lookup.keyring, lookup.mode);
    if (!file.ok()) return std::move(file.error().context("base " + lookup.image));
    base = {lookup.image, std::make_shared<UniqueFd>(std::move(file->fd)), std::move(file->info)};
  } else {
    if (lookup.store_root.empty())
      return bad_input(p.name + " is an overlay on base \"" + p.base + "\": pass --base IMG or --store DIR");
    auto found = base_from_store(lookup.store_root, p.base, lookup.keyring, lookup.mode);
    if (!found.ok()) return std::move(found).error();
    base = std::move(*found);
  }
  NESTBOX_TRY(check_base(p, base, lookup.device));
  if (!base.fd) return failure("base " + base.path + ": no verified file descriptor");
  NESTBOX_TRY_CTX(verifier::check_only_root_writes(base.fd->get()), "base " + base.path);
  if (!lookup.image.empty() && !lookup.store_root.empty()) {  // the store's bootable() did this already
    verifier::StoreOptions so;
    so.root = lookup.store_root;
    so.keyring = lookup.keyring;
    NESTBOX_TRY_CTX(verifier::Store(std::move(so)).admit(base.info), "base " + lookup.image);
  }
  return verified_window(base.path, base.fd, base.info);
}

Result<ImageWindow> verified_window(const std::string& path, std::shared_ptr<UniqueFd> fd,
                                    const verifier::ImageInfo& info) {
  ImageWindow w{path, info.squashfs_offset, info.squashfs_size, std::move(fd), std::nullopt, 0};
  if (info.data_verified) return w;
  auto v = verifier::verity_params(info);
  if (!v.ok()) return failure(path + ": payload not verified, and " + v.error().message + " to mount it through");
  w.verity = std::move(*v);
  w.verity_end = info.verity_offset + info.verity_size;
  return w;
}

}  // namespace nestbox::launcher
