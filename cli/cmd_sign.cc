// nestbox sign: assembles and signs one image (docs/image-format.md) from a
// squashfs (or a tree directory), the baked policy and one or more keys; or,
// with --composed, every image of what `nestbox compose` wrote.
#include <iostream>
#include <optional>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "cli/progress_line.h"
#include "manifests/manifest.h"
#include "signer/image_builder.h"
#include "signer/keys.h"
#include "signer/sign_composed.h"
#include "util/file_io.h"
#include "util/json_quote.h"
#include "util/source_date_epoch.h"
#include "verifier/crypto.h"

namespace nestbox::cli {

namespace {

struct SignOptions {
  std::string squashfs, tree, policy, manifest, out, salt;
  std::string name, version_string, arch, compat;
  uint64_t version = 0, security_version = 0;
  bool version_set = false, security_version_set = false, no_verity = false, json = false;
  bool quiet = false;  // -q: nothing on stdout on success (--json still prints), no progress
  bool verbose = false;  // -v: what each image was made of, on stderr
  bool root_owned = false;  // --tree: sign it as packed owned by 0:0
  std::vector<std::string> keys, providers;
  // --composed DIR MANIFEST...: sign everything compose wrote for them.
  std::string composed, staging, hardlink_dir;
  std::vector<std::string> manifests;
};

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
  return signer::check_signing_key(*m, o.keys);
}

// -v: what went into each image, and for a base why it has its version.
void explain(const std::vector<signer::SignedImage>& images) {
  for (const signer::SignedImage& s : images) {
    std::cerr << s.path << ": signed " << s.source << ", version " << s.version << " (security version "
              << s.security_version << ")";
    if (!s.base_of.empty()) {
      std::cerr << ", the highest of the containers on this base:";
      for (const std::string& c : s.base_of) std::cerr << " " << c;
    }
    std::cerr << "; keys";
    for (const std::string& id : s.image.key_ids) std::cerr << " " << id;
    std::cerr << (s.image.verity_root_hex.empty() ? "; no dm-verity tree\n" : "; dm-verity tree appended\n");
  }
}

// The library's byte counts as a progress line (one per image, no entries).
std::function<void(const std::string&, uint64_t, uint64_t)> draw_on(ProgressLine& line) {
  if (!line.callback()) return {};
  return [&line](const std::string& name, uint64_t done, uint64_t total) {
    line.update({.output = name, .bytes_done = done, .bytes_total = total});
  };
}

int print_signed(const std::vector<signer::SignedImage>& images, bool json, bool quiet) {
  if (json) {
    std::cout << "{\"images\":[";
    const char* sep = "";
    for (const signer::SignedImage& s : images) {
      std::cout << sep << "{\"path\":" << json_string(s.path) << ",\"size\":" << s.image.size << ",\"key_ids\":[";
      for (size_t i = 0; i < s.image.key_ids.size(); ++i)
        std::cout << (i ? "," : "") << json_string(s.image.key_ids[i]);
      std::cout << "],\"verity_root\":" << json_string(s.image.verity_root_hex) << "}";
      sep = ",";
    }
    std::cout << "]}\n";
    return kExitOk;
  }
  if (quiet) return kExitOk;
  for (const signer::SignedImage& s : images) {
    std::cout << s.path << ": " << s.image.size << " bytes, signed by";
    for (const std::string& id : s.image.key_ids) std::cout << " " << id;
    std::cout << "\n";
    if (!s.image.verity_root_hex.empty())
      std::cout << "verity root " << s.image.verity_root_hex << " salt " << s.image.verity_salt_hex << "\n";
  }
  return kExitOk;
}

// sign --composed DIR -o IMGDIR MANIFEST...: signer::sign_composed.
int run_sign_composed(const SignOptions& o, std::optional<int64_t> created) {
  if (!o.squashfs.empty() || !o.tree.empty() || !o.policy.empty() || !o.manifest.empty() || !o.name.empty())
    return report("sign", bad_input("--composed signs what compose wrote: no --squashfs, --tree, --policy, "
                                     "--manifest or --name with it"));
  if (o.manifests.empty()) return report("sign", bad_input("--composed: give the manifests compose was given"));
  auto ms = load_manifest_set(o.manifests, o.staging);
  if (!ms.ok()) return report("sign", ms.error());
  ProgressLine line(ProgressLine::wanted(o.quiet || o.verbose));
  auto done = signer::sign_composed(*ms, {o.composed, o.out, o.keys, !o.no_verity, o.hardlink_dir, created,
                                          draw_on(line)});
  if (!done.ok()) return report("sign", done.error());
  if (o.verbose) explain(*done);
  return print_signed(*done, o.json, o.quiet);
}

int run_sign(SignOptions o) {
  for (const std::string& p : o.providers)
    if (Status st = signer::load_provider(p); !st.ok()) return report("sign", st.error());
  if (o.out.empty()) return report("sign", bad_input("-o/--out is required"));
  if (!o.salt.empty() && !o.composed.empty())
    return report("sign", bad_input("--salt: one salt for several images; not with --composed"));
  auto sde = source_date_epoch_from_env();
  if (!sde.ok()) return report("sign", sde.error());
  if (!o.composed.empty()) return run_sign_composed(o, *sde);
  if (!o.manifests.empty())
    return report("sign", bad_input("manifest operands need --composed DIR (else use --manifest FILE)"));
  if (Status st = fill_from_manifest(o); !st.ok()) return report("sign", st.error());
  if (o.squashfs.empty() == o.tree.empty())
    return report("sign", bad_input("give exactly one of --squashfs FILE or --tree DIR"));
  signer::ImageSpec spec;
  spec.key_uris = o.keys;
  spec.verity = !o.no_verity;
  spec.created = *sde;
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
  ProgressLine line(ProgressLine::wanted(o.quiet || o.verbose));
  if (auto draw = draw_on(line))
    spec.progress = [draw, name = o.name](uint64_t done, uint64_t total) { draw(name, done, total); };
  auto s = signer::sign_image(spec, o.tree, o.out, {o.root_owned});
  if (!s.ok()) return report("sign", s.error());
  if (o.verbose) explain({*s});
  return print_signed({std::move(*s)}, o.json, o.quiet);
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
  sub.add_flag("-q,--quiet", o->quiet, "Print nothing on success (errors still go to stderr); no progress");
  sub.add_flag("-v,--verbose", o->verbose,
               "Say what went into each image (payload, versions, the containers a base serves, keys) on stderr");
  return [o] { return run_sign(*o); };
}

}  // namespace nestbox::cli
