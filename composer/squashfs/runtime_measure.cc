#include "composer/squashfs/runtime_measure.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "composer/source_file.h"
#include "composer/tree_writer.h"
#include "util/fd.h"
#include "util/loop_device.h"
#include "util/mount_point.h"
#include "util/open_in_root.h"

namespace nestbox::composer::squashfs {
namespace {

uint64_t page_size() {
  static const uint64_t size = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  return size;
}
uint64_t in_pages(uint64_t bytes) { return (bytes + page_size() - 1) / page_size() * page_size(); }

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

// Drops the file's clean pages from the page cache (dirty ones are written
// first: they cannot be dropped).
Status drop_cache(int fd, const std::string& what) {
  if (::fdatasync(fd) != 0 && errno != EINVAL && errno != EROFS) return sys_error("fdatasync " + what);
  if (int err = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); err != 0)
    return sys_error("drop the page cache of " + what, err);
  return ok_status();
}

// Bytes of the file's pages in the page cache.
Result<uint64_t> resident_bytes(int fd, const std::string& what) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error("stat " + what);
  if (st.st_size == 0) return 0;
  const size_t size = static_cast<size_t>(st.st_size);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return sys_error("mmap " + what);
  std::vector<unsigned char> pages((size + page_size() - 1) / page_size());
  int rc = ::mincore(map, size, pages.data());
  int err = errno;
  ::munmap(map, size);
  if (rc != 0) return sys_error("mincore " + what, err);
  uint64_t n = 0;
  for (unsigned char p : pages) n += p & 1;
  return n * page_size();
}

Status read_all(int fd, const std::string& what, std::vector<char>* buf) {
  buf->resize(1 << 20);
  for (;;) {
    ssize_t n = ::read(fd, buf->data(), buf->size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + what);
    if (n == 0) return ok_status();
  }
}

// Opens a container's regular file as the layout presents it.
using OpenFn = std::function<Result<UniqueFd>(const FsEntry&)>;

OpenFn in_root(int root_fd, std::string where) {
  return [root_fd, where = std::move(where)](const FsEntry& e) -> Result<UniqueFd> {
    UniqueFd fd = open_confined(root_fd, e.path, O_RDONLY | O_NOFOLLOW, Confine::kInRoot);
    if (!fd) return sys_error("open " + where + e.path);
    return fd;
  };
}

// Every regular file of the container through `open`: dropped from the
// cache first (cold), or read (the bytes read in pages are returned).
enum class Pass { kDrop, kRead };
Result<uint64_t> each_file(const ComposedContainer& c, const OpenFn& open, Pass pass,
                           std::vector<char>* buf) {
  uint64_t read = 0;
  for (const FsEntry& e : c.tree.entries) {
    if (e.type != EntryType::kRegular) continue;
    auto fd = open(e);
    if (!fd.ok()) return std::move(fd).error();
    const std::string what = c.manifest->name + ":" + e.path;
    if (pass == Pass::kDrop) {
      NESTBOX_TRY(drop_cache(fd->get(), what));
    } else {
      NESTBOX_TRY(read_all(fd->get(), what, buf));
      read += in_pages(e.size);
    }
  }
  return read;
}

// Page cache of distinct inodes (a file read by two containers counts once).
class CacheCount {
 public:
  Status add(int fd, const std::string& what) {
    struct stat st;
    if (::fstat(fd, &st) != 0) return sys_error("stat " + what);
    if (!S_ISREG(st.st_mode) || !seen_.insert({st.st_dev, st.st_ino}).second) return ok_status();
    auto r = resident_bytes(fd, what);
    if (!r.ok()) return std::move(r).error();
    bytes_ += *r;
    return ok_status();
  }
  // Every regular file beneath the directory (a mount of an image or the
  // tree layout), walked without following symlinks.
  Status add_tree(int dir_fd, const std::string& where) {
    UniqueFd own(::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!own) return sys_error("open " + where);
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(own.get()), ::closedir);
    if (!dir) return sys_error("read " + where);
    own.release();  // the DIR owns it now
    while (dirent* d = ::readdir(dir.get())) {
      std::string name = d->d_name;
      if (name == "." || name == "..") continue;
      UniqueFd fd(::openat(::dirfd(dir.get()), d->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
      if (!fd) {
        if (errno == ELOOP || errno == ENXIO || errno == ENODEV) continue;  // symlink, socket, device
        return sys_error("open " + where + "/" + name);
      }
      struct stat st;
      if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + where + "/" + name);
      if (S_ISDIR(st.st_mode)) NESTBOX_TRY(add_tree(fd.get(), where + "/" + name));
      else if (S_ISREG(st.st_mode)) NESTBOX_TRY(add(fd.get(), where + "/" + name));
    }
    return ok_status();
  }
  uint64_t bytes() const { return bytes_; }

