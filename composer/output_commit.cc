#include "composer/output_commit.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>
#include <vector>

#include "util/fd.h"
#include "util/file_io.h"
#include "util/open_in_root.h"

namespace nestbox::composer {
namespace {

namespace fs = std::filesystem;

void fsync_dir(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd) ::fsync(fd.get());
}

// Lexically inside `dir` (not `dir` itself, no way up).
bool lies_beneath(const std::string& dir, const std::string& path) {
  fs::path rel = fs::path(path).lexically_normal().lexically_relative(fs::path(dir).lexically_normal());
  return !rel.empty() && rel != "." && *rel.begin() != "..";
}

// The directory that holds `final_path`, which must lie beneath `out_dir`:
// each component below `out_dir` is opened (or made) without following a
// symlink, so one planted in the output directory (`out/runtime -> /etc`)
// cannot carry an output outside it. `out_dir` itself is the user's to name.
Result<UniqueFd> parent_beneath(const std::string& out_dir, const std::string& final_path, std::string* leaf,
                                bool create = true) {
  if (!lies_beneath(out_dir, final_path)) return failure(final_path + ": not inside the output directory " + out_dir);
  fs::path out = fs::path(out_dir).lexically_normal();
  fs::path rel = fs::path(final_path).lexically_normal().lexically_relative(out);
  UniqueFd top(::open(out.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!top) return sys_error("open " + out_dir);
  std::string parents = rel.parent_path().string();
  size_t end = 0;
  UniqueFd dir = open_dirs_no_symlinks(top.get(), parents, create, &end);
  if (!dir) {
    int err = errno;
    std::string at = (out / parents.substr(0, end)).string();
    Error e = err == ELOOP || err == ENOTDIR
                  ? failure(at + ": a symbolic link or not a directory; compose writes only inside the output "
                            "directory (remove it)")
                  : sys_error((create ? "create " : "open ") + at, err);
    errno = err;  // recover() tells a holding directory already gone (ENOENT)
    return e;
  }
  *leaf = rel.filename().string();
  return dir;
}

// Puts `tmp` at (dir_fd, name) in one atomic step: a file replaces the old
// one by rename; a directory is exchanged with the old one
// (RENAME_EXCHANGE), which is then at `tmp`. Either way every final path
// holds the old or the new version at every moment. Returns the previous
// version to remove, or "".
Result<std::string> install_at(const std::string& tmp, int dir_fd, const std::string& name,
                               const std::string& final_display);

// install_at() for a final path beneath the output directory.
Result<std::string> install(const std::string& out_dir, const std::string& tmp, const std::string& final_path) {
  std::string leaf;
  auto dir = parent_beneath(out_dir, final_path, &leaf);
  if (!dir.ok()) return std::move(dir).error();
  return install_at(tmp, dir->get(), leaf, final_path);
}

Result<std::string> install_at(const std::string& tmp, int dir_fd, const std::string& name,
                               const std::string& final_display) {
  struct stat t, f;
  if (::lstat(tmp.c_str(), &t) != 0) return sys_error("stat " + tmp);
  if (S_ISDIR(t.st_mode) && ::fstatat(dir_fd, name.c_str(), &f, AT_SYMLINK_NOFOLLOW) == 0) {
    if (::renameat2(AT_FDCWD, tmp.c_str(), dir_fd, name.c_str(), RENAME_EXCHANGE) != 0)
      return sys_error("exchange " + tmp + " and " + final_display);
    return tmp;
  }
  if (::renameat(AT_FDCWD, tmp.c_str(), dir_fd, name.c_str()) != 0)
    return sys_error("rename " + tmp + " to " + final_display);
  return std::string();
}

// The host path a /proc/self/fd/N/... path stands for (the journal must
// outlive this process's fds).
std::string journal_path(const std::string& p) {
  const std::string pre = "/proc/self/fd/";
  if (p.compare(0, pre.size(), pre) != 0) return p;
  size_t slash = p.find('/', pre.size());
  std::string link = p.substr(0, slash);
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) return p;
  return std::string(buf, static_cast<size_t>(n)) + (slash == std::string::npos ? "" : p.substr(slash));
}

// Removes a file or a whole tree now, the way every temporary is removed
// (util/temp_path.h: no symlink followed, no mount point crossed).
void remove_tree(std::string path) { TempDir owner(std::move(path)); }

// Journal lines: "<tmp>\t<final>\t<inode of the new output>\n". After an
// exchange the previous version sits at <tmp>: the inode tells it from the
// new output that was never installed. Names never hold tabs or newlines
// (validated strings, generated temporary names).
struct JournalEntry {
  std::string tmp, final_path;
  unsigned long long ino = 0;
};

std::string journal_text(const std::vector<JournalEntry>& entries) {
  std::string out;
  for (const auto& e : entries) out += e.tmp + "\t" + e.final_path + "\t" + std::to_string(e.ino) + "\n";
  return out;
}

}  // namespace

OutputCommit::OutputCommit(std::string out_dir) : out_dir_(std::move(out_dir)) {}

OutputCommit::~OutputCommit() {
  if (committed_) return;
  for (const Move& m : moves_) remove_tree(m.tmp);
  // holding_ removes itself.
}

Status OutputCommit::ensure_holding() {
  if (!holding_.path().empty()) return ok_status();
  std::error_code ec;
  fs::create_directories(out_dir_, ec);
  if (ec) return failure("create " + out_dir_ + ": " + ec.message());
  std::string dir = out_dir_ + "/.nestbox-outputs-" + std::to_string(::getpid());
  remove_tree(dir);  // a stale one of an earlier run with this pid
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create " + dir);
  holding_ = TempDir(dir);
  return ok_status();
}

