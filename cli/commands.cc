#include "cli/command.h"

#include <cerrno>
#include <iostream>

#include "util/shown.h"

namespace nestbox::cli {

// One declaration and one table row per subcommand.
Runner define_validate(CLI::App&);
Runner define_show(CLI::App&);
Runner define_kernel_check(CLI::App&);
Runner define_keygen(CLI::App&);
Runner define_sign(CLI::App&);
Runner define_verify(CLI::App&);
Runner define_inspect(CLI::App&);
Runner define_closure(CLI::App&);
Runner define_compose(CLI::App&);
Runner define_plan(CLI::App&);
Runner define_squash(CLI::App&);
Runner define_gc(CLI::App&);
Runner define_learn_seccomp(CLI::App&);

namespace {
const Command kCommands[] = {
    {"validate", "Check manifests: syntax, types, units and conflicts", define_validate},
    {"show", "Print a manifest's resolved policy (text or --json)", define_show},
    {"kernel-check", "Will this kernel (from its config) enforce these containers?", define_kernel_check},
    {"keygen", "Generate a signing key pair (Ed25519, ECDSA P-256, RSA-3072 PSS)", define_keygen},
    {"sign", "Assemble and sign an image: squashfs + verity tree + policy + metadata", define_sign},
    {"verify", "Verify a signed image as the device does (full or verity mode)", define_verify},
    {"inspect", "Print a baked policy file (text or --json)", define_inspect},
    {"closure", "Print the ELF dependency closure of programs inside a target root", define_closure},
    {"compose", "Build container root file systems from manifests", define_compose},
    {"plan", "Compare the rootfs strategies (flash, shared page cache) for containers", define_plan},
    {"squash", "Write squashfs images of directories (shared block cache, overlay)", define_squash},
    {"gc", "Shrink a compressed-block cache to a size, least recently used blocks first", define_gc},
    {"learn-seccomp", "Run a container's command in its rootfs and print the seccomp allow-list it needed",
     define_learn_seccomp},
};
}  // namespace

std::span<const Command> commands() { return kCommands; }

std::unique_ptr<CommandLine> make_command_line() {
  auto line = std::make_unique<CommandLine>();
  line->app.require_subcommand(1);
  line->app.set_version_flag("--version", kVersion);
  for (const Command& c : commands()) {
    CLI::App* sub = line->app.add_subcommand(c.name, c.summary);
    line->runners[sub] = c.define(*sub);
  }
  return line;
}

// An input that is not there (or not what its name says) is the caller's
// mistake, the same as malformed input: exit 2 in every command.
bool names_a_missing_input(const Error& error) {
  return error.sys_errno == ENOENT || error.sys_errno == ENOTDIR || error.sys_errno == EISDIR ||
         error.sys_errno == ELOOP;
}

int report(const char* command, const Error& error) {
  // The message carries untrusted names (keys, members, files): no control
  // byte reaches the log but the newlines that separate its lines.
  std::cerr << "nestbox " << command << ": " << shown(error.message, /*keep_newlines=*/true) << "\n";
  return error.kind == ErrorKind::kBadInput || names_a_missing_input(error) ? kExitBadInput : kExitFailure;
}

}  // namespace nestbox::cli
