// The squashfs compressors a target kernel can mount, from its config
// (`nestbox compose --kernel-config`): the writer must not produce an image
// the device's kernel cannot read. Host only.
#pragma once

#include <set>
#include <string>

#include "util/result.h"

namespace nestbox::kernel_check {

// The compressors ("gzip", "xz", "lzo", "lz4", "zstd") whose
// CONFIG_SQUASHFS_<X> is y or m in the config at `file` (plain or .gz).
// Bad input when CONFIG_SQUASHFS is not set or no compressor is.
Result<std::set<std::string>> squashfs_compressors(const std::string& file);

}  // namespace nestbox::kernel_check
