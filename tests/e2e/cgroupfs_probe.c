/* Run inside a container: what a container can do with its cgroups when it
 * mounts them itself. A child makes a user namespace of its own (mapping only
 * its own uid), a mount and a cgroup namespace in it, and mounts every
 * hierarchy of /proc/self/cgroup there (cgroup and cgroup2 may be mounted
 * from a non-initial user namespace; the cgroup namespace is rooted where the
 * process's cgroups are). For each it prints
 *   mounted H          the hierarchy was mounted (the attack ran)
 *   root H INO         the inode of the mount's root (on cgroup2 the cgroup's id)
 *   foreign H N        N cgroups below its root: not the container's own
 *   mkdir H            a sub-cgroup could be made (removed again)
 *   writable H FILE    FILE opens for writing (nothing is written)
 * and the parent, which stays in the container's own user namespace (where
 * a container without one holds its capabilities: CAP_DAC_OVERRIDE ...),
 * looks at the same mount through /proc/CHILD/root:
 *   outside-writable H FILE
 * A child that may not make a user namespace prints
 *   userns-refused CALL ERRNO-NAME   for unshare, clone and clone3
 * then "done". The image needs an empty /tmp to mount on. Static: copied
 * into a busybox image (tests/e2e/cgroupfs_test.sh). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  if (fd >= 0) close(fd);
  return ok;
}

static const char *errno_name(int e) {
  return e == EPERM ? "EPERM" : e == ENOSYS ? "ENOSYS" : e == EINVAL ? "EINVAL" : "other";
}

/* Opens every file of `dir` for writing from outside the nested namespace. */
static void inspect_outside(const char *name, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) { printf("outside-unreadable %s %s\n", name, strerror(errno)); return; }
  struct dirent *e;
  char path[512];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.' || e->d_type == DT_DIR) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    int fd = open(path, O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      printf("outside-writable %s %s\n", name, e->d_name);
      close(fd);
    }
  }
  closedir(d);
}

static void inspect(const char *name, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  int foreign = 0;
  struct dirent *e;
  char path[512];
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(path, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      ++foreign;
      continue;
    }
    int fd = open(path, O_WRONLY | O_NONBLOCK);
    if (fd >= 0) {
      printf("writable %s %s\n", name, e->d_name);
      close(fd);
    }
  }
  closedir(d);
  if (foreign) printf("foreign %s %d\n", name, foreign);
  snprintf(path, sizeof path, "%s/nestbox-probe-child", dir);
  if (mkdir(path, 0755) == 0) {
    printf("mkdir %s\n", name);
    rmdir(path);
  }
}

/* The child: refusals, or every hierarchy mounted in turn; after each mount
 * it writes the hierarchy's name to `tell` and waits for a byte on `ack`. */
static int mount_all(int tell, int ack) {
  char map[64], line[512];
  unsigned uid = geteuid(), gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0) {
    printf("userns-refused unshare %s\n", errno_name(errno));
    long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (r == 0) _exit(0);
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    printf(r > 0 ? "userns-made clone\n" : "userns-refused clone %s\n", errno_name(errno));
    struct clone_args args = {.flags = CLONE_NEWUSER, .exit_signal = SIGCHLD};
    r = syscall(SYS_clone3, &args, sizeof args);
    if (r == 0) _exit(0);
    if (r > 0) waitpid((pid_t)r, NULL, 0);
    printf(r > 0 ? "userns-made clone3\n" : "userns-refused clone3 %s\n", errno_name(errno));
    return 0;
  }
  /* Mapping the host's uid 0 needs CAP_SETFCAP (5.12+): then the namespace
   * stays without maps, which changes nothing here (file access goes by the
   * host ids; the creator has every capability in its namespace). */
  snprintf(map, sizeof map, "1000 %u 1", uid);
  put("/proc/self/uid_map", map);
  put("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "1000 %u 1", gid);
  put("/proc/self/gid_map", map);
  if (unshare(CLONE_NEWNS | CLONE_NEWCGROUP) != 0) { perror("unshare mount+cgroup"); return 1; }
  FILE *f = fopen("/proc/self/cgroup", "r");
  if (!f) { perror("/proc/self/cgroup"); return 1; }
  while (fgets(line, sizeof line, f)) {
    char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (!b) continue;
    *b = 0;
    const char *controllers = a + 1;
    const char *dir = "/tmp"; /* one at a time: without a uid map nothing can be created */
    char name[128];
    snprintf(name, sizeof name, "%s", *controllers ? controllers : "unified");
    int r = *controllers ? mount("none", dir, "cgroup", 0, controllers) : mount("none", dir, "cgroup2", 0, NULL);
    if (r != 0) {
      printf("not-mounted %s\n", name);
      continue;
    }
    struct stat st;
    printf("mounted %s\n", name);
    if (stat(dir, &st) == 0) printf("root %s %llu\n", name, (unsigned long long)st.st_ino);
    inspect(name, dir);
    fflush(stdout);
    char c = 0;
    if (write(tell, name, strlen(name) + 1) < 0 || read(ack, &c, 1) != 1) return 1;
    umount2(dir, MNT_DETACH);
  }
  fclose(f);
  return 0;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  int tell[2], ack[2];
  if (pipe(tell) != 0 || pipe(ack) != 0) { perror("pipe"); return 1; }
  pid_t child = fork();
  if (child < 0) { perror("fork"); return 1; }
  if (child == 0) {
    close(tell[0]);
    close(ack[1]);
    fflush(stdout);
    _exit(mount_all(tell[1], ack[0]));
  }
  close(tell[1]);
  close(ack[0]);
  char name[128], dir[64];
  int n = 0;
  for (;;) {
    size_t got = 0;
    while (got < sizeof name && read(tell[0], name + got, 1) == 1 && name[got] != 0) ++got;
    if (got == 0 || got == sizeof name) break;
    ++n;
    snprintf(dir, sizeof dir, "/proc/%d/root/tmp", (int)child);
    inspect_outside(name, dir);
    fflush(stdout);
    if (write(ack[1], "k", 1) != 1) break;
  }
  int status = 0;
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  printf("done\n");
  return 0;
}
