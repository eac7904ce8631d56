// nestbox squash DIR OUT.img [DIR OUT.img ...]: squashfs images of host
// directories with the composer's writer. Several pairs share one block store
// (identical content compressed once); --cache keeps it across runs;
// --overlay BASE.img writes a shared base image plus one layer per pair.
#include <filesystem>
#include <iostream>
#include <memory>
#include <set>
#include <sstream>

#include "cli/cache_limit.h"
#include "cli/command.h"
#include "cli/progress_line.h"
#include "composer/path.h"
#include "composer/squashfs/fs_tree_from_directory.h"
#include "composer/squashfs/overlay_split.h"
#include "composer/squashfs/squashfs_writer.h"
#include "util/json_text.h"
#include "util/source_date_epoch.h"

namespace nestbox::cli {
namespace {

namespace sq = composer::squashfs;

struct SquashArgs {
  std::vector<std::string> pairs;
  std::string comp = "xz";
  int level = -1;
  std::string block_size = "128K";
  unsigned threads = 0;
  std::string cache;
  std::string cache_max_size = kDefaultCacheMaxSize;
  bool no_pad = false;
  std::string allowed;
  std::string overlay;
  bool stats = false;
  bool json = false;
  bool quiet = false;  // -q: no progress line
  bool all_time = false;  // --all-time: every mtime = SOURCE_DATE_EPOCH
  bool dense_fragments = false;
};

Result<uint32_t> parse_size(const std::string& s) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  std::string unit = end;
  if (unit == "K" || unit == "k") v <<= 10;
  else if (unit == "M" || unit == "m") v <<= 20;
  else if (!unit.empty() || end == s.c_str()) return bad_input("--block-size '" + s + "': expected a number with optional K or M");
  if (v > 0xFFFFFFFFull) return bad_input("--block-size '" + s + "': too large");
  return static_cast<uint32_t>(v);
}

void print_stats(const std::string& out, const sq::SquashStats& s) {
  std::cerr << out << ": " << s.image_size << " bytes, " << s.inodes << " inodes, "
            << s.data.blocks_compressed << " blocks compressed, " << s.data.blocks_from_cache
            << " from cache, " << s.data.fragment_blocks << " fragment blocks ("
            << s.data.fragment_blocks_from_cache << " from cache), " << s.data.duplicate_files
            << " duplicate files\n";
}

nlohmann::json stats_json(const std::string& out, const sq::SquashStats& s) {
  return {{"image", out},
          {"bytes", s.image_size},
          {"bytes_used", s.bytes_used},
          {"inodes", s.inodes},
          {"blocks_compressed", s.data.blocks_compressed},
          {"blocks_from_cache", s.data.blocks_from_cache},
          {"fragment_blocks", s.data.fragment_blocks},
          {"fragment_blocks_from_cache", s.data.fragment_blocks_from_cache},
          {"duplicate_files", s.data.duplicate_files}};
}

// No output (an image, the overlay base, the block cache) may lie inside a
// directory being packed: the walk would read the previous run's image back
// into the next one, so two runs over the same directory differed.
Status check_outputs_outside_inputs(const SquashArgs& a) {
  namespace fs = std::filesystem;
  auto resolved = [](const std::string& p) {
    std::error_code ec;
    fs::path r = fs::weakly_canonical(fs::absolute(p), ec);
    return ec ? fs::path(p).lexically_normal() : r;
  };
  std::vector<std::pair<std::string, std::string>> outputs;  // (shown, resolved)
  for (size_t i = 1; i < a.pairs.size(); i += 2) outputs.push_back({a.pairs[i], resolved(a.pairs[i]).string()});
  if (!a.overlay.empty()) outputs.push_back({a.overlay, resolved(a.overlay).string()});
  if (!a.cache.empty()) outputs.push_back({a.cache, resolved(a.cache).string()});
  for (size_t i = 0; i < a.pairs.size(); i += 2) {
    std::string dir = resolved(a.pairs[i]).string();
    for (const auto& [shown, out] : outputs)
      if (composer::path_within(out, dir))
        return bad_input(shown + ": lies inside " + a.pairs[i] +
                         ", which is packed: the next run would pack this output too; expected it outside every DIR");
  }
  return ok_status();
}

Status run_squash(const SquashArgs& a) {
  if (a.pairs.size() % 2 != 0) return bad_input("expected DIR OUT.img pairs");
  auto cache_max = parse_cache_max_size("--cache-max-size", a.cache_max_size);
  if (!cache_max.ok()) return std::move(cache_max).error();
  sq::SquashOptions o;
  o.compressor.name = a.comp;
  if (a.level >= 0) o.compressor.level = static_cast<uint32_t>(a.level);
  auto bs = parse_size(a.block_size);
  if (!bs.ok()) return std::move(bs).error();
  o.block_size = *bs;
  o.threads = a.threads;
  o.pad = !a.no_pad;
  o.stable_fragments = !a.dense_fragments;
  auto sde = source_date_epoch_from_env();
  if (!sde.ok()) return std::move(sde).error();
  if (*sde) o.mkfs_time = static_cast<uint32_t>(**sde);
  if (a.all_time && !*sde) return bad_input("--all-time sets every mtime to SOURCE_DATE_EPOCH, which is not set");
  std::stringstream ss(a.allowed);
  for (std::string c; std::getline(ss, c, ',');)
    if (!c.empty()) o.allowed_compressors.insert(c);
  NESTBOX_TRY(check_outputs_outside_inputs(a));
  std::vector<composer::FsTree> trees;
  for (size_t i = 0; i < a.pairs.size(); i += 2) {
    sq::DirectoryScanOptions scan;
    scan.hash = !a.overlay.empty();  // the writer hashes content itself; the split needs it up front
    scan.clamp_mtime = *sde;
    scan.all_time = a.all_time;
    auto t = sq::fs_tree_from_directory(a.pairs[i], scan);
    if (!t.ok()) return std::move(t).error();
    trees.push_back(std::move(*t));
  }
  std::vector<sq::ImageRequest> reqs;
  sq::OverlaySplit split;
  if (!a.overlay.empty()) {
    std::vector<const composer::FsTree*> ptrs;
    for (const auto& t : trees) ptrs.push_back(&t);
    auto s = sq::split_overlay(ptrs);
    if (!s.ok()) return std::move(s).error();
    split = std::move(*s);
    reqs.push_back({&split.base, a.overlay});
    for (size_t i = 0; i < split.layers.size(); ++i)
      reqs.push_back({&split.layers[i], a.pairs[2 * i + 1]});
  } else {
    for (size_t i = 0; i < trees.size(); ++i) reqs.push_back({&trees[i], a.pairs[2 * i + 1]});
  }
  ProgressLine progress(ProgressLine::wanted(a.quiet));  // each image, on a terminal
  o.progress = progress.callback();
  auto stats = sq::write_squashfs_images(reqs, o, a.cache);
  if (!stats.ok()) return std::move(stats).error();
  auto trimmed = trim_cache_after_build(a.cache, *cache_max);
  if (a.stats && trimmed)
    std::cerr << "block cache " << a.cache << ": " << trimmed->entries << " entries, evicted "
              << trimmed->evicted_entries << " (" << trimmed->evicted_bytes << " bytes)\n";
  if (a.stats)
    for (size_t i = 0; i < reqs.size(); ++i) print_stats(reqs[i].out, (*stats)[i]);
  if (a.json) {
    nlohmann::json images = nlohmann::json::array();
    for (size_t i = 0; i < reqs.size(); ++i) images.push_back(stats_json(reqs[i].out, (*stats)[i]));
    nlohmann::json j = {{"images", images}};
    if (trimmed) j["block_cache_gc"] = cache_gc_json(a.cache, *cache_max, *trimmed);
    std::cout << json_text(j, 2) << "\n";
  }
  return ok_status();
}

}  // namespace

