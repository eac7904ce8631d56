// nestbox: the host-side front end. Thin: parses arguments and calls the
// component libraries; all logic lives in those.
#include <cstring>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "cli/reference.h"

int main(int argc, char** argv) {
  using namespace nestbox::cli;
  std::unique_ptr<CommandLine> line = make_command_line();
  CLI::App& app = line->app;
  // The reference for people and shells, rendered from the same definitions
  // that parse the command line (installed as nestbox.1 and the completion).
  if (argc == 2 && std::strcmp(argv[1], "--man") == 0) return std::cout << man_page(app), kExitOk;
  if (argc == 2 && std::strcmp(argv[1], "--bash-completion") == 0) return std::cout << bash_completion(app), kExitOk;
  // An unknown command is named, with the commands there are (CLI11 would
  // only say that a subcommand is required).
  bool known = argc < 2 || argv[1][0] == '-';
  for (const Command& c : commands()) known = known || std::strcmp(argv[1], c.name) == 0;
  if (!known) {
    std::string names;
    for (const Command& c : commands()) names += std::string(names.empty() ? "" : ", ") + c.name;
    std::cerr << "nestbox: unknown command '" << argv[1] << "'; commands: " << names << "\n";
    return kExitBadInput;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Like every other error: prefixed with the command it concerns.
    std::string where = "nestbox";
    for (auto& [sub, run] : line->runners)
      if (sub->parsed()) where += " " + sub->get_name();
    std::cerr << where << ": " << e.what() << "\nRun '" << where << " --help' for the options.\n";
    return kExitBadInput;
  }
  for (auto& [sub, run] : line->runners)
    if (sub->parsed()) return run();
  return kExitBadInput;
}
