// Evaluates a Facility's `config` expression (see features.h) against a set of
// config symbols. Target-safe: the host feeds it a parsed .config, a device
// with a plain-text config can do the same.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "kernel-check/features.h"

namespace nestbox::kernel_check {

enum class Tristate : uint8_t { kNo, kModule, kYes };

// Value of a symbol given without its CONFIG_ prefix; kNo when unset.
using SymbolLookup = std::function<Tristate(std::string_view symbol)>;

struct ExprResult {
  bool satisfied = false;
  bool module = false;  // satisfied, and some symbol that satisfies it is =m
  // When not satisfied: what to enable, one entry per unmet clause, e.g.
  // "CONFIG_SQUASHFS_XZ" or "CONFIG_MEMCG_SWAP (or kernel >= 6.1)".
  std::string unmet;
};

ExprResult evaluate_expr(std::string_view expr, const SymbolLookup& lookup, const Version& kernel);

// The expression for people: "CONFIG_A, CONFIG_B|CONFIG_C|kernel>=6.1"
// (clauses joined by ", ", alternatives by '|'); "" when it is empty.
std::string describe_expr(std::string_view expr);

// What to enable when nothing is known about the symbols (the probe's
// "missing"): every clause's symbol alternatives, as in ExprResult::unmet.
std::string symbols_to_enable(std::string_view expr, const Version& kernel);

}  // namespace nestbox::kernel_check
