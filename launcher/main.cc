// nestbox-launch: the on-target verifier and launcher. Links only libc and
// libcrypto (checked by launcher/CMakeLists.txt and tests/launcher). Reads only
// signed images and their baked policy: no TOML, JSON or archive parser here.
#include <cstdio>
#include <cstring>

namespace {

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int not_yet(int, char** argv) {
  std::fprintf(stderr, "nestbox-launch %s: not implemented in this build\n", argv[0]);
  return 1;
}

const Command kCommands[] = {
    {"run", "Verify and run a container in the foreground", not_yet},
    {"install", "Verify an image and install it into the container store", not_yet},
    {"boot", "Verify and start every enabled container", not_yet},
    {"check", "Report which container facilities the running kernel has", not_yet},
};

int usage(FILE* out) {
  std::fprintf(out, "usage: nestbox-launch <command> [args]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return usage(stdout);
  if (!std::strcmp(argv[1], "--version")) {
    std::puts("nestbox-launch 0.1.0");
    return 0;
  }
  for (const Command& c : kCommands)
    if (!std::strcmp(argv[1], c.name)) return c.run(argc - 1, argv + 1);
  std::fprintf(stderr, "nestbox-launch: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
