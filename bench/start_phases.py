#!/usr/bin/env python3
# Where the CPU time of a container start goes: categorises the samples of
#   perf record -F 5000 -g -o P -- sh -c "for i in $(seq N); do nestbox-launch run IMG ...; done"
#   perf script -i P -F comm,tid,ip,sym,dso > S
# by the first matching rule over each sample's call chain (kernel stacks are
# complete; user stacks stop at the first frame without a frame pointer).
# Usage: bench/start_phases.py S N [HZ]   (docs/benchmarks.md, "Where a start goes")

import collections
import sys

rules = [
 ("container exec of /bin/true: squashfs decompression", lambda c,s: any(x in s for x in ("squashfs_", "zlib_inflate", "inflate_fast", "lz4_", "zstd"))),
 ("container /bin/true: exec + run (rest)", lambda c,s: c == "true"),
 ("dynamic loading (ld.so: libcrypto relocation, symbol lookup)", lambda c,s: "ld-linux" in s or "_dl_" in s),
 ("libcrypto (init, SHA-256 of the image, Ed25519, free)", lambda c,s: "libcrypto" in s),
 ("exec/exit of the launcher processes (execve, mm teardown)", lambda c,s: any(x in s for x in ("__x64_sys_execve", "exit_mmap", "do_exit", "do_group_exit", "__x64_sys_exit"))),
 ("namespaces (clone3 + unshare: net, ipc, uts, pid, mnt, user, cgroup)", lambda c,s: any(x in s for x in ("copy_namespaces", "create_new_namespaces", "unshare_nsproxy", "setup_net", "copy_net_ns", "__x64_sys_unshare", "cleanup_net", "put_net"))),
 ("fork/clone (copy of the address space)", lambda c,s: any(x in s for x in ("__do_sys_clone", "copy_process", "dup_mm"))),
 ("cgroups (mkdir, rmdir, writes)", lambda c,s: any(x in s for x in ("cgroup_", "kernfs_", "mem_cgroup_css"))),
 ("loop device (LOOP_CONFIGURE, detach)", lambda c,s: any(x in s for x in ("lo_ioctl", "loop_", "__loop_clr_fd", "blkdev_", "bdev_"))),
 ("mounts, pivot_root, umount", lambda c,s: any(x in s for x in ("__x64_sys_mount", "__x64_sys_umount", "pivot_root", "do_mount", "path_mount", "fsmount", "open_tree", "move_mount", "mntput", "cleanup_mnt"))),
 ("bpf (device program) + seccomp", lambda c,s: any(x in s for x in ("__sys_bpf", "seccomp"))),
 ("file reads (image hashing, /proc, state)", lambda c,s: any(x in s for x in ("ksys_read", "__x64_sys_pread64", "filemap_read"))),
 ("page faults of the launcher (first touch, CoW after fork)", lambda c,s: "exc_page_fault" in s or "asm_exc_page_fault" in s),
 ("launcher code + libc (malloc, strings)", lambda c,s: "launch" in s.split("\n")[0] or "libc.so" in s.split("\n")[0]),
 ("other system calls", lambda c,s: "do_syscall_64" in s),
]
cnt = collections.Counter(); total = 0
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 30
hz = float(sys.argv[3]) if len(sys.argv) > 3 else 5000
for block in open(sys.argv[1]).read().split("\n\n"):
    lines = block.strip("\n").split("\n")
    if not lines or not lines[0].strip(): continue
    comm = lines[0].split()[0]
    if comm in ("sh", "dash", "bash", "run30.sh", "seq", "perf"): continue  # the loop itself
    stack = "\n".join(lines[1:])
    total += 1
    for name, f in rules:
        if f(comm, stack): cnt[name] += 1; break
    else: cnt["other"] += 1
ms = 1000.0 / hz / runs
print(f"{'phase':70} {'ms/start':>8} {'share':>6}")
for name, _ in rules + [("other", None)]:
    if cnt[name]: print(f"{name:70} {cnt[name]*ms:8.2f} {100*cnt[name]/total:5.1f}%")
print(f"{'total CPU per start':70} {total*ms:8.2f}")
