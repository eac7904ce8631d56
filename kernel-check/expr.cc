#include "kernel-check/expr.h"

#include <vector>

#include "kernel-check/version.h"

namespace nestbox::kernel_check {

namespace {

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(sep, start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool is_version_alt(std::string_view alt) { return alt.substr(0, 2) == ">="; }

// "CONFIG_A or CONFIG_B (or kernel >= 6.1)"; version alternatives that the
// kernel already meets cannot be unmet, so they are only listed as hints.
std::string describe_clause(std::string_view clause) {
  std::string symbols, versions;
  for (std::string_view alt : split(clause, '|')) {
    if (is_version_alt(alt)) {
      versions += versions.empty() ? "" : " or ";
      versions += "kernel " + std::string(alt.substr(0, 2)) + " " + std::string(alt.substr(2));
    } else {
      symbols += symbols.empty() ? "" : " or ";
      symbols += "CONFIG_" + std::string(alt);
    }
  }
  if (symbols.empty()) return versions;
  if (!versions.empty()) symbols += " (or " + versions + ")";
  return symbols;
}

void append(std::string* list, const std::string& item) {
  if (!list->empty()) *list += ", ";
  *list += item;
}

}  // namespace

ExprResult evaluate_expr(std::string_view expr, const SymbolLookup& lookup, const Version& kernel) {
  ExprResult r;
  r.satisfied = true;
  for (std::string_view clause : split(expr, ' ')) {
    bool clause_met = false, clause_module = true;
    for (std::string_view alt : split(clause, '|')) {
      if (is_version_alt(alt)) {
        std::optional<Version> v = parse_version(alt.substr(2));
        if (v && kernel.known() && kernel >= *v) clause_met = true, clause_module = false;
        continue;
      }
      Tristate t = lookup(alt);
      if (t == Tristate::kYes) clause_met = true, clause_module = false;
      if (t == Tristate::kModule) clause_met = true;
    }
    if (!clause_met) {
      r.satisfied = false;
      append(&r.unmet, describe_clause(clause));
    } else if (clause_module) {
      r.module = true;
    }
  }
  if (!r.satisfied) r.module = false;
  return r;
}

std::string describe_expr(std::string_view expr) {
  std::string out;
  for (std::string_view clause : split(expr, ' ')) {
    std::string c;
    for (std::string_view alt : split(clause, '|')) {
      c += c.empty() ? "" : "|";
      c += is_version_alt(alt) ? "kernel>=" + std::string(alt.substr(2)) : "CONFIG_" + std::string(alt);
    }
    if (!c.empty()) append(&out, c);
  }
  return out;
}

std::string symbols_to_enable(std::string_view expr, const Version& kernel) {
  ExprResult r = evaluate_expr(expr, [](std::string_view) { return Tristate::kNo; }, kernel);
  return r.unmet;
}

}  // namespace nestbox::kernel_check
