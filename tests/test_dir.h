// The tests' scratch directory: util/temp_path.h's TempDir (the one owner of
// a temporary directory, removed with its tree), made when constructed, with
// a path joiner. Every component's tests use this one (NESTBOX_KEEP_TMP=1
// keeps the directories for debugging).
#pragma once

#include <cstdlib>
#include <fstream>
#include <string>

#include "util/temp_path.h"

namespace nestbox::testing {

class TestDir {
 public:
  explicit TestDir(const std::string& prefix = "/tmp/nestbox-test-") : dir_(make(prefix)) {}
  ~TestDir() {
    if (std::getenv("NESTBOX_KEEP_TMP")) dir_.keep();
  }
  TestDir(const TestDir&) = delete;
  TestDir& operator=(const TestDir&) = delete;

  const std::string& path() const { return dir_.path(); }
  std::string operator/(const std::string& rel) const { return path() + "/" + rel; }
  // Writes `data` to the file `name` inside; returns its path.
  std::string write(const std::string& name, const std::string& data) const {
    std::string p = *this / name;
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

 private:
  static nestbox::TempDir make(const std::string& prefix) {
    auto d = nestbox::TempDir::create(prefix);
    if (!d.ok()) std::abort();  // no scratch directory: nothing can be tested
    return std::move(*d);
  }
  nestbox::TempDir dir_;
};

}  // namespace nestbox::testing
