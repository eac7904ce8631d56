#include "launcher/state.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>

#include "launcher/cgroups.h"
#include "launcher/image_device.h"
#include "launcher/namespaces.h"
#include "launcher/storage.h"
#include "util/file_io.h"

namespace nestbox::launcher {
namespace {
const char* const kFiles[] = {"pid", "init", "init_start", "cgroups", "freezer", "exec", "services", "services.tmp"};
const char* const kDirs[] = {"root", "lower0", "lower1", "upper/upper", "upper/work", "upper"};
}  // namespace

// mkdir -p of the state root, by path: the operator's choice (on OpenWrt it
// may lie below /var, a symlink to /tmp), in root's directories no container
// writes; unlike storage paths, which ensure_host_dir walks without symlinks.
Status make_state_root(const std::string& root) {
  for (size_t i = 1; i <= root.size(); ++i) {
    if (i != root.size() && root[i] != '/') continue;
    std::string prefix = root.substr(0, i);
    if (::mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + prefix);
  }
  return {};
}

Status check_name(const std::string& name) {
  if (name.empty() || name.size() > 64 || name[0] == '.')
    return bad_input("container name '" + name + "': 1 to 64 characters, not starting with '.'");
  for (char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      return bad_input("container name '" + name + "': only letters, digits, '.', '_' and '-'");
  // boot's log holds its own lines ("nestbox-launch ...") and containers'
  // quoted ones ("NAME: ..."): a container named like the launcher would
  // write lines that read as its.
  if (name.starts_with("nestbox"))
    return bad_input("container name '" + name + "': names starting with \"nestbox\" are the launcher's own");
  return {};
}

bool is_running(const std::string& dir) {
  UniqueFd fd(::open((dir + "/lock").c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  return ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

void remove_state(const std::string& dir) {
  for (const char* f : kFiles) ::unlink((dir + "/" + f).c_str());
  for (int i = 0; i < policy::kNsCount; ++i) ::unlink((dir + "/ns/" + ns_name(i)).c_str());
  ::rmdir((dir + "/ns").c_str());
  for (const char* d : kDirs) ::rmdir((dir + "/" + d).c_str());
  ::unlink((dir + "/lock").c_str());
  ::rmdir(dir.c_str());
}

Result<StateDir> StateDir::create(const std::string& root, const std::string& name) {
  NESTBOX_TRY(check_name(name));
  NESTBOX_TRY(make_state_root(root));
  std::string dir = root + "/" + name;
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir " + dir);
  UniqueFd lock(::open((dir + "/lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) return sys_error("open " + dir + "/lock");
  if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0)
    return failure("container '" + name + "' is already running (" + dir + " is locked)");
  // Stale leftovers of a launcher that died (SIGKILL: no destructor ran). Its
  // container may still run: without a pid namespace of its own nothing ends
  // it with the launcher. Kill what is left in its recorded cgroups and remove
  // them (we hold the lock: no launcher owns them), then clear all but the lock.
  if (auto described = read_file(dir + "/cgroups"); described.ok()) Cgroup::adopt(Cgroup::parse(*described));
  // Its dm-verity devices too: their mounts went with those processes.
  remove_stale_verity(name);
  for (const char* f : kFiles) ::unlink((dir + "/" + f).c_str());
  for (int i = 0; i < policy::kNsCount; ++i) ::unlink((dir + "/ns/" + ns_name(i)).c_str());
  if (::mkdir((dir + "/ns").c_str(), 0700) != 0 && errno != EEXIST) return sys_error("mkdir ns");
  return StateDir(dir, std::move(lock));
}

StateDir::StateDir(StateDir&& o) noexcept : path_(std::move(o.path_)), lock_(std::move(o.lock_)) {
  o.path_.clear();
}

StateDir::~StateDir() {
  if (!path_.empty()) remove_state(path_);  // lock released when lock_ closes
}

// Temp file + rename, without fsync: the state lives in /run (RAM) and dies
// with the boot anyway.
Status StateDir::write(const std::string& file, const std::string& content) const {
  std::string path = path_ + "/" + file, tmp = path + ".tmp";
  ::unlink(tmp.c_str());  // a predictable name: never followed, created anew
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return sys_error("create " + tmp);
  NESTBOX_TRY(write_all(fd.get(), content.data(), content.size(), tmp));
  if (::rename(tmp.c_str(), path.c_str()) != 0) return sys_error("rename " + tmp);
  return {};
}

Status StateDir::link_namespaces(pid_t init) const {
  for (int i = 0; i < policy::kNsCount; ++i) {
    std::string link = path_ + "/ns/" + ns_name(i);
    // pid: the namespace the container's processes are in, which an init
    // that joined another container's is not itself in (running_init.cc).
    std::string target = "/proc/" + std::to_string(init) + "/ns/" +
                         (i == policy::kNsPid ? std::string("pid_for_children") : std::string(ns_name(i)));
    ::unlink(link.c_str());
    if (::symlink(target.c_str(), link.c_str()) != 0) return sys_error("symlink " + link);
  }
  return {};
}

}  // namespace nestbox::launcher
