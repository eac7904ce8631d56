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
#include "util/temp_path.h"

namespace nestbox::verifier {

namespace {

void step(const StepHook& hook, const char* name) {
  if (hook) hook(name);
}

std::string slot_path(const std::string& dir, char slot) { return dir + "/slot-" + slot + ".img"; }
char other(char slot) { return slot == 'a' ? 'b' : 'a'; }

// A directory of the store (<root>, <root>/<name>, <root>/.state) as the
// store uses it: a real directory, owned by root and writable by nobody else.
// A symlink planted where one belongs (a store on removable media is written
// elsewhere too) would send the lock, the slots and the records somewhere
// else, created and written as root; a directory others can write lets them
// swap its entries between a check and their use. `follow`: the root itself
// may be reached through a link the operator set up (/srv -> /mnt/usb).
// Absent is not an error here (nothing installed yet).
Status check_store_dir(const std::string& path, bool follow) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)));
  if (!fd) {
    if (errno == ENOENT) return ok_status();
    if (errno == ELOOP || errno == ENOTDIR)
      return bad_input(path + ": not a directory (a symbolic link or a file): refused");
    return sys_error("open " + path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  if (st.st_uid != 0)
    return failure(path + ": owned by uid " + std::to_string(st.st_uid) + ", not root: refused");
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return failure(path + ": writable by group or others (mode " + mode + "): refused");
  }
  return ok_status();
}

Status make_dir(const std::string& path, bool follow = false) {
  NESTBOX_TRY(make_dirs(path, 0755));
  return check_store_dir(path, follow);
}

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open " + dir);
  if (::fsync(fd.get()) != 0) return sys_error("fsync " + dir);
  return ok_status();
}

Result<UniqueFd> lock_container(const std::string& dir) {
  std::string path = dir + "/lock";
  // Created or opened as root: never through a symlink, never a device or
  // FIFO (opening one can have effects: a watchdog arms).
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0644));
  if (!fd) {
    if (errno == ELOOP) return bad_input(path + ": a symbolic link: refused");
    return sys_error("open " + path);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + path);
  if (!S_ISREG(st.st_mode)) return bad_input(path + ": not a regular file: refused");
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return sys_error("lock " + path);
  return fd;
}

// The active pointer: 'a', 'b', or an error (absent, unreadable, garbage).
Result<char> read_pointer(const std::string& dir) {
  auto text = read_regular_file(dir + "/active");
  if (!text.ok()) return std::move(text).error();
  if (*text == "a\n" || *text == "b\n") return (*text)[0];
  return bad_input(dir + "/active: expected \"a\" or \"b\"");
}

// Temporary files (util/temp_path.h) are removed on every early return and
// kept once renamed. (A killed install leaves one instead; the next install
// removes it and creates its own.)
Status write_pointer(const std::string& dir, char slot, const StepHook& hook) {
  std::string tmp = dir + "/active.tmp", path = dir + "/active";
  ::unlink(tmp.c_str());  // a predictable name: never followed, created anew
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_error("create " + tmp);
  TempFile cleanup(tmp);
  char text[2] = {slot, '\n'};
  NESTBOX_TRY(write_all(fd.get(), text, 2, tmp));
  if (::fsync(fd.get()) != 0) return sys_error("fsync " + tmp);
  fd.reset();
  step(hook, "pointer-written");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("rename " + tmp);
  cleanup.keep();
  step(hook, "pointer-renamed");
  NESTBOX_TRY(fsync_dir(dir));
  step(hook, "pointer-synced");
  return ok_status();
}

