#include "composer/plan.h"

#include <fcntl.h>
#include <sqfs/compressor.h>
#include <sqfs/super.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "composer/parallel_for.h"
#include "composer/path.h"
#include "util/fd.h"
#include "util/json_text.h"

namespace nestbox::composer {
namespace {

using manifests::Compressor;
using manifests::RootfsStrategy;

SQFS_COMPRESSOR sqfs_id(Compressor c) {
  switch (c) {
    case Compressor::kGzip: return SQFS_COMP_GZIP;
    case Compressor::kXz: return SQFS_COMP_XZ;
    case Compressor::kZstd: return SQFS_COMP_ZSTD;
    case Compressor::kLz4: return SQFS_COMP_LZ4;
    case Compressor::kLzo: return SQFS_COMP_LZO;
  }
  return SQFS_COMP_XZ;
}

struct CompressorDeleter {
  void operator()(sqfs_compressor_t* c) const { sqfs_destroy(c); }
};
using CompressorPtr = std::unique_ptr<sqfs_compressor_t, CompressorDeleter>;

Result<CompressorPtr> make_compressor(Compressor c, uint32_t block_size) {
  sqfs_compressor_config_t cfg;
  if (sqfs_compressor_config_init(&cfg, sqfs_id(c), block_size, 0) != 0)
    return failure(std::string("squashfs compressor ") + manifests::to_string(c) + " unavailable");
  sqfs_compressor_t* out = nullptr;
  if (sqfs_compressor_create(&cfg, &out) != 0 || !out)
    return failure(std::string("cannot create squashfs compressor ") + manifests::to_string(c));
  return CompressorPtr(out);
}

// Compressed size of a buffer cut in blocks; blocks that do not shrink count raw.
uint64_t compress_blocks(sqfs_compressor_t* cmp, const uint8_t* data, size_t size,
                         uint32_t block_size, std::vector<uint8_t>* scratch) {
  scratch->resize(block_size);
  uint64_t total = 0;
  for (size_t off = 0; off < size; off += block_size) {
    uint32_t n = static_cast<uint32_t>(std::min<size_t>(block_size, size - off));
    sqfs_s32 r = cmp->do_block(cmp, data + off, n, scratch->data(), block_size);
    total += r > 0 && static_cast<uint32_t>(r) < n ? static_cast<uint64_t>(r) : n;
  }
  return total;
}

Result<uint64_t> compress_file(sqfs_compressor_t* cmp, const std::string& path, uint32_t block_size,
                               std::vector<uint8_t>* in, std::vector<uint8_t>* out) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  in->resize(block_size);
  uint64_t total = 0;
  for (;;) {
    size_t got = 0;
    while (got < block_size) {
      ssize_t n = read(fd.get(), in->data() + got, block_size - got);
      if (n < 0) return sys_error("read " + path);
      if (n == 0) break;
      got += n;
    }
    if (got == 0) break;
    total += compress_blocks(cmp, in->data(), got, block_size, out);
    if (got < block_size) break;
  }
  return total;
}

struct Settings {
  Compressor compressor;
  uint32_t block_size;
  auto operator<=>(const Settings&) const = default;
};

// Compressed sizes per (content id, settings), computed in parallel.
class SizeCache {
 public:
  Status compute(const std::map<uint32_t, std::string>& contents, const std::set<Settings>& all,
                 unsigned threads) {
    std::vector<std::pair<uint32_t, Settings>> work;
    for (const auto& s : all)
      for (const auto& [id, path] : contents) work.push_back({id, s});
    std::vector<uint64_t> sizes(work.size());
    std::vector<std::optional<Error>> errors(work.size());
    const unsigned workers = worker_count(threads, work.size());
    struct WorkerState {  // compressors and buffers, reused across a worker's items
      std::map<Settings, CompressorPtr> cmps;
      std::vector<uint8_t> in, out;
    };
    std::vector<WorkerState> state(workers);
    parallel_for(work.size(), workers, [&](size_t i, unsigned worker) {
      WorkerState& w = state[worker];
      const auto& [id, s] = work[i];
      auto& cmp = w.cmps[s];
      if (!cmp) {
        auto c = make_compressor(s.compressor, s.block_size);
        if (!c.ok()) {
          errors[i] = std::move(c).error();
          return;
        }
        cmp = std::move(*c);
      }
      auto r = compress_file(cmp.get(), contents.at(id), s.block_size, &w.in, &w.out);
      if (r.ok()) sizes[i] = *r;
      else errors[i] = std::move(r).error();
    });
    for (size_t i = 0; i < work.size(); ++i) {
      if (errors[i]) return *errors[i];
      sizes_[work[i]] = sizes[i];
    }
    return ok_status();
  }
  uint64_t get(uint32_t id, const Settings& s) const { return sizes_.at({id, s}); }

