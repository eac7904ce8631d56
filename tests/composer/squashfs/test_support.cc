#include "tests/composer/squashfs/test_support.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "composer/squashfs/fs_tree_from_directory.h"

namespace nestbox::composer::squashfs::testing {

RunResult run(const std::string& command) {
  RunResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

Mount::Mount(const std::string& type, const std::string& source, const std::string& dir,
             const std::string& options)
    : dir_(dir) {
  std::filesystem::create_directories(dir);
  RunResult r = run("mount -t " + type + " -o " + options + " '" + source + "' '" + dir + "'");
  ok_ = r.status == 0;
  error_ = r.output;
}

Mount::~Mount() {
  if (!ok_) return;
  if (::umount2(dir_.c_str(), 0) != 0) ::umount2(dir_.c_str(), MNT_DETACH);
}

void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

void write_file(const std::string& path, size_t size, unsigned seed) {
  static const char* const kWords[] = {"router", "packet", "bridge", "vlan", "firewall",
                                       "dnsmasq", "lease", "\x7f" "ELF", "\x01\x02", "wifi"};
  std::string out;
  out.reserve(size);
  uint64_t x = seed * 2654435761u + 1;
  while (out.size() < size) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    out += kWords[(x >> 33) % 10];
    out += static_cast<char>('0' + ((x >> 20) % 10));
    if ((x >> 40) % 7 == 0) out += static_cast<char>(x >> 48);
  }
  out.resize(size);
  write_text(path, out);
}

namespace {

void must(int rc, const std::string& what) {
  if (rc != 0) ADD_FAILURE() << what << ": " << strerror(errno);
}

void set_xattr(const std::string& path, const std::string& name, const std::string& value) {
  must(::lsetxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0), "setxattr " + name);
}

}  // namespace

