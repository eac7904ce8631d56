#include "composer/content_index.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <thread>

#include "util/fd.h"

namespace nestbox::composer {

Result<ContentHash> hash_file(const std::string& path, uint64_t* size) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return sys_error("open " + path);
  posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> st(XXH3_createState(), XXH3_freeState);
  XXH3_128bits_reset(st.get());
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
    total += n;
  }
  XXH128_hash_t h = XXH3_128bits_digest(st.get());
  if (size) *size = total;
  return ContentHash{h.high64, h.low64};
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
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = std::min<unsigned>(threads, std::max<size_t>(1, files.size()));
  struct Slot {
    ContentHash hash;
    uint64_t size = 0;
    std::optional<Error> error;
  };
  std::vector<Slot> slots(files.size());
  // Names of one inode (hard links) are read once: the others copy its slot.
  std::vector<size_t> first(files.size());
  std::vector<size_t> to_hash;
  {
    std::map<std::pair<dev_t, ino_t>, size_t> seen;
    for (size_t i = 0; i < files.size(); ++i) {
      struct stat st;
      first[i] = i;
      if (::lstat(files[i].c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink > 1) {
        auto [it, added] = seen.emplace(std::make_pair(st.st_dev, st.st_ino), i);
        first[i] = it->second;
        if (!added) continue;
      }
      to_hash.push_back(i);
    }
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t k; (k = next.fetch_add(1)) < to_hash.size();) {
      const size_t i = to_hash[k];
      auto h = hash_file(files[i], &slots[i].size);
      if (h.ok()) slots[i].hash = *h;
      else slots[i].error = std::move(h).error();
    }
  };
  threads = std::min<unsigned>(threads, std::max<size_t>(1, to_hash.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  for (size_t i = 0; i < files.size(); ++i)
    if (first[i] != i) slots[i] = slots[first[i]];

  ContentIndex index;
  // Group by (hash, size); within a group, byte-compare against each distinct
  // representative so a hash collision can never merge different files.
  std::map<std::pair<ContentHash, uint64_t>, std::vector<uint32_t>> groups;
  std::vector<std::string> reps;
  for (size_t i = 0; i < files.size(); ++i) {
    if (slots[i].error) return *slots[i].error;
    if (first[i] == i) index.bytes_ += slots[i].size;  // a hard link's bytes are read once
    auto& ids = groups[{slots[i].hash, slots[i].size}];
    ContentInfo info{slots[i].hash, slots[i].size, 0, files[i]};
    bool found = false;
    for (uint32_t id : ids) {
      auto same = same_bytes(reps[id], files[i]);
      if (!same.ok()) return std::move(same).error();
      if (*same) {
        info.id = id, info.representative = reps[id], found = true;
        break;
      }
      ++index.collisions_;
    }
    if (!found) {
      info.id = static_cast<uint32_t>(reps.size());
      reps.push_back(files[i]);
      ids.push_back(info.id);
    }
    index.by_path_.emplace(files[i], std::move(info));
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
  if (a.size != b.size || a.hash != b.hash) return false;
  if (a.content_id != kNoContentId && b.content_id != kNoContentId) return a.content_id == b.content_id;
  if (a.source_path == b.source_path) return true;
  auto same = same_bytes(a.source_path, b.source_path);
  return same.ok() && *same;
}

const ContentInfo* ContentIndex::find(const std::string& source_path) const {
  auto it = by_path_.find(source_path);
  return it == by_path_.end() ? nullptr : &it->second;
}

}  // namespace nestbox::composer
