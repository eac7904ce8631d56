/* A minimal `hyperfine -N` for guests that have only busybox: runs a command
 * RUNS times (fork + execvp, no shell, its stdout to /dev/null) and prints one line
 *   runs=N wall_ms=MEAN sd_ms=SD cpu_ms=MEAN maxrss_kb=MAX
 * wall from CLOCK_MONOTONIC around each fork..wait4; CPU is the user+system
 * time wait4 reports for the child and every descendant it reaped (the
 * container's processes included); maxrss the largest of those. A run that
 * exits non-zero ends the loop with status 1: a failing start is not timed.
 * Built static (bench/target-start.sh) so the guest needs no libc of its own.
 * usage: start_loop RUNS COMMAND [ARGS...] */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: start_loop RUNS COMMAND [ARGS...]\n");
    return 2;
  }
  int runs = atoi(argv[1]);
  if (runs < 1) return 2;
  double sum = 0, sum_sq = 0, cpu = 0;
  long maxrss = 0;
  for (int i = 0; i < runs; ++i) {
    double start = now_ms();
    pid_t pid = fork();
    if (pid < 0) return 1;
    if (pid == 0) {
      /* Like hyperfine: the command's output is not what is measured. */
      int null_fd = open("/dev/null", O_WRONLY);
      if (null_fd < 0 || dup2(null_fd, STDOUT_FILENO) < 0) _exit(126);
      execvp(argv[2], argv + 2);
      _exit(127);
    }
    int status;
    struct rusage usage;
    if (wait4(pid, &status, 0, &usage) != pid) return 1;
    double wall = now_ms() - start;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      fprintf(stderr, "start_loop: %s: run %d ended with status 0x%x\n", argv[2], i + 1, status);
      return 1;
    }
    sum += wall;
    sum_sq += wall * wall;
    cpu += usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3 + usage.ru_stime.tv_sec * 1e3 +
           usage.ru_stime.tv_usec / 1e3;
    if (usage.ru_maxrss > maxrss) maxrss = usage.ru_maxrss;
  }
  double mean = sum / runs;
  double var = runs > 1 ? (sum_sq - runs * mean * mean) / (runs - 1) : 0;
  printf("runs=%d wall_ms=%.2f sd_ms=%.2f cpu_ms=%.2f maxrss_kb=%ld\n", runs, mean, var > 0 ? sqrt(var) : 0,
         cpu / runs, maxrss);
  return 0;
}
