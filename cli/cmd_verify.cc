// nestbox verify IMAGE --keyring DIR: checks an image exactly as the device
// does (same library), optionally its tree, device identity and anti-rollback.
#include <iostream>

#include "cli/command.h"
#include "util/json_quote.h"
#include "verifier/keyring.h"
#include "verifier/rollback_state.h"
#include "verifier/tree_manifest.h"
#include "verifier/verifier.h"

namespace nestbox::cli {

namespace {

struct VerifyOptions {
  std::string image, keyring, revoked, mode = "full", tree, arch, compat, state_dir;
  bool allow_downgrade = false, json = false;
};

// What a mode checked, said in every output: verity mode hashes no data.
constexpr const char* kCheckedFull = "every byte (metadata, signatures, payload, verity tree, policy)";
constexpr const char* kCheckedVerity =
    "metadata, signatures, policy and the verity root hash only; the data was NOT checked (dm-verity would check "
    "it on read)";

void print(const verifier::ImageInfo& i, verifier::Mode mode, bool json) {
  bool full = mode == verifier::Mode::kFull;
  if (json) {
    std::cout << "{\"name\":" << json_string(i.name) << ",\"version\":" << i.version
              << ",\"version_string\":" << json_string(i.version_string) << ",\"arch\":" << json_string(i.arch)
              << ",\"compat\":" << json_string(i.compat) << ",\"created\":" << i.created
              << ",\"kind\":\"" << (i.tree_manifest ? "tree" : "squashfs") << "\",\"signer_key_id\":\""
              << i.signer_key_id << "\",\"squashfs_offset\":" << i.squashfs_offset
              << ",\"squashfs_size\":" << i.squashfs_size << ",\"verity_offset\":" << i.verity_offset
              << ",\"verity_size\":" << i.verity_size << ",\"verity_root\":\"" << i.verity_root_hex
              << "\",\"verity_salt\":\"" << i.verity_salt_hex << "\",\"policy_size\":" << i.policy.size()
              << ",\"security_version\":" << i.security_version << ",\"mode\":\"" << (full ? "full" : "verity")
              << "\",\"data_verified\":" << (full ? "true" : "false")
              << ",\"checked\":" << json_string(full ? kCheckedFull : kCheckedVerity) << "}\n";
    return;
  }
  std::cout << "name = " << i.name << "\nversion = " << i.version << " (" << i.version_string << ")"
            << "\nsecurity version = " << i.security_version << "\narch = " << i.arch
            << "\ncompat = " << i.compat << "\ncreated = " << i.created
            << "\nkind = " << (i.tree_manifest ? "tree" : "squashfs") << "\nsigned by = " << i.signer_key_id
            << "\npayload = " << i.squashfs_offset << "+" << i.squashfs_size << "\n";
  if (i.verity_size)
    std::cout << "verity = " << i.verity_offset << "+" << i.verity_size << " root " << i.verity_root_hex << " salt "
              << i.verity_salt_hex << "\n";
  std::cout << "policy = " << i.policy.size() << " bytes\n";
  std::cout << "checked = " << (full ? kCheckedFull : kCheckedVerity) << "\n";
}

int run_verify(const VerifyOptions& o) {
  verifier::Mode mode = verifier::Mode::kFull;
  if (o.mode == "verity") mode = verifier::Mode::kVerity;
  else if (o.mode != "full") return report("verify", bad_input("--mode: expected full or verity"));
  verifier::Keyring ring{o.keyring, {}};
  if (!o.revoked.empty()) {
    auto ids = verifier::read_revocation_list(o.revoked);
    if (!ids.ok()) return report("verify", ids.error());
    ring.revoked_ids = *ids;
  }
  auto info = verifier::verify_image(o.image, ring, mode);
  if (!info.ok()) return report("verify", info.error());
  if (!o.tree.empty())
    if (Status st = verifier::verify_tree(o.image, *info, o.tree); !st.ok()) return report("verify", st.error());
  if (!o.arch.empty() || !o.compat.empty() || !o.state_dir.empty()) {
    uint64_t installed = 0, floor = 0;
    if (!o.state_dir.empty()) {
      auto v = verifier::read_installed_version(o.state_dir, info->name);
      if (!v.ok()) return report("verify", v.error());
      installed = *v;
      auto index = verifier::read_security_version(o.state_dir, info->name);
      if (!index.ok()) return report("verify", index.error());
      floor = index->value_or(0);
    }
    if (Status st = verifier::check_security_version(*info, floor); !st.ok()) return report("verify", st.error());
    verifier::DeviceIdentity dev{o.arch.empty() ? info->arch : o.arch, o.compat.empty() ? info->compat : o.compat};
    if (Status st = verifier::check_installable(*info, dev, installed, o.allow_downgrade); !st.ok())
      return report("verify", st.error());
  }
  print(*info, mode, o.json);
  return kExitOk;
}

}  // namespace

Runner define_verify(CLI::App& sub) {
  auto o = std::make_shared<VerifyOptions>();
  sub.add_option("image", o->image, "Signed image")->required();
  sub.add_option("--keyring", o->keyring, "Directory of trusted PEM public keys (+ optional 'revoked' list)")
      ->required();
  sub.add_option("--revoked", o->revoked, "Revocation list: one hex key id a line");
  sub.add_option("--mode", o->mode, "full (hash everything, default) or verity (metadata and root hash only)");
  sub.add_option("--tree", o->tree, "For tree images: check this directory against the signed manifest");
  sub.add_option("--arch", o->arch, "Device architecture the image must match");
  sub.add_option("--compat", o->compat, "Device compatibility string the image must match");
  sub.add_option("--state-dir", o->state_dir,
                 "Anti-rollback state directory (<name>.version and <name>.security_version files)");
  sub.add_flag("--allow-downgrade", o->allow_downgrade, "Accept a version lower than the installed one");
  sub.add_flag("--json", o->json, "Print the image information as JSON");
  return [o] { return run_verify(*o); };
}

}  // namespace nestbox::cli
