// A Linux kernel .config: an OpenWrt build's kernel config, /proc/config.gz, a
// distribution's config file. Plain text or gzip. Host only (zlib).
//
// Accepted lines: blank; comments; "# CONFIG_X is not set"; "CONFIG_X=v" with
// v one of y, m, n, a decimal or 0x-hex number, a double-quoted string. The
// "# Linux/<arch> <version> Kernel Configuration" header (or the older
// "# Linux kernel version: <version>") gives the version. Anything else is
// bad input: "<file>:<line>:<col>: <what was expected>".
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "kernel-check/expr.h"
#include "kernel-check/features.h"
#include "util/result.h"

namespace nestbox::kernel_check {

struct ConfigValue {
  enum class Kind : uint8_t { kTristate, kNumber, kString } kind = Kind::kTristate;
  Tristate tristate = Tristate::kNo;  // kTristate
  std::string text;                   // as written after '=' (strings unquoted)
  int line = 0;
};

struct KernelConfig {
  std::string file;
  std::map<std::string, ConfigValue, std::less<>> symbols;  // without CONFIG_
  std::optional<Version> version;  // from the header line
  std::string arch;                // from the header line: "x86", "arm64", "mips"

  // y/m of a bool or tristate symbol; kNo when unset, "is not set", or not a
  // tristate (numbers and strings never enable a facility).
  Tristate tristate(std::string_view symbol) const;
};

// Parses config text; `file` names it in messages.
Result<KernelConfig> parse_config(std::string_view text, const std::string& file);

// Reads `path`, gunzips it when it starts with the gzip magic, parses it.
Result<KernelConfig> load_config(const std::string& path);

// Gunzips a complete gzip stream (possibly several members). Bad input when it
// is truncated, corrupt, or inflates beyond `max_size`.
Result<std::string> gunzip(std::string_view data, const std::string& file,
                           size_t max_size = 64u << 20);

}  // namespace nestbox::kernel_check
