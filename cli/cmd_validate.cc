// nestbox validate FILE...: every manifest parsed and checked, then the set
// checked together (names, joined namespaces). Prints every problem found.
// Then each manifest is baked into every runtime form in memory, as compose
// would: the manifests library mirrors each of those rules with its place,
// and this last step makes sure nothing compose refuses passes validate.
// Then, unless --no-sources, each container's files are selected as compose
// would too (a missing source is refused here as compose refuses it).
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "composer/compose.h"
#include "composer/squashfs/compressor.h"
#include "manifests/manifest.h"
#include "policy/bake.h"
#include "policy/lxc.h"
#include "policy/oci.h"
#include "util/json_text.h"
#include "util/temp_path.h"
#include "util/shown.h"

namespace nestbox::cli {
namespace {

struct ValidateArgs {
  std::vector<std::string> files;
  bool quiet = false;
  bool json = false;
  bool sources = true;  // select each container's files as compose would (--no-sources: the manifests only)
  std::string staging;
};

// What validate found: the manifests that passed and every problem, each
// reported on stderr as it is found and kept for --json.
struct Findings {
  std::vector<const manifests::Manifest*> passed;
  nlohmann::json problems = nlohmann::json::array();
  int status = kExitOk;

  void add(const Error& error) {
    status = std::max(status, report("validate", error));
    // One problem per line: "FILE:LINE:COL: KEY: what was expected".
    std::stringstream lines(error.message);
    for (std::string line; std::getline(lines, line);) problems.push_back(problem(line));
  }

