#include "composer/content_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <optional>

#include "composer/parallel_for.h"
#include "util/fd.h"
#include "verifier/crypto.h"

namespace nestbox::composer {

namespace {

// XXH3-128 of a host file, and its SHA-256 when `sha256` is given, from one read.
Result<ContentHash> hash_file_once(const std::string& path, uint64_t* size, std::string* sha256) {
  // O_NONBLOCK: a source swapped for a FIFO is refused, never waited on.
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd) return sys_error("open " + path);
  struct stat info;
  if (fstat(fd.get(), &info) != 0) return sys_error("stat " + path);
  if (!S_ISREG(info.st_mode)) return bad_input(path + ": not a regular file");
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  if (!st) return failure("out of memory");
  XXH3_128bits_reset(st.get());
  std::optional<crypto::Sha256> sha;
  if (sha256) sha.emplace();
  constexpr size_t kBuf = 256 * 1024;
  std::unique_ptr<char[]> buf(new char[kBuf]);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = read(fd.get(), buf.get(), kBuf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) break;
    XXH3_128bits_update(st.get(), buf.get(), n);
    if (sha) sha->update(buf.get(), static_cast<size_t>(n));
    total += n;
  }
  XXH128_hash_t h = XXH3_128bits_digest(st.get());
  if (size) *size = total;
  if (sha) {
    *sha256 = sha->finish();
    if (!sha->ok() || sha256->size() != 32) return failure("sha256 of " + path + ": the crypto backend failed");
  }
  return ContentHash{h.high64, h.low64};
}

}  // namespace

Result<ContentHash> hash_file(const std::string& path, uint64_t* size) {
  return hash_file_once(path, size, nullptr);
}

