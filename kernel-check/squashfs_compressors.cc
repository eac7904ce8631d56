#include "kernel-check/squashfs_compressors.h"

#include <utility>

#include "kernel-check/config.h"

namespace nestbox::kernel_check {

Result<std::set<std::string>> squashfs_compressors(const std::string& file) {
  auto config = load_config(file);
  if (!config.ok()) return std::move(config).error();
  if (config->tristate("SQUASHFS") == Tristate::kNo)
    return bad_input(file + ": CONFIG_SQUASHFS is not set: the target kernel cannot mount "
                     "squashfs images");
  std::set<std::string> out;
  static const std::pair<const char*, const char*> kSymbols[] = {
      {"SQUASHFS_ZLIB", "gzip"}, {"SQUASHFS_XZ", "xz"},     {"SQUASHFS_LZO", "lzo"},
      {"SQUASHFS_LZ4", "lz4"},   {"SQUASHFS_ZSTD", "zstd"},
  };
  for (const auto& [sym, name] : kSymbols)
    if (config->tristate(sym) != Tristate::kNo) out.insert(name);
  if (out.empty()) return bad_input(file + ": no CONFIG_SQUASHFS_<compressor> is set");
  return out;
}

}  // namespace nestbox::kernel_check