 private:
  std::set<std::pair<dev_t, ino_t>> seen_;
  uint64_t bytes_ = 0;
};

Result<UniqueFd> open_dir(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  return fd;
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + path);
  return ok_status();
}

// A squashfs image attached from the fd it was opened (and dropped) through.
Result<MountPoint> mount_image(int image_fd, const std::string& image, const std::string& dir) {
  NESTBOX_TRY(make_dir(dir));
  auto loop = LoopDevice::attach({image, 0, 0, true, false, image_fd});
  if (!loop.ok()) return std::move(loop).error();
  // The mount holds the device from here; autoclear detaches it with the mount.
  return MountPoint::mount(loop->path(), dir, "squashfs", MS_RDONLY | MS_NODEV | MS_NOSUID, "");
}

// One strategy's layout for some containers, set up from cold caches.
struct Assembled {
  std::vector<MountPoint> mounts;
  std::vector<UniqueFd> images;        // backing image files (their cache is the compressed blocks)
  std::vector<UniqueFd> roots;         // per container: the root its files open in (may be invalid)
  std::vector<OpenFn> open;            // per container (index as in the containers span)
  std::vector<std::string> cached;     // directories whose files hold the page cache
};

class Measurer {
 public:
  Measurer(std::span<const ComposedContainer> cs, const MeasuredFlash& images, std::string scratch)
      : cs_(cs), images_(images), scratch_(std::move(scratch)) {}

  Result<std::vector<RuntimeFigures>> run() {
    for (const auto& c : cs_) {
      std::vector<bool> linked;
      for (const FsEntry& e : c.tree.entries) linked.push_back(host_linkable(c, e));
      linked_.push_back(std::move(linked));
    }
    std::vector<RuntimeFigures> out;
    for (auto strategy : {manifests::RootfsStrategy::kSquashfs, manifests::RootfsStrategy::kOverlay,
                          manifests::RootfsStrategy::kHostHardlink, manifests::RootfsStrategy::kTree}) {
      auto f = measure(strategy);
      if (!f.ok()) return std::move(f.error().context(std::string("measure ") + manifests::to_string(strategy)));
      out.push_back(std::move(*f));
    }
    return out;
  }

 private:
  Result<RuntimeFigures> measure(manifests::RootfsStrategy s) {
    RuntimeFigures f;
    std::vector<char> buf;
    // Cold: one container at a time, from dropped caches. An image layout is
    // mounted afresh (a new superblock starts with an empty cache) and the
    // mounts are timed too, as a container start pays for them.
    for (size_t i = 0; i < cs_.size(); ++i) {
      NESTBOX_TRY(drop_images(s, {i}));
      uint64_t start = now_ns();
      auto cold = assemble(s, {i}, "cold");
      if (!cold.ok()) return std::move(cold).error();
      if (!uses_images(s)) {  // the tree's own files: dropped one by one
        NESTBOX_TRY(each_file(cs_[i], cold->open[i], Pass::kDrop, &buf));
        start = now_ns();
      }
      NESTBOX_TRY(each_file(cs_[i], cold->open[i], Pass::kRead, &buf));
      f.cold_read_ns.push_back(now_ns() - start);
    }
    // Shared: the layout assembled once, every container reads everything.
    std::vector<size_t> all;
    for (size_t i = 0; i < cs_.size(); ++i) all.push_back(i);
    NESTBOX_TRY(drop_images(s, all));
    auto shared = assemble(s, all, "shared");
    if (!shared.ok()) return std::move(shared).error();
    for (size_t i = 0; i < cs_.size(); ++i)
      NESTBOX_TRY(each_file(cs_[i], shared->open[i], Pass::kDrop, &buf));
    for (size_t i = 0; i < cs_.size(); ++i) {
      auto r = each_file(cs_[i], shared->open[i], Pass::kRead, &buf);
      if (!r.ok()) return std::move(r).error();
      f.bytes_read += *r;
    }
    CacheCount files, images;
    for (const std::string& dir : shared->cached) {
      auto fd = open_dir(dir);
      if (!fd.ok()) return std::move(fd).error();
      NESTBOX_TRY(files.add_tree(fd->get(), dir));
    }
    if (s == manifests::RootfsStrategy::kHostHardlink)
      for (size_t i = 0; i < cs_.size(); ++i)
        for (const FsEntry& e : cs_[i].tree.entries) {
          if (e.type != EntryType::kRegular) continue;
          auto fd = shared->open[i](e);
          if (!fd.ok()) return std::move(fd).error();
          NESTBOX_TRY(files.add(fd->get(), cs_[i].manifest->name + ":" + e.path));
        }
    for (auto& image : shared->images) NESTBOX_TRY(images.add(image.get(), "image"));
    f.file_cache_bytes = files.bytes();
    f.image_cache_bytes = images.bytes();
    return f;
  }

