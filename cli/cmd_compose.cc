// nestbox compose MANIFEST... --out DIR: builds every container's rootfs with
// the writer of its strategy (tree, host-hardlink, and the writers other
// components register), then prints a summary and the notes (copies instead
// of links, setuid bits removed).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <iostream>

#include "cli/command.h"
#include "composer/compose.h"
#include "composer/select.h"
#include "manifests/manifest.h"
#include "policy/runtime_forms.h"

namespace nestbox::cli {

Runner define_compose(CLI::App& sub) {
  struct Args {
    std::vector<std::string> files;
    std::string out;
    std::string strategy;
    unsigned threads = 0;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  sub.add_option("manifests", a->files, "Manifest files")->required();
  sub.add_option("--out", a->out, "Output directory (tree outputs, work files)")->required();
  sub.add_option("--strategy", a->strategy,
                 "Override every manifest's rootfs strategy (tree, host-hardlink, ...)");
  sub.add_option("--threads", a->threads, "Hashing threads (default: one per core)");
  sub.add_flag("--json", a->json, "Print the report as JSON");
  return [a] {
    std::vector<manifests::Manifest> ms;
    for (const auto& f : a->files) {
      auto m = manifests::load_file(f);
      if (!m.ok()) return report("compose", m.error());
      ms.push_back(std::move(*m));
    }
    Status set = manifests::validate_set(ms);
    if (!set.ok()) return report("compose", set.error());
    composer::ComposeOptions o;
    o.out_dir = a->out;
    o.threads = a->threads;
    auto sde = composer::source_date_epoch_from_env();
    if (!sde.ok()) return report("compose", sde.error());
    o.source_date_epoch = *sde;
    if (!a->strategy.empty()) {
      std::optional<manifests::RootfsStrategy> s;
      for (auto v : {manifests::RootfsStrategy::kHostHardlink, manifests::RootfsStrategy::kTree,
                     manifests::RootfsStrategy::kSquashfs, manifests::RootfsStrategy::kOverlay})
        if (a->strategy == manifests::to_string(v)) s = v;
      if (!s) return report("compose", bad_input("--strategy: unknown strategy '" + a->strategy + "'"));
      o.force_strategy = *s;
    }
    auto writers = composer::default_writers();
    std::vector<composer::OutputWriter*> ptrs;
    for (auto& w : writers) ptrs.push_back(w.get());
    auto r = composer::compose(ms, o, ptrs);
    if (!r.ok()) return report("compose", r.error());
    // The runtime side of each container: baked policy (nestbox-launch),
    // OCI config.json (crun/runc/uxc) and LXC config, beside the rootfs outputs.
    for (const auto& m : ms) {
      std::string dir = a->out + "/runtime/" + m.name;
      std::error_code ec;
      std::filesystem::create_directories(dir, ec);
      if (ec) return report("compose", failure("create " + dir + ": " + ec.message()));
      Status st = policy::write_runtime_forms(m, dir);
      if (!st.ok()) return report("compose", st.error().context(m.file));
    }
    if (a->json) {
      nlohmann::ordered_json j;
      j["distinct_contents"] = r->distinct_contents;
      j["bytes_hashed"] = r->bytes_hashed;
      j["outputs"] = nlohmann::ordered_json::array();
      for (const auto& o : r->outputs)
        j["outputs"].push_back({{"container", o.container}, {"strategy", o.strategy},
                                {"path", o.path}, {"entries", o.entries}, {"files", o.files},
                                {"bytes", o.bytes}, {"linked", o.linked}, {"copied", o.copied}});
      j["notes"] = r->notes;
      std::cout << j.dump(2) << "\n";
      return kExitOk;
    }
    for (const auto& o : r->outputs)
      std::cout << o.container << " (" << o.strategy << "): " << o.path << ": " << o.entries
                << " entries, " << o.files << " files, " << o.bytes << " bytes, " << o.linked
                << " linked, " << o.copied << " copied\n";
    for (const auto& n : r->notes) std::cout << "note: " << n << "\n";
    return kExitOk;
  };
}

}  // namespace nestbox::cli
