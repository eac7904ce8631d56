#include "composer/squashfs/squashfs_writer.h"

#include <fcntl.h>
#include <sqfs/block.h>
#include <sqfs/dir_writer.h>
#include <sqfs/error.h>
#include <sqfs/frag_table.h>
#include <sqfs/id_table.h>
#include <sqfs/meta_writer.h>
#include <sqfs/super.h>
#include <sqfs/xattr_writer.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "composer/squashfs/fd_file.h"
#include "composer/squashfs/hard_links.h"
#include "composer/squashfs/inode_table.h"
#include "composer/squashfs/tree_layout.h"
#include "util/temp_path.h"

namespace nestbox::composer::squashfs {
namespace {

constexpr uint32_t kDevBlockSize = 4096;

Status check_options(const SquashOptions& o) {
  uint32_t bs = o.block_size;
  if (bs < SQFS_MIN_BLOCK_SIZE || bs > SQFS_MAX_BLOCK_SIZE || (bs & (bs - 1)) != 0)
    return bad_input("block size " + std::to_string(bs) +
                     ": expected a power of two from 4096 to 1048576");
  return ok_status();
}

struct Image {
  SqfsPtr<FdFile> file;
  Compressor comp;
  sqfs_super_t super{};
  SqfsPtr<sqfs_frag_table_t> frags;
  SqfsPtr<sqfs_id_table_t> ids;
  SqfsPtr<sqfs_xattr_writer_t> xattrs;
  SqfsPtr<sqfs_meta_writer_t> inodes, dir_meta;
  SqfsPtr<sqfs_dir_writer_t> dirs;

