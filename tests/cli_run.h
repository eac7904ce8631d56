// Runs the `nestbox` binary under test (NESTBOX_CLI, set by the test's CMake
// target) through the shell, for the tests of the front end: its exit status
// and what it printed.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace nestbox::testing_support {

struct CliRun {
  int status;       // exit status; -1 when it did not exit (a signal)
  std::string out;  // stdout, and stderr too when asked for
};

enum class CliStreams { kStdout, kStdoutAndStderr };

// `env`: VAR=value words put before the binary (the shell's own syntax).
inline CliRun run_cli(const std::string& args, CliStreams streams, const std::string& env = "") {
  std::string cmd = (env.empty() ? "" : env + " ") + std::string(NESTBOX_CLI) + " " + args;
  if (streams == CliStreams::kStdoutAndStderr) cmd += " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[4096];
  while (size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

}  // namespace nestbox::testing_support
