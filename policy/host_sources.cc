#include "policy/host_sources.h"

namespace nestbox::policy {

void add_host_sources(MountKind kind, const std::string& source, bool read_only, size_t mount,
                      std::vector<HostSource>& out) {
  switch (kind) {
    case MountKind::kBind: out.push_back({source, !read_only, mount}); break;
    case MountKind::kStorageDir: out.push_back({source, true, mount}); break;
    case MountKind::kStorageImage: out.push_back({source, false, mount}); break;  // a file
    case MountKind::kStorageOverlay:
      out.push_back({source + "/upper", true, mount});
      out.push_back({source + "/work", true, mount});
      break;
    case MountKind::kTmpfs:
    case MountKind::kStoragePartition: break;
  }
}

std::optional<std::pair<HostSource, HostSource>> source_below_writable(const std::vector<HostSource>& sources) {
  auto below = [](const std::string& inner, const std::string& outer) {
    if (outer == "/") return inner != "/";
    return inner.size() > outer.size() && inner.compare(0, outer.size(), outer) == 0 && inner[outer.size()] == '/';
  };
  for (const HostSource& outer : sources) {
    if (!outer.writable) continue;
    for (const HostSource& inner : sources)
      if (inner.mount != outer.mount && below(inner.path, outer.path)) return std::make_pair(inner, outer);
  }
  return std::nullopt;
}

}  // namespace nestbox::policy
