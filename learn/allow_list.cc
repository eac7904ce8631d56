// The fragment `nestbox learn-seccomp` prints: what ran and how, then the
// allow-list for the manifest's arch, ready to paste over its [seccomp] allow.
#include <sstream>

#include "learn/seccomp_learn.h"

namespace nestbox::learn {
namespace {

// `  "a", "b", ...` lines of at most ~96 columns, the examples' layout.
void write_names(std::ostringstream& out, const std::set<std::string>& names, const char* prefix) {
  std::string line;
  for (const auto& n : names) {
    std::string item = "\"" + n + "\",";
    if (!line.empty() && line.size() + 1 + item.size() > 94) {
      out << prefix << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "  " : " ") + item;
  }
  if (!line.empty()) out << prefix << line << "\n";
}

}  // namespace

std::string render_allow_list(const manifests::Manifest& m, const LearnOptions& options, const LearnResult& r) {
  std::ostringstream out;
  const std::string arch = manifests::to_string(m.arch);
  std::string argv;
  for (const auto& a : m.process.command) argv += (argv.empty() ? "" : " ") + a;
  out << "# nestbox learn-seccomp: " << m.name << " (" << m.file << ")\n";
  out << "# ran: " << argv << "\n";
  out << "#   in " << options.root << ", " << r.identity << "\n";
  if (!options.probe.empty()) out << "#   probe (host, container's network namespace): " << options.probe << "\n";
  out << "#   " << r.ended << "; " << r.notifications << " system calls observed\n";
  out << "# Only what this run did: review it, exercise every feature, then paste.\n";
  auto it = r.syscalls.find(arch);
  const std::set<std::string> none;
  const std::set<std::string>& mine = it == r.syscalls.end() ? none : it->second;
  out << "# " << arch << ": " << mine.size() << " system calls\n";
  out << "[seccomp]\nallow = [\n";
  write_names(out, mine, "");
  out << "]\n";
  for (const auto& [other, names] : r.syscalls) {
    if (other == arch) continue;
    out << "# " << other << " (not this manifest's arch; its calls were made too): " << names.size()
        << " system calls\n# allow = [\n";
    write_names(out, names, "#");
    out << "# ]\n";
  }
  return out.str();
}

}  // namespace nestbox::learn
