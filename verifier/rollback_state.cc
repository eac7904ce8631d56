#include "verifier/rollback_state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "util/fd.h"
#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::verifier {

namespace {

std::string version_name(const std::string& name) { return name + ".version"; }
std::string index_name(const std::string& name) { return name + ".security_version"; }

// An exclusive flock of the state directory: read-compare-write of a record
// is atomic against every other writer (install, run, boot). A new open file
// description of the held directory (not a reopen of its path): closing it
// releases the lock, and it is the directory the records are written in.
Result<UniqueFd> lock_dir(const StateDir& dir) {
  UniqueFd fd(::openat(dir.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open " + dir.path);
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return sys_error("lock " + dir.path);
  return fd;
}

// A record: nullopt when absent; a decimal number and a newline, else an error.
Result<std::optional<uint64_t>> read_record(const StateDir& dir, const std::string& name, const char* what) {
  std::string path = dir.path + "/" + name;
  struct stat st;
  if (::fstatat(dir.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return sys_error("stat " + path);
  }
  auto text = read_regular_file(name, dir.fd, path);
  if (!text.ok()) return std::move(text).error();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>((*text)[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return bad_input(path + ": " + what + " overflows");
    v = v * 10 + digit;
  }
  if (i == 0 || i + 1 != text->size() || (*text)[i] != '\n')
    return bad_input(path + ": expected a decimal " + what + " and a newline");
  return std::optional<uint64_t>(v);
}

Status write_record(const StateDir& dir, const std::string& name, uint64_t value) {
  NESTBOX_TRY(write_file_atomic_at(dir.fd, name, std::to_string(value) + "\n", 0644, dir.path + "/" + name));
  if (::fsync(dir.fd) != 0) return sys_error("fsync " + dir.path);
  return ok_status();
}

// The path forms that write: the directory walked once without a symlink
// (as the store walks its own, util/open_in_root.h), then the *_at form on
// that fd. `create`: missing directories made (mode 0700).
Result<UniqueFd> open_state_dir(const std::string& path, bool create) {
  size_t failed = 0;
  UniqueFd fd = open_path_no_symlinks(path, create, &failed, 0700);
  if (!fd) return sys_error((create ? "mkdir/open " : "open ") + path.substr(0, std::max<size_t>(failed, 1)));
  return fd;
}

}  // namespace

Status check_container_name(const std::string& name) {
  if (name.empty() || name.size() > 63) return bad_input("container name '" + name + "': expected 1..63 bytes");
  if (name[0] == '.') return bad_input("container name '" + name + "': must not start with '.'");
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return bad_input("container name '" + name + "': only [A-Za-z0-9._-] allowed");
  }
  return ok_status();
}

Result<std::optional<uint64_t>> read_version_record_at(const StateDir& dir, const std::string& name) {
  NESTBOX_TRY(check_container_name(name));
  return read_record(dir, version_name(name), "version");
}

Result<std::optional<uint64_t>> read_security_version_at(const StateDir& dir, const std::string& name) {
  NESTBOX_TRY(check_container_name(name));
  return read_record(dir, index_name(name), "security version");
}

Status record_installed_version_at(const StateDir& dir, const std::string& name, uint64_t version,
                                   bool allow_downgrade) {
  NESTBOX_TRY(check_container_name(name));
  auto lock = lock_dir(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto current = read_version_record_at(dir, name);
  if (!current.ok()) return std::move(current).error();
  if (version < current->value_or(0) && !allow_downgrade)
    return failure("rollback refused: " + name + " version " + std::to_string(version) +
                     " is lower than the recorded " + std::to_string(current->value_or(0)));
  return write_record(dir, version_name(name), version);
}

Status raise_security_version_at(const StateDir& dir, const std::string& name, uint64_t index) {
  NESTBOX_TRY(check_container_name(name));
  auto lock = lock_dir(dir);
  if (!lock.ok()) return std::move(lock).error();
  auto current = read_security_version_at(dir, name);
  if (!current.ok()) return std::move(current).error();
  // Nothing to raise: at or below the record, or 0 with no record (which
  // reads as 0 anyway; a store of index-0 images keeps its old layout).
  if (*current ? **current >= index : index == 0) return ok_status();
  return write_record(dir, index_name(name), index);
}

Result<std::optional<uint64_t>> read_version_record(const std::string& state_dir, const std::string& name) {
  NESTBOX_TRY(check_container_name(name));
  UniqueFd fd(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return sys_error("open " + state_dir);
  }
  return read_version_record_at({fd.get(), state_dir}, name);
}

Result<uint64_t> read_installed_version(const std::string& state_dir, const std::string& name) {
  auto v = read_version_record(state_dir, name);
  if (!v.ok()) return std::move(v).error();
  return v->value_or(0);
}

Status record_installed_version(const std::string& state_dir, const std::string& name, uint64_t version,
                                bool allow_downgrade) {
  NESTBOX_TRY(check_container_name(name));
  auto fd = open_state_dir(state_dir, true);
  if (!fd.ok()) return std::move(fd).error();
  return record_installed_version_at({fd->get(), state_dir}, name, version, allow_downgrade);
}

Result<std::optional<uint64_t>> read_security_version(const std::string& state_dir, const std::string& name) {
  NESTBOX_TRY(check_container_name(name));
  UniqueFd fd(::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return sys_error("open " + state_dir);
  }
  return read_security_version_at({fd.get(), state_dir}, name);
}

Status raise_security_version(const std::string& state_dir, const std::string& name, uint64_t index) {
  NESTBOX_TRY(check_container_name(name));
  auto fd = open_state_dir(state_dir, true);
  if (!fd.ok()) return std::move(fd).error();
  return raise_security_version_at({fd->get(), state_dir}, name, index);
}

}  // namespace nestbox::verifier
