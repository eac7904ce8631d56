#include "cli/command.h"

#include <iostream>

namespace nestbox::cli {

// One declaration and one table row per subcommand.
Runner define_validate(CLI::App&);
Runner define_show(CLI::App&);
Runner define_closure(CLI::App&);
Runner define_compose(CLI::App&);
Runner define_plan(CLI::App&);

namespace {
const Command kCommands[] = {
    {"validate", "Check manifests: syntax, types, units and conflicts", define_validate},
    {"show", "Print a manifest's resolved policy (text or --json)", define_show},
    {"closure", "Print the ELF dependency closure of programs inside a target root", define_closure},
    {"compose", "Build container root file systems from manifests", define_compose},
    {"plan", "Compare the rootfs strategies (flash, shared page cache) for containers", define_plan},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

int report(const char* command, const Error& error) {
  std::cerr << "nestbox " << command << ": " << error.message << "\n";
  return error.kind == ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

}  // namespace nestbox::cli
