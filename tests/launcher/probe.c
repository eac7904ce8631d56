/* nestbox test probe: runs inside a container and reports what it can see and
 * do, one line per check, so tests assert containment from the inside.
 * Built static and copied into the test rootfs. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/keyctl.h>

static const char* err(int ok) { return ok ? "ok" : strerrorname_np(errno); }

static void print_file_line(const char* path, const char* key) {
  FILE* f = fopen(path, "r");
  char line[512];
  if (!f) return;
  while (fgets(line, sizeof line, f))
    if (!strncmp(line, key, strlen(key))) fputs(line, stdout);
  fclose(f);
}

static int cmd_pids(void) {
  DIR* d = opendir("/proc");
  struct dirent* e;
  int pids[4096], n = 0;
  if (!d) return 1;
  while ((e = readdir(d)) && n < 4096)
    if (e->d_name[0] >= '0' && e->d_name[0] <= '9') pids[n++] = atoi(e->d_name);
  closedir(d);
  for (int i = 0; i < n; ++i)  /* sorted for the test */
    for (int j = i + 1; j < n; ++j)
      if (pids[j] < pids[i]) { int t = pids[i]; pids[i] = pids[j]; pids[j] = t; }
  printf("pids");
  for (int i = 0; i < n; ++i) printf(" %d", pids[i]);
  printf("\n");
  return 0;
}

static int cmd_escape(void) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  printf("mount %s\n", err(mount("tmpfs", "/tmp", "tmpfs", 0, NULL) == 0));
  printf("umount %s\n", err(umount2("/proc", MNT_DETACH) == 0));
  printf("module %s\n", err(syscall(SYS_init_module, NULL, 0, "") == 0));
  printf("settime %s\n", err(clock_settime(CLOCK_REALTIME, &now) == 0));
  printf("reboot %s\n", err(reboot(RB_DISABLE_CAD) == 0));
  printf("ptrace %s\n", err(ptrace(PTRACE_ATTACH, 1, NULL, NULL) == 0));
  printf("mknod %s\n", err(mknod("/tmp/sda", S_IFBLK | 0600, makedev(8, 0)) == 0));
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  memset(d, 0xff, sizeof d);
  printf("capset %s\n", err(syscall(SYS_capset, &h, d) == 0));
  printf("sethostname %s\n", err(sethostname("evil", 4) == 0));
  return 0;
}

static int cmd_alloc(long mib) {
  for (long i = 0; i < mib; ++i) {
    char* p = malloc(1 << 20);
    if (!p) { printf("malloc failed at %ld\n", i); return 2; }
    memset(p, 1, 1 << 20);
  }
  printf("allocated %ld MiB\n", mib);
  return 0;
}

static int cmd_forkbomb(void) {
  int forks = 0;
  for (;;) {
    pid_t p = fork();
    if (p == 0) { pause(); _exit(0); }
    if (p < 0) break;
    ++forks;
  }
  printf("forks %d %s\n", forks, strerrorname_np(errno));
  fflush(stdout);
  return 0;
}

/* Makes inotify instances until the kernel refuses one, says how many, and
 * holds them until SIGTERM: the kernel counts them per user, up to
 * fs.inotify.max_user_instances (128). */
static _Noreturn void cmd_inotify(void) {
  int made = 0;
  while (made < 100000 && inotify_init1(IN_CLOEXEC) >= 0) ++made;
  printf("inotify %d %s\n", made, strerrorname_np(errno));
  fflush(stdout);
  for (;;) pause();
}

/* Signals everything it may reach: its process group (kill(0)) or every
 * process it can see (kill(-1)); the caller must survive. */
static int cmd_kill(const char* how) {
  printf("killing %s\n", how);
  fflush(stdout);
  int r = kill(!strcmp(how, "all") ? -1 : 0, SIGKILL);
  printf("kill %s %s\n", how, err(r == 0));
  return 0;
}

/* Prints a /proc file with NULs shown as '|'. */
static void print_nul_file(const char* label, const char* path) {
  char buf[4096];
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  printf("%s ", label);
  for (ssize_t i = 0; i < n; ++i) putchar(buf[i] ? buf[i] : '|');
  printf("%s\n", n < 0 ? strerrorname_np(errno) : "");
  if (fd >= 0) close(fd);
}

