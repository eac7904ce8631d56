// nestbox show FILE [--json]: the resolved policy of one manifest, defaults
// filled in and derived values (hostname, namespace modes) made explicit.
#include <iostream>

#include "cli/command.h"
#include "manifests/manifest.h"

namespace nestbox::cli {

Runner define_show(CLI::App& sub) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub.add_option("file", *file, "Manifest file")->required();
  sub.add_flag("--json", *json, "Print JSON instead of key = value lines");
  return [file, json] {
    auto m = manifests::load_file(*file);
    if (!m.ok()) return report("show", m.error());
    std::cout << (*json ? manifests::to_json(*m) : manifests::to_text(*m));
    return kExitOk;
  };
}

}  // namespace nestbox::cli
