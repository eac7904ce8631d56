// The `tree` and `host-hardlink` output writers.
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "composer/compose.h"
#include "composer/path.h"
#include "composer/source_tree.h"
#include "composer/tree_writer.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;

// Removes a temporary directory unless it was installed.
class TempTree {
 public:
  explicit TempTree(std::string p) : path_(std::move(p)) {}
  ~TempTree() {
    std::error_code ec;
    if (!path_.empty()) fs::remove_all(path_, ec);
  }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

ComposeReport::Output output_of(const ComposedContainer& c, const std::string& path,
                                const WriteStats& s) {
  return {c.manifest->name, manifests::to_string(c.strategy), path, s.entries, s.files, s.bytes,
          s.linked, s.copied};
}

// `tree`: <out>/<name>/ for every container, written together under
// <out>/.nestbox-tmp-<pid>/ so identical files are hardlinked across them.
class TreeWriter : public OutputWriter {
 public:
  manifests::RootfsStrategy strategy() const override { return manifests::RootfsStrategy::kTree; }

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& ctx,
               ComposeReport* report) override {
    std::string tmp = ctx.out_dir + "/.nestbox-tmp-" + std::to_string(getpid());
    TempTree guard(tmp);
    std::error_code ec;
    fs::create_directories(tmp, ec);
    if (ec) return failure("create " + tmp + ": " + ec.message());
    LinkPool pool;
    std::vector<WriteStats> stats(containers.size());
    for (size_t i = 0; i < containers.size(); ++i) {
      const auto& c = *containers[i];
      std::string dir = tmp + "/" + c.manifest->name;
      if (mkdir(dir.c_str(), 0700) != 0) return sys_error("mkdir " + dir);
      NESTBOX_TRY(write_tree(c.tree, dir, c.manifest->name, *ctx.index, &pool, nullptr, ctx,
                             &stats[i], &report->notes));
    }
    // Everything is complete: hand each tree to the run's commit.
    for (size_t i = 0; i < containers.size(); ++i) {
      const auto& c = *containers[i];
      std::string final_path = ctx.out_dir + "/" + c.manifest->name;
      NESTBOX_TRY(ctx.commit->adopt(tmp + "/" + c.manifest->name, final_path));
      report->outputs.push_back(output_of(c, final_path, stats[i]));
    }
    return ok_status();
  }
};

// Xattrs of a host file, sorted, to compare with an entry before linking.
// nullopt when they cannot all be read: then the file is never linked (a
// short read must not make a file with capabilities look like one without).
std::optional<std::vector<Xattr>> host_xattrs(const std::string& path) {
  std::vector<Xattr> out;
  ssize_t n = llistxattr(path.c_str(), nullptr, 0);
  if (n < 0) return errno == ENOTSUP ? std::optional(out) : std::nullopt;
  std::string names(static_cast<size_t>(n), '\0');
  n = llistxattr(path.c_str(), names.data(), names.size());
  if (n < 0) return std::nullopt;
  names.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < names.size();) {
    std::string name = names.c_str() + i;
    i += name.size() + 1;
    if (name.empty()) continue;
    ssize_t v = lgetxattr(path.c_str(), name.c_str(), nullptr, 0);
    if (v < 0) return std::nullopt;
    std::string value(static_cast<size_t>(v), '\0');
    v = lgetxattr(path.c_str(), name.c_str(), value.data(), value.size());
    if (v < 0) return std::nullopt;
    value.resize(static_cast<size_t>(v));
    out.push_back({name, value});
  }
  std::sort(out.begin(), out.end());
  return out;
}

// `host-hardlink`: <staging>/var/lib/nestbox/rootfs/<name>/, each file a
// hardlink to the staging rootfs file it came from, so the firmware's own
// squashfs stores it once and the page cache is shared with the host.
class HostHardlinkWriter : public OutputWriter {
 public:
  manifests::RootfsStrategy strategy() const override {
    return manifests::RootfsStrategy::kHostHardlink;
  }

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& ctx,
               ComposeReport* report) override {
    for (const ComposedContainer* c : containers) {
      if (c->staging_dir.empty())
        return bad_input(c->manifest->name +
                         ": host-hardlink needs a directory source (the host staging rootfs)");
      std::string staging = c->staging_dir;
      while (staging.size() > 1 && staging.back() == '/') staging.pop_back();
      std::string base = staging + kHostHardlinkDir;
      std::error_code ec;
      fs::create_directories(base, ec);
      if (ec) return failure("create " + base + ": " + ec.message());
      std::string tmp = base + "/.nestbox-tmp-" + c->manifest->name + "-" + std::to_string(getpid());
      fs::remove_all(tmp, ec);
      TempTree guard(tmp);
      if (mkdir(tmp.c_str(), 0700) != 0) return sys_error("mkdir " + tmp);
      auto link_source = [&](const FsEntry& e, std::string* why) -> std::string {
        if (!path_within(e.source_path, staging) || e.source_path.size() == staging.size()) {
          *why = "not from the host staging rootfs";
          return "";
        }
        struct stat st;
        if (lstat(e.source_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
          *why = "host file missing";
          return "";
        }
        if (st.st_uid != e.uid || st.st_gid != e.gid) *why = "owner differs from the host file";
        else if ((st.st_mode & 07777) != e.mode) *why = "mode differs from the host file";
        // Capabilities (security.capability) the manifest did not allow were
        // removed from the entry: the host file differs and is copied, never
        // linked, so the shared inode cannot carry them into the tree.
        else if (auto x = host_xattrs(e.source_path); !x || *x != e.xattrs)
          *why = "xattrs differ from the host file";
        return why->empty() ? e.source_path : "";
      };
      LinkPool pool;
      WriteStats stats;
      NESTBOX_TRY(write_tree(c->tree, tmp, c->manifest->name, *ctx.index, &pool, link_source, ctx,
                             &stats, &report->notes));
      std::string final_path = base + "/" + c->manifest->name;
      NESTBOX_TRY(ctx.commit->adopt(tmp, final_path));
      guard.release();  // the commit owns it now
      report->outputs.push_back(output_of(*c, final_path, stats));
    }
    return ok_status();
  }
};

}  // namespace

std::vector<std::unique_ptr<OutputWriter>> default_writers() {
  std::vector<std::unique_ptr<OutputWriter>> w;
  w.push_back(std::make_unique<TreeWriter>());
  w.push_back(std::make_unique<HostHardlinkWriter>());
  return w;
}

}  // namespace nestbox::composer
