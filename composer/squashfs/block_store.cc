#include "composer/squashfs/block_store.h"

#include <fcntl.h>
#include <sqfs/block.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "util/fd.h"
#include "util/file_io.h"
#include "verifier/crypto.h"

namespace nestbox::composer::squashfs {
namespace {

constexpr char kMagic[8] = {'N', 'B', 'S', 'Q', 'B', 'L', 'K', '1'};

std::string hex128(uint64_t high, uint64_t low) {
  char buf[33];
  snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(high),
           static_cast<unsigned long long>(low));
  return buf;
}

template <typename T>
void put_raw(std::string* out, const T& v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
bool get_raw(const std::string& in, size_t* pos, T* v) {
  if (in.size() - *pos < sizeof *v) return false;
  std::memcpy(v, in.data() + *pos, sizeof *v);
  *pos += sizeof *v;
  return true;
}

// tmp + rename without fsync: an entry torn by a crash fails its checksum
// and is rebuilt, so the cache does not pay for durability.
Status write_entry(const std::string& path, const std::string& data) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  ::unlink(tmp.c_str());  // a predictable name: never followed, created anew
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_error("create " + tmp);
  Status st = write_all(fd.get(), data.data(), data.size(), tmp);
  fd.reset();
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) st = sys_error("rename " + tmp);
  if (!st.ok()) ::unlink(tmp.c_str());
  return st;
}

Status mkdir_if_missing(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  return ok_status();
}

}  // namespace

// The store must never be keyed by anything weaker: a failing backend
// (allocation) aborts rather than return a digest that is not one.
static ContentDigest to_digest(crypto::Sha256& sha) {
  std::string raw = sha.finish();
  if (!sha.ok() || raw.size() != 32) std::abort();
  ContentDigest d;
  std::memcpy(d.bytes.data(), raw.data(), d.bytes.size());
  return d;
}

ContentDigest content_digest(const void* data, size_t size) {
  crypto::Sha256 sha;
  sha.update(data, size);
  return to_digest(sha);
}

ContentDigest run_digest(const std::vector<uint64_t>& parts) {
  crypto::Sha256 sha;
  for (uint64_t v : parts) {
    uint8_t le[8];
    for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(v >> (8 * i));
    sha.update(le, sizeof le);
  }
  return to_digest(sha);
}

StoreKey make_store_key(EntryKind kind, const ContentDigest& content,
                        const std::string& fingerprint) {
  crypto::Sha256 d;
  const auto k = static_cast<uint8_t>(kind);
  d.update(&k, 1);
  d.update(content.bytes.data(), content.bytes.size());
  d.update(fingerprint.data(), fingerprint.size());
  ContentDigest h = to_digest(d);
  StoreKey key;
  std::memcpy(&key.high, h.bytes.data(), 8);
  std::memcpy(&key.low, h.bytes.data() + 8, 8);
  return key;
}

Result<BlockStore> BlockStore::open(const std::string& dir) {
  BlockStore store;
  if (dir.empty()) return store;
  NESTBOX_TRY_CTX(mkdir_if_missing(dir), "block cache");
  store.dir_ = dir;
  return store;
}

Result<BlockStore> BlockStore::open_for_one_run(const std::string& dir) {
  BlockStore store;
  std::string path = dir + "/pack";
  store.pack_ = UniqueFd(::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!store.pack_) return sys_error("create " + path).context("block store of this run");
  return store;
}

BlockStore::Lookup BlockStore::get_packed(const StoreKey& key, StoreEntry* out) {
  auto it = packed_.find(key);
  if (it == packed_.end()) {
    ++stats_.misses;
    return Lookup::kMiss;
  }
  StoreEntry entry;
  entry.words = it->second.words;
  entry.data.resize(it->second.size);
  if (!pread_exact(pack_.get(), entry.data.data(), entry.data.size(), it->second.offset, "block store").ok()) {
    ++stats_.corrupt;
    return Lookup::kCorrupt;
  }
  *out = std::move(entry);
  ++stats_.hits;
  return Lookup::kHit;
}

Status BlockStore::put_packed(const StoreKey& key, const StoreEntry& entry) {
  if (packed_.count(key)) return ok_status();
  NESTBOX_TRY_CTX(pwrite_all(pack_.get(), entry.data.data(), entry.data.size(), pack_end_, "block store"),
                  "block store of this run");
  packed_[key] = Packed{pack_end_, entry.words, entry.data.size()};
  pack_end_ += entry.data.size();
  ++stats_.stored;
  return ok_status();
}

