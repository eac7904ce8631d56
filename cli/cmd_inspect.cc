// nestbox inspect POLICY_FILE [--json]: print a baked policy (policy.bin), as
// nestbox-launch would read it — the same bounds-checked reader.
#include <iostream>

#include "cli/command.h"
#include "policy/format.h"
#include "policy/render.h"
#include "util/file_io.h"

namespace nestbox::cli {

Runner define_inspect(CLI::App& sub) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub.add_option("file", *file, "Baked policy file (policy.bin)")->required();
  sub.add_flag("--json", *json, "Print JSON instead of key = value lines");
  return [file, json] {
    auto bytes = read_file(*file);
    if (!bytes.ok()) return report("inspect", bytes.error());
    auto p = policy::decode(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    if (!p.ok()) return report("inspect", p.error().context(*file));
    std::cout << (*json ? policy::to_json(*p) : policy::to_text(*p));
    return kExitOk;
  };
}

}  // namespace nestbox::cli