  // The image files the layout of `which` mounts, dropped from the cache.
  Status drop_images(manifests::RootfsStrategy s, const std::vector<size_t>& which) {
    std::vector<std::string> paths;
    if (s == manifests::RootfsStrategy::kOverlay) paths.push_back(images_.base_image);
    for (size_t i : which) {
      if (s == manifests::RootfsStrategy::kSquashfs) paths.push_back(images_.squashfs_images[i]);
      if (s == manifests::RootfsStrategy::kOverlay) paths.push_back(images_.layer_images[i]);
    }
    for (const auto& path : paths) {
      auto fd = open_backing_file(path, true);
      if (!fd.ok()) return std::move(fd).error();
      NESTBOX_TRY(drop_cache(fd->get(), path));
    }
    return ok_status();
  }

  static bool uses_images(manifests::RootfsStrategy s) {
    return s == manifests::RootfsStrategy::kSquashfs || s == manifests::RootfsStrategy::kOverlay;
  }

  // The layout of strategy `s` for the containers `which`, its mounts
  // beneath scratch/NAME.
  Result<Assembled> assemble(manifests::RootfsStrategy s, const std::vector<size_t>& which,
                             const std::string& name) {
    Assembled a;
    a.roots.resize(cs_.size());
    a.open.resize(cs_.size());
    const std::string top = scratch_ + "/" + name;
    NESTBOX_TRY(make_dir(top));
    auto image = [&](const std::string& path, const std::string& dir) -> Status {
      auto fd = open_backing_file(path, true);
      if (!fd.ok()) return std::move(fd).error();
      auto m = mount_image(fd->get(), path, dir);
      if (!m.ok()) return std::move(m).error();
      a.mounts.push_back(std::move(*m));
      a.images.push_back(std::move(*fd));
      a.cached.push_back(dir);
      return ok_status();
    };
    using manifests::RootfsStrategy;
    std::string base_dir = top + "/base";
    if (s == RootfsStrategy::kOverlay) NESTBOX_TRY(image(images_.base_image, base_dir));
    for (size_t i : which) {
      const std::string n = std::to_string(i);
      std::string root;
      switch (s) {
        case RootfsStrategy::kSquashfs:
          root = top + "/squashfs-" + n;
          NESTBOX_TRY(image(images_.squashfs_images[i], root));
          break;
        case RootfsStrategy::kOverlay: {
          std::string layer = top + "/layer-" + n;
          NESTBOX_TRY(image(images_.layer_images[i], layer));
          root = top + "/overlay-" + n;
          NESTBOX_TRY(make_dir(root));
          // The layer lies on top of the base, as the launcher stacks them.
          auto m = MountPoint::mount("overlay", root, "overlay", MS_RDONLY | MS_NODEV | MS_NOSUID,
                                     "lowerdir=" + layer + ":" + base_dir);
          if (!m.ok()) return std::move(m).error();
          a.mounts.push_back(std::move(*m));
          break;
        }
        case RootfsStrategy::kTree:
        case RootfsStrategy::kHostHardlink:
          root = scratch_ + "/tree/" + n;
          if (s == RootfsStrategy::kTree) a.cached.push_back(root);
          break;
      }
      auto fd = open_dir(root);
      if (!fd.ok()) return std::move(fd).error();
      a.roots[i] = std::move(*fd);
      OpenFn from_root = in_root(a.roots[i].get(), root);
      if (s == RootfsStrategy::kHostHardlink) {
        // Linked entries are the host's own files; the rest are the copies.
        const auto* c = &cs_[i];
        const auto* linked = &linked_[i];
        a.open[i] = [c, linked, from_root](const FsEntry& e) -> Result<UniqueFd> {
          size_t k = static_cast<size_t>(&e - c->tree.entries.data());
          if (!(*linked)[k]) return from_root(e);
          return open_source_file(e);
        };
      } else {
        a.open[i] = std::move(from_root);
      }
    }
    return a;
  }

