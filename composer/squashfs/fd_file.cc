#include "composer/squashfs/fd_file.h"

#include <fcntl.h>
#include <sqfs/error.h>
#include <unistd.h>

#include <cerrno>
#include <new>

namespace nestbox::composer::squashfs {
namespace {

constexpr uint64_t kWritebackChunk = 8u << 20;

FdFile* self(sqfs_file_t* f) { return reinterpret_cast<FdFile*>(f); }
const FdFile* self(const sqfs_file_t* f) { return reinterpret_cast<const FdFile*>(f); }

int fail(FdFile* f, int err) {
  if (f->last_errno == 0) f->last_errno = err;
  return SQFS_ERROR_IO;
}

int read_at(sqfs_file_t* base, sqfs_u64 offset, void* buffer, size_t size) {
  FdFile* f = self(base);
  if (offset + size > f->size) return SQFS_ERROR_OUT_OF_BOUNDS;
  auto* p = static_cast<char*>(buffer);
  while (size > 0) {
    ssize_t n = ::pread(f->fd.get(), p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(f, n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  return 0;
}

int write_at(sqfs_file_t* base, sqfs_u64 offset, const void* buffer, size_t size) {
  FdFile* f = self(base);
  if (f->last_errno != 0) return SQFS_ERROR_IO;  // fail fast after the first error
  const auto* p = static_cast<const char*>(buffer);
  uint64_t end = offset + size;
  while (size > 0) {
    ssize_t n = ::pwrite(f->fd.get(), p, size, static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(f, n < 0 ? errno : ENOSPC);
    p += n;
    size -= static_cast<size_t>(n);
    offset += static_cast<uint64_t>(n);
  }
  if (end > f->size) f->size = end;
  // Start writing what is done to the disk now, without waiting, so that the
  // fsync before the image is renamed into place finds little left to write
  // (an image is appended front to back; the superblock is rewritten last).
  if (f->size - f->writeback_from >= kWritebackChunk) {
    ::sync_file_range(f->fd.get(), static_cast<off_t>(f->writeback_from),
                      static_cast<off_t>(f->size - f->writeback_from), SYNC_FILE_RANGE_WRITE);
    f->writeback_from = f->size;
  }
  return 0;
}

sqfs_u64 get_size(const sqfs_file_t* base) { return self(base)->size; }

int truncate_to(sqfs_file_t* base, sqfs_u64 size) {
  FdFile* f = self(base);
  if (::ftruncate(f->fd.get(), static_cast<off_t>(size)) != 0) return fail(f, errno);
  f->size = size;
  return 0;
}

void destroy(sqfs_object_t* obj) { delete reinterpret_cast<FdFile*>(obj); }

}  // namespace

SqfsPtr<FdFile> make_fd_file(UniqueFd fd) {
  auto* f = new FdFile();
  f->base.base.destroy = destroy;
  f->base.base.copy = nullptr;
  f->base.read_at = read_at;
  f->base.write_at = write_at;
  f->base.get_size = get_size;
  f->base.truncate = truncate_to;
  f->fd = std::move(fd);
  return SqfsPtr<FdFile>(f);
}

}  // namespace nestbox::composer::squashfs
