// The command table rendered for people and shells: a man page (roff) and a
// bash completion script, generated from the CLI11 definitions that parse the
// command line, so neither can drift from `--help`.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace nestbox::cli {

// nestbox(1): every command with its summary, operands and options.
std::string man_page(const CLI::App& app);

// A bash completion function for `nestbox`: commands, then each command's
// options; operands complete as file names.
std::string bash_completion(const CLI::App& app);

}  // namespace nestbox::cli
