#include "composer/source_tree.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "composer/path.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::composer {
namespace {

// A [[rootfs.file]] source is a regular file below the directory it is
// relative to (the manifest's; "/" for an absolute path) with no symlink
// anywhere on the way. stat() followed a symlinked directory (a staging
// "stg/cfg -> /etc" put the host's /etc/shadow in the image) while a symlink
// as the last component was refused; the kernel walks it now
// (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), which also keeps ".." from leaving.
Result<struct stat> stat_file_source(const std::string& source, const std::string& manifest_dir,
                                     const std::string& what) {
  std::string base = source[0] == '/' ? "/" : manifest_dir.empty() ? "." : manifest_dir;
  UniqueFd dir(::open(base.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_error("open " + base);
  UniqueFd fd = open_confined(dir.get(), source, O_PATH, Confine::kBeneathNoSymlinks);
  if (!fd && errno == ELOOP)
    return bad_input(what + " goes through a symlink below " + base +
                     "; expected a path of real directories to a regular file");
  if (!fd && errno == EXDEV) return bad_input(what + " leaves " + base + "; expected a path below it");
  struct stat st;
  if (!fd || fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return bad_input(what + " is not a readable regular file");
  return st;
}

}  // namespace

SourceTree::SourceTree(std::string scratch_dir) : scratch_(std::move(scratch_dir)) {
  FsEntry root;
  root.path = "/";
  root.type = EntryType::kDirectory;
  root.mode = 0755;
  entries_.emplace("/", root);
}

Result<std::string> SourceTree::new_blob_path() {
  char name[32];
  snprintf(name, sizeof name, "/blob-%08llu", static_cast<unsigned long long>(++blob_counter_));
  return scratch_ + name;
}

Status SourceTree::insert(FsEntry e, const std::string& origin, bool replace_ok) {
  // What no output can hold (Linux NAME_MAX and PATH_MAX, which squashfs
  // shares) is refused here, where validate sees it too: a 300-byte member
  // name or a 6000-byte symlink target passed validate and failed compose.
  if (e.path.size() > kMaxPathBytes)
    return bad_input(origin + ": a path of " + std::to_string(e.path.size()) + " bytes; expected at most " +
                     std::to_string(kMaxPathBytes));
  if (e.source_path.size() > kMaxPathBytes)
    return bad_input(origin + ": read from a host path of " + std::to_string(e.source_path.size()) +
                     " bytes; expected at most " + std::to_string(kMaxPathBytes));
  for (const std::string& c : split_components(e.path))
    if (c.size() > kMaxNameBytes)
      return bad_input(origin + ": a name of " + std::to_string(c.size()) + " bytes; expected at most " +
                       std::to_string(kMaxNameBytes));
  if (e.type == EntryType::kSymlink && (e.link_target.empty() || e.link_target.size() > kMaxLinkTargetBytes))
    return bad_input(origin + ": symlink target of " + std::to_string(e.link_target.size()) +
                     " bytes; expected 1 to " + std::to_string(kMaxLinkTargetBytes));
  // Every ancestor must be a directory: a path through a symlink (or a file)
  // could lead anywhere once written.
  std::string parent = parent_of(e.path);
  std::vector<std::string> missing;
  for (std::string p = parent;; p = parent_of(p)) {
    auto it = entries_.find(p);
    if (it != entries_.end()) {
      if (it->second.type == EntryType::kSymlink)
        return bad_input(origin + ": path goes through the symlink " + p);
      if (it->second.type != EntryType::kDirectory)
        return bad_input(origin + ": path goes through the non-directory " + p);
      break;
    }
    missing.push_back(p);
    if (p == "/") break;
  }
  for (const auto& p : missing) {
    FsEntry d;
    d.path = p;
    d.type = EntryType::kDirectory;
    d.mode = 0755;
    d.mtime = e.mtime;
    entries_.emplace(p, d);
    made_.insert(p);
  }
  made_.erase(e.path);  // a source gives it (the manifest's own entries are marked after)
  auto it = entries_.find(e.path);
  if (it != entries_.end()) {
    if (!replace_ok) return bad_input(origin + ": duplicate entry");
    violations_.erase(e.path);
    if (it->second.type == EntryType::kDirectory && e.type != EntryType::kDirectory) {
      // A later layer replaces a directory by something else: drop its subtree.
      std::string prefix = e.path == "/" ? "/" : e.path + "/";
      auto sub = entries_.lower_bound(prefix);
      while (sub != entries_.end() && sub->first.compare(0, prefix.size(), prefix) == 0)
        sub = entries_.erase(sub);
    }
    it->second = std::move(e);
    return ok_status();
  }
  entries_.emplace(e.path, std::move(e));
  return ok_status();
}

Status apply_policy(FsEntry* e, const IngestOptions& opts, const std::string& where,
                    SourceTree* tree, std::string* violation) {
  violation->clear();
  if (e->type == EntryType::kSocket) return bad_input(where + ": sockets are not supported");
  // -1 and 65535 mean "unchanged" to chown(): the written owner would be
  // the build host's, not the one the source claims.
  for (uint32_t id : {e->uid, e->gid})
    if (id == manifests::kIdUnchanged || id == manifests::kIdUnchanged16)
      return bad_input(where + ": owner " + std::to_string(e->uid) + ":" + std::to_string(e->gid) +
                       " holds " + std::to_string(id) +
                       ", which the kernel reads as \"unchanged\"; expected a real uid and gid");
  // A device node opens whatever host device its numbers name; a FIFO in an
  // image is a rendezvous the manifest never asked for. Only what the
  // manifest declares may be in the image (and its declaration replaces the
  // source's node). An error only when selected, like setuid files: a
  // staging rootfs may hold nodes no container sees.
  bool node = e->type == EntryType::kCharDevice || e->type == EntryType::kBlockDevice ||
              e->type == EntryType::kFifo;
  if (node && !opts.declared_nodes.count(e->path)) {
    std::string what = e->type == EntryType::kFifo ? std::string("FIFO")
                       : std::string(e->type == EntryType::kCharDevice ? "character" : "block") +
                             " device " + std::to_string(e->rdev_major) + ":" + std::to_string(e->rdev_minor);
    *violation = where + ": " + what + " not declared by the manifest; expected a [[rootfs.device]] with path = \"" +
                 e->path + "\", or no such node in the source";
    return ok_status();
  }
  // overlayfs reads trusted.overlay.* (opaque, redirect, metacopy) on the
  // layers nestbox builds: only nestbox decides those, never a source.
  auto ovl = std::remove_if(e->xattrs.begin(), e->xattrs.end(),
                            [](const Xattr& x) { return x.name.rfind("trusted.overlay.", 0) == 0; });
  if (ovl != e->xattrs.end()) {
    e->xattrs.erase(ovl, e->xattrs.end());
    tree->note(e->path, where + ": overlayfs xattrs (trusted.overlay.*) removed");
  }
  if (!opts.allow_file_caps) {
    auto cap = std::find_if(e->xattrs.begin(), e->xattrs.end(),
                            [](const Xattr& x) { return x.name == "security.capability"; });
    if (cap != e->xattrs.end()) {
      e->xattrs.erase(cap);
      tree->note(e->path, where + ": file capabilities (security.capability) removed");
    }
  }
  // The other security.* names are LSM labels the device's kernel acts on:
  // security.SMACK64EXEC runs a program under its label (a setuid of
  // Smack's), security.selinux can name an entrypoint of a privileged
  // domain, security.ima/evm are appraisal data. A third party's archive
  // chooses none of them (the device's policy labels its files); a trusted
  // source keeps its own. Whether security.capability stays is decided above.
  if (!opts.trusted) {
    auto lsm = std::stable_partition(e->xattrs.begin(), e->xattrs.end(), [](const Xattr& x) {
      return x.name.rfind("security.", 0) != 0 || x.name == "security.capability";
    });
    if (lsm != e->xattrs.end()) {
      std::string names;
      for (auto it = lsm; it != e->xattrs.end(); ++it) names += (names.empty() ? "" : ", ") + it->name;
      e->xattrs.erase(lsm, e->xattrs.end());
      tree->note(e->path, where + ": security labels from an untrusted source removed (" + names + ")");
    }
  }
  if ((e->mode & (S_ISUID | S_ISGID)) && e->type != EntryType::kDirectory) {
    switch (opts.setuid) {
      case SetuidPolicy::kKeep:
        break;
      case SetuidPolicy::kStrip:
        e->mode &= ~(S_ISUID | S_ISGID);
        tree->note(e->path, where + ": setuid/setgid bits removed");
        break;
      case SetuidPolicy::kRefuse:
        *violation = where + ": setuid/setgid file not allowed by the manifest";
        break;
    }
  }
  // system.* names are interpreted by the kernel (system.posix_acl_access is
  // an ACL grant, not data): squashfs cannot store them and the tree writer
  // would apply them, so an untrusted source (an archive from a third party)
  // may carry only the namespaces an image keeps, whatever the strategy.
  if (!opts.trusted) {
    auto other = std::find_if(e->xattrs.begin(), e->xattrs.end(), [](const Xattr& x) {
      return x.name.rfind("user.", 0) != 0 && x.name.rfind("trusted.", 0) != 0 && x.name.rfind("security.", 0) != 0;
    });
    if (other != e->xattrs.end() && violation->empty())
      *violation = where + ": xattr '" + other->name +
                   "' from an untrusted source; expected only user.*, trusted.* or security.* names";
  }
  if (e->type == EntryType::kRegular && opts.max_file_size && e->size > opts.max_file_size)
    return bad_input(where + ": file of " + std::to_string(e->size) +
                     " bytes over the size limit of " + std::to_string(opts.max_file_size));
  return ok_status();
}

Status SourceTree::add_manifest(const manifests::Manifest& m, std::optional<size_t>* failed_source) {
  for (size_t i = 0; i < m.rootfs.sources.size(); ++i) {
    const manifests::RootfsSource& s = m.rootfs.sources[i];
    IngestOptions opts;
    opts.trusted = s.trusted;
    opts.allow_file_caps = m.rootfs.allow_file_caps;
    for (const auto& d : m.rootfs.devices) opts.declared_nodes.insert(d.path);
    opts.max_file_size = m.rootfs.max_file_size;
    opts.setuid = m.rootfs.allow_setuid ? SetuidPolicy::kKeep
                  : s.trusted           ? SetuidPolicy::kStrip
                                        : SetuidPolicy::kRefuse;
    std::string path = s.path;
    if (!path.empty() && path[0] != '/' && !m.dir.empty()) path = m.dir + "/" + path;
    Status st = s.kind == manifests::SourceKind::kDirectory ? add_directory(path, opts)
                                                            : add_archive(path, s.kind, opts);
    if (!st.ok()) {
      if (failed_source) *failed_source = i;
      return st;
    }
  }
  NESTBOX_TRY(add_extras(m.rootfs, m.dir));
  return add_mount_points(m);
}

Status SourceTree::add_mount_points(const manifests::Manifest& m) {
  std::vector<std::string> targets;
  if (m.mounts.proc) targets.push_back("/proc");
  if (m.mounts.dev != manifests::DevMode::kNone) targets.push_back("/dev");
  if (m.mounts.sys != manifests::SysMode::kNone) targets.push_back("/sys");
  for (const auto& t : m.mounts.tmpfs) targets.push_back(t.target);
  for (const auto& s : m.mounts.storage)
    if (s.target != "/") targets.push_back(s.target);
  for (const std::string& target : targets) {
    auto path = normalize_member(target, true);
    if (!path.ok() || entries_.count(*path)) continue;  // there already: the launcher checks its kind
    bool blocked = false;  // beneath a symlink or a file: not ours to create
    for (std::string p = parent_of(*path); !blocked; p = parent_of(p)) {
      auto it = entries_.find(p);
      if (it != entries_.end()) {
        blocked = it->second.type != EntryType::kDirectory;
        break;
      }
      if (p == "/") break;
    }
    if (blocked) continue;
    FsEntry e;
    e.path = *path, e.type = EntryType::kDirectory, e.mode = 0755;
    NESTBOX_TRY(insert(e, "mount point '" + target + "'", false));
    forced_.push_back(*path);
    made_.insert(*path);
  }
  return add_ipc_mount_point(m);
}

// [ipc.ubus]: the bind of ubusd's socket needs a file to land on (the root is
// read-only at run time): an empty regular file, 0644, root-owned, made like a
// directory mount point (never beneath a symlink or a file). What the sources
// already have there is left for the launcher to check (it refuses anything
// but a regular file).
Status SourceTree::add_ipc_mount_point(const manifests::Manifest& m) {
  if (!m.ipc.ubus) return ok_status();
  auto path = normalize_member(m.ipc.target, true);
  if (!path.ok()) return std::move(path.error().context("ipc.ubus.target"));
  if (entries_.count(*path)) return ok_status();
  for (std::string p = parent_of(*path);; p = parent_of(p)) {
    auto it = entries_.find(p);
    if (it != entries_.end()) {
      if (it->second.type != EntryType::kDirectory) return ok_status();
      break;
    }
    if (p == "/") break;
  }
  auto blob = new_blob_path();
  if (!blob.ok()) return std::move(blob).error();
  NESTBOX_TRY(write_file_atomic(*blob, "", 0600));
  FsEntry e;
  e.path = *path, e.type = EntryType::kRegular, e.mode = 0644;
  e.source_path = *blob, e.size = 0;
  NESTBOX_TRY(insert(e, "ubus socket mount point '" + m.ipc.target + "'", false));
  forced_.push_back(*path);
  made_.insert(*path);
  return ok_status();
}

Status SourceTree::add_extras(const manifests::Rootfs& r, const std::string& manifest_dir) {
  auto norm = [](const std::string& p, const char* what) -> Result<std::string> {
    auto n = normalize_member(p, true);
    if (!n.ok()) return std::move(n.error().context(std::string("rootfs.") + what));
    return n;
  };
  for (const auto& d : r.dirs) {
    auto p = norm(d.path, "dirs");
    if (!p.ok()) return std::move(p).error();
    FsEntry e;
    e.path = *p, e.type = EntryType::kDirectory, e.mode = d.mode & 07777;
    e.uid = d.owner.uid, e.gid = d.owner.gid;
    forced_.push_back(e.path);
    NESTBOX_TRY(insert(std::move(e), "rootfs.dirs '" + d.path + "'", true));
    made_.insert(*p);
  }
  for (const auto& f : r.files) {
    auto p = norm(f.path, "files");
    if (!p.ok()) return std::move(p).error();
    FsEntry e;
    e.path = *p, e.type = EntryType::kRegular, e.mode = f.mode & 07777;
    e.uid = f.owner.uid, e.gid = f.owner.gid;
    if (!f.source.empty()) {
      std::string src = f.source[0] == '/' || manifest_dir.empty() ? f.source
                                                                   : manifest_dir + "/" + f.source;
      auto st = stat_file_source(f.source, manifest_dir, "rootfs.files '" + f.path + "': source " + src);
      if (!st.ok()) return std::move(st).error();
      e.source_path = src, e.size = st->st_size;
      e.source_dev = st->st_dev, e.source_ino = st->st_ino;
    } else {
      auto blob = new_blob_path();
      if (!blob.ok()) return std::move(blob).error();
      NESTBOX_TRY(write_file_atomic(*blob, f.content, 0600));
      e.source_path = *blob, e.size = f.content.size();
    }
    forced_.push_back(e.path);
    NESTBOX_TRY(insert(std::move(e), "rootfs.files '" + f.path + "'", true));
    made_.insert(*p);
  }
  for (const auto& s : r.symlinks) {
    auto p = norm(s.path, "symlinks");
    if (!p.ok()) return std::move(p).error();
    auto dest = symlink_destination(*p, s.target);
    if (!dest.ok()) return std::move(dest.error().context("rootfs.symlinks '" + s.path + "'"));
    FsEntry e;
    e.path = *p, e.type = EntryType::kSymlink, e.mode = 0777, e.link_target = s.target;
    forced_.push_back(e.path);
    NESTBOX_TRY(insert(std::move(e), "rootfs.symlinks '" + s.path + "'", true));
    made_.insert(*p);
  }
  for (const auto& d : r.devices) {
    auto p = norm(d.path, "devices");
    if (!p.ok()) return std::move(p).error();
    FsEntry e;
    e.path = *p;
    e.type = d.type == manifests::DeviceType::kChar    ? EntryType::kCharDevice
             : d.type == manifests::DeviceType::kBlock ? EntryType::kBlockDevice
                                                       : EntryType::kFifo;
    e.mode = d.mode & 07777, e.uid = d.owner.uid, e.gid = d.owner.gid;
    e.rdev_major = d.major, e.rdev_minor = d.minor;
    forced_.push_back(e.path);
    NESTBOX_TRY(insert(std::move(e), "rootfs.devices '" + d.path + "'", true));
    made_.insert(*p);
  }
  return ok_status();
}

namespace {

class TreeView : public RootView {
 public:
  explicit TreeView(const std::map<std::string, FsEntry>& e) : entries_(e) {}
  Result<NodeInfo> lstat(const std::string& path) const override {
    auto it = entries_.find(path);
    if (it == entries_.end()) return NodeInfo{};
    switch (it->second.type) {
      case EntryType::kDirectory: return NodeInfo{NodeKind::kDirectory, {}};
      case EntryType::kRegular: return NodeInfo{NodeKind::kRegular, {}};
      case EntryType::kSymlink: return NodeInfo{NodeKind::kSymlink, it->second.link_target};
      default: return NodeInfo{NodeKind::kOther, {}};
    }
  }
  Result<MappedFile> map(const std::string& path) const override {
    auto it = entries_.find(path);
    if (it == entries_.end() || it->second.type != EntryType::kRegular)
      return bad_input(path + ": not a regular file");
    return MappedFile::open(it->second.source_path);
  }
  Result<std::vector<std::string>> list(const std::string& path) const override {
    std::vector<std::string> names;
    std::string prefix = path == "/" ? "/" : path + "/";
    for (auto it = entries_.lower_bound(prefix);
         it != entries_.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
      std::string rest = it->first.substr(prefix.size());
      if (!rest.empty() && rest.find('/') == std::string::npos) names.push_back(rest);
    }
    return names;
  }

 private:
  const std::map<std::string, FsEntry>& entries_;
};

}  // namespace

std::unique_ptr<RootView> SourceTree::view() const {
  return std::make_unique<TreeView>(entries_);
}

}  // namespace nestbox::composer