  std::span<const ComposedContainer> cs_;
  const MeasuredFlash& images_;
  std::string scratch_;
  std::vector<std::vector<bool>> linked_;
};

// Child → parent: one line per strategy, "bytes_read file_cache image_cache
// ns...", or "error MESSAGE".
std::string encode(const Result<std::vector<RuntimeFigures>>& r) {
  if (!r.ok()) return "error " + r.error().message + "\n";
  std::string out;
  for (const auto& f : *r) {
    out += std::to_string(f.bytes_read) + " " + std::to_string(f.file_cache_bytes) + " " +
           std::to_string(f.image_cache_bytes);
    for (uint64_t ns : f.cold_read_ns) out += " " + std::to_string(ns);
    out += "\n";
  }
  return out;
}

Result<std::vector<RuntimeFigures>> decode(const std::string& text, size_t containers) {
  if (text.rfind("error ", 0) == 0) {
    std::string message = text.substr(6);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return failure(message);
  }
  std::istringstream in(text);
  std::vector<RuntimeFigures> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    RuntimeFigures f;
    fields >> f.bytes_read >> f.file_cache_bytes >> f.image_cache_bytes;
    for (uint64_t ns; fields >> ns;) f.cold_read_ns.push_back(ns);
    if (f.cold_read_ns.size() != containers) return failure("measure: a malformed report from the measuring process");
    out.push_back(std::move(f));
  }
  if (out.size() != 4) return failure("measure: the measuring process ended without its report");
  return out;
}

}  // namespace

Result<std::vector<RuntimeFigures>> measure_runtime(std::span<const ComposedContainer> containers,
                                                    const ContentIndex& index,
                                                    const MeasuredFlash& images,
                                                    const std::string& scratch) {
  // The tree layout, as the tree strategy writes it (identical files linked).
  const std::string trees = scratch + "/tree";
  NESTBOX_TRY(make_dir(trees));
  LinkPool pool;
  ComposeContext ctx;
  ctx.index = &index;
  std::vector<std::string> notes;
  for (size_t i = 0; i < containers.size(); ++i) {
    const std::string dir = trees + "/" + std::to_string(i);
    NESTBOX_TRY(make_dir(dir));
    WriteStats stats;
    NESTBOX_TRY(write_tree(containers[i].tree, dir, containers[i].manifest->name, index, &pool,
                           nullptr, ctx, &stats, &notes));
  }
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return sys_error("pipe");
  UniqueFd read_end(pipe_fds[0]), write_end(pipe_fds[1]);
  pid_t pid = ::fork();
  if (pid < 0) return sys_error("fork");
  if (pid == 0) {
    // The mounts live in this process's own namespace and end with it.
    Result<std::vector<RuntimeFigures>> r = failure("");
    if (::unshare(CLONE_NEWNS) != 0) {
      r = sys_error("a private mount namespace");
    } else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
      r = sys_error("make / private");
    } else {
      r = Measurer(containers, images, scratch).run();
    }
    std::string report = encode(r);
    for (size_t off = 0; off < report.size();) {
      ssize_t n = ::write(write_end.get(), report.data() + off, report.size() - off);
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::_exit(r.ok() ? 0 : 1);
  }
  write_end = UniqueFd();
  std::string report;
  char chunk[4096];
  for (;;) {
    ssize_t n = ::read(read_end.get(), chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    report.append(chunk, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  auto r = decode(report, containers.size());
  if (!r.ok()) return std::move(r.error().context("plan --measure (needs root and loop devices)"));
  return r;
}

}  // namespace nestbox::composer::squashfs
