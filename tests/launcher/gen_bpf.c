/* nestbox-gen-bpf: the benchmark's seccomp program as classic BPF on stdout
 * (default allow, getpriority -> EACCES), the same rule bench/launcher.sh
 * gives crun in config.json. Host-side tool: links libseccomp. */
#include <errno.h>
#include <seccomp.h>

int main(void) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(getpriority), 0) != 0) return 1;
  int rc = seccomp_export_bpf(ctx, 1);
  seccomp_release(ctx);
  return rc == 0 ? 0 : 1;
}
