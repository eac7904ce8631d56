#include "composer/squashfs/inode_table.h"

#include <sqfs/inode.h>
#include <sys/stat.h>

#include <sqfs/error.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>

namespace nestbox::composer::squashfs {
namespace {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using InodePtr = std::unique_ptr<sqfs_inode_generic_t, FreeDeleter>;

InodePtr alloc_inode(size_t payload) {
  auto* p = static_cast<sqfs_inode_generic_t*>(std::calloc(1, sizeof(sqfs_inode_generic_t) + payload));
  if (p) p->payload_bytes_available = static_cast<sqfs_u32>(payload);
  return InodePtr(p);
}

uint16_t type_bits(EntryType t) {
  switch (t) {
    case EntryType::kDirectory: return S_IFDIR;
    case EntryType::kRegular: return S_IFREG;
    case EntryType::kSymlink: return S_IFLNK;
    case EntryType::kCharDevice: return S_IFCHR;
    case EntryType::kBlockDevice: return S_IFBLK;
    case EntryType::kFifo: return S_IFIFO;
    case EntryType::kSocket: return S_IFSOCK;
  }
  return 0;
}

// A hard-linked non-directory: a basic file inode has no link count, so it
// becomes an extended one (as mksquashfs writes it); the others have one.
Status set_nlink(sqfs_inode_generic_t* in, uint32_t nlink, const std::string& path) {
  if (in->base.type == SQFS_INODE_FILE)
    if (int r = sqfs_inode_make_extended(in); r != 0) return sqfs_failure(path + ": extended inode", r);
  switch (in->base.type) {
    case SQFS_INODE_EXT_FILE: in->data.file_ext.nlink = nlink; break;
    case SQFS_INODE_SLINK: in->data.slink.nlink = nlink; break;
    case SQFS_INODE_EXT_SLINK: in->data.slink_ext.nlink = nlink; break;
    case SQFS_INODE_BDEV:
    case SQFS_INODE_CDEV: in->data.dev.nlink = nlink; break;
    case SQFS_INODE_EXT_BDEV:
    case SQFS_INODE_EXT_CDEV: in->data.dev_ext.nlink = nlink; break;
    case SQFS_INODE_FIFO:
    case SQFS_INODE_SOCKET: in->data.ipc.nlink = nlink; break;
    case SQFS_INODE_EXT_FIFO:
    case SQFS_INODE_EXT_SOCKET: in->data.ipc_ext.nlink = nlink; break;
    default: return failure(path + ": a link count for an inode of type " + std::to_string(in->base.type));
  }
  return ok_status();
}

uint32_t clamp_time(int64_t t) {
  if (t < 0) return 0;
  if (t > std::numeric_limits<uint32_t>::max()) return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(t);
}

class Writer {
 public:
  Writer(const FsTree& tree, const TreeLayout& layout, const InodeSharing& sharing,
         const std::vector<size_t>& data_index, const DataWriter& data, const MetaTables& t)
      : es_(tree.entries), layout_(layout), sharing_(sharing), data_index_(data_index), data_(data), t_(t) {}

  Result<InodeTableResult> run() {
    number(0);
    ino_.resize(es_.size());
    ref_.resize(es_.size());
    // first_[leader]: the entry that writes the shared inode, the first of its
    // names in post-order, so the inode exists before any directory lists it.
    first_.assign(es_.size(), kNone);
    uint32_t n = 0;
    for (size_t i : order_) {
      size_t& first = first_[sharing_.leader[i]];
      if (first == kNone) {
        first = i;
        ino_[i] = ++n;
      } else {
        ino_[i] = ino_[first];
      }
    }
    count_ = n;
    for (size_t i : order_) {
      size_t first = first_[sharing_.leader[i]];
      if (first == i) {
        NESTBOX_TRY(write(i));
      } else {
        ref_[i] = ref_[first];  // another name of an inode already written
      }
    }
    return InodeTableResult{ref_[0], n};
  }

 private:
  void number(size_t root) {  // iterative post-order
    std::vector<std::pair<size_t, size_t>> stack{{root, 0}};
    while (!stack.empty()) {
      auto& [i, k] = stack.back();
      const auto& kids = layout_.children[i];
      if (k < kids.size()) {
        size_t c = kids[k++];
        if (es_[c].type == EntryType::kDirectory) {
          stack.emplace_back(c, 0);
        } else {
          order_.push_back(c);
        }
      } else {
        order_.push_back(i);
        stack.pop_back();
      }
    }
  }