Result<bool> same_bytes(const std::string& a, const std::string& b) {
  UniqueFd fa(open(a.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fa) return sys_error("open " + a);
  UniqueFd fb(open(b.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fb) return sys_error("open " + b);
  struct stat sa, sb;
  if (fstat(fa.get(), &sa) != 0) return sys_error("stat " + a);
  if (fstat(fb.get(), &sb) != 0) return sys_error("stat " + b);
  if (sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino) return true;  // hard links
  if (sa.st_size != sb.st_size) return false;
  constexpr size_t kBuf = 128 * 1024;
  std::unique_ptr<char[]> ba(new char[kBuf]), bb(new char[kBuf]);
  for (;;) {
    ssize_t na = read(fa.get(), ba.get(), kBuf);
    if (na < 0) return sys_error("read " + a);
    size_t got = 0;
    while (got < static_cast<size_t>(na)) {
      ssize_t nb = read(fb.get(), bb.get() + got, na - got);
      if (nb < 0) return sys_error("read " + b);
      if (nb == 0) return false;
      got += nb;
    }
    if (na == 0) {
      char c;
      return read(fb.get(), &c, 1) == 0;
    }
    if (memcmp(ba.get(), bb.get(), na) != 0) return false;
  }
}

Result<ContentIndex> ContentIndex::build_files(std::vector<std::string> files, unsigned threads) {
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  struct Slot {
    ContentHash hash;
    std::string sha256;  // raw; empty when not read
    uint64_t size = 0;
    std::optional<Error> error;
  };
  std::vector<Slot> slots(files.size());
  // Names of one inode (hard links) are read once: the others copy its slot.
  std::vector<size_t> first(files.size());
  std::vector<size_t> to_hash;
  {
    std::map<std::pair<dev_t, ino_t>, size_t> seen;
    // A content whose size no other inode has cannot equal another: it is
    // not read here (its hash stays zero, its id is its own), and the writer
    // reads it once, when it compresses it. Only sizes that repeat are hashed.
    std::map<uint64_t, std::vector<size_t>> by_size;
    for (size_t i = 0; i < files.size(); ++i) {
      struct stat st;
      first[i] = i;
      if (::lstat(files[i].c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        to_hash.push_back(i);  // hash_file names the error
        continue;
      }
      if (st.st_nlink > 1) {
        auto [it, added] = seen.emplace(std::make_pair(st.st_dev, st.st_ino), i);
        first[i] = it->second;
        if (!added) continue;
      }
      slots[i].size = static_cast<uint64_t>(st.st_size);
      by_size[slots[i].size].push_back(i);
    }
    for (const auto& [size, same_size] : by_size)
      if (same_size.size() > 1 && size > 0) to_hash.insert(to_hash.end(), same_size.begin(), same_size.end());
    std::sort(to_hash.begin(), to_hash.end());
  }
  parallel_for(to_hash.size(), worker_count(threads, to_hash.size()), [&](size_t k, unsigned) {
    const size_t i = to_hash[k];
    auto h = hash_file_once(files[i], &slots[i].size, &slots[i].sha256);
    if (h.ok()) slots[i].hash = *h;
    else slots[i].error = std::move(h).error();
  });
  for (size_t i = 0; i < files.size(); ++i)
    if (first[i] != i) slots[i] = slots[first[i]];

  ContentIndex index;
  // Equal size and SHA-256 is equal content (the block store trusts the same
  // digest), so nothing is read a second time to compare; XXH3 alone is never
  // trusted (it is not collision resistant, and sources can be a third
  // party's): equal XXH3 with different SHA-256 is counted as a collision.
  std::map<std::pair<uint64_t, std::string>, uint32_t> by_digest;
  std::map<std::pair<ContentHash, uint64_t>, std::string> xxh3_seen;
  std::vector<std::string> reps;  // by id: the first path (sorted) with that content
  for (size_t i = 0; i < files.size(); ++i) {
    if (slots[i].error) return *slots[i].error;
    const Slot& slot = slots[i];
    const auto next_id = static_cast<uint32_t>(reps.size());
    uint32_t id = next_id;
    if (!slot.sha256.empty() || slot.size == 0) {  // read, or empty (one content)
      if (first[i] == i) index.bytes_ += slot.size;  // a hard link's bytes are read once
      auto [it, added] = by_digest.emplace(std::make_pair(slot.size, slot.sha256), next_id);
      id = it->second;
      if (added) {
        auto [x, fresh] = xxh3_seen.emplace(std::make_pair(slot.hash, slot.size), slot.sha256);
        if (!fresh && x->second != slot.sha256) ++index.collisions_;
      }
    } else if (first[i] != i) {
      id = index.by_path_.at(files[first[i]]).id;  // a hard link of an unread inode
    }
    if (id == next_id) reps.push_back(files[i]);
    index.by_path_.emplace(files[i], ContentInfo{slot.hash, slot.size, id, reps[id]});
  }
  index.distinct_ = reps.size();
  return index;
}

Result<ContentIndex> ContentIndex::build(const std::vector<FsTree*>& trees, unsigned threads) {
  std::vector<std::string> files;
  for (const FsTree* t : trees)
    for (const auto& e : t->entries)
      if (e.type == EntryType::kRegular) files.push_back(e.source_path);
  auto index = build_files(std::move(files), threads);
  if (!index.ok()) return index;
  for (FsTree* t : trees)
    for (auto& e : t->entries)
      if (e.type == EntryType::kRegular) {
        const ContentInfo* c = index->find(e.source_path);
        e.hash = c->hash;
        e.size = c->size;
        e.content_id = c->id;
      }
  return index;
}

bool same_content(const FsEntry& a, const FsEntry& b) {
  if (a.size != b.size) return false;
  if (a.content_id != kNoContentId && b.content_id != kNoContentId) return a.content_id == b.content_id;
  // A zero hash was not computed (content_index.h): only the bytes can tell.
  if (a.hash != ContentHash{} && b.hash != ContentHash{} && a.hash != b.hash) return false;
  if (a.source_path == b.source_path) return true;
  auto same = same_bytes(a.source_path, b.source_path);
  return same.ok() && *same;
}

const ContentInfo* ContentIndex::find(const std::string& source_path) const {
  auto it = by_path_.find(source_path);
  return it == by_path_.end() ? nullptr : &it->second;
}

}  // namespace nestbox::composer