// Copies the verified source `src_fd` into `dst` through `dst`.tmp: write,
// fsync, verify the copy fully through its own fd, rename, fsync dir. The
// slot only ever receives bytes that verified (a writer changing the source
// after its check gets a copy that fails here, or that differs from what was
// checked: the caller compares). Returns what the copy verified as.
Result<ImageInfo> copy_into_slot(int src_fd, const std::string& src, const std::string& dir, const std::string& dst,
                                 const Keyring& keyring, const StepHook& hook) {
  std::string tmp = dst + ".tmp";
  // A temp file a killed install left behind is replaced, never followed.
  if (::unlink(tmp.c_str()) != 0 && errno != ENOENT) return sys_error("unlink " + tmp);
  UniqueFd out(::open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!out) return sys_error("create " + tmp);
  TempFile cleanup(tmp);
  std::unique_ptr<char[]> buf(new char[128 * 1024]);
  for (off_t off = 0;;) {
    ssize_t n = ::pread(src_fd, buf.get(), 128 * 1024, off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read " + src);
    if (n == 0) break;
    NESTBOX_TRY(write_all(out.get(), buf.get(), static_cast<size_t>(n), tmp));
    off += n;
    step(hook, "copy");
  }
  if (::fsync(out.get()) != 0) return sys_error("fsync " + tmp);
  step(hook, "slot-synced");
  auto written = verify_image_fd(out.get(), keyring, Mode::kFull);
  if (!written.ok()) return std::move(written).error().context("written slot");
  out.reset();
  step(hook, "slot-verified");
  if (::rename(tmp.c_str(), dst.c_str()) != 0) return sys_error("rename " + tmp + " to " + dst);
  cleanup.keep();
  step(hook, "slot-renamed");
  NESTBOX_TRY(fsync_dir(dir));
  step(hook, "slot-dir-synced");
  return written;
}

// Trailer + metadata of an image, structure checked, signature not.
Status read_header(const std::string& path, SlotStatus* s) {
  auto opened = open_image(path);  // a FIFO or symlink slot is a problem, never a hang
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

bool exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

void add_problem(std::string* problems, const std::string& p) {
  *problems += (problems->empty() ? "" : "; ") + p;
}

// The signed identity of a slot (payload not hashed), or nullopt when it
// does not verify or holds another container.
std::optional<ImageInfo> signed_slot(const std::string& path, const std::string& name, const Keyring& keyring) {
  auto fd = open_image(path);
  if (!fd.ok()) return std::nullopt;
  auto info = verify_signed_metadata(fd->get(), keyring);
  if (!info.ok() || info->name != name) return std::nullopt;
  return std::move(*info);
}

// The live trial of the container in `dir` (no lock taken): its record when
// it names the slot the pointer selects. A record naming the other slot is
// stale (an install cut before the flip, a rollback since): reported as none.
Result<std::optional<TrialRecord>> live_trial_in(const std::string& dir) {
  auto t = read_trial(dir);
  if (!t.ok() || !*t) return t;
  auto pointer = read_pointer(dir);
  if (!pointer.ok() || *pointer != (*t)->slot) return std::optional<TrialRecord>();
  return t;
}

// The slot on trial, or 0 (none, or a record that does not read).
char trial_slot(const std::string& dir) {
  auto t = live_trial_in(dir);
  return t.ok() && *t ? (*t)->slot : 0;
}

}  // namespace

// The store directories `name` uses, checked before any of them is used. A
// rollback directory of its own is the operator's path (followed, like the root).
Status Store::check_layout(const std::string& name) const {
  NESTBOX_TRY(check_store_dir(o_.root, true));
  NESTBOX_TRY(check_store_dir(state_dir(), !o_.rollback_dir.empty()));
  return check_store_dir(o_.root + "/" + name, false);
}

Result<RollbackFloor> Store::floor(const std::string& name) const {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string state = state_dir(), dir = o_.root + "/" + name;
  auto version = read_version_record(state, name);
  if (!version.ok()) return std::move(version).error();
  auto index = read_security_version(state, name);
  if (!index.ok()) return std::move(index).error();
  RollbackFloor f{version->value_or(0), index->value_or(0)};
  if (!*version || !*index) {
    // A record is missing (never written, or deleted): rebuild it from what
    // is installed, never from zero. A slot counts when its signed metadata
    // verifies, even with a damaged payload: it proves what was installed.
    // A slot on trial is not committed: it never sets the floor.
    char on_trial = trial_slot(dir);
    for (char slot : {'a', 'b'}) {
      if (slot == on_trial) continue;
      auto info = signed_slot(slot_path(dir, slot), name, o_.keyring);
      if (!info) continue;
      if (!*version) f.version = std::max(f.version, info->version);
      if (!*index) f.security_version = std::max(f.security_version, info->security_version);
    }
  }
  if (!o_.rollback_dir.empty()) {
    // The records this store kept in its own .state before they moved to
    // the rollback directory (a device whose firmware now passes
    // --rollback-dir for every store): they only ever raise the floor. Read
    // as a lower bound, never as the floor, since whoever writes the store
    // writes them too.
    std::string own = o_.root + "/.state";
    struct stat st;
    if (own != state && ::lstat(own.c_str(), &st) == 0) {
      NESTBOX_TRY(check_store_dir(own, false));
      auto old_version = read_version_record(own, name);
      if (!old_version.ok()) return std::move(old_version).error().context(name + ": the store's own record");
      auto old_index = read_security_version(own, name);
      if (!old_index.ok()) return std::move(old_index).error().context(name + ": the store's own record");
      f.version = std::max(f.version, old_version->value_or(0));
      f.security_version = std::max(f.security_version, old_index->value_or(0));
    }
  }
  if (f.version > version->value_or(0))
    NESTBOX_TRY_CTX(record_installed_version(state, name, f.version, false), "rebuild the version record");
  if (f.security_version > index->value_or(0))
    NESTBOX_TRY_CTX(raise_security_version(state, name, f.security_version), "rebuild the rollback index record");
  return f;
}

Status Store::admit(const ImageInfo& image, bool raise) const {
  auto f = floor(image.name);
  if (!f.ok()) return std::move(f).error();
  NESTBOX_TRY(check_security_version(image, f->security_version));
  if (raise && image.security_version > f->security_version)
    NESTBOX_TRY_CTX(raise_security_version(state_dir(), image.name, image.security_version),
                    "record the rollback index");
  return ok_status();
}

Result<BootImage> Store::bootable(const std::string& name, Mode mode,
                                  const std::function<Status(const ImageInfo&)>& accept) const {
  NESTBOX_TRY(check_container_name(name));
  std::string dir = o_.root + "/" + name;
  auto floor_now = floor(name);
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
    bool ha = read_header(slot_path(dir, 'a'), &a).ok(), hb = read_header(slot_path(dir, 'b'), &b).ok();
    order = (hb && (!ha || b.version > a.version)) ? std::vector<char>{'b', 'a'} : std::vector<char>{'a', 'b'};
  }
  for (char slot : order) {
    std::string path = slot_path(dir, slot);
    std::string label = std::string("slot ") + slot + ": ";
    if (!exists(path)) {
      add_problem(&problems, label + "empty");
      continue;
    }
    auto fd = open_image(path);
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
    if (Status st = admit(*info, slot != on_trial); !st.ok()) {
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
  std::string state = state_dir(), dir = o_.root + "/" + name;
  NESTBOX_TRY(make_dir(o_.root, true));
  NESTBOX_TRY(make_dir(state, !o_.rollback_dir.empty()));
  NESTBOX_TRY(make_dir(dir));
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  // While a trial is live the other slot holds the committed version it
  // falls back to: never overwritten.
  auto live = live_trial_in(dir);
  if (!live.ok()) return std::move(live).error().context("install " + name);
  if (*live)
    return failure("install " + name + ": version " + std::to_string((*live)->version) + " in slot " +
                   (*live)->slot + " is on trial: boot it (committed or rolled back) or roll it back first");
  auto installed = floor(name);
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
    if (src->info.version <= installed->version && bootable(name, Mode::kFull).ok()) {
      *up_to_date = true;
      return std::move(src->info);
    }
  }
  NESTBOX_TRY_CTX(admissible(src->info), "install " + image_path);
  step(hook, "source-verified");

  // Never touch the slot that boots now, whatever the pointer says.
  char target = 'a';
  auto current = bootable(name, Mode::kFull);
  if (current.ok()) target = other(current->slot);
  if (trial_seconds > 0 && !current.ok())
    return failure("install --trial " + name + ": no bootable committed version to fall back to (" +
                   current.error().message + ")");
  std::string slot = slot_path(dir, target);
  auto written = copy_into_slot(src->fd.get(), image_path, dir, slot, o_.keyring, hook);
  if (!written.ok()) return std::move(written).error().context("install " + name);
  if (written->name != name || written->payload_sha256_hex != src->info.payload_sha256_hex ||
      written->version != src->info.version || written->security_version != src->info.security_version)
    return failure("install " + name + ": the source image changed while it was copied");
  NESTBOX_TRY_CTX(admissible(*written), "install " + image_path);

  if (trial_seconds > 0) {
    // The record first, then the flip: a cut between them leaves a stale
    // record (the pointer still on the committed slot), never an untracked trial.
    NESTBOX_TRY_CTX(write_trial(dir, TrialRecord{target, written->version, trial_seconds, false}),
                    "install " + name + ": trial record");
    step(hook, "trial-recorded");
    NESTBOX_TRY_CTX(write_pointer(dir, target, hook), "install " + name);
    return std::move(*written);
  }
  NESTBOX_TRY_CTX(write_pointer(dir, target, hook), "install " + name);
  NESTBOX_TRY_CTX(record_installed_version(state, name, written->version, allow_downgrade), "install " + name);
  NESTBOX_TRY_CTX(raise_security_version(state, name, written->security_version), "install " + name);
  step(hook, "state-recorded");
  return std::move(*written);
}

Result<ImageInfo> Store::rollback(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string dir = o_.root + "/" + name;
  if (!exists(dir)) return bad_input("rollback " + name + ": not installed");
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto current = bootable(name, Mode::kFull);
  if (!current.ok()) return std::move(current).error().context("rollback");
  char target = other(current->slot);
  std::string path = slot_path(dir, target);
  if (!exists(path)) return failure("rollback " + name + ": no previous version in slot " + target);
  auto info = verify_image(path, o_.keyring, Mode::kFull);
  if (!info.ok()) return std::move(info).error().context("rollback " + name + ": slot " + target);
  if (info->name != name) return failure("rollback " + name + ": slot " + target + " holds " + info->name);
  // A version downgrade is what rollback is for; the rollback index is not.
  auto floor_now = floor(name);
  if (!floor_now.ok()) return std::move(floor_now).error().context("rollback " + name);
  NESTBOX_TRY_CTX(check_security_version(*info, floor_now->security_version), "rollback " + name);
  NESTBOX_TRY_CTX(check_installable(*info, o_.device, 0, true), "rollback " + name);
  step(hook, "other-verified");
  NESTBOX_TRY_CTX(write_pointer(dir, target, hook), "rollback " + name);
  // A trial rolled back by hand leaves a stale record: cleared.
  if (auto t = read_trial(dir); t.ok() && *t && (*t)->slot != target) NESTBOX_TRY(remove_trial(dir));
  return std::move(*info);
}

Result<std::optional<TrialRecord>> Store::live_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string dir = o_.root + "/" + name;
  if (!exists(dir)) return std::optional<TrialRecord>();
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = read_trial(dir);
  if (!t.ok() || !*t) return t;
  auto live = live_trial_in(dir);
  if (live.ok() && !*live) {
    NESTBOX_TRY_CTX(remove_trial(dir), name + ": stale trial record");
    step(hook, "stale-trial-removed");
  }
  return live;
}

