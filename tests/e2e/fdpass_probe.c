/* Run inside containers: passes a descriptor over an abstract unix socket.
 *   fdpass_probe recv NAME   binds @NAME, receives one descriptor, holds it forever
 *   fdpass_probe send NAME   sends its standard output to @NAME (retried for 5 s)
 * Two containers sharing a network namespace share abstract sockets: the
 * sender's stdout (the launcher's relay pipe) outlives the sender's container
 * (tests/e2e/relay_hold_test.sh). Static. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 3) return 2;
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strncpy(a.sun_path + 1, argv[2], sizeof a.sun_path - 2);
  socklen_t len = offsetof(struct sockaddr_un, sun_path) + 1 + strlen(a.sun_path + 1);
  int s = socket(AF_UNIX, SOCK_DGRAM, 0);
  char byte = 'x';
  struct iovec io = {&byte, 1};
  char control[CMSG_SPACE(sizeof(int))];
  struct msghdr m = {.msg_iov = &io, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  if (!strcmp(argv[1], "recv")) {
    if (bind(s, (struct sockaddr *)&a, len) != 0) { perror("bind"); return 1; }
    if (recvmsg(s, &m, 0) < 0) { perror("recvmsg"); return 1; }
    fprintf(stderr, "received, holding\n");
    for (;;) pause();
  }
  struct cmsghdr *h = CMSG_FIRSTHDR(&m);
  h->cmsg_level = SOL_SOCKET;
  h->cmsg_type = SCM_RIGHTS;
  h->cmsg_len = CMSG_LEN(sizeof(int));
  int fd = 1;
  memcpy(CMSG_DATA(h), &fd, sizeof fd);
  m.msg_name = &a;
  m.msg_namelen = len;
  int sent = -1;
  for (int i = 0; i < 50 && sent < 0; ++i)
    if ((sent = sendmsg(s, &m, 0)) < 0) usleep(100000);
  if (sent < 0) { perror("sendmsg"); return 1; }
  fprintf(stderr, "sent\n");
  return 0;
}
