// nestbox closure --root DIR PATH... [--json]: the ELF dependency closure of
// programs inside a target root, one path per line (interpreter included),
// or JSON with the resolution chain, to debug a container that will not start.
#include <nlohmann/json.hpp>

#include <iostream>

#include "cli/command.h"
#include "composer/closure.h"
#include "util/json_text.h"

namespace nestbox::cli {

Runner define_closure(CLI::App& sub) {
  auto root = std::make_shared<std::string>();
  auto paths = std::make_shared<std::vector<std::string>>();
  auto json = std::make_shared<bool>(false);
  sub.add_option("--root", *root, "Target root file system (directory)")->required();
  sub.add_option("paths", *paths, "Programs, absolute paths inside the root")->required();
  sub.add_flag("--json", *json, "Print JSON with how each object was found");
  return [root, paths, json] {
    auto view = composer::open_dir_root(*root);
    if (!view.ok()) return report("closure", view.error());
    auto c = composer::compute_closure(**view, *paths);
    if (!c.ok()) return report("closure", c.error());
    if (!*json) {
      for (const auto& p : c->listed_paths) std::cout << p << "\n";
      return kExitOk;
    }
    nlohmann::ordered_json out = nlohmann::ordered_json::object();
    out["root"] = *root;
    out["objects"] = nlohmann::ordered_json::array();
    for (const auto& o : c->objects) {
      nlohmann::ordered_json j;
      j["path"] = o.path;
      j["real_path"] = o.real_path;
      j["symlinks"] = o.symlinks;
      j["name"] = o.name;
      j["needed_by"] = o.needed_by;
      j["found_via"] = o.via;
      j["needed"] = o.needed;
      out["objects"].push_back(j);
    }
    out["install_paths"] = c->install_paths;
    std::cout << json_text(out, 2) << "\n";
    return kExitOk;
  };
}

}  // namespace nestbox::cli
