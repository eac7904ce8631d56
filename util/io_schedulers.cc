#include "util/io_schedulers.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>

#include "util/file_io.h"

namespace nestbox {

namespace {

// "none [mq-deadline] kyber\n" -> "mq-deadline"; a queue with one scheduler
// may print it without brackets ("none").
std::string active_of(const std::string& line) {
  size_t open = line.find('['), close = line.find(']');
  if (open != std::string::npos && close != std::string::npos && close > open)
    return line.substr(open + 1, close - open - 1);
  size_t end = line.find_first_of(" \n");
  return line.substr(0, end);
}

}  // namespace

std::vector<DiskScheduler> disk_schedulers(const std::string& sys_block) {
  std::vector<DiskScheduler> out;
  DIR* dir = ::opendir(sys_block.c_str());
  if (!dir) return out;
  while (const dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    if (::stat((sys_block + "/" + name + "/device").c_str(), &st) != 0) continue;
    auto line = read_file(sys_block + "/" + name + "/queue/scheduler");
    if (!line.ok()) continue;
    std::string offered = *line;
    while (!offered.empty() && offered.back() == '\n') offered.pop_back();
    out.push_back({name, active_of(offered), offered});
  }
  ::closedir(dir);
  std::sort(out.begin(), out.end(), [](const DiskScheduler& a, const DiskScheduler& b) { return a.disk < b.disk; });
  return out;
}

std::string describe(const std::vector<DiskScheduler>& disks) {
  if (disks.empty()) return "no disks in /sys/block";
  std::string out;
  for (const DiskScheduler& d : disks) out += (out.empty() ? "" : ", ") + d.disk + ": " + d.active;
  return out;
}

bool any_disk_uses(const std::vector<DiskScheduler>& disks, const std::string& scheduler) {
  return std::any_of(disks.begin(), disks.end(), [&](const DiskScheduler& d) { return d.active == scheduler; });
}

}  // namespace nestbox

namespace nestbox {

bool any_disk_offers(const std::vector<DiskScheduler>& disks, const std::string& scheduler) {
  return std::any_of(disks.begin(), disks.end(), [&](const DiskScheduler& d) {
    std::string line = " " + d.offered + " ";
    return line.find(" " + scheduler + " ") != std::string::npos ||
           line.find("[" + scheduler + "]") != std::string::npos;
  });
}

}  // namespace nestbox
