// The `tree` and `host-hardlink` output writers.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "composer/compose.h"
#include "composer/host_xattrs.h"
#include "composer/output_layout.h"
#include "composer/path.h"
#include "composer/source_tree.h"
#include "composer/staging_root.h"
#include "composer/tree_writer.h"
#include "util/open_in_root.h"
#include "util/temp_path.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;

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

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& run_ctx,
               ComposeReport* report) override {
    ComposeContext ctx = run_ctx;
    ctx.root_owned = false;  // a standalone tree keeps the owners it was composed with
    std::string tmp = ctx.out_dir + "/.nestbox-tmp-" + std::to_string(getpid());
    TempDir guard(tmp);
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
      std::string final_path = OutputLayout(ctx.out_dir).tree(c.manifest->name);
      NESTBOX_TRY(ctx.commit->adopt(tmp + "/" + c.manifest->name, final_path));
      report->outputs.push_back(output_of(c, final_path, stats[i]));
    }
    return ok_status();
  }
};

// Xattrs of a host file, sorted, to compare with an entry before linking.
// nullopt when they cannot all be read: then the file is never linked (a
// short read must not make a file with capabilities look like one without).
// `follow`: `path` is a /proc/self/fd magic link to the file itself.
std::optional<std::vector<Xattr>> host_xattrs(const std::string& path, bool follow) {
  auto x = read_host_xattrs(path, follow);
  if (!x.ok()) return std::nullopt;
  return std::move(*x);
}

// `host-hardlink`: <staging><hardlink_dir>/<name>/ (default
// /usr/lib/nestbox/rootfs), each file a hardlink to the staging rootfs file
// it came from, so the firmware's own squashfs stores it once and the page
// cache is shared with the host.
//
// The staging rootfs is the target's "/": its symlinks (OpenWrt's
// `var -> /tmp`) point into the target, not the build host. The tree's
// directory is therefore resolved inside the root (composer/staging_root.h)
// and written through that fd; each link source is opened beneath the root
// with no symlink at all on its path and linked by fd, so neither end of a
// link can reach a host file outside the staging root.
class HostHardlinkWriter : public OutputWriter {
 public:
  manifests::RootfsStrategy strategy() const override {
    return manifests::RootfsStrategy::kHostHardlink;
  }

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& ctx,
               ComposeReport* report) override {
    const std::string hardlink_dir = ctx.hardlink_dir.empty() ? kDefaultHardlinkDir : ctx.hardlink_dir;
    NESTBOX_TRY(validate_hardlink_dir(hardlink_dir));
    for (const ComposedContainer* c : containers) {
      if (c->staging_dir.empty())
        return bad_input(c->manifest->name +
                         ": host-hardlink needs a directory source (the host staging rootfs)");
      std::string staging = c->staging_dir;
      while (staging.size() > 1 && staging.back() == '/') staging.pop_back();
      auto root = open_staging_root(staging);
      if (!root.ok()) return std::move(root).error();
      auto made = make_dirs_in_root(root->get(), hardlink_dir, staging);
      if (!made.ok()) return std::move(made).error();
      auto base_fd = std::make_shared<UniqueFd>(std::move(*made));
      // The host place it resolved to: must still be inside the staging root.
      std::string base = host_path_of(base_fd->get());
      if (!path_within(base, staging))
        return failure(staging + hardlink_dir + " resolved to " + base + ", outside the staging rootfs");
      std::string tmp_name = ".nestbox-tmp-" + c->manifest->name + "-" + std::to_string(getpid());
      std::string via_fd = "/proc/self/fd/" + std::to_string(base_fd->get()) + "/";
      std::error_code ec;
      fs::remove_all(via_fd + tmp_name, ec);
      if (mkdirat(base_fd->get(), tmp_name.c_str(), 0700) != 0)
        return sys_error("mkdir " + base + "/" + tmp_name);
      TempDir guard(via_fd + tmp_name);
      UniqueFd source;  // the link source last opened, linked through /proc/self/fd
      auto link_source = [&](const FsEntry& e, std::string* why) -> std::string {
        if (!path_within(e.source_path, staging) || e.source_path.size() == staging.size()) {
          *why = "not from the host staging rootfs";
          return "";
        }
        // Beneath the root, no symlink anywhere on the path: a file reached
        // through one (or swapped in since ingestion) is never linked.
        std::string rel = e.source_path.substr(staging.size() + 1);
        source = open_confined(root->get(), rel, O_PATH | O_NOFOLLOW, Confine::kBeneathNoSymlinks);
        if (!source) {
          *why = errno == ELOOP || errno == EXDEV ? "host path goes through a symlink"
                                                  : "host file missing";
          return "";
        }
        struct stat st;
        if (fstat(source.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
          *why = "host file missing";
          return "";
        }
        std::string self = "/proc/self/fd/" + std::to_string(source.get());
        if (st.st_uid != e.uid || st.st_gid != e.gid) *why = "owner differs from the host file";
        else if ((st.st_mode & 07777) != e.mode) *why = "mode differs from the host file";
        // Capabilities (security.capability) the manifest did not allow were
        // removed from the entry: the host file differs and is copied, never
        // linked, so the shared inode cannot carry them into the tree.
        else if (auto x = host_xattrs(self, true); !x || *x != e.xattrs)
          *why = "xattrs differ from the host file";
        return why->empty() ? self : "";
      };
      LinkPool pool;
      WriteStats stats;
      NESTBOX_TRY(write_tree(c->tree, via_fd + tmp_name, c->manifest->name, *ctx.index, &pool,
                             link_source, ctx, &stats, &report->notes));
      std::string final_path = base + "/" + c->manifest->name;
      NESTBOX_TRY(ctx.commit->adopt_at(via_fd + tmp_name, base_fd, c->manifest->name, final_path));
      guard.keep();  // the commit owns it now
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
