/* Run inside a container: what a container can do with its cgroups when it
 * mounts them itself. A process with no capabilities makes a user namespace
 * of its own (mapping only its own uid), a mount and a cgroup namespace in
 * it, and mounts every hierarchy of /proc/self/cgroup there (cgroup and
 * cgroup2 may be mounted from a non-initial user namespace; the cgroup
 * namespace is rooted where the process's cgroups are). For each it prints
 *   mounted H          the hierarchy was mounted (the attack ran)
 *   foreign H N        N cgroups below its root: not the container's own
 *   mkdir H            a sub-cgroup could be made (removed again)
 *   writable H FILE    FILE opens for writing (nothing is written)
 * then "done". The image needs an empty /tmp to mount on. Static: copied into a busybox image (tests/e2e/cgroupfs_test.sh). */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int put(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  int ok = fd >= 0 && write(fd, text, strlen(text)) == (ssize_t)strlen(text);
  if (fd >= 0) close(fd);
  return ok;
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

int main(void) {
  char map[64], line[512];
  unsigned uid = geteuid(), gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0) { perror("unshare user"); return 1; }
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
  int n = 0;
  while (fgets(line, sizeof line, f)) {
    char *a = strchr(line, ':'), *b = a ? strchr(a + 1, ':') : NULL;
    if (!b) continue;
    *b = 0;
    const char *controllers = a + 1;
    const char *dir = "/tmp"; /* one at a time: without a uid map nothing can be created */
    char name[128];
    snprintf(name, sizeof name, "%s", *controllers ? controllers : "unified");
    ++n;
    int r = *controllers ? mount("none", dir, "cgroup", 0, controllers) : mount("none", dir, "cgroup2", 0, NULL);
    if (r != 0) {
      printf("not-mounted %s\n", name);
      continue;
    }
    printf("mounted %s\n", name);
    inspect(name, dir);
    umount2(dir, MNT_DETACH);
  }
  fclose(f);
  printf(n ? "done\n" : "no hierarchies\n");
  return 0;
}
