#include "util/result.h"

#include <cerrno>
#include <cstring>

namespace nestbox {

Error bad_input(std::string message) {
  return Error{std::move(message), ErrorKind::kBadInput, 0};
}

Error failure(std::string message) {
  return Error{std::move(message), ErrorKind::kFailure, 0};
}

Error sys_error(const std::string& what, int err) {
  return Error{what + ": " + std::strerror(err), ErrorKind::kFailure, err};
}

Error sys_error(const std::string& what) { return sys_error(what, errno); }

}  // namespace nestbox