 private:
  std::map<std::pair<uint32_t, Settings>, uint64_t> sizes_;
};

// One image's estimated size: distinct file contents + compressed metadata
// (a 32-byte inode and a directory entry per entry, in 8 KiB metadata
// blocks) + superblock and tables, padded to 4 KiB as mksquashfs does.
Result<uint64_t> image_size(const std::vector<const FsEntry*>& entries, const ContentIndex& index,
                            const SizeCache& sizes, const Settings& s) {
  std::set<uint32_t> ids;
  uint64_t data = 0;
  std::string meta;
  for (const FsEntry* e : entries) {
    meta.append(32, '\0');
    memcpy(meta.data() + meta.size() - 32, &e->mode, sizeof e->mode);
    meta += base_of(e->path);
    meta.append(8, '\0');
    if (e->type == EntryType::kSymlink) meta += e->link_target;
    if (e->type != EntryType::kRegular) continue;
    uint32_t id = index.find(e->source_path)->id;
    if (ids.insert(id).second) data += sizes.get(id, s);
  }
  auto cmp = make_compressor(s.compressor, 8192);
  if (!cmp.ok()) return std::move(cmp).error();
  std::vector<uint8_t> out;
  uint64_t md = compress_blocks(cmp->get(), reinterpret_cast<const uint8_t*>(meta.data()),
                                meta.size(), 8192, &out);
  md += 2 * ((meta.size() + 8191) / 8192);  // metadata block headers
  uint64_t total = 96 + data + md + 64;
  return (total + 4095) / 4096 * 4096;
}

Settings settings_of(const ComposedContainer& c) {
  return {c.manifest->rootfs.compressor, c.manifest->rootfs.block_size};
}

}  // namespace

