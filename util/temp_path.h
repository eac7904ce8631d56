// Owners of temporary paths: the file or directory is removed when its owner
// goes out of scope, on every early return, unless keep() was called (after
// it was renamed into place, or handed on). Move-only.
#pragma once

#include <string>
#include <utility>

#include "util/result.h"

namespace nestbox {

class TempFile {
 public:
  TempFile() = default;
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  TempFile(TempFile&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempFile& operator=(TempFile&& other) noexcept;
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() { remove(); }

  const std::string& path() const { return path_; }
  void keep() { path_.clear(); }

 private:
  void remove();
  std::string path_;
};

class TempDir {
 public:
  TempDir() = default;
  // Owns `path` (which may not exist yet); its whole tree is removed.
  explicit TempDir(std::string path) : path_(std::move(path)) {}
  // A new directory "<prefix>XXXXXX" (mkdtemp), mode 0700.
  static Result<TempDir> create(const std::string& prefix);
  TempDir(TempDir&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  TempDir& operator=(TempDir&& other) noexcept;
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() { remove(); }

  const std::string& path() const { return path_; }
  void keep() { path_.clear(); }

 private:
  void remove();
  std::string path_;
};

}  // namespace nestbox
