#include "cli/manifest_set.h"

#include <sys/stat.h>

namespace nestbox::cli {

Result<std::vector<manifests::Manifest>> load_manifest_set(const std::vector<std::string>& files,
                                                           const std::string& staging) {
  if (!staging.empty()) {
    struct stat st{};
    if (stat(staging.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      return bad_input("--staging " + staging + ": not a directory");
  }
  std::vector<manifests::Manifest> ms;
  for (const auto& f : files) {
    auto m = manifests::load_file(f);
    if (!m.ok()) return std::move(m).error();
    if (!staging.empty()) manifests::resolve_sources_in(*m, staging);
    ms.push_back(std::move(*m));
  }
  if (Status set = manifests::validate_set(ms); !set.ok()) return std::move(set).error();
  return ms;
}

}  // namespace nestbox::cli
