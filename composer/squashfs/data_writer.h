// The data section of a squashfs image: full blocks of every regular file and
// fragment blocks packed from tail ends, compressed by libsquashfs's block
// processor (worker threads) and written, in submission order, by our own
// sqfs_block_writer_t. Blocks found in the BlockStore are submitted
// pre-compressed (SQFS_BLK_DONT_COMPRESS) and keep their on-disk size words,
// so a warm build lays out exactly the bytes a cold build would.
//
// Call order: DataWriter::create → add_file (in image order) → finish →
// file_data(i). Identical contents (hash + byte comparison) are stored once.
#pragma once

#include <sqfs/block_processor.h>
#include <sqfs/frag_table.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "composer/fs_tree.h"
#include "composer/squashfs/block_store.h"
#include "composer/squashfs/compressor.h"
#include "composer/squashfs/fd_file.h"
#include "composer/squashfs/sqfs_ptr.h"
#include "util/result.h"

struct XXH3_state_s;  // xxhash.h

namespace nestbox::composer::squashfs {

struct FileData {
  uint64_t size = 0;
  uint64_t blocks_start = 0;
  std::vector<uint32_t> words;  // on-disk size word of each full block
  uint32_t frag_index = 0xFFFFFFFF, frag_offset = 0xFFFFFFFF;
};

struct DataStats {
  uint64_t files = 0, duplicate_files = 0;
  uint64_t blocks_compressed = 0, blocks_from_cache = 0;
  uint64_t fragment_blocks = 0, fragment_blocks_from_cache = 0;
  uint64_t cache_corrupt = 0;
};

struct DataOptions {
  uint32_t block_size = 131072;
  unsigned threads = 1;
  // Cut fragment blocks at content-defined points (once half full), so that
  // adding or removing one small file only changes nearby fragment blocks and
  // the rest are reused from the BlockStore.
  bool stable_fragments = true;
};

class DataWriter {
 public:
  static Result<std::unique_ptr<DataWriter>> create(FdFile* file, const Compressor& comp,
                                                     sqfs_frag_table_t* frags,
                                                     const DataOptions& opts, BlockStore* store);
  ~DataWriter();

  // Reads `e.source_path` (must have exactly e.size bytes; e.hash, when
  // non-zero, must match) and queues its data. Returns the file's index.
  Result<size_t> add_file(const FsEntry& e);
  Status finish();
  const FileData& file_data(size_t index) const;
  const DataStats& stats() const { return stats_; }
  uint32_t fragment_count() const { return frag_count_; }

  struct Job;   // one file's full blocks or one fragment block in flight
  struct Shim;  // our sqfs_block_writer_t
  // Called from the block writer (on this thread, inside processor calls).
  FdFile* file_for_shim();
  int on_block_for_shim(Job* job, uint32_t size, uint32_t flags, const uint8_t* data,
                        uint64_t location);

 private:
  DataWriter() = default;
  // `key`: the store's key of the file's full blocks (nullptr: no store);
  // `verify`: a hash state fed with every block read (nullptr: none).
  Status add_blocks(size_t index, const FsEntry& e, int fd, const char* whole,
                    const StoreKey* key, uint64_t nfull, XXH3_state_s* verify);
  Result<const char*> full_block(int fd, const char* whole, uint64_t i, XXH3_state_s* verify,
                                 const std::string& what, std::string* scratch);
  // `run_id`: key the blocks by this content id (kRunDataBlock), not by their bytes.
  Status add_blocks_each(size_t index, const FsEntry& e, int fd, const char* whole,
                         uint64_t nfull, uint32_t run_id, XXH3_state_s* verify);
  Result<bool> add_written(size_t index, const FsEntry& e, const WrittenContent& w);
  Status submit_cached(std::unique_ptr<Job> job, const StoreEntry& entry);
  Status submit_raw(Job* job, const char* data, size_t size);
  Job* track(std::unique_ptr<Job> job);
  char* whole_buffer(size_t size);
  Status add_tail(size_t index, const char* data, size_t size, uint64_t tail_hash, uint32_t content_id);
  Status flush_fragment();
  Status check(int code, const std::string& what);
  int on_block(Job* job, uint32_t size, uint32_t flags, const uint8_t* data, uint64_t location);

  FdFile* file_ = nullptr;
  const Compressor* comp_ = nullptr;
  sqfs_frag_table_t* frags_ = nullptr;
  BlockStore* store_ = nullptr;
  DataOptions opts_;
  std::unique_ptr<Shim> shim_;
  SqfsPtr<sqfs_block_processor_t> proc_;
  std::deque<FileData> files_;
  std::vector<size_t> alias_;  // alias_[i] = index whose data file i shares
  struct Original {
    size_t index;
    std::string source;
  };
  std::map<std::pair<ContentHash, uint64_t>, Original> by_content_;
  std::map<uint32_t, size_t> by_content_id_;  // FsEntry::content_id -> first file written
  std::map<Job*, std::unique_ptr<Job>> in_flight_;
  std::vector<StoreKey> keys_;  // the entries of the file being added, for store_->remember
  std::unique_ptr<char[]> whole_;  // whole_buffer()
  size_t whole_capacity_ = 0;
  std::string frag_buf_;
  std::vector<uint64_t> frag_parts_;  // (content id, tail size) of each tail in frag_buf_
  bool frag_by_id_ = false;           // every tail in frag_buf_ has a content id: key by frag_parts_
  uint32_t frag_index_ = 0, frag_count_ = 0;
  Status writer_error_;
  DataStats stats_;
};

}  // namespace nestbox::composer::squashfs
