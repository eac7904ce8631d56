#include "signer/sign_composed.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <map>
#include <span>

#include "composer/output_commit.h"
#include "composer/output_layout.h"
#include "composer/path.h"
#include "composer/staging_root.h"
#include "policy/format.h"
#include "signer/keys.h"
#include "util/file_io.h"
#include "verifier/crypto.h"

namespace nestbox::signer {

Status check_signing_key(const manifests::Manifest& m, const std::vector<std::string>& key_uris) {
  if (m.signing_key.empty()) return ok_status();
  for (const std::string& uri : key_uris) {
    auto key = load_private_key(uri);
    if (!key.ok()) return std::move(key).error();
    auto id = crypto::ossl::key_id(key->get());
    if (id.ok() && crypto::to_hex(*id) == m.signing_key) return ok_status();
  }
  return bad_input(m.file + ": signing_key " + m.signing_key + " is not among the --key arguments");
}

Result<SignedImage> sign_image(ImageSpec spec, const std::string& tree, const std::string& out,
                               const TreeManifestOptions& tree_options) {
  std::string manifest_tmp;
  if (!tree.empty()) {
    manifest_tmp = out + ".manifest.tmp";
    NESTBOX_TRY(write_tree_manifest(tree, manifest_tmp, tree_options));
    spec.kind = image::Kind::kTreeManifest;
    spec.payload_path = manifest_tmp;
  }
  auto built = build_image(spec, out);
  if (!manifest_tmp.empty()) ::unlink(manifest_tmp.c_str());
  if (!built.ok()) return std::move(built).error();
  return SignedImage{out, std::move(*built), tree.empty() ? spec.payload_path : tree, spec.version,
                     spec.security_version, {}};
}

namespace {

bool is_file(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}
bool is_dir(const std::string& p) {
  struct stat st{};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Where compose left a container's rootfs, as its baked policy records it:
// the manifest's strategy and, for an overlay layer, its base. Going by the
// policy rather than by which files exist means a stale output of an earlier
// run with another strategy is never signed. (A compose run with --strategy
// writes other outputs than the policies say: sign those one by one.)
struct Payload {
  std::string squashfs, tree, base;  // base: the overlay base's name, for a layer
  bool root_owned = false;           // compose --root-owned: the tree is packed 0:0
  std::string location;              // host-hardlink: where the tree is on the device
};

// host-hardlink: the tree inside the staging rootfs, in the directory compose
// recorded for this container (so sign and compose cannot disagree);
// opts.hardlink_dir must match the record when given.
Status hardlink_payload(const ComposedSignOptions& opts, const composer::OutputLayout& layout,
                        const manifests::Manifest& m, Payload* p, std::string* expected) {
  std::string hardlink_dir = opts.hardlink_dir.empty() ? composer::kDefaultHardlinkDir : opts.hardlink_dir;
  std::string record = layout.hardlink_dir_record(m.name);
  if (auto rec = read_file(record); rec.ok()) {
    std::string recorded = *rec;
    while (!recorded.empty() && recorded.back() == '\n') recorded.pop_back();
    if (auto v = composer::validate_hardlink_dir(recorded); !v.ok()) return std::move(v.error().context(record));
    if (!opts.hardlink_dir.empty() && opts.hardlink_dir != recorded)
      return bad_input("--hardlink-dir '" + opts.hardlink_dir + "' differs from '" + recorded +
                       "' that compose recorded in " + record);
    hardlink_dir = recorded;
  }
  // compose --root-owned: the firmware packs the tree owned by 0:0.
  std::string packing = layout.packing_record(m.name);
  if (auto rec = read_file(packing); rec.ok()) {
    if (*rec != std::string(composer::kPackingRootOwned) + "\n")
      return bad_input(packing + ": unknown packing '" + *rec + "' (expected root-owned)");
    p->root_owned = true;
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
  *expected = staging + hardlink_dir + "/" + m.name;
  auto root = composer::open_staging_root(staging);
  if (!root.ok()) return std::move(root).error();
  std::string real_staging = composer::host_path_of(root->get());
  auto tree = composer::open_dir_in_root(root->get(), hardlink_dir + "/" + m.name, staging);
  if (!tree.ok())
    return bad_input(layout.dir() + ": compose wrote no " + *expected + " for container '" + m.name + "' of " +
                     m.file + "; run nestbox compose with the same manifests (and --hardlink-dir) first");
  p->tree = composer::host_path_of(tree->get());
  if (!composer::path_within(p->tree, real_staging))
    return bad_input(*expected + " resolves to " + p->tree + ", outside the staging rootfs");
  *expected = p->tree;
  p->location = hardlink_dir + "/" + m.name;  // the staging root is the device's /
  return ok_status();
}

Result<Payload> composed_payload(const ComposedSignOptions& opts, const composer::OutputLayout& layout,
                                 const manifests::Manifest& m, const std::string& policy_bytes,
                                 const std::string& policy_path) {
  auto pol = policy::decode(std::span(reinterpret_cast<const uint8_t*>(policy_bytes.data()), policy_bytes.size()));
  if (!pol.ok()) return std::move(pol).error().context(policy_path);
  Payload p;
  std::string expected;
  switch (pol->rootfs) {
    case policy::RootfsKind::kOverlay:
      p.squashfs = expected = layout.layer(m.name);
      p.base = pol->base;
      // compose pins the base it writes in the same run unless the manifest
      // states a base requirement; neither means this run wrote no layer
      // (e.g. --strategy), and what is on disk is stale.
      if (p.base.empty() || (pol->base_sha256.empty() && !pol->base_requirement.set()))
        return bad_input(policy_path + ": overlay policy without a pinned base: compose did not write '" +
                         m.name + "' as an overlay layer in its last run (--strategy?)");
      break;
    case policy::RootfsKind::kSquashfs:
      p.squashfs = expected = layout.squashfs(m.name);
      break;
    case policy::RootfsKind::kTree:
      p.tree = expected = layout.tree(m.name);
      break;
    case policy::RootfsKind::kHostHardlink:
      NESTBOX_TRY(hardlink_payload(opts, layout, m, &p, &expected));
      break;
  }
  bool present = p.tree.empty() ? is_file(expected) : is_dir(expected);
  if (!present)
    return bad_input(layout.dir() + ": compose wrote no " + expected + " for container '" + m.name + "' of " +
                     m.file + "; run nestbox compose with the same manifests first");
  return p;
}

}  // namespace

Result<std::vector<SignedImage>> sign_composed(const std::vector<manifests::Manifest>& ms,
                                               const ComposedSignOptions& opts) {
  const composer::OutputLayout layout(opts.composed);
  // A compose killed mid-commit may have left new images beside old
  // policies: never sign that mix (the next compose completes the commit).
  if (composer::OutputCommit::interrupted(opts.composed))
    return bad_input(opts.composed + ": an interrupted compose left " + composer::kCommitJournal +
                     "; its outputs may mix two runs: run compose again first");
  NESTBOX_TRY(composer::refuse_symlinked_output_dir(opts.out, "sign"));
  std::error_code ec;
  std::filesystem::create_directories(opts.out, ec);
  if (ec) return failure("create " + opts.out + ": " + ec.message());
  auto spec_base = [&] {
    ImageSpec spec;
    spec.key_uris = opts.key_uris;
    spec.verity = opts.verity;
    spec.created = opts.created;
    return spec;
  };
  auto progress_of = [&](const std::string& name) -> std::function<void(uint64_t, uint64_t)> {
    if (!opts.progress) return {};
    return [&opts, name](uint64_t done, uint64_t total) { opts.progress(name, done, total); };
  };

  struct Base {
    ImageSpec spec;
    std::string path, first_user;
    std::vector<std::string> users;
  };
  std::map<std::string, Base> bases;
  std::vector<SignedImage> done;
  for (const manifests::Manifest& m : ms) {
    NESTBOX_TRY(check_signing_key(m, opts.key_uris));
    std::string policy = layout.policy(m.name);
    auto bytes = read_file(policy);
    if (!bytes.ok()) return std::move(bytes).error().context("the baked policy compose writes");
    auto payload = composed_payload(opts, layout, m, *bytes, policy);
    if (!payload.ok()) return std::move(payload).error();
    ImageSpec spec = spec_base();
    spec.name = m.name;
    spec.version = m.version;
    spec.security_version = m.security_version;
    spec.version_string = m.version_string.empty() ? std::to_string(m.version) : m.version_string;
    spec.arch = manifests::to_string(m.arch);
    spec.compat = m.compat;
    spec.policy = std::move(*bytes);
    spec.payload_path = payload->squashfs;
    spec.progress = progress_of(m.name);
    auto s = sign_image(spec, payload->tree, opts.out + "/" + m.name + ".img", {payload->root_owned, payload->location});
    if (!s.ok()) return std::move(s).error().context(m.name);
    done.push_back(std::move(*s));
    if (payload->base.empty()) continue;
    auto [it, fresh] = bases.try_emplace(payload->base);
    Base& b = it->second;
    if (fresh) {
      b.spec = spec_base();
      b.spec.name = payload->base;
      b.spec.arch = spec.arch;
      b.spec.compat = spec.compat;
      b.spec.payload_path = layout.base(payload->base);
      b.path = opts.out + "/" + payload->base + ".img";
      b.first_user = m.file;
    } else if (b.spec.arch != spec.arch || b.spec.compat != spec.compat) {
      return bad_input(m.file + ": arch " + spec.arch + ", compat '" + spec.compat + "' differ from those of " +
                       b.first_user + ", which shares base '" + payload->base + "'");
    }
    b.users.push_back(m.name);
    b.spec.version = std::max(b.spec.version, m.version);
    b.spec.security_version = std::max(b.spec.security_version, m.security_version);
  }
  for (auto& [name, b] : bases) {
    b.spec.version_string = std::to_string(b.spec.version);
    b.spec.progress = progress_of(name);
    auto s = sign_image(b.spec, "", b.path);
    if (!s.ok()) return std::move(s).error().context("base " + name);
    s->base_of = std::move(b.users);
    done.push_back(std::move(*s));
  }
  return done;
}

}  // namespace nestbox::signer
