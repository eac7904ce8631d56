#include "verifier/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "util/fd.h"
#include "util/file_io.h"
#include "verifier/crypto.h"
#include "verifier/image_format.h"
#include "verifier/rollback_state.h"
#include "util/open_in_root.h"
#include "util/open_regular.h"

namespace nestbox::verifier {

namespace {

void step(const StepHook& hook, const char* name) {
  if (hook) hook(name);
}

std::string slot_name(char slot) { return std::string("slot-") + slot + ".img"; }
char other(char slot) { return slot == 'a' ? 'b' : 'a'; }

// A directory of the store held open (fd < 0: absent). Every name in it is
// resolved beneath this fd with openat/mkdirat/renameat/unlinkat and
// O_NOFOLLOW, never by joining `path` again: `path` is for messages only.
struct HeldDir {
  UniqueFd fd;
  std::string path;
  bool present() const { return fd.valid(); }
  StateDir ref() const { return {fd.get(), path}; }
  std::string shown(const std::string& name) const { return path + "/" + name; }
};

// A directory of the store (<root>, <root>/<name>, <root>/.state, the
// rollback directory) as the store uses it: a real directory, owned by root
// and writable by nobody else, checked through the fd the store then keeps
// using. A symlink planted where one belongs (a store on removable media is
// written elsewhere too) would send the lock, the slots and the records
// somewhere else, created and written as root; a directory others can write
// lets them swap its entries between a check and their use.
Status check_dir_fd(int fd, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return sys_error("stat " + path);
  if (st.st_uid != 0)
    return failure(path + ": owned by uid " + std::to_string(st.st_uid) + ", not root: refused");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failure(path + ": writable by group or others (mode " + mode + "): refused");
  }
  return ok_status();
}

Error not_a_directory(const std::string& path) {
  return bad_input(path + ": not a directory (a symbolic link or a file): refused");
}

// The store root or the rollback directory (the operator's paths): walked
// from "/" one component at a time, no symlink followed on any of them
// (util/open_in_root.h), made (`create`) when missing. Absent is not an
// error without `create` (nothing installed yet).
Result<HeldDir> open_top(const std::string& path, bool create, mode_t mode) {
  size_t failed = 0;
  UniqueFd fd = open_path_no_symlinks(path, create, &failed, mode);
  if (!fd) {
    int err = errno;
    std::string at = path.substr(0, std::min(failed, path.size()));
    if (err == ENOENT && !create) return HeldDir{UniqueFd(), path};
    if (err == ELOOP || err == ENOTDIR) return not_a_directory(at);
    if (err == EINVAL) return bad_input(path + ": expected a path without \".\" or \"..\" components");
    return sys_error((create ? "mkdir " : "open ") + at, err);
  }
  NESTBOX_TRY(check_dir_fd(fd.get(), path));
  return HeldDir{std::move(fd), path};
}

// `name` beneath the held `parent`, never through a symlink.
Result<HeldDir> open_sub(const HeldDir& parent, const std::string& name, bool create, mode_t mode) {
  std::string path = parent.shown(name);
  if (!parent.present()) return HeldDir{UniqueFd(), path};
  if (create && ::mkdirat(parent.fd.get(), name.c_str(), mode) != 0 && errno != EEXIST)
    return sys_error("mkdir " + path);
  UniqueFd fd(::openat(parent.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return HeldDir{UniqueFd(), path};
    if (errno == ELOOP || errno == ENOTDIR) return not_a_directory(path);
    return sys_error("open " + path);
  }
  NESTBOX_TRY(check_dir_fd(fd.get(), path));
  return HeldDir{std::move(fd), path};
}

Status fsync_dir(const HeldDir& dir) {
  if (::fsync(dir.fd.get()) != 0) return sys_error("fsync " + dir.path);
  return ok_status();
}

bool exists(const HeldDir& dir, const std::string& name) {
  struct stat st;
  return dir.present() && ::fstatat(dir.fd.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// A temporary file beneath a held directory: unlinked there on every early
// return, kept once renamed. (A killed install leaves one instead; the next
// install removes it and creates its own.)
class TempAt {
 public:
  TempAt(int dir_fd, std::string name) : dir_fd_(dir_fd), name_(std::move(name)) {}
  TempAt(const TempAt&) = delete;
  TempAt& operator=(const TempAt&) = delete;
  ~TempAt() {
    if (!name_.empty()) ::unlinkat(dir_fd_, name_.c_str(), 0);
  }
  void keep() { name_.clear(); }

 private:
  int dir_fd_;
  std::string name_;
};

Result<UniqueFd> lock_container(const HeldDir& dir) {
  std::string path = dir.shown("lock");
  if (!dir.present()) return sys_error("open " + path, ENOENT);
  // Created or opened as root: never through a symlink, and a device or
  // FIFO is refused without being opened (opening one can have effects: a
  // watchdog arms). An existing lock is opened only as a regular file; a
  // missing one is created O_EXCL (a name planted meanwhile: looked at again).
  UniqueFd fd;
  for (int tries = 0; !fd; ++tries) {
    auto existing = open_regular_at(dir.fd.get(), "lock", O_RDWR | O_NONBLOCK);
    if (existing.ok()) {
      fd = std::move(*existing);
      break;
    }
    if (existing.error().sys_errno == ELOOP) return bad_input(path + ": a symbolic link: refused");
    if (existing.error().sys_errno != ENOENT || tries == 3) {
      Error e = std::move(existing).error();
      if (e.sys_errno == 0) return bad_input(path + ": not a regular file: refused");
      return sys_error("open " + path, e.sys_errno);
    }
    fd.reset(::openat(dir.fd.get(), "lock", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0644));
    if (!fd && errno != EEXIST) return sys_error("create " + path);
  }
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return sys_error("lock " + path);
  return fd;
}

// The active pointer: 'a', 'b', or an error (absent, unreadable, garbage).
Result<char> read_pointer(const HeldDir& dir) {
  std::string path = dir.shown("active");
  if (!dir.present()) return sys_error("open " + path, ENOENT);
  auto text = read_regular_file("active", dir.fd.get(), path);
  if (!text.ok()) return std::move(text).error();
  if (*text == "a\n" || *text == "b\n") return (*text)[0];
  return bad_input(path + ": expected \"a\" or \"b\"");
}

Status write_pointer(const HeldDir& dir, char slot, const StepHook& hook) {
  int dfd = dir.fd.get();
  std::string tmp = dir.shown("active.tmp");
  ::unlinkat(dfd, "active.tmp", 0);  // a predictable name: never followed, created anew
  UniqueFd fd(::openat(dfd, "active.tmp", O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_error("create " + tmp);
  TempAt cleanup(dfd, "active.tmp");
  char text[2] = {slot, '\n'};
  NESTBOX_TRY(write_all(fd.get(), text, 2, tmp));
  if (::fsync(fd.get()) != 0) return sys_error("fsync " + tmp);
  fd.reset();
  step(hook, "pointer-written");
  if (::renameat(dfd, "active.tmp", dfd, "active") != 0) return sys_error("rename " + tmp);
  cleanup.keep();
  step(hook, "pointer-renamed");
  NESTBOX_TRY(fsync_dir(dir));
  step(hook, "pointer-synced");
  return ok_status();
}

// Copies the verified source `src_fd` into the slot `dst` of `dir` through
// `dst`.tmp: write, fsync, verify the copy fully through its own fd, rename,
// fsync dir. The slot only ever receives bytes that verified (a writer
// changing the source after its check gets a copy that fails here, or that
// differs from what was checked: the caller compares). Exactly `size` bytes
// (the verified image size) are copied: a source extended after its check
// (appended to, or truncated up to a huge sparse size) never makes the copy
// fill the device's flash. Returns what the copy verified as.
Result<ImageInfo> copy_into_slot(int src_fd, const std::string& src, uint64_t size, const HeldDir& dir,
                                 const std::string& dst, const Keyring& keyring, const StepHook& hook) {
  int dfd = dir.fd.get();
  std::string tmp_name = dst + ".tmp", tmp = dir.shown(tmp_name);
  // A temp file a killed install left behind is replaced, never followed.
  if (::unlinkat(dfd, tmp_name.c_str(), 0) != 0 && errno != ENOENT) return sys_error("unlink " + tmp);
  UniqueFd out(::openat(dfd, tmp_name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out) return sys_error("create " + tmp);
  TempAt cleanup(dfd, tmp_name);
  std::unique_ptr<char[]> buf(new char[128 * 1024]);
  for (uint64_t off = 0; off < size;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(128 * 1024, size - off));
    ssize_t n = ::pread(src_fd, buf.get(), want, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + src);
    if (n == 0) return bad_input("read " + src + ": it ended at " + std::to_string(off) + " of the " +
                                 std::to_string(size) + " bytes verified (truncated since)");
    NESTBOX_TRY(write_all(out.get(), buf.get(), static_cast<size_t>(n), tmp));
    off += static_cast<uint64_t>(n);
    step(hook, "copy");
  }
  if (::fsync(out.get()) != 0) return sys_error("fsync " + tmp);
  step(hook, "slot-synced");
  auto written = verify_image_fd(out.get(), keyring, Mode::kFull);
  if (!written.ok()) return std::move(written).error().context("written slot");
  out.reset();
  step(hook, "slot-verified");
  if (::renameat(dfd, tmp_name.c_str(), dfd, dst.c_str()) != 0)
    return sys_error("rename " + tmp + " to " + dir.shown(dst));
  cleanup.keep();
  step(hook, "slot-renamed");
  NESTBOX_TRY(fsync_dir(dir));
  step(hook, "slot-dir-synced");
  return written;
}

// Trailer + metadata of an image, structure checked, signature not.
Status read_header(const HeldDir& dir, const std::string& slot, SlotStatus* s) {
  std::string path = dir.shown(slot);
  auto opened = open_image_at(dir.fd.get(), slot);  // a FIFO or symlink slot is a problem, never a hang
  if (!opened.ok()) return std::move(opened).error();
  UniqueFd fd = std::move(*opened);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  image::Trailer t;
  if (size < sizeof t || ::pread(fd.get(), &t, sizeof t, static_cast<off_t>(size - sizeof t)) != sizeof t)
    return bad_input("trailer: file too small");
  NESTBOX_TRY(image::check_trailer(t, size));
  image::Metadata m;
  if (::pread(fd.get(), &m, sizeof m, static_cast<off_t>(t.metadata_offset.get())) != sizeof m)
    return bad_input("metadata: short read");
  if (crypto::sha256(std::string_view(reinterpret_cast<const char*>(&m), sizeof m)) !=
      std::string_view(reinterpret_cast<const char*>(t.metadata_sha256), sizeof t.metadata_sha256))
    return bad_input("metadata: sha256 mismatch");
  NESTBOX_TRY(image::check_metadata(m, t));
  s->version = m.version.get();
  s->version_string = image::field_string(m.version_string);
  return ok_status();
}

void add_problem(std::string* problems, const std::string& p) {
  *problems += (problems->empty() ? "" : "; ") + p;
}

// The signed identity of a slot (payload not hashed), or nullopt when it
// does not verify or holds another container.
std::optional<ImageInfo> signed_slot(const HeldDir& dir, char slot, const std::string& name,
                                     const Keyring& keyring) {
  if (!dir.present()) return std::nullopt;
  auto fd = open_image_at(dir.fd.get(), slot_name(slot));
  if (!fd.ok()) return std::nullopt;
  auto info = verify_signed_metadata(fd->get(), keyring);
  if (!info.ok() || info->name != name) return std::nullopt;
  return std::move(*info);
}

// The live trial of the container in `dir` (no lock taken): its record when
// it names the slot the pointer selects. A record naming the other slot is
// stale (an install cut before the flip, a rollback since): reported as none.
Result<std::optional<TrialRecord>> live_trial_in(const HeldDir& dir) {
  if (!dir.present()) return std::optional<TrialRecord>();
  auto t = read_trial(dir.ref());
  if (!t.ok() || !*t) return t;
  auto pointer = read_pointer(dir);
  if (!pointer.ok() || *pointer != (*t)->slot) return std::optional<TrialRecord>();
  return t;
}

// The slot on trial, or 0 (none, or a record that does not read).
char trial_slot(const HeldDir& dir) {
  auto t = live_trial_in(dir);
  return t.ok() && *t ? (*t)->slot : 0;
}

}  // namespace

// The directories of one operation, each opened once and checked through its
// fd (see open_dirs).
struct Store::Dirs {
  HeldDir root, state, dir;
};

namespace {

// The state directory, made (mode 0700, as the records always were) when a
// record is about to be written and it is missing.
Status ensure_state(Store::Dirs* d, const StoreOptions& o) {
  if (d->state.present()) return ok_status();
  if (o.rollback_dir.empty() && !d->root.present()) {
    auto root = open_top(o.root, true, 0700);
    if (!root.ok()) return std::move(root).error();
    d->root = std::move(*root);
  }
  auto state = o.rollback_dir.empty() ? open_sub(d->root, ".state", true, 0700) : open_top(o.rollback_dir, true, 0700);
  if (!state.ok()) return std::move(state).error();
  d->state = std::move(*state);
  return ok_status();
}

}  // namespace

// The store directories `name` uses (<root>, the state directory,
// <root>/<name>), opened once and checked before any of them is used: the
// operator's paths walked from "/" with no symlink followed, <name> and
// .state opened beneath the held root with O_NOFOLLOW. Every later lookup is
// relative to these fds, so a directory swapped for a symlink after the check
// redirects nothing. `create` (install): made when missing; else absent is
// not an error (nothing installed yet).
Result<Store::Dirs> Store::open_dirs(const std::string& name, bool create) const {
  Dirs d;
  auto root = open_top(o_.root, create, 0755);
  if (!root.ok()) return std::move(root).error();
  d.root = std::move(*root);
  // The records' directory 0700, as ensure_state and the path forms make it.
  auto state = o_.rollback_dir.empty() ? open_sub(d.root, ".state", create, 0700)
                                       : open_top(o_.rollback_dir, create, 0700);
  if (!state.ok()) return std::move(state).error();
  d.state = std::move(*state);
  auto dir = open_sub(d.root, name, create, 0755);
  if (!dir.ok()) return std::move(dir).error();
  d.dir = std::move(*dir);
  return d;
}

Result<RollbackFloor> Store::floor(const std::string& name) const {
  NESTBOX_TRY(check_container_name(name));
  auto d = open_dirs(name, false);
  if (!d.ok()) return std::move(d).error();
  return floor_in(&*d, name);
}

Result<RollbackFloor> Store::floor_in(Dirs* d, const std::string& name) const {
  NESTBOX_TRY(check_container_name(name));
  std::optional<uint64_t> version, index;
  if (d->state.present()) {
    auto v = read_version_record_at(d->state.ref(), name);
    if (!v.ok()) return std::move(v).error();
    auto i = read_security_version_at(d->state.ref(), name);
    if (!i.ok()) return std::move(i).error();
    version = *v;
    index = *i;
  }
  RollbackFloor f{version.value_or(0), index.value_or(0)};
  if (!version || !index) {
    // A record is missing (never written, or deleted): rebuild it from what
    // is installed, never from zero. A slot counts when its signed metadata
    // verifies, even with a damaged payload: it proves what was installed.
    // A slot on trial is not committed: it never sets the floor.
    char on_trial = trial_slot(d->dir);
    for (char slot : {'a', 'b'}) {
      if (slot == on_trial) continue;
      auto info = signed_slot(d->dir, slot, name, o_.keyring);
      if (!info) continue;
      if (!version) f.version = std::max(f.version, info->version);
      if (!index) f.security_version = std::max(f.security_version, info->security_version);
    }
  }
  if (!o_.rollback_dir.empty() && o_.rollback_dir != o_.root + "/.state") {
    // The records this store kept in its own .state before they moved to
    // the rollback directory (a device whose firmware now passes
    // --rollback-dir for every store): they only ever raise the floor. Read
    // as a lower bound, never as the floor, since whoever writes the store
    // writes them too.
    auto own = open_sub(d->root, ".state", false, 0);
    if (!own.ok()) return std::move(own).error();
    if (own->present()) {
      auto old_version = read_version_record_at(own->ref(), name);
      if (!old_version.ok()) return std::move(old_version).error().context(name + ": the store's own record");
      auto old_index = read_security_version_at(own->ref(), name);
      if (!old_index.ok()) return std::move(old_index).error().context(name + ": the store's own record");
      f.version = std::max(f.version, old_version->value_or(0));
      f.security_version = std::max(f.security_version, old_index->value_or(0));
    }
  }
  if (f.version > version.value_or(0)) {
    NESTBOX_TRY_CTX(ensure_state(d, o_), "rebuild the version record");
    NESTBOX_TRY_CTX(record_installed_version_at(d->state.ref(), name, f.version, false),
                    "rebuild the version record");
  }
  if (f.security_version > index.value_or(0)) {
    NESTBOX_TRY_CTX(ensure_state(d, o_), "rebuild the rollback index record");
    NESTBOX_TRY_CTX(raise_security_version_at(d->state.ref(), name, f.security_version),
                    "rebuild the rollback index record");
  }
  return f;
}

Status Store::admit(const ImageInfo& image, bool raise) const {
  NESTBOX_TRY(check_container_name(image.name));
  auto d = open_dirs(image.name, false);
  if (!d.ok()) return std::move(d).error();
  return admit_in(&*d, image, raise);
}

Status Store::admit_in(Dirs* d, const ImageInfo& image, bool raise) const {
  auto f = floor_in(d, image.name);
  if (!f.ok()) return std::move(f).error();
  NESTBOX_TRY(check_security_version(image, f->security_version));
  if (raise && image.security_version > f->security_version) {
    NESTBOX_TRY_CTX(ensure_state(d, o_), "record the rollback index");
    NESTBOX_TRY_CTX(raise_security_version_at(d->state.ref(), image.name, image.security_version),
                    "record the rollback index");
  }
  return ok_status();
}

Result<BootImage> Store::bootable(const std::string& name, Mode mode,
                                  const std::function<Status(const ImageInfo&)>& accept) const {
  NESTBOX_TRY(check_container_name(name));
  auto d = open_dirs(name, false);
  if (!d.ok()) return std::move(d).error().context(name + ": rollback floor");
  return bootable_in(&*d, name, mode, accept);
}

Result<BootImage> Store::bootable_in(Dirs* d, const std::string& name, Mode mode,
                                     const std::function<Status(const ImageInfo&)>& accept) const {
  const HeldDir& dir = d->dir;
  auto floor_now = floor_in(d, name);
  if (!floor_now.ok()) return std::move(floor_now).error().context(name + ": rollback floor");
  auto pointer = read_pointer(dir);
  char on_trial = trial_slot(dir);
  std::vector<char> order;
  std::string problems;
  if (pointer.ok()) {
    order = {*pointer, other(*pointer)};
  } else {
    problems = "active pointer: " + pointer.error().message;
    // No usable pointer: prefer the slot with the higher version.
    SlotStatus a, b;
    bool ha = dir.present() && read_header(dir, slot_name('a'), &a).ok();
    bool hb = dir.present() && read_header(dir, slot_name('b'), &b).ok();
    order = (hb && (!ha || b.version > a.version)) ? std::vector<char>{'b', 'a'} : std::vector<char>{'a', 'b'};
  }
  for (char slot : order) {
    std::string path = dir.shown(slot_name(slot));
    std::string label = std::string("slot ") + slot + ": ";
    if (!exists(dir, slot_name(slot))) {
      add_problem(&problems, label + "empty");
      continue;
    }
    auto fd = open_image_at(dir.fd.get(), slot_name(slot));
    if (!fd.ok()) {
      add_problem(&problems, label + "verify " + path + ": " + fd.error().message);
      continue;
    }
    auto info = verify_image_fd(fd->get(), o_.keyring, mode);
    if (!info.ok()) {
      add_problem(&problems, label + "verify " + path + ": " + info.error().message);
      continue;
    }
    if (info->name != name) {
      add_problem(&problems, label + "holds container " + info->name);
      continue;
    }
    // A/B fallback never goes below the rollback index: a damaged active
    // slot must not boot an older, vulnerable version instead.
    // A slot on trial is admitted without raising the floor: that waits for
    // commit_trial(), so a failed trial can still go back.
    if (Status st = admit_in(d, *info, slot != on_trial); !st.ok()) {
      add_problem(&problems, label + st.error().message);
      continue;
    }
    if (accept) {
      if (Status st = accept(*info); !st.ok()) {
        add_problem(&problems, label + st.error().message);
        continue;
      }
    }
    BootImage b{path, std::make_shared<UniqueFd>(std::move(*fd)), slot, std::move(*info),
                !pointer.ok() || slot != *pointer, problems};
    return b;
  }
  return failure("no bootable image for " + name + " (" + problems + ")");
}

namespace {

// A slot of `dir` opened once and verified fully through that fd; errors
// start with "verify PATH: " (verifier::open_verified).
Result<ImageInfo> verify_slot(const HeldDir& dir, char slot, const Keyring& keyring) {
  std::string path = dir.shown(slot_name(slot));
  auto fd = open_image_at(dir.fd.get(), slot_name(slot));
  if (!fd.ok()) return std::move(fd).error().context("verify " + path);
  auto info = verify_image_fd(fd->get(), keyring, Mode::kFull);
  if (!info.ok()) return std::move(info).error().context("verify " + path);
  return info;
}

}  // namespace

Result<ImageInfo> Store::install(const std::string& image_path, bool allow_downgrade, const StepHook& hook,
                                 bool* up_to_date, uint32_t trial_seconds) {
  if (up_to_date) *up_to_date = false;
  if (trial_seconds > kMaxTrialSeconds)
    return bad_input("install --trial: " + std::to_string(trial_seconds) + " s: expected 1.." +
                     std::to_string(kMaxTrialSeconds));
  // A trial commits by recording its version, which a downgrade cannot.
  if (trial_seconds > 0 && allow_downgrade) return bad_input("install: --trial and --allow-downgrade: choose one");
  auto src = open_verified(image_path, o_.keyring, Mode::kFull);
  if (!src.ok()) return std::move(src).error().context("install");
  const std::string name = src->info.name;
  NESTBOX_TRY_CTX(check_container_name(name), "install");
  auto opened = open_dirs(name, true);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  // While a trial is live the other slot holds the committed version it
  // falls back to: never overwritten.
  auto live = live_trial_in(d.dir);
  if (!live.ok()) return std::move(live).error().context("install " + name);
  if (*live)
    return failure("install " + name + ": version " + std::to_string((*live)->version) + " in slot " +
                   (*live)->slot + " is on trial: boot it (committed or rolled back) or roll it back first");
  auto installed = floor_in(&d, name);
  if (!installed.ok()) return std::move(installed).error().context("install " + name);
  auto admissible = [&](const ImageInfo& i) -> Status {
    NESTBOX_TRY(check_security_version(i, installed->security_version));
    return check_installable(i, o_.device, installed->version, allow_downgrade);
  };
  // --if-newer: an image for this device (arch, compat) that is not newer
  // than what boots now is left alone, whatever its rollback index (an older
  // firmware's image has a lower one): decided under the lock, from the
  // verified source and the store's own record.
  if (up_to_date) {
    NESTBOX_TRY_CTX(check_installable(src->info, o_.device, 0, true), "install " + image_path);
    if (src->info.version <= installed->version && bootable_in(&d, name, Mode::kFull).ok()) {
      *up_to_date = true;
      return std::move(src->info);
    }
  }
  NESTBOX_TRY_CTX(admissible(src->info), "install " + image_path);
  step(hook, "source-verified");

  // Never touch the slot that boots now, whatever the pointer says.
  char target = 'a';
  auto current = bootable_in(&d, name, Mode::kFull);
  if (current.ok()) target = other(current->slot);
  if (trial_seconds > 0 && !current.ok())
    return failure("install --trial " + name + ": no bootable committed version to fall back to (" +
                   current.error().message + ")");
  auto written = copy_into_slot(src->fd.get(), image_path, src->info.image_size, d.dir, slot_name(target),
                                o_.keyring, hook);
  if (!written.ok()) return std::move(written).error().context("install " + name);
  if (written->name != name || written->payload_sha256_hex != src->info.payload_sha256_hex ||
      written->version != src->info.version || written->security_version != src->info.security_version)
    return failure("install " + name + ": the source image changed while it was copied");
  NESTBOX_TRY_CTX(admissible(*written), "install " + image_path);

  if (trial_seconds > 0) {
    // The record first, then the flip: a cut between them leaves a stale
    // record (the pointer still on the committed slot), never an untracked trial.
    NESTBOX_TRY_CTX(write_trial(d.dir.ref(), TrialRecord{target, written->version, trial_seconds, false}),
                    "install " + name + ": trial record");
    step(hook, "trial-recorded");
    NESTBOX_TRY_CTX(write_pointer(d.dir, target, hook), "install " + name);
    return std::move(*written);
  }
  NESTBOX_TRY_CTX(write_pointer(d.dir, target, hook), "install " + name);
  NESTBOX_TRY_CTX(record_installed_version_at(d.state.ref(), name, written->version, allow_downgrade),
                  "install " + name);
  NESTBOX_TRY_CTX(raise_security_version_at(d.state.ref(), name, written->security_version), "install " + name);
  step(hook, "state-recorded");
  return std::move(*written);
}

Result<ImageInfo> Store::rollback(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  auto opened = open_dirs(name, false);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  if (!d.dir.present()) return bad_input("rollback " + name + ": not installed");
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  auto current = bootable_in(&d, name, Mode::kFull);
  if (!current.ok()) return std::move(current).error().context("rollback");
  char target = other(current->slot);
  if (!exists(d.dir, slot_name(target)))
    return failure("rollback " + name + ": no previous version in slot " + target);
  auto info = verify_slot(d.dir, target, o_.keyring);
  if (!info.ok()) return std::move(info).error().context("rollback " + name + ": slot " + target);
  if (info->name != name) return failure("rollback " + name + ": slot " + target + " holds " + info->name);
  // A version downgrade is what rollback is for; the rollback index is not.
  auto floor_now = floor_in(&d, name);
  if (!floor_now.ok()) return std::move(floor_now).error().context("rollback " + name);
  NESTBOX_TRY_CTX(check_security_version(*info, floor_now->security_version), "rollback " + name);
  NESTBOX_TRY_CTX(check_installable(*info, o_.device, 0, true), "rollback " + name);
  step(hook, "other-verified");
  NESTBOX_TRY_CTX(write_pointer(d.dir, target, hook), "rollback " + name);
  // A trial rolled back by hand leaves a stale record: cleared.
  if (auto t = read_trial(d.dir.ref()); t.ok() && *t && (*t)->slot != target) NESTBOX_TRY(remove_trial(d.dir.ref()));
  return std::move(*info);
}

Result<std::optional<TrialRecord>> Store::live_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  auto opened = open_dirs(name, false);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  if (!d.dir.present()) return std::optional<TrialRecord>();
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = read_trial(d.dir.ref());
  if (!t.ok() || !*t) return t;
  auto live = live_trial_in(d.dir);
  if (live.ok() && !*live) {
    NESTBOX_TRY_CTX(remove_trial(d.dir.ref()), name + ": stale trial record");
    step(hook, "stale-trial-removed");
  }
  return live;
}

Status Store::start_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  auto opened = open_dirs(name, false);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(d.dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to start");
  if ((*t)->started) return failure(name + ": the trial was started before and never judged");
  (*t)->started = true;
  NESTBOX_TRY_CTX(write_trial(d.dir.ref(), **t), name + ": trial record");
  step(hook, "trial-started");
  return ok_status();
}

Status Store::commit_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  auto opened = open_dirs(name, false);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(d.dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to commit");
  auto info = signed_slot(d.dir, (*t)->slot, name, o_.keyring);
  if (!info || info->version != (*t)->version)
    return failure(name + ": slot " + (*t)->slot + " no longer holds the version on trial");
  // Forward first, then the record goes: a cut between them leaves a record
  // whose version is the recorded one, which abandon_trial() refuses to leave.
  NESTBOX_TRY_CTX(ensure_state(&d, o_), name + ": commit");
  NESTBOX_TRY_CTX(record_installed_version_at(d.state.ref(), name, info->version, false), name + ": commit");
  NESTBOX_TRY_CTX(raise_security_version_at(d.state.ref(), name, info->security_version), name + ": commit");
  step(hook, "trial-state-recorded");
  NESTBOX_TRY(write_trial_result(d.dir.ref(), TrialResult{"committed", info->version, ""}));
  NESTBOX_TRY(remove_trial(d.dir.ref()));
  step(hook, "trial-committed");
  return ok_status();
}

Result<ImageInfo> Store::abandon_trial(const std::string& name, const std::string& reason, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  auto opened = open_dirs(name, false);
  if (!opened.ok()) return std::move(opened).error();
  Dirs& d = *opened;
  auto lock = lock_container(d.dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(d.dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to roll back");
  char target = other((*t)->slot);
  std::string what = "trial rollback of " + name + " to slot " + std::string(1, target);
  // The committed version: the record, rebuilt from the committed slot when
  // it is missing, never 0: a lost record must not let the trial go back
  // below what was committed.
  auto floor_now = floor_in(&d, name);
  if (!floor_now.ok()) return std::move(floor_now).error().context(what);
  const uint64_t committed = floor_now->version;
  // A commit cut after its version was recorded (before the record went):
  // the trial passed. Finished here, never undone.
  if (auto trial_info = signed_slot(d.dir, (*t)->slot, name, o_.keyring);
      trial_info && trial_info->version == (*t)->version && (*t)->version == committed) {
    NESTBOX_TRY(write_trial_result(d.dir.ref(), TrialResult{"committed", (*t)->version, ""}));
    NESTBOX_TRY(remove_trial(d.dir.ref()));
    return failure(what + " refused: version " + std::to_string(committed) + " was committed already");
  }
  auto info = verify_slot(d.dir, target, o_.keyring);
  if (!info.ok()) return std::move(info).error().context(what);
  if (info->name != name) return failure(what + ": holds " + info->name);
  // Only back to what was committed: the version record moves only on
  // commit, so a slot below it is older than a committed version.
  if (info->version < committed)
    return failure(what + " refused: its version " + std::to_string(info->version) +
                   " is below the committed version " + std::to_string(committed));
  NESTBOX_TRY_CTX(check_security_version(*info, floor_now->security_version), what);
  // Arch and compat: checked by whoever runs it next (boot's admit), as for any slot.
  step(hook, "trial-other-verified");
  NESTBOX_TRY_CTX(write_trial_result(d.dir.ref(), TrialResult{"rolled-back", (*t)->version, reason}), what);
  NESTBOX_TRY_CTX(write_pointer(d.dir, target, hook), what);
  NESTBOX_TRY_CTX(remove_trial(d.dir.ref()), what);
  step(hook, "trial-rolled-back");
  return std::move(*info);
}

Result<std::vector<ContainerStatus>> Store::list() const {
  std::vector<ContainerStatus> out;
  auto root = open_top(o_.root, false, 0);
  if (!root.ok()) return std::move(root).error();
  if (!root->present()) return out;
  // A new open file description of the held root (readdir's position is its own).
  UniqueFd listing(::openat(root->fd.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!listing) return sys_error("open " + o_.root);
  std::unique_ptr<DIR, int (*)(DIR*)> dir_stream(::fdopendir(listing.get()), ::closedir);
  if (!dir_stream) return sys_error("open " + o_.root);
  listing.release();  // closedir closes it
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(dir_stream.get()))
    if (e->d_name[0] != '.' && check_container_name(e->d_name).ok()) names.push_back(e->d_name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    // A symlink or a file where a container belongs is not one.
    auto dir = open_sub(*root, name, false, 0);
    if (!dir.ok() || !dir->present()) continue;
    auto pointer = read_pointer(*dir);
    ContainerStatus c{name, {}};
    for (char slot : {'a', 'b'}) {
      SlotStatus s;
      s.slot = slot;
      s.active = pointer.ok() && *pointer == slot;
      s.present = exists(*dir, slot_name(slot));
      if (s.present)
        if (Status h = read_header(*dir, slot_name(slot), &s); !h.ok()) s.problem = h.error().message;
      c.slots.push_back(s);
    }
    if (auto t = live_trial_in(*dir); t.ok())
      c.trial = *t;
    else
      c.trial_problem = t.error().message;
    if (auto r = read_trial_result(dir->ref()); r.ok())
      c.last_trial = *r;
    else
      c.trial_problem += (c.trial_problem.empty() ? "" : "; ") + r.error().message;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace nestbox::verifier