  int io_errno() const { return file->last_errno; }
  sqfs_file_t* f() { return as_sqfs(file.get()); }
};

Status check(const Image& img, int code, const std::string& what) {
  if (code == 0) return ok_status();
  return sqfs_failure(what, code, img.io_errno());
}

Status open_tables(Image* img) {
  img->frags.reset(sqfs_frag_table_create(0));
  img->ids.reset(sqfs_id_table_create(0));
  img->xattrs.reset(sqfs_xattr_writer_create(0));
  sqfs_compressor_t* cmp = img->comp.compress.get();
  img->inodes.reset(sqfs_meta_writer_create(img->f(), cmp, 0));
  img->dir_meta.reset(sqfs_meta_writer_create(img->f(), cmp, SQFS_META_WRITER_KEEP_IN_MEMORY));
  if (img->dir_meta) img->dirs.reset(sqfs_dir_writer_create(img->dir_meta.get(), 0));
  if (!img->frags || !img->ids || !img->xattrs || !img->inodes || !img->dir_meta || !img->dirs)
    return failure("create squashfs tables: out of memory");
  return ok_status();
}

Status write_header(Image* img, uint32_t block_size, uint32_t mkfs_time) {
  auto id = static_cast<SQFS_COMPRESSOR>(img->comp.config.id);
  if (int r = sqfs_super_init(&img->super, block_size, mkfs_time, id); r != 0)
    return sqfs_failure("super block", r);
  NESTBOX_TRY(check(*img, sqfs_super_write(&img->super, img->f()), "write super block"));
  int r = img->comp.compress->write_options(img->comp.compress.get(), img->f());
  if (r < 0) return check(*img, r, "write compressor options");
  if (r > 0) img->super.flags |= SQFS_FLAG_COMPRESSOR_OPTIONS;
  return ok_status();
}

Status write_tables(Image* img, const InodeTableResult& inodes, uint32_t fragments) {
  sqfs_super_t& s = img->super;
  sqfs_compressor_t* cmp = img->comp.compress.get();
  NESTBOX_TRY(check(*img, sqfs_meta_writer_flush(img->inodes.get()), "write inode table"));
  NESTBOX_TRY(check(*img, sqfs_meta_writer_flush(img->dir_meta.get()), "write directory table"));
  s.root_inode_ref = inodes.root_ref;
  s.inode_count = inodes.inode_count;
  s.directory_table_start = img->f()->get_size(img->f());
  NESTBOX_TRY(check(*img, sqfs_meta_write_write_to_file(img->dir_meta.get()),
                    "write directory table"));
  NESTBOX_TRY(check(*img, sqfs_frag_table_write(img->frags.get(), img->f(), &s, cmp),
                    "write fragment table"));
  NESTBOX_TRY(check(*img, sqfs_id_table_write(img->ids.get(), img->f(), &s, cmp), "write id table"));
  NESTBOX_TRY(check(*img, sqfs_xattr_writer_flush(img->xattrs.get(), img->f(), &s, cmp),
                    "write xattr table"));
  if (fragments > 0) {
    s.flags &= static_cast<sqfs_u16>(~SQFS_FLAG_NO_FRAGMENTS);
  } else {
    s.flags |= SQFS_FLAG_NO_FRAGMENTS;
  }
  if (s.xattr_id_table_start != 0xFFFFFFFFFFFFFFFFull) {
    s.flags &= static_cast<sqfs_u16>(~SQFS_FLAG_NO_XATTRS);
  } else {
    s.flags |= SQFS_FLAG_NO_XATTRS;
  }
  s.bytes_used = img->f()->get_size(img->f());
  return check(*img, sqfs_super_write(&s, img->f()), "update super block");
}

Status pad_image(Image* img) {
  uint64_t size = img->f()->get_size(img->f());
  uint64_t rest = size % kDevBlockSize;
  if (rest == 0) return ok_status();
  std::string zeros(kDevBlockSize - rest, '\0');
  return check(*img, img->f()->write_at(img->f(), size, zeros.data(), zeros.size()), "pad image");
}

Status sync_and_rename(Image* img, TempFile* tmp, const std::string& out, bool sync) {
  if (sync && ::fsync(img->file->fd.get()) != 0) return sys_error("fsync " + tmp->path());
  img->file->fd.reset();
  if (::rename(tmp->path().c_str(), out.c_str()) != 0)
    return sys_error("rename " + tmp->path() + " to " + out);
  tmp->keep();
  if (!sync) return ok_status();
  std::string dir = std::filesystem::path(out).parent_path().string();
  UniqueFd dfd(::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd) ::fsync(dfd.get());
  return ok_status();
}

// compose -v: where one file's data came from, from the writer's counters
// before and after it was added (a tail goes to a fragment block, whose
// cache lookup happens when the block is full).
void explain_file(const SquashOptions& opts, const FsEntry& e, const DataStats& before, const DataStats& after) {
  std::string why;
  if (after.duplicate_files > before.duplicate_files) {
    why = "same content as an earlier file: stored once";
  } else {
    uint64_t cached = after.blocks_from_cache - before.blocks_from_cache;
    uint64_t compressed = after.blocks_compressed - before.blocks_compressed;
    if (cached) why = std::to_string(cached) + " block" + (cached == 1 ? "" : "s") + " from the cache";
    if (compressed) why = std::to_string(compressed) + " block" + (compressed == 1 ? "" : "s") + " compressed";
    if (e.size % opts.block_size) why += std::string(why.empty() ? "" : ", ") + "tail in a fragment block";
    if (why.empty()) why = "empty";
  }
  opts.explain(opts.progress_name + ": " + e.path + ": " + why);
}

Result<SquashStats> write_image(const FsTree& tree, const std::string& out,
                                const SquashOptions& opts, BlockStore* store, TempFile* tmp) {
  NESTBOX_TRY(check_options(opts));
  auto comp = make_compressor(opts.compressor, opts.block_size, opts.allowed_compressors);
  if (!comp.ok()) return std::move(comp).error();
  auto layout = make_tree_layout(tree, opts.block_size, opts.max_file_size);
  if (!layout.ok()) return std::move(layout).error();

  UniqueFd fd(::open(tmp->path().c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!fd) return sys_error("create " + tmp->path());
  Image img;
  img.file = make_fd_file(std::move(fd));
  img.comp = std::move(*comp);
  NESTBOX_TRY(open_tables(&img));
  NESTBOX_TRY(write_header(&img, opts.block_size, opts.mkfs_time.value_or(0)));

  BlockStore disabled;
  DataOptions dopts;
  dopts.block_size = opts.block_size;
  dopts.threads = opts.threads ? opts.threads : std::max(1u, std::thread::hardware_concurrency());
  dopts.stable_fragments = opts.stable_fragments;
  auto data = DataWriter::create(img.file.get(), img.comp, img.frags.get(), dopts,
                                 store ? store : &disabled);
  if (!data.ok()) return std::move(data).error();
  InodeSharing sharing = share_inodes(tree);
  std::vector<size_t> data_index(tree.entries.size(), 0);
  Progress progress{opts.progress_name, 0, tree.entries.size(), 0, 0};
  if (opts.progress)
    for (size_t i = 0; i < tree.entries.size(); ++i)
      if (tree.entries[i].type == EntryType::kRegular && sharing.leader[i] == i)
        progress.bytes_total += tree.entries[i].size;
  for (size_t i = 0; i < tree.entries.size(); ++i) {
    progress.entries_done = i + 1;
    if (tree.entries[i].type != EntryType::kRegular) continue;
    if (size_t l = sharing.leader[i]; l != i) {  // another name of a file already added
      data_index[i] = data_index[l];
      continue;
    }
    DataStats before = (*data)->stats();
    auto idx = (*data)->add_file(tree.entries[i]);
    if (!idx.ok()) return std::move(idx).error();
    data_index[i] = *idx;
    progress.bytes_done += tree.entries[i].size;
    if (opts.explain) explain_file(opts, tree.entries[i], before, (*data)->stats());
    if (opts.progress) opts.progress(progress);
  }
  NESTBOX_TRY((*data)->finish());
  if (opts.progress) {  // complete: every entry, every byte
    progress.entries_done = progress.entries_total;
    progress.bytes_done = progress.bytes_total;
    opts.progress(progress);
  }

  img.super.inode_table_start = img.f()->get_size(img.f());
  MetaTables t{img.file.get(), img.inodes.get(), img.dirs.get(), img.ids.get(), img.xattrs.get()};
  auto inodes = write_inode_table(tree, *layout, sharing, data_index, **data, t);
  if (!inodes.ok()) return std::move(inodes).error();
  NESTBOX_TRY(write_tables(&img, *inodes, (*data)->fragment_count()));
  if (opts.pad) NESTBOX_TRY(pad_image(&img));

  SquashStats stats;
  stats.bytes_used = img.super.bytes_used;
  stats.image_size = img.f()->get_size(img.f());
  stats.inodes = inodes->inode_count;
  stats.data = (*data)->stats();
  data->reset();
  NESTBOX_TRY(sync_and_rename(&img, tmp, out, opts.sync));
  return stats;
}

}  // namespace

Result<SquashStats> write_squashfs(const FsTree& tree, const std::string& out,
                                   const SquashOptions& opts, BlockStore* store) {
  TempFile tmp(out + ".tmp." + std::to_string(::getpid()));
  auto r = write_image(tree, out, opts, store, &tmp);
  if (!r.ok()) return std::move(r.error().context("squashfs " + out));
  return r;
}

Result<std::vector<SquashStats>> write_squashfs_images(const std::vector<ImageRequest>& images,
                                                       const SquashOptions& opts,
                                                       const std::string& cache_dir) {
  TempDir temp_store;
  Result<BlockStore> store = BlockStore::open(cache_dir);  // "": disabled
  if (cache_dir.empty() && images.size() > 1) {  // one image alone has nothing to share
    std::string parent = std::filesystem::path(images[0].out).parent_path().string();
    auto made = TempDir::create((parent.empty() ? "." : parent) + "/.nestbox-blocks.");
    if (!made.ok()) return std::move(made).error().context("temporary block store");
    temp_store = std::move(*made);
    store = BlockStore::open_for_one_run(temp_store.path());
  }
  if (!store.ok()) return std::move(store).error();
  std::vector<SquashStats> out;
  for (const auto& req : images) {
    SquashOptions o = opts;
    if (o.progress_name.empty()) o.progress_name = req.out;
    auto st = write_squashfs(*req.tree, req.out, o, &*store);
    if (!st.ok()) return std::move(st).error();
    out.push_back(*st);
  }
  return out;
}

}  // namespace nestbox::composer::squashfs
