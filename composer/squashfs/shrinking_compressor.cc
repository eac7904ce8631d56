#include "composer/squashfs/shrinking_compressor.h"

#include <cstdlib>

namespace nestbox::composer::squashfs {
namespace {

struct Shrinking {
  sqfs_compressor_t base;  // first: libsquashfs handles it as a sqfs_compressor_t
  sqfs_compressor_t* inner;
};

sqfs_compressor_t* inner_of(const sqfs_compressor_t* c) { return reinterpret_cast<const Shrinking*>(c)->inner; }

void destroy(sqfs_object_t* obj) {
  auto* self = reinterpret_cast<Shrinking*>(obj);
  sqfs_destroy(self->inner);
  std::free(self);
}

sqfs_object_t* copy(const sqfs_object_t* obj) {
  const sqfs_compressor_t* inner = inner_of(reinterpret_cast<const sqfs_compressor_t*>(obj));
  auto* inner_copy = static_cast<sqfs_compressor_t*>(sqfs_copy(inner));
  if (!inner_copy) return nullptr;
  return reinterpret_cast<sqfs_object_t*>(shrinking_compressor(inner_copy));
}

void get_configuration(const sqfs_compressor_t* c, sqfs_compressor_config_t* cfg) {
  inner_of(c)->get_configuration(inner_of(c), cfg);
}
int write_options(sqfs_compressor_t* c, sqfs_file_t* file) { return inner_of(c)->write_options(inner_of(c), file); }
int read_options(sqfs_compressor_t* c, sqfs_file_t* file) { return inner_of(c)->read_options(inner_of(c), file); }

sqfs_s32 do_block(sqfs_compressor_t* c, const sqfs_u8* in, sqfs_u32 size, sqfs_u8* out, sqfs_u32 outsize) {
  sqfs_s32 n = inner_of(c)->do_block(inner_of(c), in, size, out, outsize);
  return n > 0 && static_cast<sqfs_u32>(n) >= size ? 0 : n;
}

}  // namespace

sqfs_compressor_t* shrinking_compressor(sqfs_compressor_t* inner) {
  auto* self = static_cast<Shrinking*>(std::calloc(1, sizeof(Shrinking)));
  if (!self) {
    sqfs_destroy(inner);
    return nullptr;
  }
  self->base.base.destroy = destroy;
  self->base.base.copy = copy;
  self->base.get_configuration = get_configuration;
  self->base.write_options = write_options;
  self->base.read_options = read_options;
  self->base.do_block = do_block;
  self->inner = inner;
  return &self->base;
}

}  // namespace nestbox::composer::squashfs
