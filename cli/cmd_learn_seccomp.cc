// nestbox learn-seccomp MANIFEST --root DIR [--probe CMD] [--timeout MS] [-o FILE]:
// run the container's command in its composed rootfs, confined as the manifest
// says, under a seccomp user-notification filter, and print the allow-list it
// needed (a TOML fragment per arch) for the developer to review and paste.
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "cli/manifest_set.h"
#include "learn/seccomp_learn.h"

namespace nestbox::cli {

Runner define_learn_seccomp(CLI::App& sub) {
  auto manifest = std::make_shared<std::string>();
  auto staging = std::make_shared<std::string>();
  auto opts = std::make_shared<learn::LearnOptions>();
  auto out = std::make_shared<std::string>();
  sub.add_option("manifest", *manifest, "The container's manifest")->required();
  sub.add_option("--root", opts->root,
                 "Its composed rootfs tree (nestbox compose --strategy tree --out OUT: OUT/NAME)")
      ->required();
  sub.add_option("--probe", opts->probe,
                 "Shell command run on the host in the container's network namespace once it started "
                 "(the client that exercises it, e.g. wget); the container is stopped when it ends");
  sub.add_option("--timeout", opts->timeout_ms, "Stop the container after this many milliseconds (default 10000)")
      ->check(CLI::PositiveNumber);
  sub.add_option("-o,--output", *out, "Write the fragment to this file instead of standard output");
  sub.add_option("--staging", *staging, kStagingHelp);
  return [manifest, staging, opts, out] {
    auto set = load_manifest_set({*manifest}, *staging);
    if (!set.ok()) return report("learn-seccomp", set.error());
    const manifests::Manifest& m = set->front();
    auto learned = learn::learn_seccomp(m, *opts);
    if (!learned.ok()) return report("learn-seccomp", learned.error());
    const std::string text = learn::render_allow_list(m, *opts, *learned);
    if (out->empty()) {
      std::cout << text;
      return kExitOk;
    }
    std::ofstream f(*out, std::ios::trunc);
    f << text;
    f.close();
    if (!f) return report("learn-seccomp", sys_error(*out));
    return kExitOk;
  };
}

}  // namespace nestbox::cli
