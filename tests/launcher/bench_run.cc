// nestbox-bench-run: the launcher library behind a minimal front end, for
// bench/launcher.sh until `nestbox-launch run` has the verifier wired in. Runs
// argv from a squashfs image with every isolation on: all namespaces (user:
// 0 → 100000), no capabilities, no_new_privs, read-only root, /proc, /sys,
// /dev, tmpfs /tmp, memory + pids limits, and the seccomp BPF from a file.
//   nestbox-bench-run IMAGE|TREE BPF_FILE STATE_ROOT -- COMMAND...
#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "launcher/launcher.h"
#include "util/file_io.h"

using namespace nestbox;

int main(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) {
    std::fprintf(stderr, "usage: nestbox-bench-run IMAGE BPF_FILE STATE_ROOT -- COMMAND...\n");
    return 2;
  }
  auto bpf = read_file(argv[2]);
  if (!bpf.ok()) {
    std::fprintf(stderr, "%s\n", bpf.error().message.c_str());
    return 2;
  }
  policy::Policy p;
  p.name = "bench";
  p.process.argv.assign(argv + 5, argv + argc);
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
  p.seccomp.bpf.assign(bpf->begin(), bpf->end());
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
  if (!r.ok()) {
    std::fprintf(stderr, "nestbox-bench-run: %s\n", r.error().message.c_str());
    return 1;
  }
  return r->exit_code;
}
