#include "verifier/trial_state.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <map>

#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::verifier {

namespace {

Status fsync_dir(const StateDir& dir) {
  if (::fsync(dir.fd) != 0) return sys_error("fsync " + dir.path);
  return ok_status();
}

// "key=value\n" lines; nullopt when the file is absent.
Result<std::optional<std::map<std::string, std::string>>> read_fields(const StateDir& dir, const char* name) {
  using Fields = std::map<std::string, std::string>;
  std::string path = dir.path + "/" + name;
  struct stat st;
  if (::fstatat(dir.fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return std::optional<Fields>();
    return sys_error("stat " + path);
  }
  auto text = read_regular_file(name, dir.fd, path);
  if (!text.ok()) return std::move(text).error();
  if (text->empty() || text->back() != '\n') return bad_input(path + ": expected key=value lines");
  Fields f;
  for (size_t pos = 0; pos < text->size();) {
    size_t end = text->find('\n', pos);
    std::string line = text->substr(pos, end - pos);
    pos = end + 1;
    size_t eq = line.find('=');
    if (eq == std::string::npos || eq == 0 || !f.emplace(line.substr(0, eq), line.substr(eq + 1)).second)
      return bad_input(path + ": bad line '" + line + "'");
  }
  return std::optional<Fields>(std::move(f));
}

Result<uint64_t> number(const std::map<std::string, std::string>& f, const std::string& key,
                        const std::string& path) {
  auto it = f.find(key);
  if (it == f.end() || it->second.empty() || it->second.size() > 19) return bad_input(path + ": bad " + key);
  uint64_t v = 0;
  for (char c : it->second) {
    if (c < '0' || c > '9') return bad_input(path + ": bad " + key);
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

Status write_fields(const StateDir& dir, const char* name, const std::string& text) {
  NESTBOX_TRY(write_file_atomic_at(dir.fd, name, text, 0644, dir.path + "/" + name));
  return fsync_dir(dir);
}

// A reason is one line: a newline in it cannot forge another field.
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

Result<std::optional<TrialRecord>> read_trial(const StateDir& dir) {
  std::string path = dir.path + "/trial";
  auto fields = read_fields(dir, "trial");
  if (!fields.ok()) return std::move(fields).error();
  if (!*fields) return std::optional<TrialRecord>();
  const auto& f = **fields;
  TrialRecord t;
  auto slot = f.find("slot"), state = f.find("state");
  if (slot == f.end() || (slot->second != "a" && slot->second != "b")) return bad_input(path + ": bad slot");
  t.slot = slot->second[0];
  if (state == f.end() || (state->second != "pending" && state->second != "started"))
    return bad_input(path + ": bad state");
  t.started = state->second == "started";
  auto version = number(f, "version", path);
  if (!version.ok()) return std::move(version).error();
  auto seconds = number(f, "seconds", path);
  if (!seconds.ok()) return std::move(seconds).error();
  if (*seconds == 0 || *seconds > kMaxTrialSeconds) return bad_input(path + ": bad seconds");
  t.version = *version;
  t.seconds = static_cast<uint32_t>(*seconds);
  if (f.size() != 4) return bad_input(path + ": unknown field");
  return std::optional<TrialRecord>(t);
}

Status write_trial(const StateDir& dir, const TrialRecord& t) {
  return write_fields(dir, "trial",
                      std::string("slot=") + t.slot + "\nversion=" + std::to_string(t.version) +
                          "\nseconds=" + std::to_string(t.seconds) + "\nstate=" + (t.started ? "started" : "pending") +
                          "\n");
}

Status remove_trial(const StateDir& dir) {
  if (::unlinkat(dir.fd, "trial", 0) != 0 && errno != ENOENT) return sys_error("unlink " + dir.path + "/trial");
  return fsync_dir(dir);
}

Result<std::optional<TrialResult>> read_trial_result(const StateDir& dir) {
  std::string path = dir.path + "/trial-result";
  auto fields = read_fields(dir, "trial-result");
  if (!fields.ok()) return std::move(fields).error();
  if (!*fields) return std::optional<TrialResult>();
  const auto& f = **fields;
  TrialResult r;
  auto outcome = f.find("outcome"), reason = f.find("reason");
  if (outcome == f.end() || (outcome->second != "committed" && outcome->second != "rolled-back"))
    return bad_input(path + ": bad outcome");
  r.outcome = outcome->second;
  auto version = number(f, "version", path);
  if (!version.ok()) return std::move(version).error();
  r.version = *version;
  if (reason != f.end()) r.reason = reason->second;
  // Strict like the trial record: a field this launcher does not know is
  // refused, never skipped.
  if (f.size() != (reason != f.end() ? 3u : 2u)) return bad_input(path + ": unknown field");
  return std::optional<TrialResult>(std::move(r));
}

Status write_trial_result(const StateDir& dir, const TrialResult& r) {
  return write_fields(dir, "trial-result",
                      "outcome=" + r.outcome + "\nversion=" + std::to_string(r.version) + "\nreason=" +
                          one_line(r.reason) + "\n");
}

}  // namespace nestbox::verifier