  Result<uint32_t> xattr_index(const FsEntry& e) {
    if (e.xattrs.empty()) return 0xFFFFFFFFu;
    if (int r = sqfs_xattr_writer_begin(t_.xattrs, 0); r != 0)
      return sqfs_failure(e.path + ": xattrs", r);
    for (const Xattr& x : e.xattrs) {
      int r = sqfs_xattr_writer_add(t_.xattrs, x.name.c_str(), x.value.data(), x.value.size());
      if (r == SQFS_ERROR_UNSUPPORTED)
        return bad_input(e.path + ": xattr '" + x.name +
                         "': squashfs stores only user.*, trusted.* and security.* names");
      if (r != 0) return sqfs_failure(e.path + ": xattr '" + x.name + "'", r);
    }
    uint32_t idx = 0;
    if (int r = sqfs_xattr_writer_end(t_.xattrs, &idx); r != 0)
      return sqfs_failure(e.path + ": xattrs", r);
    return idx;
  }

  Result<InodePtr> make_dir(size_t i, uint32_t xattr) {
    const FsEntry& e = es_[i];
    if (int r = sqfs_dir_writer_begin(t_.dirs, 0); r != 0) return sqfs_failure(e.path, r);
    size_t subdirs = 0;
    for (size_t c : layout_.children[i]) {
      if (es_[c].type == EntryType::kDirectory) ++subdirs;
      int r = sqfs_dir_writer_add_entry(t_.dirs, layout_.names[c].c_str(), ino_[c], ref_[c],
                                        type_bits(es_[c].type) | (es_[c].mode & 07777));
      if (r != 0) return sqfs_failure(es_[c].path + ": directory entry", r);
    }
    if (int r = sqfs_dir_writer_end(t_.dirs); r != 0) return sqfs_failure(e.path, r);
    uint32_t parent = i == 0 ? count_ + 1 : parent_ino(i);  // the root's: inode count + 1
    InodePtr inode(sqfs_dir_writer_create_inode(t_.dirs, 0, xattr, parent));
    if (!inode) return failure(e.path + ": out of memory");
    if (inode->base.type == SQFS_INODE_DIR) {
      inode->data.dir.nlink = static_cast<sqfs_u32>(2 + subdirs);
    } else {
      inode->data.dir_ext.nlink = static_cast<sqfs_u32>(2 + subdirs);
    }
    return inode;
  }

  uint32_t parent_ino(size_t i) {
    const std::string& p = es_[i].path;
    size_t slash = p.rfind('/');
    std::string parent = slash == 0 ? "/" : p.substr(0, slash);
    // Parents precede children in the sorted entry list: binary search.
    auto it = std::lower_bound(es_.begin(), es_.begin() + static_cast<long>(i), parent,
                               [](const FsEntry& a, const std::string& b) { return a.path < b; });
    return ino_[static_cast<size_t>(it - es_.begin())];
  }

  Result<InodePtr> make_file(size_t i) {
    const FileData& fd = data_.file_data(data_index_[i]);
    size_t payload = fd.words.size() * sizeof(uint32_t);
    InodePtr inode = alloc_inode(payload);
    if (!inode) return failure(es_[i].path + ": out of memory");
    inode->base.type = SQFS_INODE_FILE;
    // An empty file has no block sizes: memcpy from a null data() is UB even for 0 bytes.
    if (payload != 0) std::memcpy(inode->extra, fd.words.data(), payload);
    inode->payload_bytes_used = static_cast<sqfs_u32>(payload);
    sqfs_inode_set_file_size(inode.get(), fd.size);
    sqfs_inode_set_file_block_start(inode.get(), fd.blocks_start);
    sqfs_inode_set_frag_location(inode.get(), fd.frag_index, fd.frag_offset);
    return inode;
  }

