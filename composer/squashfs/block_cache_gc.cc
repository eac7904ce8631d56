#include "composer/squashfs/block_cache_gc.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <vector>

#include "util/fd.h"

namespace nestbox::composer::squashfs {
namespace {

struct Entry {
  std::string subdir, name;  // "ab", "ab01..." (32 hex digits)
  int64_t mtime_ns = 0;
  uint64_t size = 0;
};

bool is_hex(const std::string& s, size_t n) {
  return s.size() == n && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// "<32 hex>.tmp.<pid>" -> pid, else 0.
pid_t temp_writer(const std::string& name) {
  if (name.size() < 38 || !is_hex(name.substr(0, 32), 32) || name.compare(32, 5, ".tmp.") != 0) return 0;
  std::string pid = name.substr(37);
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return 0;
  return static_cast<pid_t>(std::atol(pid.c_str()));
}

// The names in a directory opened beneath `parent` (no symlinks followed).
Result<std::vector<std::string>> names_in(int parent, const std::string& name, const std::string& shown,
                                          UniqueFd* dir_fd) {
  UniqueFd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open " + shown);
  UniqueFd walk(::dup(fd.get()));
  DIR* d = walk ? ::fdopendir(walk.get()) : nullptr;
  if (!d) return sys_error("read " + shown);
  walk.release();  // owned by d now
  std::vector<std::string> out;
  while (const dirent* e = ::readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.emplace_back(e->d_name);
  ::closedir(d);
  *dir_fd = std::move(fd);
  return out;
}

}  // namespace

Result<CacheGcReport> collect_block_cache(const std::string& dir, uint64_t max_bytes) {
  UniqueFd top;
  auto subdirs = names_in(AT_FDCWD, dir, dir, &top);
  if (!subdirs.ok()) return std::move(subdirs).error();
  CacheGcReport report;
  std::vector<Entry> entries;
  std::vector<std::string> stale;  // removed only once the whole directory proved to be a cache
  for (const std::string& sub : *subdirs) {
    if (!is_hex(sub, 2))
      return bad_input(dir + ": '" + sub + "' is not part of a block cache; expected only two-hex-digit "
                       "directories (refusing to delete anything)");
    UniqueFd sub_fd;
    auto names = names_in(top.get(), sub, dir + "/" + sub, &sub_fd);
    if (!names.ok()) return std::move(names).error();
    for (const std::string& name : *names) {
      struct stat st;
      if (::fstatat(sub_fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // raced away
      bool entry = is_hex(name, 32) && name.compare(0, 2, sub) == 0;
      pid_t writer = temp_writer(name);
      if (!S_ISREG(st.st_mode) || (!entry && writer == 0))
        return bad_input(dir + "/" + sub + "/" + name + ": not a block cache entry (refusing to delete anything)");
      if (writer != 0) {
        if (::kill(writer, 0) != 0 && errno == ESRCH) stale.push_back(sub + "/" + name);
        continue;
      }
      entries.push_back({sub, name, int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec,
                         static_cast<uint64_t>(st.st_size)});
      report.bytes += static_cast<uint64_t>(st.st_size);
    }
  }
  report.entries = entries.size();
  for (const std::string& rel : stale)
    if (::unlinkat(top.get(), rel.c_str(), 0) == 0) ++report.stale_temporaries;
  // Oldest first; the name breaks ties so the order is the same every run.
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.name < b.name;
  });
  uint64_t kept = report.bytes;
  for (const Entry& e : entries) {
    if (kept <= max_bytes) break;
    std::string rel = e.subdir + "/" + e.name;
    if (::unlinkat(top.get(), rel.c_str(), 0) != 0 && errno != ENOENT) return sys_error("remove " + dir + "/" + rel);
    kept -= e.size;
    ++report.evicted_entries;
    report.evicted_bytes += e.size;
  }
  for (const std::string& sub : *subdirs) ::unlinkat(top.get(), sub.c_str(), AT_REMOVEDIR);  // the empty ones
  return report;
}

}  // namespace nestbox::composer::squashfs
