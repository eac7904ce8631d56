// Errors as values. Every fallible function in nestbox returns Result<T> (or
// Status); no exception crosses a library boundary. An Error gains context as it
// travels up ("verify nas.img: metadata: sha256 mismatch"), so the top level can
// print one line that says where and what.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace nestbox {

// What kind of failure: decides the CLI exit status (see docs/errors.md).
enum class ErrorKind {
  kFailure = 1,   // the operation failed (I/O, kernel refused, verification failed)
  kBadInput = 2,  // the input was malformed (manifest, archive, image, key, config)
};

struct Error {
  std::string message;
  ErrorKind kind = ErrorKind::kFailure;
  int sys_errno = 0;  // errno when a system call failed, else 0

  // Prefixes context: Error{"EPERM"}.context("mount /proc") -> "mount /proc: EPERM".
  Error& context(const std::string& what) {
    message = what + ": " + message;
    return *this;
  }
};

Error bad_input(std::string message);
Error failure(std::string message);
// A failed system call: "<what>: <strerror(errno)>", errno kept.
Error sys_error(const std::string& what, int err);
Error sys_error(const std::string& what);  // uses the current errno

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}          // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}      // NOLINT: implicit by design

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  Error& error() & { return std::get<1>(v_); }
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), failed_(true) {}  // NOLINT

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  Error& error() & { return error_; }
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool failed_ = false;
};

inline Status ok_status() { return Status(); }

}  // namespace nestbox

// Propagate a failed Status/Result from the current function, optionally with context.
#define NESTBOX_TRY(expr)                                  \
  do {                                                     \
    auto nestbox_try_status_ = (expr);                     \
    if (!nestbox_try_status_.ok())                         \
      return std::move(nestbox_try_status_).error();       \
  } while (0)

#define NESTBOX_TRY_CTX(expr, ctx)                                         \
  do {                                                                     \
    auto nestbox_try_status_ = (expr);                                     \
    if (!nestbox_try_status_.ok())                                         \
      return std::move(nestbox_try_status_.error().context(ctx));          \
  } while (0)
