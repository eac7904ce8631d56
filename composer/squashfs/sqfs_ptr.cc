#include "composer/squashfs/sqfs_ptr.h"

#include <sqfs/error.h>

#include <cstring>

namespace nestbox::composer::squashfs {

std::string sqfs_error_name(int code) {
  switch (code) {
    case SQFS_ERROR_ALLOC: return "out of memory";
    case SQFS_ERROR_IO: return "I/O error";
    case SQFS_ERROR_COMPRESSOR: return "compressor error";
    case SQFS_ERROR_INTERNAL: return "internal libsquashfs error";
    case SQFS_ERROR_CORRUPTED: return "corrupted data";
    case SQFS_ERROR_UNSUPPORTED: return "unsupported";
    case SQFS_ERROR_OVERFLOW: return "value out of range for squashfs";
    case SQFS_ERROR_OUT_OF_BOUNDS: return "out of bounds";
    case SQFS_ERROR_SEQUENCE: return "call sequence error";
    case SQFS_ERROR_ARG_INVALID: return "invalid argument";
    default: return "libsquashfs error " + std::to_string(code);
  }
}

Error sqfs_failure(const std::string& what, int code, int sys_errno) {
  if (sys_errno != 0) return sys_error(what, sys_errno);
  return failure(what + ": " + sqfs_error_name(code));
}

}  // namespace nestbox::composer::squashfs