void make_fixture(const std::string& d) {
  namespace fs = std::filesystem;
  write_file(d + "/bin/busybox", 300 * 1024 + 123, 1);
  write_file(d + "/usr/lib/libfoo.so.1", 70 * 1024, 2);
  must(::symlink("libfoo.so.1", (d + "/usr/lib/libfoo.so").c_str()), "symlink");
  must(::symlink("/bin/busybox", (d + "/bin/sh").c_str()), "symlink");
  write_text(d + "/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n");
  write_text(d + "/etc/config/network", "config interface 'lan'\n\toption proto 'static'\n");
  write_file(d + "/etc/dup1", 10 * 1024, 3);
  write_file(d + "/usr/share/dup2", 10 * 1024, 3);
  write_text(d + "/empty", "");
  write_text(d + "/a-b", "dash\n");
  write_text(d + "/a/x", "slash\n");
  write_text(d + "/" + std::string(255, 'n'), "long name\n");
  // A file with an all-zero block in the middle, and one exactly one block long.
  std::string zeros(256 * 1024, '\0');
  zeros.replace(0, 5, "start");
  write_text(d + "/var/zeros.img", zeros + "end");
  write_file(d + "/var/oneblock", 128 * 1024, 4);
  fs::create_directories(d + "/dev");
  must(::mknod((d + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), "mknod");
  must(::mknod((d + "/dev/sda").c_str(), S_IFBLK | 0660, makedev(8, 0)), "mknod");
  must(::mknod((d + "/dev/big").c_str(), S_IFCHR | 0600, makedev(300, 70000)), "mknod");
  fs::create_directories(d + "/run");
  must(::mkfifo((d + "/run/fifo").c_str(), 0644), "mkfifo");
  {
    int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::string sp = d + "/run/sock";
    snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sp.c_str());
    must(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind");
    ::close(s);
  }
  write_file(d + "/sbin/ping", 20 * 1024, 5);
  must(::chmod((d + "/sbin/ping").c_str(), 04755), "chmod");
  // VFS_CAP_REVISION_2 | effective, permitted = CAP_NET_RAW.
  std::string cap(20, '\0');
  uint32_t words[5] = {0x02000001, 1u << 13, 0, 0, 0};
  std::memcpy(cap.data(), words, sizeof words);
  set_xattr(d + "/sbin/ping", "security.capability", cap);
  write_text(d + "/home/user/notes", "hello\n");
  set_xattr(d + "/home/user/notes", "user.comment", "a note");
  set_xattr(d + "/home/user/notes", "trusted.tag", std::string("\0bin\xff", 5));
  set_xattr(d + "/home/user", "user.dir", "dir xattr");
  must(::lchown((d + "/home/user/notes").c_str(), 1000, 1000), "chown");
  must(::lchown((d + "/home/user").c_str(), 1000, 1000), "chown");
  must(::chmod((d + "/home/user").c_str(), 0700), "chmod");
  must(::lchown((d + "/usr/lib/libfoo.so").c_str(), 7, 8), "lchown");
  must(::lchown((d + "/etc/passwd").c_str(), 0, 42), "chown");
  fs::create_directories(d + "/tmp");
  must(::chmod((d + "/tmp").c_str(), 01777), "chmod");
  must(::chmod((d + "/etc/passwd").c_str(), 0644), "chmod");
  must(::chmod(d.c_str(), 0755), "chmod");
  // Fixed times everywhere (symlinks too), deepest first so parents keep theirs.
  std::vector<std::string> all{d};
  for (auto& e : fs::recursive_directory_iterator(d)) all.push_back(e.path().string());
  std::sort(all.rbegin(), all.rend());
  for (const auto& p : all) {
    timespec ts[2] = {{1700000000, 0}, {1700000000, 0}};
    must(::utimensat(AT_FDCWD, p.c_str(), ts, AT_SYMLINK_NOFOLLOW), "utimensat " + p);
  }
}

void add_hard_links(const std::string& d) {
  auto link = [&](const std::string& from, const std::string& to) {
    must(::linkat(AT_FDCWD, (d + from).c_str(), AT_FDCWD, (d + to).c_str(), 0), "link " + to);
  };
  std::filesystem::create_directories(d + "/usr/bin");
  link("/bin/busybox", "/usr/bin/busybox");
  link("/etc/passwd", "/etc/passwd.hard");
  link("/home/user/notes", "/home/user/notes.hard");
  link("/sbin/ping", "/sbin/ping6");
  link("/sbin/ping", "/bin/ping");
  link("/dev/null", "/dev/null.hard");
  link("/run/fifo", "/run/fifo.hard");
  link("/usr/lib/libfoo.so", "/usr/lib/libfoo.so.hard");  // the symlink itself (no follow)
}

std::string diff_links(const FsTree& want, const FsTree& got) {
  // path -> the first path (byte order) of its inode, for each tree.
  auto names = [](const FsTree& t) {
    std::map<uint64_t, std::string> first;
    std::map<std::string, std::string> out;
    for (const FsEntry& e : t.entries) {
      if (e.link_id == 0) continue;
      out[e.path] = first.emplace(e.link_id, e.path).first->second;
    }
    return out;
  };
  auto a = names(want), b = names(got);
  std::set<std::string> both;
  for (const FsEntry& e : want.entries) both.insert(e.path);
  std::ostringstream out;
  for (const FsEntry& e : got.entries) {
    if (!both.count(e.path)) continue;
    std::string x = a.count(e.path) ? a[e.path] : e.path, y = b.count(e.path) ? b[e.path] : e.path;
    if (x != y) out << e.path << ": a link of " << x << " in the source, of " << y << " in the image\n";
  }
  return out.str();
}

FsTree scan(const std::string& dir) {
  DirectoryScanOptions o;
  o.clamp_mtime = INT64_MAX;
  auto t = fs_tree_from_directory(dir, o);
  if (!t.ok()) {
    ADD_FAILURE() << t.error().message;
    return {};
  }
  return std::move(*t);
}

std::string file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string diff_trees(const FsTree& want, const FsTree& got) {
  std::ostringstream out;
  int n = 0;
  auto note = [&](const std::string& s) {
    if (n++ < 8) out << s << "\n";
  };
  size_t i = 0, j = 0;
  const auto& a = want.entries;
  const auto& b = got.entries;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].path < b[j].path)) {
      note("missing: " + a[i++].path);
      continue;
    }
    if (i == a.size() || b[j].path < a[i].path) {
      note("extra: " + b[j++].path);
      continue;
    }
    const FsEntry& x = a[i++];
    const FsEntry& y = b[j++];
    auto field = [&](const char* name, auto u, auto v) {
      if (!(u == v)) {
        std::ostringstream s;
        s << x.path << ": " << name << " " << u << " != " << v;
        note(s.str());
      }
    };
    field("type", static_cast<int>(x.type), static_cast<int>(y.type));
    field("mode", x.mode, y.mode);
    field("uid", x.uid, y.uid);
    field("gid", x.gid, y.gid);
    field("mtime", x.mtime, y.mtime);
    field("size", x.size, y.size);
    field("hash.high", x.hash.high, y.hash.high);
    field("hash.low", x.hash.low, y.hash.low);
    field("link", x.link_target, y.link_target);
    field("major", x.rdev_major, y.rdev_major);
    field("minor", x.rdev_minor, y.rdev_minor);
    field("xattr count", x.xattrs.size(), y.xattrs.size());
    if (x.xattrs != y.xattrs) note(x.path + ": xattrs differ");
  }
  return out.str();
}

}  // namespace nestbox::composer::squashfs::testing
