// nestbox sign: assembles and signs one image (docs/image-format.md) from a
// squashfs (or a tree directory), the baked policy and one or more keys.
#include <unistd.h>

#include <iostream>

#include "cli/command.h"
#include "manifests/manifest.h"
#include "signer/image_builder.h"
#include "signer/keys.h"
#include "signer/tree_manifest_writer.h"
#include "util/file_io.h"
#include "verifier/crypto.h"

namespace nestbox::cli {

namespace {

struct SignOptions {
  std::string squashfs, tree, policy, manifest, out, salt;
  std::string name, version_string, arch, compat;
  uint64_t version = 0;
  bool version_set = false, no_verity = false;
  std::vector<std::string> keys, providers;
};

Status fill_from_manifest(SignOptions& o) {
  if (o.manifest.empty()) return ok_status();
  auto m = manifests::load_file(o.manifest);
  if (!m.ok()) return std::move(m).error();
  if (o.name.empty()) o.name = m->name;
  if (!o.version_set) o.version = m->version;
  if (o.version_string.empty()) o.version_string = m->version_string;
  if (o.arch.empty()) o.arch = manifests::to_string(m->arch);
  if (o.compat.empty()) o.compat = m->compat;
  if (!m->signing_key.empty()) {
    bool found = false;
    for (const std::string& uri : o.keys) {
      auto key = signer::load_private_key(uri);
      if (!key.ok()) return std::move(key).error();
      auto id = crypto::key_id(key->get());
      if (id.ok() && crypto::to_hex(*id) == m->signing_key) found = true;
    }
    if (!found)
      return bad_input(o.manifest + ": signing_key " + m->signing_key + " is not among the --key arguments");
  }
  return ok_status();
}

int run_sign(SignOptions o) {
  for (const std::string& p : o.providers)
    if (Status st = signer::load_provider(p); !st.ok()) return report("sign", st.error());
  if (Status st = fill_from_manifest(o); !st.ok()) return report("sign", st.error());
  if (o.squashfs.empty() == o.tree.empty())
    return report("sign", bad_input("give exactly one of --squashfs FILE or --tree DIR"));
  signer::ImageSpec spec;
  spec.name = o.name;
  spec.version = o.version;
  spec.version_string = o.version_string.empty() ? std::to_string(o.version) : o.version_string;
  spec.arch = o.arch;
  spec.compat = o.compat;
  spec.key_uris = o.keys;
  spec.verity = !o.no_verity;
  if (!o.salt.empty() && !crypto::from_hex(o.salt, &spec.verity_salt))
    return report("sign", bad_input("--salt: expected 64 lower-case hex digits"));
  if (!o.policy.empty()) {
    auto p = read_file(o.policy);
    if (!p.ok()) return report("sign", p.error());
    spec.policy = std::move(*p);
  }
  std::string manifest_tmp;
  if (!o.tree.empty()) {
    manifest_tmp = o.out + ".manifest.tmp";
    if (Status st = signer::write_tree_manifest(o.tree, manifest_tmp); !st.ok()) return report("sign", st.error());
    spec.kind = image::Kind::kTreeManifest;
    spec.payload_path = manifest_tmp;
  } else {
    spec.payload_path = o.squashfs;
  }
  auto built = signer::build_image(spec, o.out);
  if (!manifest_tmp.empty()) ::unlink(manifest_tmp.c_str());
  if (!built.ok()) return report("sign", built.error());
  std::cout << o.out << ": " << built->size << " bytes, signed by";
  for (const std::string& id : built->key_ids) std::cout << " " << id;
  std::cout << "\n";
  if (!built->verity_root_hex.empty())
    std::cout << "verity root " << built->verity_root_hex << " salt " << built->verity_salt_hex << "\n";
  return kExitOk;
}

}  // namespace

Runner define_sign(CLI::App& sub) {
  auto o = std::make_shared<SignOptions>();
  sub.add_option("--squashfs", o->squashfs, "The container's squashfs rootfs");
  sub.add_option("--tree", o->tree, "A tree/host-hardlink rootfs directory: sign its digest manifest");
  sub.add_option("--policy", o->policy, "The baked policy file (opaque bytes)");
  sub.add_option("--manifest", o->manifest, "Take name, version, arch and compat from this manifest");
  sub.add_option("--name", o->name, "Container name");
  sub.add_option("--version", o->version, "Monotonic version (anti-rollback)")->each([o](const std::string&) {
    o->version_set = true;
  });
  sub.add_option("--version-string", o->version_string, "Human-readable version");
  sub.add_option("--arch", o->arch, "Target architecture, e.g. aarch64");
  sub.add_option("--compat", o->compat, "Device compatibility string");
  sub.add_option("-k,--key", o->keys, "Private key: a PEM path or an OSSL_STORE URI (file:, pkcs11:); repeatable")
      ->required();
  sub.add_option("--provider", o->providers, "Load this OpenSSL provider first (e.g. pkcs11); repeatable");
  sub.add_flag("--no-verity", o->no_verity, "Do not embed a dm-verity hash tree");
  sub.add_option("--salt", o->salt, "Verity salt (64 hex digits; default derived from the squashfs digest)");
  sub.add_option("-o,--out", o->out, "Output image")->required();
  return [o] { return run_sign(*o); };
}

}  // namespace nestbox::cli
