// Shared helpers for the squashfs tests: temporary directories, running
// tools, kernel loop mounts (always unmounted), fixture trees and comparison.
#pragma once

#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "tests/test_dir.h"

namespace nestbox::composer::squashfs::testing {

using TempDir = nestbox::testing::TestDir;  // tests/test_dir.h

struct RunResult {
  int status = -1;  // exit status, or -1
  std::string output;  // stdout + stderr
};
RunResult run(const std::string& command);

// mount -t <type> -o <options> <source> <dir>; unmounted (lazily if busy) on destruction.
class Mount {
 public:
  Mount(const std::string& type, const std::string& source, const std::string& dir,
        const std::string& options);
  ~Mount();
  Mount(const Mount&) = delete;
  Mount& operator=(const Mount&) = delete;
  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  bool ok_ = false;
  std::string error_;
};

// A router-like tree with every entry type, owners, modes, xattrs, a
// multi-block file, duplicates, an empty file and tricky name ordering.
void make_fixture(const std::string& dir);
// Hard links added to a make_fixture tree: a multi-block file, a fragment
// file, a file with xattrs, a setuid file with a capability (three names), a
// device node, a FIFO and a symlink each get a second name.
void add_hard_links(const std::string& dir);
// Differences in which paths are hard links of each other (the link_ids of
// fs_tree_from_directory), for the paths both trees hold ("" when equal).
std::string diff_links(const FsTree& want, const FsTree& got);
// Writes `size` bytes of compressible pseudo-random text derived from `seed`.
void write_file(const std::string& path, size_t size, unsigned seed);
void write_text(const std::string& path, const std::string& text);

// Differences between two trees, ignoring source paths ("" when equal).
// Directory mtimes are compared too. Reports at most a few lines.
std::string diff_trees(const FsTree& want, const FsTree& got);

FsTree scan(const std::string& dir);  // fs_tree_from_directory or test failure
std::string file_bytes(const std::string& path);

}  // namespace nestbox::composer::squashfs::testing
