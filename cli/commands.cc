#include "cli/command.h"

#include <iostream>

namespace nestbox::cli {

// One declaration and one table row per subcommand.
Runner define_validate(CLI::App&);
Runner define_show(CLI::App&);
Runner define_inspect(CLI::App&);

namespace {
const Command kCommands[] = {
    {"validate", "Check manifests: syntax, types, units and conflicts", define_validate},
    {"show", "Print a manifest's resolved policy (text or --json)", define_show},
    {"inspect", "Print a baked policy file (text or --json)", define_inspect},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

int report(const char* command, const Error& error) {
  std::cerr << "nestbox " << command << ": " << error.message << "\n";
  return error.kind == ErrorKind::kBadInput ? kExitBadInput : kExitFailure;
}

}  // namespace nestbox::cli
