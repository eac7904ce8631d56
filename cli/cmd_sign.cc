// nestbox sign: assembles and signs one image (docs/image-format.md) from a
// squashfs (or a tree directory), the baked policy and one or more keys; or,
// with --composed, every image of what `nestbox compose` wrote.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "composer/output_commit.h"
#include "composer/path.h"
#include "composer/staging_root.h"
#include "composer/squashfs/image_writers.h"
#include "manifests/manifest.h"
#include "policy/format.h"
#include "signer/image_builder.h"
#include "signer/keys.h"
#include "signer/tree_manifest_writer.h"
#include "util/file_io.h"
#include "util/json_quote.h"
#include "verifier/crypto.h"

namespace nestbox::cli {

namespace {

struct SignOptions {
  std::string squashfs, tree, policy, manifest, out, salt;
  std::string name, version_string, arch, compat;
  uint64_t version = 0, security_version = 0;
  bool version_set = false, security_version_set = false, no_verity = false, json = false;
  bool root_owned = false;  // --tree: sign it as packed owned by 0:0
  std::vector<std::string> keys, providers;
  // --composed DIR MANIFEST...: sign everything compose wrote for them.
  std::string composed, staging, hardlink_dir;
  std::vector<std::string> manifests;
};

// A manifest may name the key that must sign it (signing_key = key id).
Status check_signing_key(const manifests::Manifest& m, const std::vector<std::string>& keys) {
  if (m.signing_key.empty()) return ok_status();
  for (const std::string& uri : keys) {
    auto key = signer::load_private_key(uri);
    if (!key.ok()) return std::move(key).error();
    auto id = crypto::key_id(key->get());
    if (id.ok() && crypto::to_hex(*id) == m.signing_key) return ok_status();
  }
  return bad_input(m.file + ": signing_key " + m.signing_key + " is not among the --key arguments");
}

Status fill_from_manifest(SignOptions& o) {
  if (o.manifest.empty()) return ok_status();
  auto m = manifests::load_file(o.manifest);
  if (!m.ok()) return std::move(m).error();
  if (o.name.empty()) o.name = m->name;
  if (!o.version_set) o.version = m->version;
  if (!o.security_version_set) o.security_version = m->security_version;
  if (o.version_string.empty()) o.version_string = m->version_string;
  if (o.arch.empty()) o.arch = manifests::to_string(m->arch);
  if (o.compat.empty()) o.compat = m->compat;
  return check_signing_key(*m, o.keys);
}

struct Signed {
  std::string path;
  signer::BuiltImage image;
};

// Builds one image; a tree payload is signed through its digest manifest,
// written beside the output and removed again.
Result<Signed> sign_one(signer::ImageSpec spec, const std::string& tree, const std::string& out,
                        const signer::TreeManifestOptions& tree_options = {}) {
  std::string manifest_tmp;
  if (!tree.empty()) {
    manifest_tmp = out + ".manifest.tmp";
    NESTBOX_TRY(signer::write_tree_manifest(tree, manifest_tmp, tree_options));
    spec.kind = image::Kind::kTreeManifest;
    spec.payload_path = manifest_tmp;
  }
  auto built = signer::build_image(spec, out);
  if (!manifest_tmp.empty()) ::unlink(manifest_tmp.c_str());
  if (!built.ok()) return std::move(built).error();
  return Signed{out, std::move(*built)};
}

int print_signed(const std::vector<Signed>& images, bool json) {
  if (json) {
    std::cout << "{\"images\":[";
    const char* sep = "";
    for (const Signed& s : images) {
      std::cout << sep << "{\"path\":" << json_string(s.path) << ",\"size\":" << s.image.size << ",\"key_ids\":[";
      for (size_t i = 0; i < s.image.key_ids.size(); ++i)
        std::cout << (i ? "," : "") << json_string(s.image.key_ids[i]);
      std::cout << "],\"verity_root\":" << json_string(s.image.verity_root_hex) << "}";
      sep = ",";
    }
    std::cout << "]}\n";
    return kExitOk;
  }
  for (const Signed& s : images) {
    std::cout << s.path << ": " << s.image.size << " bytes, signed by";
    for (const std::string& id : s.image.key_ids) std::cout << " " << id;
    std::cout << "\n";
    if (!s.image.verity_root_hex.empty())
      std::cout << "verity root " << s.image.verity_root_hex << " salt " << s.image.verity_salt_hex << "\n";
  }
  return kExitOk;
}

signer::ImageSpec base_spec(const SignOptions& o) {
  signer::ImageSpec spec;
  spec.key_uris = o.keys;
  spec.verity = !o.no_verity;
  return spec;
}

bool is_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Where compose left a container's rootfs (docs/composer.md), as its baked
// policy records it: the manifest's strategy and, for an overlay layer, its
// base. Going by the policy rather than by which files exist means a stale
// output of an earlier run with another strategy is never signed. (A compose
// run with --strategy writes other outputs than the policies say: sign those
// one by one.)
struct Payload {
  std::string squashfs, tree, base;  // base: the overlay base's name, for a layer
  bool root_owned = false;           // compose --root-owned: the tree is packed 0:0
  std::string location;              // host-hardlink: where the tree is on the device
};
Result<Payload> composed_payload(const SignOptions& o, const std::string& dir, const manifests::Manifest& m,
                                 const std::string& policy_bytes, const std::string& policy_path) {
  auto pol = policy::decode(std::span(reinterpret_cast<const uint8_t*>(policy_bytes.data()), policy_bytes.size()));
  if (!pol.ok()) return std::move(pol).error().context(policy_path);
  Payload p;
  std::string expected;
  switch (pol->rootfs) {
    case policy::RootfsKind::kOverlay:
      p.squashfs = expected = dir + "/" + m.name + ".layer.sqfs";
      p.base = pol->base;
      // compose pins the base it writes in the same run unless the manifest
      // states a base requirement; neither means this run wrote no layer
      // (e.g. --strategy), and what is on disk is stale.
      if (p.base.empty() || (pol->base_sha256.empty() && !pol->base_requirement.set()))
        return bad_input(policy_path + ": overlay policy without a pinned base: compose did not write '" +
                         m.name + "' as an overlay layer in its last run (--strategy?)");
      break;
    case policy::RootfsKind::kSquashfs:
      p.squashfs = expected = dir + "/" + m.name + ".sqfs";
      break;
    case policy::RootfsKind::kTree:
      p.tree = expected = dir + "/" + m.name;
      break;
    case policy::RootfsKind::kHostHardlink: {
      // The directory compose recorded for this container (so sign and
      // compose cannot disagree); --hardlink-dir must match it when given.
      std::string hardlink_dir = o.hardlink_dir.empty() ? composer::kDefaultHardlinkDir : o.hardlink_dir;
      std::string record = dir + "/runtime/" + m.name + "/" + composer::kHardlinkDirRecord;
      if (auto rec = read_file(record); rec.ok()) {
        std::string recorded = *rec;
        while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
        if (auto v = composer::validate_hardlink_dir(recorded); !v.ok())
          return std::move(v.error().context(record));
        if (!o.hardlink_dir.empty() && o.hardlink_dir != recorded)
          return bad_input("--hardlink-dir '" + o.hardlink_dir + "' differs from '" + recorded +
                           "' that compose recorded in " + record);
        hardlink_dir = recorded;
      }
      // compose --root-owned: the firmware packs the tree owned by 0:0.
      std::string packing = dir + "/runtime/" + m.name + "/" + composer::kPackingRecord;
      if (auto rec = read_file(packing); rec.ok()) {
        if (*rec != std::string(composer::kPackingRootOwned) + "\n")
          return bad_input(packing + ": unknown packing '" + *rec + "' (expected root-owned)");
        p.root_owned = true;
      } else if (::access(packing.c_str(), F_OK) == 0 || errno != ENOENT) {
        return std::move(rec).error();
      }
      if (auto v = composer::validate_hardlink_dir(hardlink_dir); !v.ok()) return std::move(v).error();
      std::string staging;
      for (const auto& s : m.rootfs.sources) {
        if (s.kind != manifests::SourceKind::kDirectory) continue;
        staging = s.path[0] == '/' ? s.path : m.dir + "/" + s.path;
        break;
      }
      if (staging.empty()) return bad_input(m.file + ": host-hardlink without a directory source");
      // Resolved inside the staging rootfs as compose resolved it (its
      // symlinks, e.g. OpenWrt's var -> /tmp, point into the target).
      expected = staging + hardlink_dir + "/" + m.name;
      auto root = composer::open_staging_root(staging);
      if (!root.ok()) return std::move(root).error();
      std::string real_staging = composer::host_path_of(root->get());
      auto tree = composer::open_dir_in_root(root->get(), hardlink_dir + "/" + m.name, staging);
      if (!tree.ok())
        return bad_input(dir + ": compose wrote no " + expected + " for container '" + m.name + "' of " +
                         m.file + "; run nestbox compose with the same manifests (and --hardlink-dir) first");
      p.tree = composer::host_path_of(tree->get());
      if (!composer::path_within(p.tree, real_staging))
        return bad_input(expected + " resolves to " + p.tree + ", outside the staging rootfs");
      expected = p.tree;
      p.location = hardlink_dir + "/" + m.name;  // the staging root is the device's /
      break;
    }
  }
  bool present = p.tree.empty() ? is_file(expected) : is_dir(expected);
  if (!present)
    return bad_input(dir + ": compose wrote no " + expected + " for container '" + m.name + "' of " + m.file +
                     "; run nestbox compose with the same manifests first");
  return p;
}

// sign --composed DIR -o IMGDIR MANIFEST...: one image per container (its
// rootfs, its baked policy DIR/runtime/NAME/policy.bin, the manifest's
// identity) and one per overlay base, named after the base, with the arch and
// compat of its containers and the highest of their versions (so a base is
// upgraded with them and never rolled back below them).
int run_sign_composed(const SignOptions& o) {
  if (!o.squashfs.empty() || !o.tree.empty() || !o.policy.empty() || !o.manifest.empty() || !o.name.empty())
    return report("sign", bad_input("--composed signs what compose wrote: no --squashfs, --tree, --policy, "
                                     "--manifest or --name with it"));
  if (o.manifests.empty()) return report("sign", bad_input("--composed: give the manifests compose was given"));
  // A compose killed mid-commit may have left new images beside old
  // policies: never sign that mix (the next compose completes the commit).
  if (composer::OutputCommit::interrupted(o.composed))
    return report("sign", bad_input(o.composed + ": an interrupted compose left " + composer::kCommitJournal +
                                    "; its outputs may mix two runs: run compose again first"));
  auto ms = load_manifest_set(o.manifests, o.staging);
  if (!ms.ok()) return report("sign", ms.error());
  std::error_code ec;
  std::filesystem::create_directories(o.out, ec);
  if (ec) return report("sign", failure("create " + o.out + ": " + ec.message()));

  struct Base {
    signer::ImageSpec spec;
    std::string path, first_user;
  };
  std::map<std::string, Base> bases;
  std::vector<Signed> done;
  for (const manifests::Manifest& m : *ms) {
    if (Status st = check_signing_key(m, o.keys); !st.ok()) return report("sign", st.error());
    std::string policy = o.composed + "/runtime/" + m.name + "/policy.bin";
    auto bytes = read_file(policy);
    if (!bytes.ok()) return report("sign", bytes.error().context("the baked policy compose writes"));
    auto payload = composed_payload(o, o.composed, m, *bytes, policy);
    if (!payload.ok()) return report("sign", payload.error());
    signer::ImageSpec spec = base_spec(o);
    spec.name = m.name;
    spec.version = m.version;
    spec.security_version = m.security_version;
    spec.version_string = m.version_string.empty() ? std::to_string(m.version) : m.version_string;
    spec.arch = manifests::to_string(m.arch);
    spec.compat = m.compat;
    spec.policy = std::move(*bytes);
    spec.payload_path = payload->squashfs;
    auto s = sign_one(spec, payload->tree, o.out + "/" + m.name + ".img", {payload->root_owned, payload->location});
    if (!s.ok()) return report("sign", s.error().context(m.name));
    done.push_back(std::move(*s));
    if (payload->base.empty()) continue;
    auto [it, fresh] = bases.try_emplace(payload->base);
    Base& b = it->second;
    if (fresh) {
      b.spec = base_spec(o);
      b.spec.name = payload->base;
      b.spec.arch = spec.arch;
      b.spec.compat = spec.compat;
      b.spec.payload_path = o.composed + "/base/" + payload->base + ".sqfs";
      b.path = o.out + "/" + payload->base + ".img";
      b.first_user = m.file;
    } else if (b.spec.arch != spec.arch || b.spec.compat != spec.compat) {
      return report("sign", bad_input(m.file + ": arch " + spec.arch + ", compat '" + spec.compat +
                                      "' differ from those of " + b.first_user + ", which shares base '" +
                                      payload->base + "'"));
    }
    b.spec.version = std::max(b.spec.version, m.version);
    b.spec.security_version = std::max(b.spec.security_version, m.security_version);
  }
  for (auto& [name, b] : bases) {
    b.spec.version_string = std::to_string(b.spec.version);
    auto s = sign_one(b.spec, "", b.path);
    if (!s.ok()) return report("sign", s.error().context("base " + name));
    done.push_back(std::move(*s));
  }
  return print_signed(done, o.json);
}

int run_sign(SignOptions o) {
  for (const std::string& p : o.providers)
    if (Status st = signer::load_provider(p); !st.ok()) return report("sign", st.error());
  if (o.out.empty()) return report("sign", bad_input("-o/--out is required"));
  if (!o.salt.empty() && !o.composed.empty())
    return report("sign", bad_input("--salt: one salt for several images; not with --composed"));
  if (!o.composed.empty()) return run_sign_composed(o);
  if (!o.manifests.empty())
    return report("sign", bad_input("manifest operands need --composed DIR (else use --manifest FILE)"));
  if (Status st = fill_from_manifest(o); !st.ok()) return report("sign", st.error());
  if (o.squashfs.empty() == o.tree.empty())
    return report("sign", bad_input("give exactly one of --squashfs FILE or --tree DIR"));
  signer::ImageSpec spec = base_spec(o);
  spec.name = o.name;
  spec.version = o.version;
  spec.security_version = o.security_version;
  spec.version_string = o.version_string.empty() ? std::to_string(o.version) : o.version_string;
  spec.arch = o.arch;
  spec.compat = o.compat;
  if (!o.salt.empty() && !crypto::from_hex(o.salt, &spec.verity_salt))
    return report("sign", bad_input("--salt: expected 64 lower-case hex digits"));
  if (!o.policy.empty()) {
    auto p = read_file(o.policy);
    if (!p.ok()) return report("sign", p.error());
    spec.policy = std::move(*p);
  }
  spec.payload_path = o.squashfs;
  auto s = sign_one(spec, o.tree, o.out, {o.root_owned});
  if (!s.ok()) return report("sign", s.error());
  return print_signed({std::move(*s)}, o.json);
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
  sub.add_option("--security-version", o->security_version,
                 "Rollback index: devices never run an image with a lower one (default: the manifest's, else 0)")
      ->each([o](const std::string&) { o->security_version_set = true; });
  sub.add_option("--version-string", o->version_string, "Human-readable version");
  sub.add_option("--arch", o->arch, "Target architecture, e.g. aarch64");
  sub.add_option("--compat", o->compat, "Device compatibility string");
  sub.add_option("-k,--key", o->keys, "Private key: a PEM path or an OSSL_STORE URI (file:, pkcs11:); repeatable")
      ->required();
  sub.add_option("--provider", o->providers, "Load this OpenSSL provider first (e.g. pkcs11); repeatable");
  sub.add_flag("--root-owned", o->root_owned,
               "--tree: record every entry owned by 0:0, as a firmware packed root-owned "
               "(mksquashfs -root-owned) will hold it (--composed reads compose's record)");
  sub.add_flag("--no-verity", o->no_verity, "Do not embed a dm-verity hash tree");
  sub.add_option("--salt", o->salt, "Verity salt (64 hex digits; default derived from the squashfs digest)");
  sub.add_option("-o,--out", o->out, "Output image (with --composed: the directory of the images)");
  sub.add_option("--composed", o->composed,
                 "Sign everything `nestbox compose --out DIR` wrote for the MANIFESTs: DIR/NAME.img per "
                 "container, DIR/BASE.img per overlay base");
  sub.add_option("manifests", o->manifests, "With --composed: the manifests compose was given");
  sub.add_option("--staging", o->staging, kStagingHelp);
  sub.add_option("--hardlink-dir", o->hardlink_dir,
                 "With --composed: where compose put host-hardlink trees inside the staging rootfs "
                 "(default: what compose recorded, else /usr/lib/nestbox/rootfs); must match the record");
  sub.add_flag("--json", o->json, "Print the signed images as JSON");
  return [o] { return run_sign(*o); };
}

}  // namespace nestbox::cli
