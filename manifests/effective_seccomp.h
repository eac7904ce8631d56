// The seccomp rules a container really gets: its manifest's [seccomp] plus
// the io_uring guard and the host-keyring guard. One function, so the baked
// policy, the OCI and LXC forms and kernel-check all see the same filter.
//
// Why the io_uring guard: io_uring performs opens, connects, sends, renames
// and more itself (its opcodes), and seccomp sees only io_uring_enter. A
// filter that lets calls through by default and denies `openat` or `connect`
// was bypassed by a container that opened the file or connected through a
// ring (IORING_OP_OPENAT, IORING_OP_CONNECT): the signed rule did not hold.
//
// Why the guard: the kernel's per-uid user keyring (`@u`) is looked up by uid
// within a user namespace. A container in the host's user namespace runs as a
// host uid, so its processes reach that uid's user keyring: uid 0 (the
// default) reads and fills the one of the host's root, capabilities or not.
// A session keyring of its own (launcher/process.cc) does not cover `@u`.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "manifests/model.h"

namespace nestbox::manifests {

// Calls that do what another call does, by another entry point: a deny rule
// naming the first is bypassed through the others (`mount` through the new
// mount API: fsopen + fsmount + move_mount mounted a tmpfs in a container
// whose filter denied `mount`; `execve` through execveat; `rename` through
// renameat2; `kill` through pidfd_send_signal). Only calls that do
// at least the denied call's work are listed (wider ones, or the same change
// through a descriptor): denying `openat2` or `clone3` alone, so that
// programs fall back to the older call, stays possible. A call that does it
// only with some arguments (clone's namespace flags for `unshare`, sendto's
// MSG_FASTOPEN for `connect`) is not an alias: denying it whole would stop
// what the container needs (fork, send).
struct SyscallAliases {
  std::string_view denied;
  std::array<std::string_view, 7> also;  // empty names pad the array
};
inline constexpr SyscallAliases kSyscallAliases[] = {
    {"mount", {"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr"}},
    {"umount", {"umount2"}},
    {"execve", {"execveat"}},
    {"kexec_load", {"kexec_file_load"}},
    {"kexec_file_load", {"kexec_load"}},
    {"init_module", {"finit_module"}},
    {"finit_module", {"init_module"}},
    {"creat", {"open", "openat", "openat2"}},
    {"open", {"openat", "openat2", "creat"}},
    {"openat", {"open", "creat", "openat2"}},
    {"rename", {"renameat", "renameat2"}},
    {"renameat", {"rename", "renameat2"}},
    {"link", {"linkat"}},
    {"linkat", {"link"}},
    {"symlink", {"symlinkat"}},
    {"symlinkat", {"symlink"}},
    {"unlink", {"unlinkat"}},
    {"rmdir", {"unlinkat"}},
    {"unlinkat", {"unlink", "rmdir"}},
    {"mkdir", {"mkdirat"}},
    {"mkdirat", {"mkdir"}},
    {"mknod", {"mknodat"}},
    {"mknodat", {"mknod"}},
    // A mode or owner changed through a descriptor is changed all the same;
    // the *32 and *64 names are what 32-bit arches (arm, mipsel) and their
    // libc use for the same call: without them the denied name itself did
    // not hold there.
    {"chmod", {"fchmodat", "fchmodat2", "fchmod"}},
    {"fchmodat", {"chmod", "fchmodat2", "fchmod"}},
    {"fchmod", {"chmod", "fchmodat", "fchmodat2"}},
    {"chown", {"chown32", "fchownat", "lchown", "lchown32", "fchown", "fchown32"}},
    {"lchown", {"lchown32", "fchownat", "chown", "chown32", "fchown", "fchown32"}},
    {"fchownat", {"chown", "chown32", "lchown", "lchown32", "fchown", "fchown32"}},
    {"fchown", {"fchown32", "chown", "chown32", "lchown", "lchown32", "fchownat"}},
    {"truncate", {"truncate64", "ftruncate", "ftruncate64"}},
    {"ftruncate", {"ftruncate64", "truncate", "truncate64"}},
    {"fork", {"vfork", "clone", "clone3"}},
    {"vfork", {"fork", "clone", "clone3"}},
    {"clone", {"clone3"}},
    // Signals to a process: `kill` denied, pidfd_send_signal delivered them.
    // Thread-directed signals (tkill, tgkill) are not widened to: libc needs
    // them within the process (raise, pthread_kill, and glibc's setuid in a
    // threaded program, whose threads would keep their ids if it failed). A
    // pid namespace of its own is what keeps a container from signalling
    // others.
    {"kill", {"pidfd_send_signal", "rt_sigqueueinfo"}},
    {"tgkill", {"tkill"}},
    // Executable memory: pkey_mprotect is mprotect with a protection key;
    // mmap2 is mmap on 32-bit arches (mipsel has both).
    {"mprotect", {"pkey_mprotect"}},
    {"mmap", {"mmap2"}},
    // Another process's memory and descriptors, by ptrace's own access check.
    {"ptrace", {"process_vm_readv", "process_vm_writev", "pidfd_getfd"}},
    // The clock, and who the process is: every entry point that sets them.
    {"settimeofday", {"clock_settime", "clock_settime64", "clock_adjtime", "clock_adjtime64", "adjtimex", "stime"}},
    {"clock_settime", {"clock_settime64", "settimeofday", "clock_adjtime", "clock_adjtime64", "adjtimex", "stime"}},
    {"adjtimex", {"clock_adjtime", "clock_adjtime64"}},
    {"clock_adjtime", {"clock_adjtime64"}},
    {"setuid", {"setuid32", "setreuid", "setreuid32", "setresuid", "setresuid32", "setfsuid", "setfsuid32"}},
    {"setreuid", {"setreuid32", "setresuid", "setresuid32"}},
    {"setresuid", {"setresuid32"}},
    {"setfsuid", {"setfsuid32"}},
    {"setgid", {"setgid32", "setregid", "setregid32", "setresgid", "setresgid32", "setfsgid", "setfsgid32"}},
    {"setregid", {"setregid32", "setresgid", "setresgid32"}},
    {"setresgid", {"setresgid32"}},
    {"setfsgid", {"setfsgid32"}},
};

// The calls that reach a keyring. Denied with EPERM to a container in the
// host's user namespace unless its [seccomp] names them in `allow` (a signed,
// explicit decision) or denies them itself.
inline constexpr std::string_view kKeyringSyscalls[] = {"add_key", "keyctl", "request_key"};

// The calls io_uring can perform as opcodes (and their older or multiplexed
// names): a deny rule naming one of them is bypassed through a ring.
inline constexpr std::string_view kIoUringReachable[] = {
    "accept", "accept4", "bind", "close", "connect", "creat", "epoll_ctl", "epoll_pwait", "epoll_pwait2",
    "epoll_wait", "fadvise64", "fadvise64_64", "fallocate", "fdatasync", "fgetxattr", "fsetxattr", "fstat",
    "fsync", "ftruncate", "futex", "futex_wait", "futex_waitv", "futex_wake", "getsockopt", "getxattr", "ioctl",
    "lgetxattr", "link", "linkat", "listen", "lsetxattr", "lstat", "madvise", "mkdir", "mkdirat", "newfstatat",
    "open", "openat", "openat2", "pipe", "pipe2", "poll", "ppoll", "pread64", "preadv", "preadv2", "pwrite64",
    "pwritev", "pwritev2", "read", "readv", "recv", "recvfrom", "recvmmsg", "recvmsg", "rename", "renameat",
    "renameat2", "rmdir", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt", "setxattr", "shutdown",
    "socket", "socketcall", "splice", "stat", "statx", "symlink", "symlinkat", "sync_file_range", "tee",
    "truncate", "unlink", "unlinkat", "waitid", "write", "writev"};
// Denied (ENOSYS: "this kernel has no io_uring", which programs fall back
// from) when the filter lets calls through by default and one of the
// manifest's deny rules names a call of kIoUringReachable, unless the
// manifest names io_uring_setup itself (allowing it is its signed decision).
inline constexpr std::string_view kIoUringSyscalls[] = {"io_uring_enter", "io_uring_register", "io_uring_setup"};

// Why the user-namespace guard: a container in the host's user namespace
// that makes a user namespace of its own holds every capability in it and
// mounts what the kernel lets such a namespace mount (cgroup, cgroup2,
// proc, tmpfs ...). The launcher seals the container's cgroups against the
// container's own ids, but a container granted CAP_DAC_OVERRIDE, CAP_FOWNER,
// CAP_CHOWN or CAP_SETUID holds them in the host's user namespace, and a
// process of it outside the nested namespace wrote the cgroup files the
// nested one had mounted (through /proc/PID/root). So such a container may
// not make or join a user namespace at all: clone and unshare with
// CLONE_NEWUSER and setns into a user namespace (or with nstype 0) fail with
// EPERM, clone3 with ENOSYS. A container that needs user namespaces gets a
// user namespace of its own ([users] namespace = true): nested ones are then
// harmless.
inline constexpr uint64_t kCloneNewUser = 0x10000000;  // CLONE_NEWUSER
// The other CLONE_NEW* types setns accepts: mount, cgroup, uts, ipc, pid,
// net, time.
inline constexpr uint64_t kOtherNamespaceTypes[] = {0x00020000, 0x02000000, 0x04000000, 0x08000000,
                                                    0x20000000, 0x40000000, 0x00000080};

// True when the container's processes run in the host's user namespace.
bool shares_host_user_namespace(const Manifest& m);

// `m.seccomp`, each deny rule widened to the aliases (kSyscallAliases) of
// the calls it names when the filter lets calls through by default (same
// action; an alias the manifest names anywhere is its own decision and left
// alone; an alias the manifest's arch lacks is skipped), plus the io_uring guard when its deny rules need it, plus a
// deny rule for the keyring calls the rules would let through, when the
// container shares the host's user namespace (that one last), and, for such
// a container, the user-namespace guard (clone, unshare, clone3, setns, with
// argument conditions) whatever the filter's default. A manifest without
// [seccomp] then gets a filter that allows everything else.
Seccomp effective_seccomp(const Manifest& m);

}  // namespace nestbox::manifests
