#include "composer/source_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <string>

namespace nestbox::composer {

Result<UniqueFd> open_source_file(const FsEntry& e) {
  const std::string what = e.source_path + " (for " + e.path + ")";
  UniqueFd fd(::open(e.source_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY));
  if (!fd) return sys_error("open " + what);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + what);
  if (!S_ISREG(st.st_mode)) return bad_input(what + ": not a regular file");
  if (e.source_ino != 0 && (st.st_dev != e.source_dev || st.st_ino != e.source_ino))
    return bad_input(what + ": not the file its source held when it was read (a path swapped since): refused");
  if (static_cast<uint64_t>(st.st_size) != e.size)
    return bad_input(what + ": has " + std::to_string(st.st_size) + " bytes, the tree says " +
                     std::to_string(e.size));
  // Reads block as usual from here (O_NONBLOCK only kept a FIFO from hanging the open).
  if (::fcntl(fd.get(), F_SETFL, O_RDONLY) != 0) return sys_error("fcntl " + what);
  return fd;
}

}  // namespace nestbox::composer