bool host_linkable(const ComposedContainer& c, const FsEntry& e) {
  if (c.staging_dir.empty() || !path_within(e.source_path, c.staging_dir) ||
      e.source_path == c.staging_dir)
    return false;
  struct stat st;
  return lstat(e.source_path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == e.uid &&
         st.st_gid == e.gid && (st.st_mode & 07777) == e.mode;
}

Result<uint64_t> compressed_file_size(const std::string& path, Compressor c, uint32_t block_size) {
  auto cmp = make_compressor(c, block_size);
  if (!cmp.ok()) return std::move(cmp).error();
  std::vector<uint8_t> in, out;
  return compress_file(cmp->get(), path, block_size, &in, &out);
}

Result<Plan> make_plan(std::span<const ComposedContainer> containers, const ContentIndex& index,
                       unsigned threads) {
  Plan plan;
  if (containers.empty()) return bad_input("plan: no containers");
  const Settings shared = settings_of(containers[0]);
  std::set<Settings> all = {shared};
  std::map<uint32_t, std::string> contents;
  std::map<uint32_t, uint64_t> content_size;
  std::map<uint32_t, std::set<size_t>> users;  // content -> containers using it
  // (path, content/type) -> containers holding that exact entry, for the overlay base.
  std::map<std::pair<std::string, std::string>, std::vector<size_t>> same_entry;
  auto entry_key = [&](const FsEntry& e) {
    std::string k = std::to_string(static_cast<int>(e.type)) + ":" + std::to_string(e.mode) + ":" +
                    std::to_string(e.uid) + ":" + std::to_string(e.gid) + ":" + e.link_target;
    if (e.type == EntryType::kRegular) k += ":" + std::to_string(index.find(e.source_path)->id);
    return std::make_pair(e.path, k);
  };
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    plan.containers.push_back(c.manifest->name);
    all.insert(settings_of(c));
    for (const auto& e : c.tree.entries) {
      same_entry[entry_key(e)].push_back(i);
      if (e.type != EntryType::kRegular) continue;
      const ContentInfo* info = index.find(e.source_path);
      if (!info) return failure(e.source_path + ": not indexed");
      contents.emplace(info->id, info->representative);
      content_size[info->id] = info->size;
      users[info->id].insert(i);
      plan.file_bytes += info->size;
    }
  }
  for (const auto& [id, size] : content_size) plan.unique_bytes += size;
  SizeCache sizes;
  NESTBOX_TRY(sizes.compute(contents, all, threads));

  auto bytes_of = [&](const std::vector<const FsEntry*>& es) {
    std::set<uint32_t> ids;
    uint64_t b = 0;
    for (const FsEntry* e : es)
      if (e->type == EntryType::kRegular && ids.insert(index.find(e->source_path)->id).second)
        b += e->size;
    return b;
  };

  // 1. squashfs: one image per container.
  StrategyFigures sq{RootfsStrategy::kSquashfs, 0, 0, true,
                     std::to_string(containers.size()) + " standalone images"};
  for (const auto& c : containers) {
    std::vector<const FsEntry*> es;
    for (const auto& e : c.tree.entries) es.push_back(&e);
    auto s = image_size(es, index, sizes, settings_of(c));
    if (!s.ok()) return std::move(s).error();
    sq.flash_bytes += *s;
    sq.manage.upgrade_download_bytes.push_back(*s);
  }
  // Each container is one image: a release signs them all, an upgrade is one.
  sq.manage.signed_images = static_cast<unsigned>(containers.size());
  sq.manage.upgrade_images = sq.manage.upgrade_images_shared = 1;
  // 2. overlay: base = entries identical in >= 2 containers; a layer each.
  StrategyFigures ov{RootfsStrategy::kOverlay, 0, 0, false, ""};
  std::vector<const FsEntry*> base;
  std::set<std::pair<std::string, std::string>> in_base;
  for (size_t i = 0; i < containers.size(); ++i)
    for (const auto& e : containers[i].tree.entries) {
      auto k = entry_key(e);
      if (same_entry[k].size() >= 2 && in_base.insert(k).second) base.push_back(&e);
    }
  {
    auto s = image_size(base, index, sizes, shared);
    if (!s.ok()) return std::move(s).error();
    ov.flash_bytes += *s;
    ov.page_cache_shared = bytes_of(base);
    uint64_t layers = 0;
    for (const auto& c : containers) {
      std::vector<const FsEntry*> layer;
      for (const auto& e : c.tree.entries)
        if (!in_base.count(entry_key(e)) || e.type == EntryType::kDirectory) layer.push_back(&e);
      auto l = image_size(layer, index, sizes, settings_of(c));
      if (!l.ok()) return std::move(l).error();
      layers += *l;
      ov.manage.upgrade_download_bytes.push_back(*l);
    }
    // The base's digest is pinned in every layer's policy: a change to a
    // shared file is a new base and a new layer for each container on it.
    const auto n = static_cast<unsigned>(containers.size());
    ov.manage.signed_images = n + 1;
    ov.manage.upgrade_images = 1;
    ov.manage.upgrade_images_shared = n + 1;
    ov.flash_bytes += layers;
    ov.layout = "base image (" + std::to_string(base.size()) + " shared entries) + " +
                std::to_string(containers.size()) + " layers";
  }
  // 3. host-hardlink: host files cost nothing; the rest is stored once.
  StrategyFigures hh{RootfsStrategy::kHostHardlink, 0, 0, false, ""};
  {
    std::vector<const FsEntry*> own;
    std::set<uint32_t> linked;
    uint64_t n_linked = 0;
    for (const auto& c : containers)
      for (const auto& e : c.tree.entries) {
        if (e.type != EntryType::kRegular) continue;
        if (host_linkable(c, e)) {
          ++n_linked;
          if (linked.insert(index.find(e.source_path)->id).second) hh.page_cache_shared += e.size;
        } else {
          own.push_back(&e);
        }
      }
    auto s = own.empty() ? Result<uint64_t>(0) : image_size(own, index, sizes, shared);
    if (!s.ok()) return std::move(s).error();
    hh.flash_bytes = own.empty() ? 0 : *s;
    hh.layout = std::to_string(n_linked) + " files linked to the host, " +
                std::to_string(own.size()) + " stored";
  }
  // 4. tree: every tree in one file system, identical content stored once.
  StrategyFigures tr{RootfsStrategy::kTree, 0, 0, true, ""};
  {
    std::vector<const FsEntry*> es;
    for (const auto& c : containers)
      for (const auto& e : c.tree.entries) es.push_back(&e);
    auto s = image_size(es, index, sizes, shared);
    if (!s.ok()) return std::move(s).error();
    tr.flash_bytes = *s;
    for (const auto& [id, who] : users)
      if (who.size() >= 2) tr.page_cache_shared += content_size[id];
    tr.layout = "hardlinked trees, " + std::to_string(contents.size()) + " distinct files";
  }
  // Trees live in the firmware's root filesystem; each container's signed
  // image is its tree manifest. Upgrading its files upgrades the firmware.
  for (StrategyFigures* f : {&hh, &tr}) {
    f->manage.signed_images = static_cast<unsigned>(containers.size());
    f->manage.upgrade_images = f->manage.upgrade_images_shared = 1;
    f->manage.upgrade_needs_firmware = true;
  }
  plan.rows = {sq, ov, hh, tr};
  return plan;
}

