#include "composer/squashfs/compressor.h"

#include "composer/squashfs/shrinking_compressor.h"

#include <sqfs/error.h>

#include <cstring>

namespace nestbox::composer::squashfs {
namespace {

const char* const kAllNames[] = {"gzip", "lzo", "lzma", "xz", "lz4", "zstd"};

bool creatable(SQFS_COMPRESSOR id) {
  sqfs_compressor_config_t cfg;
  if (sqfs_compressor_config_init(&cfg, id, 131072, 0) != 0) return false;
  sqfs_compressor_t* c = nullptr;
  if (sqfs_compressor_create(&cfg, &c) != 0) return false;
  sqfs_destroy(c);
  return true;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string fingerprint_of(const sqfs_compressor_config_t& c) {
  std::string fp = std::string(sqfs_compressor_name_from_id(static_cast<SQFS_COMPRESSOR>(c.id))) +
                   "/l" + std::to_string(c.level) + "/f" + std::to_string(c.flags) + "/b" +
                   std::to_string(c.block_size) + "/s/o";  // s: blocks never grow (shrinking_compressor.h)
  const auto* raw = reinterpret_cast<const unsigned char*>(&c.opt);
  static const char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof c.opt; ++i) {
    fp += kHex[raw[i] >> 4];
    fp += kHex[raw[i] & 15];
  }
  return fp;
}

}  // namespace

std::vector<std::string> available_compressors() {
  std::vector<std::string> out;
  for (const char* name : kAllNames) {
    int id = sqfs_compressor_id_from_name(name);
    if (id >= 0 && creatable(static_cast<SQFS_COMPRESSOR>(id))) out.emplace_back(name);
  }
  return out;
}

Result<Compressor> make_compressor(const CompressorChoice& choice, uint32_t block_size,
                                   const std::set<std::string>& allowed) {
  int id = sqfs_compressor_id_from_name(choice.name.c_str());
  if (id < 0)
    return bad_input("compressor '" + choice.name + "': unknown (expected one of: gzip, lzo, "
                     "lzma, xz, lz4, zstd)");
  if (!allowed.empty() && !allowed.count(choice.name)) {
    std::vector<std::string> names(allowed.begin(), allowed.end());
    return bad_input("compressor '" + choice.name +
                     "': the target kernel does not support it (CONFIG_SQUASHFS_" +
                     (choice.name == "gzip" ? std::string("ZLIB") : [&] {
                       std::string up;
                       for (char ch : choice.name) up += static_cast<char>(std::toupper(ch));
                       return up;
                     }()) +
                     " not set; the kernel has: " + join(names) + ")");
  }
  Compressor out;
  auto sid = static_cast<SQFS_COMPRESSOR>(id);
  if (int r = sqfs_compressor_config_init(&out.config, sid, block_size, 0); r != 0)
    return bad_input("compressor '" + choice.name + "': " + sqfs_error_name(r));
  if (choice.level) out.config.level = *choice.level;
  sqfs_compressor_t* c = nullptr;
  int r = sqfs_compressor_create(&out.config, &c);
  if (r != 0) {
    if (r == SQFS_ERROR_UNSUPPORTED)
      return bad_input("compressor '" + choice.name +
                       "': not available in the installed libsquashfs (available: " +
                       join(available_compressors()) + ")");
    return bad_input("compressor '" + choice.name + "' (level " +
                     std::to_string(out.config.level) + "): " + sqfs_error_name(r));
  }
  out.compress.reset(shrinking_compressor(c));
  if (!out.compress) return failure("compressor '" + choice.name + "': out of memory");
  sqfs_compressor_config_t ucfg = out.config;
  ucfg.flags |= SQFS_COMP_FLAG_UNCOMPRESS;
  c = nullptr;
  if (r = sqfs_compressor_create(&ucfg, &c); r != 0)
    return failure("decompressor '" + choice.name + "': " + sqfs_error_name(r));
  out.uncompress.reset(c);
  out.fingerprint = fingerprint_of(out.config);
  return out;
}

}  // namespace nestbox::composer::squashfs