  Result<InodePtr> make_other(size_t i) {
    const FsEntry& e = es_[i];
    size_t extra = e.type == EntryType::kSymlink ? e.link_target.size() : 0;
    InodePtr inode = alloc_inode(extra);
    if (!inode) return failure(e.path + ": out of memory");
    switch (e.type) {
      case EntryType::kSymlink:
        inode->base.type = SQFS_INODE_SLINK;
        inode->data.slink.nlink = 1;
        inode->data.slink.target_size = static_cast<sqfs_u32>(extra);
        std::memcpy(inode->extra, e.link_target.data(), extra);
        inode->payload_bytes_used = static_cast<sqfs_u32>(extra);
        break;
      case EntryType::kCharDevice:
      case EntryType::kBlockDevice:
        if (e.rdev_major > 0xFFF || e.rdev_minor > 0xFFFFF)
          return bad_input(e.path + ": device number " + std::to_string(e.rdev_major) + ":" +
                           std::to_string(e.rdev_minor) + " does not fit squashfs (12:20 bits)");
        inode->base.type = e.type == EntryType::kCharDevice ? SQFS_INODE_CDEV : SQFS_INODE_BDEV;
        inode->data.dev.nlink = 1;
        inode->data.dev.devno = (e.rdev_minor & 0xFF) | (e.rdev_major << 8) |
                                ((e.rdev_minor & ~0xFFu) << 12);
        break;
      case EntryType::kFifo:
      case EntryType::kSocket:
        inode->base.type = e.type == EntryType::kFifo ? SQFS_INODE_FIFO : SQFS_INODE_SOCKET;
        inode->data.ipc.nlink = 1;
        break;
      default:
        return failure(e.path + ": unexpected entry type");
    }
    return inode;
  }

  Status write(size_t i) {
    const FsEntry& e = es_[i];
    auto xattr = xattr_index(e);
    if (!xattr.ok()) return std::move(xattr).error();
    Result<InodePtr> inode = e.type == EntryType::kDirectory ? make_dir(i, *xattr)
                             : e.type == EntryType::kRegular ? make_file(i)
                                                             : make_other(i);
    if (!inode.ok()) return std::move(inode).error();
    sqfs_inode_generic_t* in = inode->get();
    in->base.mode = static_cast<sqfs_u16>(type_bits(e.type) | (e.mode & 07777));
    in->base.mod_time = clamp_time(e.mtime);
    in->base.inode_number = ino_[i];
    if (int r = sqfs_inode_set_xattr_index(in, *xattr); r != 0) return sqfs_failure(e.path, r);
    if (uint32_t nlink = sharing_.nlink[i]; nlink > 1) NESTBOX_TRY(set_nlink(in, nlink, e.path));
    if (int r = sqfs_id_table_id_to_index(t_.ids, e.uid, &in->base.uid_idx); r != 0)
      return bad_input(e.path + ": uid " + std::to_string(e.uid) + ": " + sqfs_error_name(r) +
                       " (squashfs holds at most 65536 distinct ids)");
    if (int r = sqfs_id_table_id_to_index(t_.ids, e.gid, &in->base.gid_idx); r != 0)
      return bad_input(e.path + ": gid " + std::to_string(e.gid) + ": " + sqfs_error_name(r) +
                       " (squashfs holds at most 65536 distinct ids)");
    sqfs_u64 block = 0;
    sqfs_u32 offset = 0;
    sqfs_meta_writer_get_position(t_.inodes, &block, &offset);
    ref_[i] = (block << 16) | offset;
    if (int r = sqfs_meta_writer_write_inode(t_.inodes, in); r != 0)
      return sqfs_failure(e.path + ": write inode", r, t_.file->last_errno);
    return ok_status();
  }

  static constexpr size_t kNone = static_cast<size_t>(-1);
  const std::vector<FsEntry>& es_;
  const TreeLayout& layout_;
  const InodeSharing& sharing_;
  std::vector<size_t> first_;
  uint32_t count_ = 0;
  const std::vector<size_t>& data_index_;
  const DataWriter& data_;
  const MetaTables& t_;
  std::vector<size_t> order_;
  std::vector<uint32_t> ino_;
  std::vector<uint64_t> ref_;
};

}  // namespace

Result<InodeTableResult> write_inode_table(const FsTree& tree, const TreeLayout& layout,
                                           const InodeSharing& sharing,
                                           const std::vector<size_t>& data_index,
                                           const DataWriter& data, const MetaTables& t) {
  return Writer(tree, layout, sharing, data_index, data, t).run();
}

}  // namespace nestbox::composer::squashfs
