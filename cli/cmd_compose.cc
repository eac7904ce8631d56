// nestbox compose MANIFEST... --out DIR: builds every container's rootfs with
// the writer of its strategy (tree, host-hardlink, squashfs images, overlay
// base + layers), then writes each container's runtime forms (policy.bin
// pinning its overlay base's digest, config.json, lxc.conf) and prints a
// summary and the notes (copies instead of links, setuid bits removed).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/cache_limit.h"
#include "cli/command.h"
#include "cli/manifest_set.h"
#include "cli/progress_line.h"
#include "composer/compose.h"
#include "composer/output_commit.h"
#include "composer/output_layout.h"
#include "composer/select.h"
#include "composer/squashfs/image_writers.h"
#include "composer/staging_root.h"
#include "kernel-check/squashfs_compressors.h"
#include "manifests/manifest.h"
#include "policy/runtime_forms.h"
#include "util/file_io.h"
#include "util/source_date_epoch.h"
#include "util/json_text.h"
#include "util/shown.h"

namespace nestbox::cli {
namespace {

namespace sq = composer::squashfs;

struct ComposeArgs {
  std::vector<std::string> files;
  std::string out;
  std::string staging;
  std::string hardlink_dir;
  bool root_owned = false;  // the firmware packs the staging rootfs owned by 0:0
  std::string strategy;
  unsigned threads = 0;
  bool json = false;
  bool quiet = false;  // -q: nothing on stdout on success (--json still prints)
  bool all_time = false;  // --all-time: every mtime = SOURCE_DATE_EPOCH
  bool verbose = false;  // -v: every decision on stderr (why a file was taken, cached blocks)
  std::string comp;
  int level = -1;
  std::string block_size;
  std::string cache;
  std::string cache_max_size = kDefaultCacheMaxSize;
  bool no_pad = false;
  std::string kernel_config;
  std::string kernel_comp;
  std::string lxc_path = "/var/lib/lxc";
};

Result<uint32_t> parse_block_size(const std::string& s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  std::string unit = end;
  if (unit == "K" || unit == "k") v <<= 10;
  else if (unit == "M" || unit == "m") v <<= 20;
  else if (!unit.empty() || end == s.c_str())
    return bad_input("--block-size '" + s + "': expected a number with optional K or M");
  if (v > 0xFFFFFFFFull) return bad_input("--block-size '" + s + "': too large");
  return static_cast<uint32_t>(v);
}

Result<sq::ImageOptions> image_options(const ComposeArgs& a) {
  sq::ImageOptions o;
  if (!a.comp.empty()) o.compressor = a.comp;
  if (a.level >= 0) o.level = static_cast<uint32_t>(a.level);
  if (!a.block_size.empty()) {
    auto bs = parse_block_size(a.block_size);
    if (!bs.ok()) return std::move(bs).error();
    o.block_size = *bs;
  }
  o.threads = a.threads;
  o.cache_dir = a.cache;
  o.pad = !a.no_pad;
  if (!a.kernel_config.empty()) {
    auto k = kernel_check::squashfs_compressors(a.kernel_config);
    if (!k.ok()) return std::move(k).error();
    o.allowed_compressors = std::move(*k);
  }
  std::stringstream ss(a.kernel_comp);
  std::set<std::string> listed;
  for (std::string c; std::getline(ss, c, ',');)
    if (!c.empty()) listed.insert(c);
  if (!listed.empty()) {
    if (o.allowed_compressors.empty()) {
      o.allowed_compressors = listed;
    } else {  // both given: what both allow
      std::set<std::string> both;
      for (const auto& c : listed)
        if (o.allowed_compressors.count(c)) both.insert(c);
      if (both.empty())
        return bad_input("--kernel-comp " + a.kernel_comp + ": none of these is enabled in " +
                         a.kernel_config);
      o.allowed_compressors = both;
    }
  }
  return o;
}

const char* kind_name(sq::ImageRecord::Kind k) {
  switch (k) {
    case sq::ImageRecord::Kind::kStandalone: return "squashfs";
    case sq::ImageRecord::Kind::kBase: return "base";
    case sq::ImageRecord::Kind::kLayer: return "layer";
  }
  return "?";
}

int run_compose(const ComposeArgs& a) {
  auto loaded = load_manifest_set(a.files, a.staging);
  if (!loaded.ok()) return report("compose", loaded.error());
  std::vector<manifests::Manifest>& ms = *loaded;
  if (!a.cache.empty())
    if (Status st = composer::check_outside_directory_sources(ms, a.cache, "block cache"); !st.ok())
      return report("compose", st.error());
  composer::ComposeOptions o;
  o.out_dir = a.out;
  o.threads = a.threads;
  o.root_owned = a.root_owned;
  o.hardlink_dir = a.hardlink_dir.empty() ? composer::kDefaultHardlinkDir : a.hardlink_dir;
  if (auto v = composer::validate_hardlink_dir(o.hardlink_dir); !v.ok()) return report("compose", v.error());
  auto sde = source_date_epoch_from_env();
  if (!sde.ok()) return report("compose", sde.error());
  o.source_date_epoch = *sde;
  if (a.all_time && !o.source_date_epoch)
    return report("compose", bad_input("--all-time sets every mtime to SOURCE_DATE_EPOCH, which is not set"));
  o.all_time = a.all_time;
  if (!a.strategy.empty()) {
    std::optional<manifests::RootfsStrategy> s;
    for (const auto& [name, v] : manifests::strategy_names())
      if (a.strategy == name) s = v;
    if (!s) return report("compose", bad_input("--strategy: unknown strategy '" + a.strategy + "'"));
    o.force_strategy = *s;
  }
  auto io = image_options(a);
  if (!io.ok()) return report("compose", io.error());
  auto cache_max = parse_cache_max_size("--cache-max-size", a.cache_max_size);
  if (!cache_max.ok()) return report("compose", cache_max.error());
  if (o.source_date_epoch) io->mkfs_time = static_cast<uint32_t>(*o.source_date_epoch);
  // (A base named like a container is refused by validate_set, via
  // load_manifest_set.)
  // Each image's files as they are compressed, on a terminal (the summary
  // lines below are what logs get).
  ProgressLine progress(ProgressLine::wanted(a.quiet || a.verbose));
  io->progress = progress.callback();
  if (a.verbose) o.explain = io->explain = [](const std::string& line) { std::cerr << shown(line) << "\n"; };
  sq::ImageLog log;
  auto writers = composer::default_writers();
  for (auto& w : sq::image_writers(*io, &log)) writers.push_back(std::move(w));
  std::vector<composer::OutputWriter*> ptrs;
  for (auto& w : writers) ptrs.push_back(w.get());
  // Every output of the run (images, trees, runtime directories) is written
  // aside and renamed into place together, last, by this commit: a run that
  // fails anywhere leaves each container's previous image and policy whole.
  composer::OutputCommit commit(a.out);
  o.commit = &commit;
  auto r = composer::compose(ms, o, ptrs);
  if (!r.ok()) return report("compose", r.error());

  // The runtime side of each container: baked policy (nestbox-launch),
  // OCI config.json (crun/runc/uxc) and LXC config, beside the rootfs
  // outputs. Images are written first, so an overlay container's policy pins
  // the digest of the base just written.
  for (const auto& m : ms) {
    std::string final_dir = composer::OutputLayout(a.out).runtime_dir(m.name);
    auto dir = commit.scratch_dir("runtime-" + m.name);
    if (!dir.ok()) return report("compose", dir.error());
    policy::RuntimeFormsOptions rf;
    // lxc.conf names where LXC finds the container on the device, never a
    // path of this build machine: the output is the same wherever --out is.
    rf.device_dir = a.lxc_path + "/" + m.name;
    manifests::Manifest baked = m;
    if (m.rootfs.strategy == manifests::RootfsStrategy::kOverlay) {
      if (const sq::ImageRecord* base = log.base_of(m.name)) {
        baked.rootfs.base = base->name;  // the automatic base gets its name
        rf.base_sha256 = base->payload_sha256;
      }
    }
    Status st = policy::write_runtime_forms(baked, *dir, rf);
    if (!st.ok()) return report("compose", st.error().context(m.file));
    // Where this run put a host-hardlink tree inside the staging rootfs:
    // `sign --composed` reads it back, so the two cannot disagree.
    if (m.rootfs.strategy == manifests::RootfsStrategy::kHostHardlink) {
      st = write_file_atomic(*dir + "/" + composer::kHardlinkDirRecord, o.hardlink_dir + "\n", 0644);
      if (!st.ok()) return report("compose", st.error());
      // How the firmware will pack the tree (its owners on the device).
      if (a.root_owned) {
        st = write_file_atomic(*dir + "/" + composer::kPackingRecord,
                               std::string(composer::kPackingRootOwned) + "\n", 0644);
        if (!st.ok()) return report("compose", st.error());
      }
    }
    st = commit.adopt(*dir, final_dir);
    if (!st.ok()) return report("compose", st.error());
  }
  if (Status st = commit.commit(); !st.ok()) return report("compose", st.error());
  // The outputs are in place: now keep the cache within its limit (the
  // blocks this run used are the most recent, so they stay).
  auto trimmed = trim_cache_after_build(a.cache, *cache_max);
  if (a.json) {
    nlohmann::ordered_json j;
    j["distinct_contents"] = r->distinct_contents;
    j["bytes_hashed"] = r->bytes_hashed;
    j["outputs"] = nlohmann::ordered_json::array();
    for (const auto& out : r->outputs)
      j["outputs"].push_back({{"container", out.container}, {"strategy", out.strategy},
                              {"path", out.path}, {"entries", out.entries}, {"files", out.files},
                              {"bytes", out.bytes}, {"linked", out.linked}, {"copied", out.copied}});
    j["images"] = nlohmann::ordered_json::array();
    for (const auto& im : log.images) {
      nlohmann::ordered_json e = {{"name", im.name},
                                  {"kind", kind_name(im.kind)},
                                  {"path", im.path},
                                  {"compressor", im.compressor},
                                  {"block_size", im.block_size},
                                  {"image_size", im.stats.image_size},
                                  {"bytes_used", im.stats.bytes_used},
                                  {"payload_sha256", im.payload_sha256},
                                  {"inodes", im.stats.inodes},
                                  {"files", im.stats.data.files},
                                  {"duplicate_files", im.stats.data.duplicate_files},
                                  {"blocks_compressed", im.stats.data.blocks_compressed},
                                  {"blocks_from_cache", im.stats.data.blocks_from_cache},
                                  {"fragment_blocks", im.stats.data.fragment_blocks},
                                  {"fragment_blocks_from_cache",
                                   im.stats.data.fragment_blocks_from_cache},
                                  {"cache_corrupt", im.stats.data.cache_corrupt}};
      if (im.kind == sq::ImageRecord::Kind::kLayer) e["base"] = im.base;
      if (im.kind == sq::ImageRecord::Kind::kBase) e["containers"] = im.containers;
      j["images"].push_back(std::move(e));
    }
    j["block_store"] = {{"hits", log.store.hits}, {"misses", log.store.misses},
                        {"corrupt", log.store.corrupt}, {"stored", log.store.stored}};
    if (trimmed) j["block_cache_gc"] = cache_gc_json(a.cache, *cache_max, *trimmed);
    j["notes"] = r->notes;
    std::cout << json_text(j, 2) << "\n";
    return kExitOk;
  }
  if (a.quiet) return kExitOk;
  for (const auto& out : r->outputs)
    std::cout << out.container << " (" << out.strategy << "): " << out.path << ": " << out.entries
              << " entries, " << out.files << " files, " << out.bytes << " bytes, " << out.linked
              << " linked, " << out.copied << " copied\n";
  for (const auto& im : log.images)
    std::cout << "image " << im.path << ": " << kind_name(im.kind) << ", " << im.compressor << ", "
              << im.stats.image_size << " bytes, sha256 " << im.payload_sha256 << ", "
              << im.stats.data.blocks_compressed << " blocks compressed, "
              << im.stats.data.blocks_from_cache << " from cache\n";
  if (trimmed && trimmed->evicted_entries > 0)
    std::cout << "block cache " << a.cache << ": evicted " << trimmed->evicted_entries << " entries ("
              << trimmed->evicted_bytes << " bytes) to stay within " << *cache_max << " bytes\n";
  for (const auto& n : r->notes) std::cout << "note: " << shown(n) << "\n";
  return kExitOk;
}

}  // namespace

Runner define_compose(CLI::App& sub) {
  auto a = std::make_shared<ComposeArgs>();
  sub.add_option("manifests", a->files, "Manifest files")->required();
  sub.add_option("--out", a->out, "Output directory (trees, images, runtime forms, work files)")
      ->required();
  sub.add_option("--staging", a->staging, kStagingHelp);
  sub.add_option("--hardlink-dir", a->hardlink_dir,
                 std::string("host-hardlink trees: absolute directory inside the staging rootfs, resolved "
                             "inside it (default ") + composer::kDefaultHardlinkDir + ")");
  sub.add_flag("--root-owned", a->root_owned,
               "host-hardlink trees: the firmware packs the staging rootfs owned by 0:0 (OpenWrt's "
               "mksquashfs -root-owned); sign --composed records that owner, not the build user's");
  sub.add_option("--strategy", a->strategy,
                 "Override every manifest's rootfs strategy (tree, host-hardlink, squashfs, overlay)");
  sub.add_option("--threads", a->threads, "Hashing and compression threads (default: one per core)");
  sub.add_option("--comp", a->comp,
                 "Image compressor for every container: gzip, xz, zstd, lz4, lzo "
                 "(default: each manifest's rootfs.compressor)");
  sub.add_option("--level", a->level, "Compression level (default: the compressor's)");
  sub.add_option("--block-size", a->block_size,
                 "Image block size, e.g. 128K (default: each manifest's rootfs.block_size)");
  sub.add_option("--cache", a->cache,
                 "Directory of the compressed-block cache, kept across runs");
  add_cache_max_size_option(sub, &a->cache_max_size);
  sub.add_flag("--no-pad", a->no_pad, "Do not pad images to a multiple of 4096 bytes");
  sub.add_option("--kernel-config", a->kernel_config,
                 "Target kernel config (.config or config.gz): refuse compressors it lacks");
  sub.add_option("--kernel-comp", a->kernel_comp,
                 "Compressors the target kernel supports, comma separated (refuse others)");
  sub.add_option("--lxc-path", a->lxc_path,
                 "LXC's lxcpath on the device: lxc.conf names LXCPATH/NAME/rootfs and LXCPATH/NAME/lxc.seccomp "
                 "(default /var/lib/lxc)");
  sub.add_flag("--json", a->json, "Print the report as JSON");
  sub.add_flag("-q,--quiet", a->quiet, "Print nothing on success (errors still go to stderr)");
  sub.add_flag("--all-time", a->all_time,
               "Set every mtime to SOURCE_DATE_EPOCH (mksquashfs -all-time), not only clamp later ones");
  sub.add_flag("-v,--verbose", a->verbose,
               "Explain each decision on stderr: why each file was taken or left out, where each image "
               "file's blocks came from (compressed, the cache, an identical file)");
  return [a] { return run_compose(*a); };
}

}  // namespace nestbox::cli
