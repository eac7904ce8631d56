#include "util/pidfd.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace nestbox {
namespace {

// A child stopped by SIGSTOP (as a container can stop a process of exec's)
// is still killed and reaped by its owner, and its pidfd says so.
TEST(OwnedChild, AStoppedChildIsKilledAndReaped) {
  auto child = OwnedChild::fork();
  ASSERT_TRUE(child.ok());
  if (child->pid() == 0) {
    ::raise(SIGSTOP);
    ::_exit(0);
  }
  ASSERT_TRUE(child->pidfd() >= 0);  // 5.3 and later
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child->pid()), &info, WSTOPPED | WNOWAIT), 0);
  pollfd p{child->pidfd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);  // stopped, not ended
  int status = child->kill_and_reap();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  EXPECT_EQ(child->pid(), 0);
}

// The destructor of an owner that was not reaped kills and reaps: no zombie,
// no running child is left behind on an early return.
TEST(OwnedChild, DestructorLeavesNoChild) {
  pid_t pid = 0;
  {
    auto child = OwnedChild::fork();
    ASSERT_TRUE(child.ok());
    if (child->pid() == 0) {
      for (;;) ::pause();
    }
    pid = child->pid();
  }
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);  // already reaped
  EXPECT_EQ(errno, ECHILD);
}

// A pidfd names its process only: after the process is reaped, signalling
// through it fails (ESRCH), whatever process holds the number now.
TEST(Pidfd, SignalsOnlyTheProcessItNames) {
  pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  UniqueFd fd = pidfd_open(pid);
  ASSERT_TRUE(fd.valid());
  ::waitpid(pid, nullptr, 0);
  EXPECT_EQ(pidfd_signal(fd.get(), 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace nestbox
