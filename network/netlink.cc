#include "network/netlink.h"

#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <vector>

namespace nestbox::network {

NetlinkSocket::NetlinkSocket(mnl_socket* nl) : nl_(nl), portid_(mnl_socket_get_portid(nl)) {}

NetlinkSocket::NetlinkSocket(NetlinkSocket&& o) noexcept
    : nl_(std::exchange(o.nl_, nullptr)), seq_(o.seq_), portid_(o.portid_) {}

NetlinkSocket& NetlinkSocket::operator=(NetlinkSocket&& o) noexcept {
  if (this != &o) {
    if (nl_) mnl_socket_close(nl_);
    nl_ = std::exchange(o.nl_, nullptr);
    seq_ = o.seq_;
    portid_ = o.portid_;
  }
  return *this;
}

NetlinkSocket::~NetlinkSocket() {
  if (nl_) mnl_socket_close(nl_);
}

namespace {

Result<mnl_socket*> wrap_fd(UniqueFd fd) {
  mnl_socket* nl = mnl_socket_fdopen(fd.get());
  if (!nl) return sys_error("netlink: adopt socket");
  fd.release();  // owned by nl now
  int on = 1;
  // Extended acks carry the kernel's reason ("Unknown device type").
  mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &on, sizeof(on));
  if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
    Error e = sys_error("netlink: bind");
    mnl_socket_close(nl);
    return e;
  }
  return nl;
}

Result<UniqueFd> raw_socket(int protocol = NETLINK_ROUTE) {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol));
  if (!fd) return sys_error("netlink: socket");
  return fd;
}

// The kernel's extended-ack text for an error message, if any.
std::string ext_ack_text(const nlmsghdr* nlh) {
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS)) return "";
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  size_t off = sizeof(*err);
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += err->msg.nlmsg_len - sizeof(nlmsghdr);
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
  for (auto* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, off));
       mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)));
       attr = mnl_attr_next(attr)) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
      return mnl_attr_get_str(attr);
  }
  return "";
}

struct ReplyState {
  int error = 0;
  std::string ext_ack;
  int ifindex = 0;
  std::string kind;
};

// IFLA_LINKINFO/IFLA_INFO_KIND of an RTM_NEWLINK message; empty when absent.
std::string link_kind(const nlmsghdr* nlh) {
  std::string kind;
  mnl_attr_parse(nlh, sizeof(ifinfomsg), [](const nlattr* attr, void* data) {
    if (mnl_attr_get_type(attr) != IFLA_LINKINFO || mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0) return MNL_CB_OK;
    mnl_attr_parse_nested(attr, [](const nlattr* info, void* out) {
      if (mnl_attr_get_type(info) == IFLA_INFO_KIND && mnl_attr_validate(info, MNL_TYPE_NUL_STRING) >= 0)
        *static_cast<std::string*>(out) = mnl_attr_get_str(info);
      return MNL_CB_OK;
    }, data);
    return MNL_CB_OK;
  }, &kind);
  return kind;
}

int on_reply(const nlmsghdr* nlh, void* data) {
  auto* state = static_cast<ReplyState*>(data);
  if (nlh->nlmsg_type == RTM_NEWLINK && nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(ifinfomsg))) {
    state->ifindex = static_cast<const ifinfomsg*>(mnl_nlmsg_get_payload(nlh))->ifi_index;
    state->kind = link_kind(nlh);
  }
  return MNL_CB_OK;
}

int on_error(const nlmsghdr* nlh, void* data) {
  auto* state = static_cast<ReplyState*>(data);
  if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(nlmsgerr))) {
    state->error = EBADMSG;
    return MNL_CB_ERROR;
  }
  const auto* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
  if (err->error == 0) return MNL_CB_STOP;  // the ack
  state->error = -err->error;
  state->ext_ack = ext_ack_text(nlh);
  return MNL_CB_ERROR;
}

}  // namespace

