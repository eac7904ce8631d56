#include <fcntl.h>

#include "launcher/namespaces.h"
#include "util/file_io.h"

namespace nestbox::launcher {

std::string format_id_map(const std::vector<policy::IdMap>& map) {
  std::string out;
  for (const policy::IdMap& m : map)
    out += std::to_string(m.inside) + " " + std::to_string(m.outside) + " " +
           std::to_string(m.count) + "\n";
  return out;
}

namespace {

Status write_map(pid_t pid, const char* file, const std::vector<policy::IdMap>& map) {
  for (const policy::IdMap& m : map)
    if (!m.count || uint64_t(m.inside) + m.count > (uint64_t(1) << 32) ||
        uint64_t(m.outside) + m.count > (uint64_t(1) << 32))
      return bad_input(std::string(file) + ": bad range " + std::to_string(m.inside) + " " +
                       std::to_string(m.outside) + " " + std::to_string(m.count));
  std::string path = "/proc/" + std::to_string(pid) + "/" + file;
  std::string text = format_id_map(map);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  // The kernel takes the whole map in one write.
  return write_all(fd.get(), text.data(), text.size(), path);
}

}  // namespace

Status write_id_maps(pid_t pid, const policy::Policy& p) {
  if (p.uid_map.empty() || p.gid_map.empty())
    return bad_input("user namespace needs both uid_map and gid_map");
  NESTBOX_TRY(write_map(pid, "uid_map", p.uid_map));
  return write_map(pid, "gid_map", p.gid_map);
}

}  // namespace nestbox::launcher
