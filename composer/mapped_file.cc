#include "composer/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include <utility>

#include "util/fd.h"

namespace nestbox::composer {

Result<MappedFile> MappedFile::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  return open_fd(fd.get(), path);
}

Result<MappedFile> MappedFile::open_fd(int fd, const std::string& what) {
  struct stat st;
  if (fstat(fd, &st) != 0) return sys_error("stat " + what);
  if (!S_ISREG(st.st_mode)) return bad_input(what + ": not a regular file");
  MappedFile m;
  if (st.st_size == 0) return m;
  void* p = mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (p == MAP_FAILED) return sys_error("mmap " + what);
  m.data_ = static_cast<const uint8_t*>(p);
  m.size_ = st.st_size;
  return m;
}

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

MappedFile::~MappedFile() {
  if (data_) munmap(const_cast<uint8_t*>(data_), size_);
}

}  // namespace nestbox::composer