namespace {

std::string manageability_text(const Plan& p) {
  std::string out = "\n";
  char line[256];
  snprintf(line, sizeof line, "%-14s %13s  %-38s %s\n", "manageability", "signed images",
           "to upgrade one container", "download for one container");
  out += line;
  for (const auto& r : p.rows) {
    const Manageability& m = r.manage;
    std::string upgrade, download;
    if (m.upgrade_needs_firmware) {
      upgrade = "firmware + " + std::to_string(m.upgrade_images) + " tree manifest";
      download = "the firmware image";
    } else {
      upgrade = std::to_string(m.upgrade_images) + " image, " +
                std::to_string(m.upgrade_images_shared) + " if a shared file changes";
      size_t largest = 0;
      for (size_t i = 1; i < m.upgrade_download_bytes.size(); ++i)
        if (m.upgrade_download_bytes[i] > m.upgrade_download_bytes[largest]) largest = i;
      if (!m.upgrade_download_bytes.empty() && largest < p.containers.size())
        download = std::to_string(m.upgrade_download_bytes[largest]) + " bytes at most (" +
                   p.containers[largest] + ")";
    }
    snprintf(line, sizeof line, "%-14s %13u  %-38s %s\n", manifests::to_string(r.strategy),
             m.signed_images, upgrade.c_str(), download.c_str());
    out += line;
  }
  return out;
}

std::string runtime_text(const Plan& p) {
  std::string out = "\nmeasured: every container reads its whole rootfs through the layout\n";
  std::string names;
  for (size_t i = 0; i < p.containers.size(); ++i) names += (i ? ", " : "") + p.containers[i];
  char line[128];
  snprintf(line, sizeof line, "%-14s %12s %12s %12s %12s  ", "strategy", "bytes read",
           "page cache", "shared", "image cache");
  out += line + ("cold read ms (" + names + ")\n");
  for (const auto& r : p.rows) {
    if (!r.runtime) continue;
    const RuntimeFigures& f = *r.runtime;
    std::string times;
    for (size_t i = 0; i < f.cold_read_ns.size(); ++i) {
      char t[32];
      snprintf(t, sizeof t, "%s%.1f", i ? ", " : "", static_cast<double>(f.cold_read_ns[i]) / 1e6);
      times += t;
    }
    snprintf(line, sizeof line, "%-14s %12llu %12llu %12llu %12llu  ",
             manifests::to_string(r.strategy), static_cast<unsigned long long>(f.bytes_read),
             static_cast<unsigned long long>(f.file_cache_bytes),
             static_cast<unsigned long long>(f.shared_bytes()),
             static_cast<unsigned long long>(f.image_cache_bytes));
    out += line + times + "\n";
  }
  return out;
}

}  // namespace