Status OutputCommit::adopt(const std::string& tmp, const std::string& final_path) {
  NESTBOX_TRY(ensure_holding());
  std::string held = holding_.path() + "/" + std::to_string(moves_.size());
  if (::rename(tmp.c_str(), held.c_str()) == 0) {
    moves_.push_back({held, final_path});
    return ok_status();
  }
  if (errno != EXDEV) return sys_error("move " + tmp + " aside");
  moves_.push_back({tmp, final_path});  // another file system: stays where it is
  return ok_status();
}

Status OutputCommit::adopt_at(const std::string& tmp, std::shared_ptr<UniqueFd> dir,
                              const std::string& name, const std::string& final_display) {
  NESTBOX_TRY(adopt(tmp, final_display));
  moves_.back().dir = std::move(dir);
  moves_.back().name = name;
  return ok_status();
}

Result<std::string> OutputCommit::scratch_dir(const std::string& label) {
  NESTBOX_TRY(ensure_holding());
  std::string dir = holding_.path() + "/scratch-" + label;
  if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create " + dir);
  return dir;
}

Status OutputCommit::commit() {
  // Every final place is resolved before anything moves: a symlink planted in
  // the output directory refuses the run with the previous outputs untouched.
  for (Move& m : moves_) {
    if (m.dir) continue;
    auto dir = parent_beneath(out_dir_, m.final_path, &m.name);
    if (!dir.ok()) return std::move(dir).error();
    m.dir = std::make_shared<UniqueFd>(std::move(*dir));
  }
  std::vector<JournalEntry> entries;
  for (const Move& m : moves_) {
    struct stat st;
    if (::lstat(m.tmp.c_str(), &st) != 0) return sys_error("stat " + m.tmp);
    entries.push_back({journal_path(m.tmp), m.final_path, static_cast<unsigned long long>(st.st_ino)});
  }
  std::string journal = out_dir_ + "/" + kCommitJournal;
  // write_file_atomic fsyncs the file and renames it into place.
  NESTBOX_TRY(write_file_atomic(journal, journal_text(entries), 0600));
  fsync_dir(out_dir_);
  committed_ = true;  // from here on the journal owns what is held
  std::vector<std::string> previous;
  for (const Move& m : moves_) {
    auto old = install_at(m.tmp, m.dir->get(), m.name, m.final_path);
    if (!old.ok())  // the journal stays: the next compose completes the commit
      return std::move(old.error().context("commit of the outputs (the next compose completes it)"));
    if (!old->empty()) previous.push_back(*old);
    ::fsync(m.dir->get());
  }
  if (::unlink(journal.c_str()) != 0)
    return sys_error("remove " + journal).context("commit of the outputs (the next compose completes it)");
  fsync_dir(out_dir_);
  for (const std::string& p : previous) remove_tree(p);
  holding_ = TempDir();
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
  std::vector<UniqueFd> held_dirs;  // open until `previous` is removed through them
  for (std::string line; std::getline(in, line);) {
    size_t t1 = line.find('\t'), t2 = t1 == std::string::npos ? t1 : line.find('\t', t1 + 1);
    if (t2 == std::string::npos) return bad_input(journal + ": malformed line: " + line);
    std::string tmp = line.substr(0, t1), final_path = line.substr(t1 + 1, t2 - t1 - 1);
    unsigned long long ino = std::strtoull(line.c_str() + t2 + 1, nullptr, 10);
    // A journal is a file in the output directory: it moves and removes
    // nothing outside it, by name or through a symlink (an interrupted run's
    // staging-rootfs trees are composed again instead).
    for (const std::string& p : {tmp, final_path})
      if (!lies_beneath(out_dir, p))
        return failure(journal + ": names " + p + ", outside the output directory; remove the journal and compose "
                       "again");
    std::string leaf;
    auto dir = parent_beneath(out_dir, tmp, &leaf, /*create=*/false);
    if (!dir.ok()) {
      if (errno == ENOENT) continue;  // its holding directory is gone: installed
      return std::move(dir.error().context(journal));
    }
    held_dirs.push_back(std::move(*dir));
    tmp = "/proc/self/fd/" + std::to_string(held_dirs.back().get()) + "/" + leaf;
    struct stat st;
    if (::lstat(tmp.c_str(), &st) != 0) continue;  // installed (a renamed file or directory)
    if (st.st_ino != ino) {  // the previous version an exchange left there
      previous.push_back(tmp);
      continue;
    }
    auto old = install(out_dir, tmp, final_path);
    if (!old.ok()) return std::move(old.error().context(journal));
    if (!old->empty()) previous.push_back(*old);
  }
  if (::unlink(journal.c_str()) != 0) return sys_error("remove " + journal);
  fsync_dir(out_dir);
  for (const std::string& p : previous) remove_tree(p);
  return ok_status();
}

Status refuse_symlinked_output_dir(const std::string& dir, const std::string& tool) {
  std::string named = dir;  // "out/" would be resolved through the link
  while (named.size() > 1 && named.back() == '/') named.pop_back();
  struct stat st;
  if (::lstat(named.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
    return bad_input(dir + ": a symbolic link; expected the output directory itself (a directory, or nothing there "
                     "yet): " + tool + " writes only inside it");
  return ok_status();
}

}  // namespace nestbox::composer
