// nestbox validate FILE...: every manifest parsed and checked, then the set
// checked together (names, joined namespaces). Prints every problem found.
#include <iostream>

#include "cli/command.h"
#include "manifests/manifest.h"

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
    if (!*quiet)
      for (const auto& m : loaded) std::cout << m.file << ": ok (" << m.name << " version " << m.version << ")\n";
    return kExitOk;
  };
}

}  // namespace nestbox::cli
