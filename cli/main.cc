// nestbox: the host-side front end. Thin: parses arguments and calls the
// component libraries; all logic lives in those.
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "cli/command.h"

int main(int argc, char** argv) {
  using namespace nestbox::cli;
  CLI::App app{"nestbox: build-time container composer, signer and checker for embedded routers"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nestbox 0.1.0");
  std::map<CLI::App*, Runner> runners;
  for (const Command& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.summary);
    runners[sub] = c.define(*sub);
  }
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
    for (auto& [sub, run] : runners)
      if (sub->parsed()) where += " " + sub->get_name();
    std::cerr << where << ": " << e.what() << "\nRun '" << where << " --help' for the options.\n";
    return kExitBadInput;
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return run();
  return kExitBadInput;
}
