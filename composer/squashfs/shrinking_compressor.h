// A compressor that never stores a block larger than it came in. libsquashfs's
// lz4 backend returns its output even when it grew (a 12-byte id table becomes
// 13 bytes) and its callers then mark the block compressed; unsquashfs 4.5
// refuses such a metadata block ("failed to read id table block") and a data
// block may exceed the block size the kernel reads. Wrapped, a block that does
// not shrink is stored uncompressed (do_block returns 0), as mksquashfs does.
#pragma once

#include <sqfs/compressor.h>

namespace nestbox::composer::squashfs {

// Takes ownership of `inner`; destroying (sqfs_destroy) the result destroys
// both. Copies (one per worker thread) wrap copies of `inner`. nullptr when
// out of memory (then `inner` is destroyed).
sqfs_compressor_t* shrinking_compressor(sqfs_compressor_t* inner);

}  // namespace nestbox::composer::squashfs