/* open(2) for reading and for writing, each reported. */
static int cmd_open(const char* path) {
  int r = open(path, O_RDONLY);
  printf("open %s read %s", path, err(r >= 0));
  if (r >= 0) close(r);
  r = open(path, O_WRONLY);
  printf(" write %s\n", err(r >= 0));
  if (r >= 0) close(r);
  return 0;
}

static void on_term(int sig) { (void)sig; printf("got SIGTERM\n"); fflush(stdout); _exit(143); }

/* Whether `pid` is stopped now (state T in /proc/PID/stat). */
static int is_stopped(int pid) {
  char path[32], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
  if (fd >= 0) close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  char* paren = strrchr(buf, ')');
  return paren && paren[1] == ' ' && paren[2] == 'T';
}

/* A hostile container's process: SIGSTOPs every process that appears in its
 * pid namespace (but pid 1) before it has exec'd `command`, and says so: one
 * of nestbox-launch's (exec's, or a joiner's), whose command line is still
 * the launcher's (or nestbox-init). Until it can be signalled (same uid, or
 * in a user namespace where this one has CAP_KILL) the signal is refused:
 * tried again. One that is running `command` already is let go (SIGCONT). */
static int cmd_stopper(const char* command) {
  static char seen[1 << 16];
  pid_t self = getpid();
  signal(SIGTERM, on_term);
  printf("watching\n");
  for (;;) {
    DIR* d = opendir("/proc");
    if (!d) return 1;
    struct dirent* e;
    while ((e = readdir(d))) {
      int pid = atoi(e->d_name);
      if (pid <= 1 || pid == self || pid >= (int)sizeof seen || seen[pid]) continue;
      seen[pid] = 1;
      int r = -1;
      for (long tries = 0; tries < 5000000 && (r = kill(pid, SIGSTOP)) != 0 && errno == EPERM; ++tries) {
      }
      if (r != 0) continue;
      /* Where it stopped decides: a process in execve stops after it. */
      for (int i = 0; i < 100000 && !is_stopped(pid); ++i) usleep(10);
      char path[32], argv0[256] = "";
      snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
      int fd = open(path, O_RDONLY);
      ssize_t n = fd >= 0 ? read(fd, argv0, sizeof argv0 - 1) : -1;
      if (fd >= 0) close(fd);
      if (n > 0 && strcmp(argv0, command) != 0) {
        printf("stopped %d before exec\n", pid);
      } else {
        kill(pid, SIGCONT);
        printf("missed %d\n", pid);
      }
    }
    closedir(d);
  }
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* c = argc > 1 ? argv[1] : "";
  if (!strcmp(c, "pids")) return cmd_pids();
  if (!strcmp(c, "kill") && argc > 2) return cmd_kill(argv[2]);
  if (!strcmp(c, "open") && argc > 2) return cmd_open(argv[2]);
  if (!strcmp(c, "mknod") && argc > 5) {  /* mknod PATH b|c MAJOR MINOR, then open it */
    mode_t type = argv[3][0] == 'b' ? S_IFBLK : S_IFCHR;
    int ok = mknod(argv[2], type | 0666, makedev(atoi(argv[4]), atoi(argv[5]))) == 0;
    printf("mknod %s %s\n", argv[2], err(ok));
    return ok ? cmd_open(argv[2]) : 0;
  }
  if (!strcmp(c, "fds")) {  /* descriptors above 2 (the probe opens none itself) */
    DIR* d = opendir("/proc/self/fd");
    struct dirent* e;
    printf("fds");
    while (d && (e = readdir(d)))
      if (e->d_name[0] != '.' && atoi(e->d_name) > 2 && atoi(e->d_name) != dirfd(d)) printf(" %s", e->d_name);
    printf("\n");
    if (d) closedir(d);
    return 0;
  }
  if (!strcmp(c, "keyring") && argc > 2) {  /* keyring ID: is ID our session keyring, and can we search it? */
    long own = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
    long caller = atol(argv[2]);
    long search = syscall(SYS_keyctl, KEYCTL_SEARCH, caller, "user", "nestbox-test-secret", 0);
    printf("session %s, caller's secret %s\n", own == caller ? "shared" : "own",
           search >= 0 ? "found" : "not found");
    return 0;
  }
  if (!strcmp(c, "rootopts")) {  /* the per-mount options of "/" */
    FILE* f = fopen("/proc/self/mountinfo", "r");
    char line[1024], root[256], point[256], opts[256];
    while (f && fgets(line, sizeof line, f))
      if (sscanf(line, "%*s %*s %*s %255s %255s %255s", root, point, opts) == 3 && !strcmp(point, "/"))
        printf("root %s\n", opts);
    if (f) fclose(f);
    return 0;
  }
  if (!strcmp(c, "init")) {  /* what the container sees of its pid 1 */
    print_nul_file("cmdline", "/proc/1/cmdline");
    print_nul_file("environ", "/proc/1/environ");
    return 0;
  }
  if (!strcmp(c, "initcaps")) { /* pid 1's capabilities once it has dropped them (waits up to 2 s) */
    char text[4096], eff[64] = "", bnd[64] = "", nnp[64] = "";
    for (int i = 0; i < 200; ++i) {
      FILE* f = fopen("/proc/1/status", "r");
      if (!f) return 1;
      size_t n = fread(text, 1, sizeof text - 1, f);
      fclose(f);
      text[n] = 0;
      char* at;
      if ((at = strstr(text, "CapEff:"))) sscanf(at, "CapEff: %63s", eff);
      if ((at = strstr(text, "CapBnd:"))) sscanf(at, "CapBnd: %63s", bnd);
      if ((at = strstr(text, "NoNewPrivs:"))) sscanf(at, "NoNewPrivs: %63s", nnp);
      if (!strcmp(nnp, "1")) break;
      usleep(10000);
    }
    printf("eff %s bnd %s nnp %s\n", eff, bnd, nnp);
    return 0;
  }
  if (!strcmp(c, "escape")) return cmd_escape();
  if (!strcmp(c, "id")) {
    printf("uid %d gid %d\n", getuid(), getgid());
    print_file_line("/proc/self/status", "Cap");
    print_file_line("/proc/self/status", "NoNewPrivs");
    print_file_line("/proc/self/status", "Seccomp:");
    return 0;
  }
  if (!strcmp(c, "uts")) {
    struct utsname u;
    uname(&u);
    printf("host %s domain %s\n", u.nodename, u.domainname);
    return 0;
  }
  if (!strcmp(c, "write") && argc > 2) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int ok = fd >= 0 && write(fd, argc > 3 ? argv[3] : "x", strlen(argc > 3 ? argv[3] : "x")) > 0;
    printf("write %s %s\n", argv[2], err(ok));
    return 0;
  }
  if (!strcmp(c, "exists") && argc > 2) {
    printf("exists %s %s\n", argv[2], access(argv[2], F_OK) == 0 ? "yes" : "no");
    return 0;
  }
  if (!strcmp(c, "alloc") && argc > 2) return cmd_alloc(atol(argv[2]));
  if (!strcmp(c, "forkbomb")) return cmd_forkbomb();
  if (!strcmp(c, "inotify")) cmd_inotify();
  if (!strcmp(c, "getpriority")) {
    errno = 0;
    int r = getpriority(PRIO_PROCESS, 0);
    printf("getpriority %d %s\n", r, errno ? strerrorname_np(errno) : "ok");
    return 0;
  }
  if (!strcmp(c, "getpgid")) {
    printf("getpgid %ld\n", (long)syscall(SYS_getpgid, 0));
    return 0;
  }
  if (!strcmp(c, "rlimit")) {
    struct rlimit r;
    getrlimit(RLIMIT_NOFILE, &r);
    printf("nofile %llu %llu\n", (unsigned long long)r.rlim_cur, (unsigned long long)r.rlim_max);
    return 0;
  }
  if (!strcmp(c, "ns")) {
    const char* names[] = {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"};
    for (int i = 0; i < 7; ++i) {
      char path[64], buf[128] = "";
      snprintf(path, sizeof path, "/proc/self/ns/%s", names[i]);
      ssize_t n = readlink(path, buf, sizeof buf - 1);
      if (n > 0) buf[n] = 0;
      printf("%s\n", buf);
    }
    return 0;
  }
  if (!strcmp(c, "sleep")) {  /* until SIGTERM */
    signal(SIGTERM, on_term);
    printf("sleeping\n");
    for (;;) pause();
  }
  if (!strcmp(c, "stopper") && argc > 2) return cmd_stopper(argv[2]);
  if (!strcmp(c, "stubborn")) {  /* ignores SIGTERM */
    signal(SIGTERM, SIG_IGN);
    printf("stubborn\n");
    for (;;) pause();
  }
  fprintf(stderr, "probe: unknown command '%s'\n", c);
  return 64;
}
