// Read-only memory mapping of a whole file (RAII). Empty files map to an
// empty span without calling mmap.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "util/result.h"

namespace nestbox::composer {

class MappedFile {
 public:
  static Result<MappedFile> open(const std::string& path);
  static Result<MappedFile> open_fd(int fd, const std::string& what);
  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace nestbox::composer
