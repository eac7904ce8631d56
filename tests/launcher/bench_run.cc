// nestbox-bench-run: the launcher library behind a minimal front end, for
// bench/launcher.sh. Runs argv from a squashfs image (or a tree) with every
// isolation on: all namespaces (user: 0 → 100000), no capabilities,
// no_new_privs, read-only root, /proc, /sys, /dev, tmpfs /tmp, memory + pids
// limits, and the seccomp BPF from a file.
//   nestbox-bench-run IMAGE|TREE BPF_FILE STATE_ROOT -- COMMAND...
// Or writes that same policy, baked, for `nestbox sign --policy` (so the bench
// can time `nestbox-launch run` of a signed image with exactly this policy):
//   nestbox-bench-run --policy-out FILE BPF_FILE -- COMMAND...
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "launcher/launcher.h"
#include "policy/format.h"
#include "util/file_io.h"

using namespace nestbox;

namespace {

policy::Policy bench_policy(char** cmd_begin, char** cmd_end, const std::string& bpf) {
  policy::Policy p;
  p.name = "bench";
  p.arch = "x86_64";
  p.process.argv.assign(cmd_begin, cmd_end);
  p.process.env = {"PATH=/bin"};
  p.uid_map = {{0, 100000, 65536}};
  p.gid_map = {{0, 100000, 65536}};
  p.cgroups.memory_max = 64 << 20;
  p.cgroups.pids_max = 64;
  policy::Mount tmp;
  tmp.target = "/tmp";
  tmp.size = 1 << 20;
  tmp.flags = policy::kMountNoexec | policy::kMountNosuid | policy::kMountNodev;
  p.mounts.push_back(tmp);
  p.seccomp.bpf.assign(bpf.begin(), bpf.end());
  return p;
}

int fail(const Error& e) {
  std::fprintf(stderr, "nestbox-bench-run: %s\n", e.message.c_str());
  return static_cast<int>(e.kind);
}

int write_policy(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: nestbox-bench-run --policy-out FILE BPF_FILE -- COMMAND...\n");
    return 2;
  }
  auto bpf = read_file(argv[3]);
  if (!bpf.ok()) return fail(bpf.error());
  auto blob = policy::encode(bench_policy(argv + 5, argv + argc, *bpf));
  if (!blob.ok()) return fail(blob.error());
  Status st = write_file_atomic(argv[2], std::string(blob->begin(), blob->end()));
  return st.ok() ? 0 : fail(st.error());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "--policy-out") == 0) return write_policy(argc, argv);
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: nestbox-bench-run IMAGE BPF_FILE STATE_ROOT -- COMMAND...\n");
    return 2;
  }
  auto bpf = read_file(argv[2]);
  if (!bpf.ok()) return fail(bpf.error());
  policy::Policy p = bench_policy(argv + 5, argv + argc, *bpf);
  launcher::RootfsSource src;
  struct stat st;
  if (::stat(argv[1], &st) == 0 && S_ISDIR(st.st_mode)) {  // the `tree` strategy
    src.kind = launcher::RootfsSource::Kind::kTree;
    src.tree = argv[1];
  } else {
    src.image.path = argv[1];
  }
  launcher::Options o;
  o.state_root = argv[3];
  auto r = launcher::run_container(p, src, o);
  if (!r.ok()) return fail(r.error());
  return r->exit_code;
}