Runner define_squash(CLI::App& sub) {
  auto a = std::make_shared<SquashArgs>();
  sub.add_option("pairs", a->pairs, "DIR OUT.img [DIR OUT.img ...]")->required();
  sub.add_option("--comp", a->comp, "Compressor: gzip, xz, zstd, lz4 (default xz)");
  sub.add_option("--level", a->level, "Compression level (default: the compressor's)");
  sub.add_option("--block-size", a->block_size, "Block size, e.g. 128K (4K..1M)");
  sub.add_option("--threads", a->threads, "Compression threads (default: all CPUs)");
  sub.add_option("--cache", a->cache, "Directory of the compressed-block cache, kept across runs");
  add_cache_max_size_option(sub, &a->cache_max_size);
  sub.add_flag("--no-pad", a->no_pad, "Do not pad the image to a multiple of 4096 bytes");
  sub.add_option("--kernel-comp", a->allowed,
                 "Compressors the target kernel supports, comma separated (refuse others)");
  sub.add_option("--overlay", a->overlay,
                 "Write a shared base image here; the OUT images become overlay layers");
  sub.add_flag("--dense-fragments", a->dense_fragments,
               "Fill fragment blocks completely (smaller image; a small change then "
               "invalidates more cached fragment blocks)");
  sub.add_flag("--stats", a->stats, "Print per-image statistics to stderr");
  sub.add_flag("--json", a->json, "Print per-image statistics as JSON");
  sub.add_flag("-q,--quiet", a->quiet, "No progress on a terminal");
  sub.add_flag("--all-time", a->all_time,
               "Set every mtime to SOURCE_DATE_EPOCH (mksquashfs -all-time), not only clamp later ones");
  return [a] {
    Status st = run_squash(*a);
    return st.ok() ? kExitOk : report("squash", st.error());
  };
}

}  // namespace nestbox::cli
