// nestbox: the host-side front end. Thin: parses arguments and calls the
// component libraries; all logic lives in those.
#include <iostream>
#include <map>

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitBadInput;
  }
  for (auto& [sub, run] : runners)
    if (sub->parsed()) return run();
  return kExitBadInput;
}
