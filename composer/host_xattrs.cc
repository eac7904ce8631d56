#include "composer/host_xattrs.h"

#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>

namespace nestbox::composer {
namespace {

// Calls fill(buffer, capacity) (a list or get call) into `out`: first into a
// small buffer, then, on ERANGE, into one of the size the call reports.
template <typename Fill>
Result<bool> read_sized(const std::string& what, std::string* out, Fill fill) {
  out->resize(256);
  for (;;) {
    ssize_t n = fill(out->data(), out->size());
    if (n >= 0) {
      out->resize(static_cast<size_t>(n));
      return true;
    }
    if (errno == ENOTSUP) return false;
    if (errno != ERANGE) return sys_error(what);
    ssize_t need = fill(nullptr, 0);
    if (need < 0) return errno == ENOTSUP ? Result<bool>(false) : sys_error(what);
    out->resize(std::max<size_t>(static_cast<size_t>(need), out->size() * 2));
  }
}

}  // namespace

Result<std::vector<Xattr>> read_host_xattrs(const std::string& path, bool follow) {
  std::vector<Xattr> out;
  std::string names;
  auto listed = read_sized("listxattr " + path, &names, [&](char* buf, size_t size) {
    return follow ? ::listxattr(path.c_str(), buf, size) : ::llistxattr(path.c_str(), buf, size);
  });
  if (!listed.ok()) return std::move(listed).error();
  if (!*listed) return out;  // no xattrs on this filesystem
  for (size_t i = 0; i < names.size();) {
    std::string name = names.c_str() + i;
    i += name.size() + 1;
    if (name.empty()) continue;
    std::string value;
    auto got = read_sized("getxattr " + path + " " + name, &value, [&](char* buf, size_t size) {
      return follow ? ::getxattr(path.c_str(), name.c_str(), buf, size)
                    : ::lgetxattr(path.c_str(), name.c_str(), buf, size);
    });
    if (!got.ok()) return std::move(got).error();
    if (!*got) return sys_error("getxattr " + path + " " + name);
    out.push_back({std::move(name), std::move(value)});
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace nestbox::composer