Result<NetlinkSocket> NetlinkSocket::open() {
  auto fd = raw_socket();
  if (!fd) return std::move(fd.error());
  auto nl = wrap_fd(std::move(*fd));
  if (!nl) return std::move(nl.error());
  return NetlinkSocket(*nl);
}

Result<UniqueFd> netlink_socket_in(int protocol, int netns_fd) {
  if (netns_fd < 0) return raw_socket(protocol);
  // A socket stays bound to the namespace it was created in: enter the
  // container's namespace, create the socket there and come back. Done in the
  // calling thread (a helper thread would pull the C++ thread and exception
  // runtimes into nestbox-launch); setns(CLONE_NEWNET) only moves this thread.
  UniqueFd home(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!home) return sys_error("open /proc/thread-self/ns/net");
  if (::setns(netns_fd, CLONE_NEWNET) != 0) return sys_error("setns into the container network namespace");
  Result<UniqueFd> fd = raw_socket(protocol);
  if (::setns(home.get(), CLONE_NEWNET) != 0) {
    // Fail closed: every later host-side step would act inside the container.
    std::fprintf(stderr, "nestbox: cannot return to the host network namespace: %s\n", std::strerror(errno));
    std::abort();
  }
  return fd;
}

Result<NetlinkSocket> NetlinkSocket::open_in(int netns_fd) {
  Result<UniqueFd> fd = netlink_socket_in(NETLINK_ROUTE, netns_fd);
  if (!fd) return std::move(fd.error());
  auto nl = wrap_fd(std::move(*fd));
  if (!nl) return std::move(nl.error());
  return NetlinkSocket(*nl);
}

Status NetlinkSocket::request(Message& msg, const std::string& what) {
  nlmsghdr* nlh = msg.header();
  nlh->nlmsg_flags |= NLM_F_ACK;
  nlh->nlmsg_seq = ++seq_;
  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return sys_error(what + ": netlink send");
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  ReplyState state;
  mnl_cb_t ctl[NLMSG_MIN_TYPE] = {};
  ctl[NLMSG_ERROR] = on_error;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error(what + ": netlink receive");
    }
    int rc = mnl_cb_run2(buf.data(), static_cast<size_t>(n), nlh->nlmsg_seq, portid_, on_reply,
                         &state, ctl, NLMSG_MIN_TYPE);
    if (rc == MNL_CB_ERROR) {
      int err = state.error ? state.error : errno;
      Error e = sys_error(what, err);
      if (!state.ext_ack.empty()) e.message += " (" + state.ext_ack + ")";
      return e;
    }
    if (rc == MNL_CB_STOP) break;
  }
  last_ifindex_ = state.ifindex;
  last_kind_ = std::move(state.kind);
  return ok_status();
}

Result<int> NetlinkSocket::link_index(const std::string& name) {
  auto info = link_info(name);
  if (!info) return std::move(info.error());
  return info->index;
}

Result<NetlinkSocket::LinkInfo> NetlinkSocket::link_info(const std::string& name) {
  Message msg = get_link(name);
  last_ifindex_ = 0;
  last_kind_.clear();
  Status st = request(msg, "find interface '" + name + "'");
  if (!st) return std::move(st.error());
  if (last_ifindex_ <= 0) return failure("find interface '" + name + "': no index in the reply");
  return LinkInfo{last_ifindex_, last_kind_};
}

Result<UniqueFd> open_current_netns() {
  UniqueFd fd(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open /proc/thread-self/ns/net");
  return fd;
}

Result<UniqueFd> open_netns_of(pid_t pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/ns/net";
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  return fd;
}

Result<bool> same_namespace(int fd_a, int fd_b) {
  struct stat a {}, b {};
  if (fstat(fd_a, &a) != 0 || fstat(fd_b, &b) != 0) return sys_error("fstat namespace fd");
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

}  // namespace nestbox::network
