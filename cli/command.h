// The host CLI is a table of subcommands (cli/commands.cc). Each command lives
// in its own cmd_<name>.cc and provides a `define` function: it declares the
// subcommand's options on a CLI11 app and returns the function that runs it.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <map>
#include <memory>
#include <span>

#include "util/result.h"

namespace nestbox::cli {

// Exit statuses, documented in docs/cli.md.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitBadInput = 2;

using Runner = std::function<int()>;

struct Command {
  const char* name;
  const char* summary;
  Runner (*define)(CLI::App& sub);
};

std::span<const Command> commands();

inline constexpr const char* kVersion = "nestbox 0.1.0";

// The whole command line: the top-level app with one subcommand per row of
// the table, and the runner of each. Built once by main, and by whatever
// renders the table for people (cli/reference.h).
struct CommandLine {
  CLI::App app{"nestbox: build-time container composer, signer and checker for embedded routers", "nestbox"};
  std::map<const CLI::App*, Runner> runners;
};
std::unique_ptr<CommandLine> make_command_line();

// Prints "nestbox <command>: <message>" to stderr and returns the exit status
// that matches the error's kind (2 also for a missing input file: ENOENT,
// ENOTDIR, EISDIR, ELOOP).
int report(const char* command, const Error& error);

}  // namespace nestbox::cli