Status Store::start_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string dir = o_.root + "/" + name;
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to start");
  if ((*t)->started) return failure(name + ": the trial was started before and never judged");
  (*t)->started = true;
  NESTBOX_TRY_CTX(write_trial(dir, **t), name + ": trial record");
  step(hook, "trial-started");
  return ok_status();
}

Status Store::commit_trial(const std::string& name, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string dir = o_.root + "/" + name, state = state_dir();
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to commit");
  auto info = signed_slot(slot_path(dir, (*t)->slot), name, o_.keyring);
  if (!info || info->version != (*t)->version)
    return failure(name + ": slot " + (*t)->slot + " no longer holds the version on trial");
  // Forward first, then the record goes: a cut between them leaves a record
  // whose version is the recorded one, which abandon_trial() refuses to leave.
  NESTBOX_TRY_CTX(record_installed_version(state, name, info->version, false), name + ": commit");
  NESTBOX_TRY_CTX(raise_security_version(state, name, info->security_version), name + ": commit");
  step(hook, "trial-state-recorded");
  NESTBOX_TRY(write_trial_result(dir, TrialResult{"committed", info->version, ""}));
  NESTBOX_TRY(remove_trial(dir));
  step(hook, "trial-committed");
  return ok_status();
}

Result<ImageInfo> Store::abandon_trial(const std::string& name, const std::string& reason, const StepHook& hook) {
  NESTBOX_TRY(check_container_name(name));
  NESTBOX_TRY(check_layout(name));
  std::string dir = o_.root + "/" + name;
  auto lock = lock_container(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto t = live_trial_in(dir);
  if (!t.ok()) return std::move(t).error();
  if (!*t) return failure(name + ": no trial to roll back");
  char target = other((*t)->slot);
  std::string path = slot_path(dir, target);
  std::string what = "trial rollback of " + name + " to slot " + std::string(1, target);
  // The committed version: the record, rebuilt from the committed slot when
  // it is missing, never 0: a lost record must not let the trial go back
  // below what was committed.
  auto floor_now = floor(name);
  if (!floor_now.ok()) return std::move(floor_now).error().context(what);
  const uint64_t committed = floor_now->version;
  // A commit cut after its version was recorded (before the record went):
  // the trial passed. Finished here, never undone.
  if (auto trial_info = signed_slot(slot_path(dir, (*t)->slot), name, o_.keyring);
      trial_info && trial_info->version == (*t)->version && (*t)->version == committed) {
    NESTBOX_TRY(write_trial_result(dir, TrialResult{"committed", (*t)->version, ""}));
    NESTBOX_TRY(remove_trial(dir));
    return failure(what + " refused: version " + std::to_string(committed) + " was committed already");
  }
  auto info = verify_image(path, o_.keyring, Mode::kFull);
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
  NESTBOX_TRY_CTX(write_trial_result(dir, TrialResult{"rolled-back", (*t)->version, reason}), what);
  NESTBOX_TRY_CTX(write_pointer(dir, target, hook), what);
  NESTBOX_TRY_CTX(remove_trial(dir), what);
  step(hook, "trial-rolled-back");
  return std::move(*info);
}

Result<std::vector<ContainerStatus>> Store::list() const {
  std::vector<ContainerStatus> out;
  NESTBOX_TRY(check_store_dir(o_.root, true));
  std::unique_ptr<DIR, int (*)(DIR*)> d(::opendir(o_.root.c_str()), ::closedir);
  if (!d) {
    if (errno == ENOENT) return out;
    return sys_error("open " + o_.root);
  }
  std::vector<std::string> names;
  while (struct dirent* e = ::readdir(d.get()))
    if (e->d_name[0] != '.' && check_container_name(e->d_name).ok()) names.push_back(e->d_name);
  std::sort(names.begin(), names.end());
  for (const std::string& name : names) {
    std::string dir = o_.root + "/" + name;
    struct stat st;  // a symlink or a file where a container belongs is not one
    if (::lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || !check_store_dir(dir, false).ok()) continue;
    auto pointer = read_pointer(dir);
    ContainerStatus c{name, {}};
    for (char slot : {'a', 'b'}) {
      SlotStatus s;
      s.slot = slot;
      s.active = pointer.ok() && *pointer == slot;
      std::string path = slot_path(dir, slot);
      s.present = exists(path);
      if (s.present)
        if (Status h = read_header(path, &s); !h.ok()) s.problem = h.error().message;
      c.slots.push_back(s);
    }
    if (auto t = live_trial_in(dir); t.ok())
      c.trial = *t;
    else
      c.trial_problem = t.error().message;
    if (auto r = read_trial_result(dir); r.ok())
      c.last_trial = *r;
    else
      c.trial_problem += (c.trial_problem.empty() ? "" : "; ") + r.error().message;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace nestbox::verifier