std::string plan_to_text(const Plan& p) {
  std::string out = "containers: ";
  for (size_t i = 0; i < p.containers.size(); ++i) out += (i ? ", " : "") + p.containers[i];
  out += "\nfile bytes: " + std::to_string(p.file_bytes) +
         " (distinct: " + std::to_string(p.unique_bytes) + ")\n\n";
  char line[256];
  snprintf(line, sizeof line, "%-14s %14s %18s %11s  %s\n", "strategy", "flash bytes",
           "page cache shared", "standalone", "layout");
  out += line;
  for (const auto& r : p.rows) {
    snprintf(line, sizeof line, "%-14s %14llu %18llu %11s  %s\n", manifests::to_string(r.strategy),
             static_cast<unsigned long long>(r.flash_bytes),
             static_cast<unsigned long long>(r.page_cache_shared), r.standalone ? "yes" : "no",
             r.layout.c_str());
    out += line;
  }
  out += manageability_text(p);
  if (!p.rows.empty() && p.rows[0].runtime) out += runtime_text(p);
  if (!p.runtime_unmeasured.empty())
    out += "\nmemory and read times not measured: " + p.runtime_unmeasured + "\n";
  bool measured = false;
  int64_t saved = overlay_saving(p, &measured);
  uint64_t standalone = measured ? *p.measured_squashfs : p.rows.empty() ? 0 : p.rows[0].flash_bytes;
  snprintf(line, sizeof line, "\noverlay vs standalone squashfs: %s %lld bytes of flash (%.1f%%, %s)\n",
           saved >= 0 ? "saves" : "costs", static_cast<long long>(saved >= 0 ? saved : -saved),
           standalone ? 100.0 * static_cast<double>(saved) / static_cast<double>(standalone) : 0.0,
           measured ? "measured: images written" : "estimate; --measure writes the images");
  out += line;
  if (measured) {
    snprintf(line, sizeof line, "measured: squashfs %llu bytes, overlay %llu bytes\n",
             static_cast<unsigned long long>(*p.measured_squashfs),
             static_cast<unsigned long long>(*p.measured_overlay));
    out += line;
  }
  return out;
}

int64_t overlay_saving(const Plan& p, bool* measured) {
  bool m = p.measured_squashfs && p.measured_overlay;
  if (measured) *measured = m;
  if (m) return static_cast<int64_t>(*p.measured_squashfs) - static_cast<int64_t>(*p.measured_overlay);
  uint64_t sq = 0, ov = 0;
  for (const auto& r : p.rows) {
    if (r.strategy == manifests::RootfsStrategy::kSquashfs) sq = r.flash_bytes;
    if (r.strategy == manifests::RootfsStrategy::kOverlay) ov = r.flash_bytes;
  }
  return static_cast<int64_t>(sq) - static_cast<int64_t>(ov);
}

std::string plan_to_json(const Plan& p) {
  nlohmann::ordered_json j;
  j["containers"] = p.containers;
  j["file_bytes"] = p.file_bytes;
  j["distinct_file_bytes"] = p.unique_bytes;
  j["strategies"] = nlohmann::ordered_json::array();
  for (const auto& r : p.rows) {
    nlohmann::ordered_json row = {{"strategy", manifests::to_string(r.strategy)},
                                  {"flash_bytes", r.flash_bytes},
                                  {"page_cache_shared_bytes", r.page_cache_shared},
                                  {"standalone", r.standalone},
                                  {"layout", r.layout}};
    const Manageability& m = r.manage;
    nlohmann::ordered_json download = nlohmann::ordered_json::object();
    for (size_t i = 0; i < m.upgrade_download_bytes.size() && i < p.containers.size(); ++i)
      download[p.containers[i]] = m.upgrade_download_bytes[i];
    row["manageability"] = {{"signed_images", m.signed_images},
                            {"upgrade_images", m.upgrade_images},
                            {"upgrade_images_shared_file", m.upgrade_images_shared},
                            {"upgrade_needs_firmware", m.upgrade_needs_firmware},
                            {"upgrade_download_bytes", download}};
    if (r.runtime) {
      const RuntimeFigures& f = *r.runtime;
      nlohmann::ordered_json cold = nlohmann::ordered_json::object();
      for (size_t i = 0; i < f.cold_read_ns.size() && i < p.containers.size(); ++i)
        cold[p.containers[i]] = f.cold_read_ns[i];
      row["runtime"] = {{"bytes_read", f.bytes_read},
                        {"file_cache_bytes", f.file_cache_bytes},
                        {"shared_bytes", f.shared_bytes()},
                        {"image_cache_bytes", f.image_cache_bytes},
                        {"cold_read_ns", cold}};
    }
    j["strategies"].push_back(std::move(row));
  }
  bool measured = false;
  j["overlay_saving_bytes"] = overlay_saving(p, &measured);
  j["overlay_saving_measured"] = measured;
  if (!p.runtime_unmeasured.empty()) j["runtime_unmeasured"] = p.runtime_unmeasured;
  if (measured) {
    j["measured_squashfs_bytes"] = *p.measured_squashfs;
    j["measured_overlay_bytes"] = *p.measured_overlay;
  }
  return json_text(j, 2) + "\n";
}

}  // namespace nestbox::composer
