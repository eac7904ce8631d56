#include "verifier/rollback_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::verifier {

namespace {

std::string state_path(const std::string& dir, const std::string& name) { return dir + "/" + name + ".version"; }

Status fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return sys_error("open " + dir);
  if (::fsync(fd.get()) != 0) return sys_error("fsync " + dir);
  return ok_status();
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

Result<uint64_t> read_installed_version(const std::string& state_dir, const std::string& name) {
  NESTBOX_TRY(check_container_name(name));
  std::string path = state_path(state_dir, name);
  if (::access(path.c_str(), F_OK) != 0) {
    if (errno == ENOENT) return uint64_t{0};
    return sys_error("access " + path);
  }
  auto text = read_file(path);
  if (!text.ok()) return std::move(text).error();
  uint64_t v = 0;
  size_t i = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    uint64_t digit = static_cast<uint64_t>((*text)[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return bad_input(path + ": version overflows");
    v = v * 10 + digit;
  }
  if (i == 0 || i + 1 != text->size() || (*text)[i] != '\n')
    return bad_input(path + ": expected a decimal version and a newline");
  return v;
}

Status record_installed_version(const std::string& state_dir, const std::string& name, uint64_t version,
                                bool allow_downgrade) {
  auto current = read_installed_version(state_dir, name);
  if (!current.ok()) return std::move(current).error();
  if (version < *current && !allow_downgrade)
    return failure("rollback refused: " + name + " version " + std::to_string(version) +
                     " is lower than the recorded " + std::to_string(*current));
  NESTBOX_TRY(write_file_atomic(state_path(state_dir, name), std::to_string(version) + "\n", 0644));
  return fsync_dir(state_dir);
}

}  // namespace nestbox::verifier