Status BlockStore::remember(uint32_t content_id, const std::string& fingerprint,
                            std::vector<StoreKey> blocks, const char* tail, uint32_t tail_size) {
  if (!remembers()) return ok_status();
  WrittenContent w{std::move(blocks), pack_end_, tail_size};
  if (tail_size > 0) {
    NESTBOX_TRY_CTX(pwrite_all(pack_.get(), tail, tail_size, pack_end_, "block store"), "block store of this run");
    pack_end_ += tail_size;
  }
  written_.emplace(std::make_pair(content_id, fingerprint), std::move(w));
  return ok_status();
}

const WrittenContent* BlockStore::recall(uint32_t content_id, const std::string& fingerprint) const {
  auto it = written_.find(std::make_pair(content_id, fingerprint));
  return it == written_.end() ? nullptr : &it->second;
}

Status BlockStore::read_tail(const WrittenContent& w, std::string* out) const {
  out->resize(w.tail_size);
  return pread_exact(pack_.get(), out->data(), out->size(), w.tail_offset, "block store");
}

std::string BlockStore::path_of(const StoreKey& key) const {
  std::string hex = hex128(key.high, key.low);
  return dir_ + "/" + hex.substr(0, 2) + "/" + hex;
}

BlockStore::Lookup BlockStore::get(const StoreKey& key, uint32_t max_block, StoreEntry* out) {
  if (!enabled()) return Lookup::kMiss;
  if (pack_) return get_packed(key, out);
  auto bytes = read_file(path_of(key));
  if (!bytes.ok()) {
    ++stats_.misses;
    return Lookup::kMiss;
  }
  const std::string& in = *bytes;
  auto corrupt = [&] {
    ++stats_.corrupt;
    return Lookup::kCorrupt;
  };
  if (in.size() < sizeof kMagic + 16 + 4 + 16) return corrupt();
  XXH128_hash_t sum = XXH3_128bits(in.data(), in.size() - 16);
  uint64_t tail[2];
  std::memcpy(tail, in.data() + in.size() - 16, 16);
  if (tail[0] != sum.high64 || tail[1] != sum.low64) return corrupt();
  if (std::memcmp(in.data(), kMagic, sizeof kMagic) != 0) return corrupt();
  size_t pos = sizeof kMagic;
  StoreKey stored;
  uint32_t count = 0;
  if (!get_raw(in, &pos, &stored.high) || !get_raw(in, &pos, &stored.low) || stored != key ||
      !get_raw(in, &pos, &count) || count > (in.size() - pos) / 4)
    return corrupt();
  StoreEntry entry;
  entry.words.resize(count);
  uint64_t total = 0;
  for (uint32_t& w : entry.words) {
    if (!get_raw(in, &pos, &w)) return corrupt();
    uint32_t sz = SQFS_ON_DISK_BLOCK_SIZE(w);
    if (sz == 0 || sz > max_block || (w & ~((1u << 25) - 1)) != 0) return corrupt();
    total += sz;
  }
  if (in.size() - 16 - pos != total) return corrupt();
  entry.data.assign(in, pos, total);
  *out = std::move(entry);
  ++stats_.hits;
  // Recently used: the cache's garbage collector evicts the oldest mtimes first.
  ::utimensat(AT_FDCWD, path_of(key).c_str(), nullptr, 0);
  return Lookup::kHit;
}

Status BlockStore::put(const StoreKey& key, const StoreEntry& entry) {
  if (!enabled()) return ok_status();
  if (pack_) return put_packed(key, entry);
  std::string buf(kMagic, sizeof kMagic);
  put_raw(&buf, key.high);
  put_raw(&buf, key.low);
  put_raw(&buf, static_cast<uint32_t>(entry.words.size()));
  for (uint32_t w : entry.words) put_raw(&buf, w);
  buf += entry.data;
  XXH128_hash_t sum = XXH3_128bits(buf.data(), buf.size());
  put_raw(&buf, sum.high64);
  put_raw(&buf, sum.low64);
  std::string path = path_of(key);
  NESTBOX_TRY_CTX(mkdir_if_missing(path.substr(0, path.rfind('/'))), "block cache");
  NESTBOX_TRY_CTX(write_entry(path, buf), "block cache");
  ++stats_.stored;
  return ok_status();
}

}  // namespace nestbox::composer::squashfs
