#include "composer/output_commit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;

void fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

// Puts `tmp` at `final_path`. A file replaces the old one in one rename. A
// directory cannot (rename refuses a non-empty target), so the old one is
// first renamed to "<tmp>.previous", then `tmp` takes its place: two steps,
// each of which recover() can tell done from not done (is `tmp` still
// there?). Returns the previous version to remove, or "".
Result<std::string> install(const std::string& tmp, const std::string& final_path) {
  std::error_code ec;
  fs::create_directories(fs::path(final_path).parent_path(), ec);
  if (ec) return failure("create " + fs::path(final_path).parent_path().string() + ": " + ec.message());
  struct stat t, f;
  if (::lstat(tmp.c_str(), &t) != 0) return sys_error("stat " + tmp);
  std::string previous;
  if (S_ISDIR(t.st_mode) && ::lstat(final_path.c_str(), &f) == 0) {
    previous = tmp + ".previous";
    fs::remove_all(previous, ec);
    if (::rename(final_path.c_str(), previous.c_str()) != 0)
      return sys_error("move previous " + final_path + " aside");
  }
  if (::rename(tmp.c_str(), final_path.c_str()) != 0)
    return sys_error("rename " + tmp + " to " + final_path);
  return previous;
}

// Journal lines: "<tmp>\t<final>\n". Names never hold tabs or newlines
// (container names and the output layout are validated).
std::string journal_text(const std::vector<std::pair<std::string, std::string>>& moves) {
  std::string out;
  for (const auto& [tmp, final_path] : moves) out += tmp + "\t" + final_path + "\n";
  return out;
}

}  // namespace

OutputCommit::OutputCommit(std::string out_dir) : out_dir_(std::move(out_dir)) {}

OutputCommit::~OutputCommit() {
  if (committed_) return;
  std::error_code ec;
  for (const Move& m : moves_) fs::remove_all(m.tmp, ec);
  if (!holding_.empty()) fs::remove_all(holding_, ec);
}

Status OutputCommit::ensure_holding() {
  if (!holding_.empty()) return ok_status();
  std::error_code ec;
  fs::create_directories(out_dir_, ec);
  if (ec) return failure("create " + out_dir_ + ": " + ec.message());
  std::string dir = out_dir_ + "/.nestbox-outputs-" + std::to_string(::getpid());
  fs::remove_all(dir, ec);
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create " + dir);
  holding_ = dir;
  return ok_status();
}

Status OutputCommit::adopt(const std::string& tmp, const std::string& final_path) {
  NESTBOX_TRY(ensure_holding());
  std::string held = holding_ + "/" + std::to_string(moves_.size());
  if (::rename(tmp.c_str(), held.c_str()) == 0) {
    moves_.push_back({held, final_path});
    return ok_status();
  }
  if (errno != EXDEV) return sys_error("move " + tmp + " aside");
  moves_.push_back({tmp, final_path});  // another file system: stays where it is
  return ok_status();
}

Result<std::string> OutputCommit::scratch_dir(const std::string& label) {
  NESTBOX_TRY(ensure_holding());
  std::string dir = holding_ + "/scratch-" + label;
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create " + dir);
  return dir;
}

Status OutputCommit::commit() {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const Move& m : moves_) pairs.push_back({m.tmp, m.final_path});
  std::string journal = out_dir_ + "/" + kCommitJournal;
  // write_file_atomic fsyncs the file and renames it into place.
  NESTBOX_TRY(write_file_atomic(journal, journal_text(pairs), 0600));
  fsync_dir(out_dir_);
  std::vector<std::string> previous;
  for (const Move& m : moves_) {
    auto old = install(m.tmp, m.final_path);
    if (!old.ok()) return std::move(old).error();  // the journal stays: recover() completes it
    if (!old->empty()) previous.push_back(*old);
    fsync_dir(fs::path(m.final_path).parent_path().string());
  }
  if (::unlink(journal.c_str()) != 0) return sys_error("remove " + journal);
  fsync_dir(out_dir_);
  committed_ = true;
  std::error_code ec;
  for (const std::string& p : previous) fs::remove_all(p, ec);
  if (!holding_.empty()) fs::remove_all(holding_, ec);
  return ok_status();
}

bool OutputCommit::interrupted(const std::string& out_dir) {
  struct stat st;
  return ::lstat((out_dir + "/" + kCommitJournal).c_str(), &st) == 0;
}

Status OutputCommit::recover(const std::string& out_dir) {
  std::string journal = out_dir + "/" + kCommitJournal;
  auto text = read_file(journal);
  if (!text.ok()) {
    if (!interrupted(out_dir)) return ok_status();
    return std::move(text).error();
  }
  std::istringstream in(*text);
  std::vector<std::string> previous;
  for (std::string line; std::getline(in, line);) {
    size_t tab = line.find('\t');
    if (tab == std::string::npos) return bad_input(journal + ": malformed line: " + line);
    std::string tmp = line.substr(0, tab), final_path = line.substr(tab + 1);
    struct stat st;
    // Gone from its temporary place: already installed.
    if (::lstat(tmp.c_str(), &st) != 0) continue;
    auto old = install(tmp, final_path);
    if (!old.ok()) return std::move(old).error();
    previous.push_back(tmp + ".previous");  // moved aside before the crash, or just now
  }
  if (::unlink(journal.c_str()) != 0) return sys_error("remove " + journal);
  fsync_dir(out_dir);
  std::error_code ec;
  for (const std::string& p : previous) fs::remove_all(p, ec);
  return ok_status();
}

}  // namespace nestbox::composer
