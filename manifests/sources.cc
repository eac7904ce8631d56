// resolve_sources_in: `compose --staging DIR` and friends. A firmware build
// keeps its manifests in one place and stages the rootfs they draw from in
// another ($(TARGET_DIR) in an OpenWrt buildroot); this lets the same manifest
// name its sources relative to whichever staging directory the build uses.
#include "manifests/manifest.h"

namespace nestbox::manifests {

void resolve_sources_in(Manifest& m, const std::string& dir) {
  std::string base = dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  for (RootfsSource& s : m.rootfs.sources) {
    if (s.path.empty() || s.path[0] == '/') continue;
    s.path = (s.path == "." || s.path == "./") ? base : base + "/" + s.path;
  }
}

}  // namespace nestbox::manifests
