// `nestbox-launch check`: the on-target front end of probe.h.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernel-check/probe.h"

namespace nestbox::kernel_check {

namespace {

constexpr const char* kUsage =
    "usage: nestbox-launch check [--json] [--require MASK|NAME[,NAME...]]\n"
    "  Probes the running kernel and prints which container facilities it has.\n"
    "  --json      print the report as JSON\n"
    "  --require   a policy's required_features mask (0x...) or feature names;\n"
    "              exit 1 when this kernel cannot confirm one of them\n";

// Parses "0x1f", "31" or "user_ns,pids" into a feature mask.
bool parse_require(const std::string& text, uint64_t* mask, std::string* error) {
  if (!text.empty() && text[0] >= '0' && text[0] <= '9') {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = std::strtoull(text.c_str(), &end, 0);
    if (errno || *end) return *error = "--require '" + text + "': not a number", false;
    if (kFeatureCount < 64 && (v >> kFeatureCount))
      return *error = "--require '" + text + "': sets bits of no known feature", false;
    *mask |= v;
    return true;
  }
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(',', pos);
    if (end == std::string::npos) end = text.size();
    std::string name = text.substr(pos, end - pos);
    Feature f;
    if (!feature_by_name(name, &f))
      return *error = "--require: unknown feature '" + name + "'", false;
    *mask |= feature_bit(f);
    pos = end + 1;
  }
  return true;
}

}  // namespace

int run_check_command(int argc, char** argv) {
  bool json = false;
  uint64_t mask = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string error;
    if (arg == "--json") {
      json = true;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--require" && i + 1 < argc) {
      if (!parse_require(argv[++i], &mask, &error)) {
        std::fprintf(stderr, "nestbox-launch check: %s\n", error.c_str());
        return 2;
      }
    } else {
      std::fprintf(stderr, "nestbox-launch check: unexpected argument '%s'\n%s", arg.c_str(), kUsage);
      return 2;
    }
  }
  Report report = probe_running_kernel();
  if (mask) {
    ContainerNeeds needs{"required", "--require", {}, std::nullopt};
    for (int i = 0; i < kFeatureCount; ++i)
      if (mask & feature_bit(static_cast<Feature>(i)))
        needs.requirements.push_back({static_cast<Feature>(i), "required_features"});
    add_containers(&report, {needs});
  }
  std::string out = json ? render_json(report) : render_text(report);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return report.all_enforceable() ? 0 : 1;
}

}  // namespace nestbox::kernel_check