  // {file, line, column, message} of a placed line, else {message}.
  static nlohmann::json problem(const std::string& line) {
    // The place ends at the first ": " after two ":NUMBER" fields.
    for (size_t end = line.find(": "); end != std::string::npos; end = line.find(": ", end + 1)) {
      size_t col = line.rfind(':', end - 1);
      if (col == std::string::npos || col == 0) continue;
      size_t row = line.rfind(':', col - 1);
      if (row == std::string::npos) continue;
      std::string l = line.substr(row + 1, col - row - 1), c = line.substr(col + 1, end - col - 1);
      auto digits = [](const std::string& t) {
        return !t.empty() && t.size() < 10 && std::all_of(t.begin(), t.end(), [](char ch) { return ch >= '0' && ch <= '9'; });
      };
      if (row == 0 || !digits(l) || !digits(c)) continue;
      return {{"file", line.substr(0, row)}, {"line", std::stoul(l)}, {"column", std::stoul(c)},
              {"message", line.substr(end + 2)}};
    }
    return {{"message", line}};
  }
};

// A compressor the squashfs writer cannot produce (Debian's libsquashfs has
// no LZO) is refused here with its place, as compose would refuse it.
Status check_writer(const manifests::Manifest& m) {
  using manifests::RootfsStrategy;
  if (m.rootfs.strategy != RootfsStrategy::kSquashfs && m.rootfs.strategy != RootfsStrategy::kOverlay)
    return ok_status();
  std::string name = manifests::to_string(m.rootfs.compressor);
  std::vector<std::string> have = composer::squashfs::available_compressors();
  if (std::find(have.begin(), have.end(), name) != have.end()) return ok_status();
  const manifests::SourcePos& at = m.rootfs.compressor_pos.line ? m.rootfs.compressor_pos : m.rootfs.pos;
  std::string list;  // what a manifest may name and the writer has
  for (auto c : {manifests::Compressor::kGzip, manifests::Compressor::kXz, manifests::Compressor::kZstd,
                 manifests::Compressor::kLz4, manifests::Compressor::kLzo})
    if (std::find(have.begin(), have.end(), manifests::to_string(c)) != have.end())
      list += (list.empty() ? "\"" : ", \"") + std::string(manifests::to_string(c)) + "\"";
  return bad_input(m.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) +
                   ": rootfs.compressor: \"" + name +
                   "\" is not produced by this build's squashfs writer (libsquashfs); expected one of " + list);
}

// Unless --no-sources: each container's files selected as compose selects them
// (sources read, archives unpacked into `scratch`, includes, the ELF closure
// of rootfs.binaries and its architecture, setuid and device refusals), so a
// missing source or binary is found before the build. Placed at the
// [[rootfs.source]] that failed, else at the first one (else its [rootfs]).
Status check_sources(const manifests::Manifest& m, const std::string& scratch) {
  std::vector<std::string> notes;
  std::optional<size_t> failed;
  auto c = composer::prepare_container(m, scratch + "/" + m.name, std::nullopt, &notes, "", nullptr, false, &failed);
  if (c.ok()) return ok_status();
  const manifests::SourcePos& at = failed                   ? m.rootfs.sources[*failed].pos
                                   : m.rootfs.sources.empty() ? m.rootfs.pos
                                                              : m.rootfs.sources.front().pos;
  Error e = c.error();
  std::string own = m.file + ": ";  // prepare_container's context, replaced by the place
  if (e.message.rfind(own, 0) == 0) e.message.erase(0, own.size());
  e.message = m.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": rootfs: " + e.message;
  return e;
}

// Bakes every runtime form in memory, as compose would.
Status bake_all(const manifests::Manifest& m) {
  if (auto baked = policy::bake_binary(m); !baked.ok()) return std::move(baked).error();
  if (auto oci = policy::oci_config(m); !oci.ok()) return std::move(oci).error();
  if (auto lxc = policy::lxc_config(m, policy::LxcOptions{"/rootfs", "/lxc.seccomp"}); !lxc.ok())
    return std::move(lxc).error();
  return ok_status();
}

int run_validate(const ValidateArgs& a) {
  std::vector<manifests::Manifest> loaded;
  Findings found;
  if (!a.staging.empty() && !a.sources) return report("validate", bad_input("--staging: not with --no-sources"));
  for (const std::string& f : a.files) {
    auto m = manifests::load_file(f);
    if (m.ok() && !a.staging.empty()) manifests::resolve_sources_in(*m, a.staging);
    if (m.ok()) loaded.push_back(std::move(*m));
    else found.add(m.error());
  }
  TempDir scratch;
  if (a.sources) {
    auto made = TempDir::create((std::filesystem::temp_directory_path() / "nestbox-validate-").string());
    if (!made.ok()) return report("validate", made.error());
    scratch = std::move(*made);
  }
  if (found.status == kExitOk) {
    if (Status st = manifests::validate_set(loaded); !st.ok()) found.add(st.error());
  }
  if (found.status == kExitOk) {
    for (const auto& m : loaded) {
      if (Status st = check_writer(m); !st.ok()) {
        found.add(st.error());
      } else if (Status st = bake_all(m); !st.ok()) {  // what compose would refuse is bad input here too
        Error e = st.error();
        e.kind = ErrorKind::kBadInput;
        found.add(e.context(m.file));
      } else if (Status src = a.sources ? check_sources(m, scratch.path()) : ok_status(); !src.ok()) {
        found.add(src.error());
      } else {
        found.passed.push_back(&m);
      }
    }
  }
  if (found.status != kExitOk) found.passed.clear();
  if (a.json) {
    nlohmann::json ok = nlohmann::json::array();
    for (const auto* m : found.passed) ok.push_back({{"file", m->file}, {"name", m->name}, {"version", m->version}});
    std::cout << json_text({{"ok", found.status == kExitOk}, {"manifests", ok}, {"problems", found.problems}}, 2)
              << "\n";
  } else if (!a.quiet) {
    for (const auto* m : found.passed)
      std::cout << shown(m->file) << ": ok (" << m->name << " version " << m->version << ")\n";
  }
  return found.status;
}

}  // namespace

Runner define_validate(CLI::App& sub) {
  auto a = std::make_shared<ValidateArgs>();
  sub.add_option("files", a->files, "Manifest files (TOML, schema v1)")->required();
  sub.add_flag("-q,--quiet", a->quiet, "Print nothing on success");
  sub.add_flag("--json", a->json, "Print the manifests that passed and every problem (file, line, column) as JSON");
  sub.add_flag("--sources,!--no-sources", a->sources,
               "Select each container's files as compose would (the default): missing sources, rootfs.binaries "
               "not in the sources or built for another arch, refused setuid files and device nodes; "
               "--no-sources checks the manifests alone (no staging tree at hand)");
  sub.add_option("--staging", a->staging, kStagingHelp);
  return [a] { return run_validate(*a); };
}

}  // namespace nestbox::cli
