#include "launcher/overlay_base.h"

#include <cstdio>
#include <functional>
#include <utility>

#include "verifier/store.h"

namespace nestbox::launcher {

Result<VerifiedBase> base_from_store(const std::string& store_root, const std::string& rollback_dir,
                                     const std::string& name,
                                     const verifier::Keyring& keyring, verifier::Mode mode,
                                     const policy::Policy* app, const verifier::DeviceIdentity& device) {
  verifier::StoreOptions so;
  so.root = store_root;
  so.rollback_dir = rollback_dir;
  so.keyring = keyring;
  verifier::Store store(std::move(so));
  // With a requirement, a slot that does not meet it is passed over like a
  // damaged one: the other slot (the base before an upgrade this app cannot
  // run over) keeps it running. The active slot is tried first, so a
  // `rollback` of the base is honoured; the rollback index holds for both.
  std::function<Status(const verifier::ImageInfo&)> accept;
  if (app && app->base_requirement.set())
    accept = [app, &device](const verifier::ImageInfo& info) -> Status {
      if (info.tree_manifest) return failure("a tree image cannot be an overlay base");
      NESTBOX_TRY(verifier::check_installable(info, device, 0, false));
      if (Status st = satisfies_requirement(*app, info); !st.ok())
        return failure("refused for " + app->name + ": " + st.error().message);
      return ok_status();
    };
  auto boot = store.bootable(name, mode, accept);
  if (!boot.ok()) {
    if (app && app->base_requirement.set())
      return failure("no installed base satisfies " + app->name + "'s requirement (" + describe_requirement(*app) +
                     "): " + boot.error().message).context("store " + store_root);
    return std::move(boot.error().context("store " + store_root));
  }
  if (boot->fell_back && app && app->base_requirement.set())
    std::fprintf(stderr, "nestbox-launch: base %s: slot %c (version %llu) runs %s; the other slot: %s\n", name.c_str(),
                 boot->slot, static_cast<unsigned long long>(boot->info.version), app->name.c_str(),
                 boot->active_problem.c_str());
  return VerifiedBase{std::move(boot->path), std::move(boot->fd), std::move(boot->info)};
}

namespace {

std::string short_id(const std::string& id) { return id.substr(0, 16); }

// Why a policy can name no base it could run over (checked before any base
// is opened): fail closed on a layer that neither pins nor requires one.
Status check_base_stated(const policy::Policy& p) {
  if (p.base.empty()) return bad_input("policy of " + p.name + " has an overlay root but names no base");
  if (p.base_sha256.empty() && !p.base_requirement.set())
    return failure("policy of " + p.name +
                   " neither pins a base digest (rootfs.base_sha256) nor states a base requirement "
                   "(rootfs.base_key_id); refusing an unchecked base");
  return ok_status();
}

}  // namespace

std::string describe_requirement(const policy::Policy& p) {
  const policy::BaseRequirement& r = p.base_requirement;
  std::string range = "version >= " + std::to_string(r.min_version);
  if (r.max_version) range += " and <= " + std::to_string(r.max_version);
  return "\"" + p.base + "\", " + range + ", signed by key " + short_id(r.key_id);
}

Status satisfies_requirement(const policy::Policy& p, const verifier::ImageInfo& base) {
  const policy::BaseRequirement& r = p.base_requirement;
  if (!r.set()) return failure("policy of " + p.name + " states no base requirement");
  if (base.name != p.base)
    return failure("image is \"" + base.name + "\" but " + p.name + " needs base \"" + p.base + "\"");
  // Every trusted key whose signature verified: another trusted key's base
  // (another vendor's) is not this app's base, however valid its signature.
  bool signed_by = false;
  for (const std::string& k : base.signer_key_ids) signed_by = signed_by || k == r.key_id;
  if (!signed_by) {
    std::string ids;
    for (const std::string& k : base.signer_key_ids) ids += (ids.empty() ? "" : ", ") + short_id(k);
    return failure("signed by key " + (ids.empty() ? std::string("(none)") : ids) + ", not by key " + short_id(r.key_id) +
                   " that " + p.name + " requires of its base");
  }
  if (base.version < r.min_version)
    return failure("version " + std::to_string(base.version) + " is below " + std::to_string(r.min_version) +
                   ", the lowest " + p.name + " accepts");
  if (r.max_version && base.version > r.max_version)
    return failure("version " + std::to_string(base.version) + " is above " + std::to_string(r.max_version) +
                   ", the highest " + p.name + " accepts");
  return ok_status();
}

Status check_base(const policy::Policy& p, const VerifiedBase& base, const verifier::DeviceIdentity& device) {
  const std::string where = "base " + base.path;
  NESTBOX_TRY(check_base_stated(p));
  if (base.info.name != p.base)
    return failure(where + ": image is \"" + base.info.name + "\" but " + p.name + " needs base \"" + p.base + "\"");
  if (base.info.tree_manifest) return failure(where + ": a tree image cannot be an overlay base");
  NESTBOX_TRY_CTX(verifier::check_installable(base.info, device, 0, false), where);
  if (p.base_requirement.set()) {
    if (Status st = satisfies_requirement(p, base.info); !st.ok())
      return failure(where + ": refused for " + p.name + ": " + st.error().message);
    return ok_status();
  }
  if (base.info.payload_sha256_hex != p.base_sha256)
    return failure(where + ": payload digest " + base.info.payload_sha256_hex + " differs from the digest " +
                   p.base_sha256 + " that " + p.name + " was built against");
  return ok_status();
}

Result<ImageWindow> resolve_overlay_base(const policy::Policy& p, const BaseLookup& lookup) {
  // Cheap refusal first: a policy that neither pins nor requires a base
  // never gets one verified.
  NESTBOX_TRY(check_base_stated(p));
  // A pin names the base by its payload digest, which only hashing the
  // payload proves: in verity mode the digest is merely what the metadata
  // claims, and dm-verity holds the blocks to the root hash, not to that
  // digest. Another trusted key could sign a base whose metadata claims the
  // pinned digest over other content. A pinned base is therefore verified in
  // full (every byte) whatever the mode; a base requirement names the key
  // that must have signed the base, so its verity root is that key's word.
  const verifier::Mode mode = p.base_requirement.set() ? lookup.mode : verifier::Mode::kFull;
  VerifiedBase base;
  if (!lookup.image.empty()) {
    auto file = verifier::open_verified_to_mount(lookup.image, lookup.keyring, mode);
    if (!file.ok()) return std::move(file.error().context("base " + lookup.image));
    base = {lookup.image, std::make_shared<UniqueFd>(std::move(file->fd)), std::move(file->info)};
  } else {
    if (lookup.store_root.empty())
      return bad_input(p.name + " is an overlay on base \"" + p.base + "\": pass --base IMG or --store DIR");
    auto found = base_from_store(lookup.store_root, lookup.rollback_dir, p.base, lookup.keyring, mode, &p, lookup.device);
    if (!found.ok()) return std::move(found).error();
    base = std::move(*found);
  }
  NESTBOX_TRY(check_base(p, base, lookup.device));
  if (!p.base_requirement.set() && !base.info.data_verified)
    return failure("base " + base.path + ": the pinned digest was not proved by hashing the payload");
  if (!base.fd) return failure("base " + base.path + ": no verified file descriptor");
  NESTBOX_TRY_CTX(verifier::check_only_root_writes(base.fd->get()), "base " + base.path);
  if (!lookup.image.empty() && !lookup.store_root.empty()) {  // the store's bootable() did this already
    verifier::StoreOptions so;
    so.root = lookup.store_root;
    so.rollback_dir = lookup.rollback_dir;
    so.keyring = lookup.keyring;
    NESTBOX_TRY_CTX(verifier::Store(std::move(so)).admit(base.info), "base " + lookup.image);
  }
  // Which base this start runs over (a store slot may have been passed over).
  std::fprintf(stderr, "nestbox-launch: %s: base %s version %llu (%s)\n", p.name.c_str(), p.base.c_str(),
               static_cast<unsigned long long>(base.info.version), base.path.c_str());
  return verified_window(base.path, base.fd, base.info);
}

Result<ImageWindow> verified_window(const std::string& path, std::shared_ptr<UniqueFd> fd,
                                    const verifier::ImageInfo& info) {
  ImageWindow w{path, info.squashfs_offset, info.squashfs_size, std::move(fd), std::nullopt, 0, ""};
  if (info.data_verified) {
    w.digest = info.payload_sha256_hex;
    return w;
  }
  auto v = verifier::verity_params(info);
  if (!v.ok()) return failure(path + ": payload not verified, and " + v.error().message + " to mount it through");
  w.verity = std::move(*v);
  w.verity_end = info.verity_offset + info.verity_size;
  return w;
}

}  // namespace nestbox::launcher
