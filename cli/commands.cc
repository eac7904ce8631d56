#include "cli/command.h"

#include <iostream>

namespace nestbox::cli {

// One declaration and one table row per subcommand.
Runner define_validate(CLI::App&);
Runner define_show(CLI::App&);
Runner define_squash(CLI::App&);

namespace {
const Command kCommands[] = {
    {"validate", "Check manifests: syntax, types, units and conflicts", define_validate},
    {"show", "Print a manifest's resolved policy (text or --json)", define_show},
    {"squash", "Write squashfs images of directories (shared block cache, overlay)", define_squash},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

int report(const char* command, const Error& error) {
  std::cerr << "nestbox " << command << ": " << error.message << "\n";
  return error.kind == ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

}  // namespace nestbox::cli
