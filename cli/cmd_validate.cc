// nestbox validate FILE...: every manifest parsed and checked, then the set
// checked together (names, joined namespaces). Prints every problem found.
// Then each manifest is baked into every runtime form in memory, as compose
// would: the manifests library mirrors each of those rules with its place,
// and this last step makes sure nothing compose refuses passes validate.
#include <iostream>

#include "cli/command.h"
#include "manifests/manifest.h"
#include "policy/bake.h"
#include "policy/lxc.h"
#include "policy/oci.h"

namespace nestbox::cli {

Runner define_validate(CLI::App& sub) {
  auto files = std::make_shared<std::vector<std::string>>();
  auto quiet = std::make_shared<bool>(false);
  sub.add_option("files", *files, "Manifest files (TOML, schema v1)")->required();
  sub.add_flag("-q,--quiet", *quiet, "Print nothing on success");
  return [files, quiet] {
    std::vector<manifests::Manifest> loaded;
    int status = kExitOk;
    for (const std::string& f : *files) {
      auto m = manifests::load_file(f);
      if (!m.ok()) {
        status = std::max(status, report("validate", m.error()));
        continue;
      }
      loaded.push_back(std::move(*m));
    }
    if (status != kExitOk) return status;
    if (Status st = manifests::validate_set(loaded); !st.ok()) return report("validate", st.error());
    for (const auto& m : loaded) {
      auto baked = policy::bake_binary(m);
      Status st = baked.ok() ? ok_status() : Status(std::move(baked).error());
      if (st.ok()) {
        auto oci = policy::oci_config(m);
        if (!oci.ok()) st = std::move(oci).error();
      }
      if (st.ok()) {
        auto lxc = policy::lxc_config(m, policy::LxcOptions{"/rootfs", "/lxc.seccomp"});
        if (!lxc.ok()) st = std::move(lxc).error();
      }
      if (!st.ok()) {  // what compose would refuse is bad input here too
        Error e = st.error();
        e.kind = ErrorKind::kBadInput;
        status = std::max(status, report("validate", e.context(m.file)));
      }
    }
    if (status != kExitOk) return status;
    if (!*quiet)
      for (const auto& m : loaded) std::cout << m.file << ": ok (" << m.name << " version " << m.version << ")\n";
    return kExitOk;
  };
}

}  // namespace nestbox::cli
