#include "composer/squashfs/data_writer.h"

#include <fcntl.h>
#include <sqfs/block.h>
#include <sqfs/block_writer.h>
#include <sqfs/error.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "composer/source_file.h"
#include "util/fd.h"
#include "util/file_io.h"
#include "verifier/crypto.h"

namespace nestbox::composer::squashfs {

struct DataWriter::Job {
  enum class Kind { kFile, kFragment } kind = Kind::kFile;
  size_t file_index = 0;
  uint32_t frag_index = 0;
  uint32_t count = 0, next = 0;
  bool starts_file = true;  // kFile: its first block is the file's first
  bool precompressed = false;
  std::vector<uint32_t> cached_words;
  bool capture = false;
  StoreKey key;
  StoreEntry captured;
};

// Our sqfs_block_writer_t: appends each finished block to the image and hands
// it to the DataWriter, which records sizes and locations (and feeds the store).
struct DataWriter::Shim {
  sqfs_block_writer_t base;  // first: libsquashfs sees a sqfs_block_writer_t*
  DataWriter* owner = nullptr;
  uint64_t blocks = 0;
};

namespace {

constexpr uint64_t kWholeFileLimit = 32u << 20;  // files up to this size are read once
// Files of at least this many full blocks are stored block by block.
constexpr uint64_t kPerBlockMin = 8;
constexpr uint32_t kUncompressedBit = 1u << 24;
constexpr uint32_t kSubmitFlags = SQFS_BLK_DONT_FRAGMENT | SQFS_BLK_IGNORE_SPARSE | SQFS_BLK_DONT_HASH;

int shim_write(sqfs_block_writer_t* wr, void* user, sqfs_u32 size, sqfs_u32, sqfs_u32 flags,
               const sqfs_u8* data, sqfs_u64* location) {
  auto* shim = reinterpret_cast<DataWriter::Shim*>(wr);
  sqfs_file_t* file = as_sqfs(shim->owner->file_for_shim());
  uint64_t loc = file->get_size(file);
  if (int r = file->write_at(file, loc, data, size); r != 0) return r;
  *location = loc;
  ++shim->blocks;
  return shim->owner->on_block_for_shim(static_cast<DataWriter::Job*>(user), size, flags, data, loc);
}

sqfs_u64 shim_count(const sqfs_block_writer_t* wr) {
  return reinterpret_cast<const DataWriter::Shim*>(wr)->blocks;
}

void shim_destroy(sqfs_object_t*) {}  // owned by the DataWriter

// XXH3-128 of a file, streamed; with `digest`, its SHA-256 from the same read.
Result<ContentHash> hash_stream(int fd, uint64_t size, const std::string& what, ContentDigest* digest) {
  XXH3_state_t* st = XXH3_createState();
  if (st == nullptr) return failure("out of memory");
  XXH3_128bits_reset(st);
  std::optional<crypto::Sha256> sha;
  if (digest) sha.emplace();
  std::string buf(1u << 20, '\0');
  Status status;
  for (uint64_t off = 0; off < size && status.ok(); off += buf.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - off));
    status = pread_exact(fd, buf.data(), n, off, what);
    if (!status.ok()) break;
    XXH3_128bits_update(st, buf.data(), n);
    if (sha) sha->update(buf.data(), n);
  }
  XXH128_hash_t h = XXH3_128bits_digest(st);
  XXH3_freeState(st);
  if (!status.ok()) return std::move(status).error();
  if (digest) {
    std::string raw = sha->finish();
    if (!sha->ok() || raw.size() != digest->bytes.size()) return failure("sha256 of " + what + ": the crypto backend failed");
    std::memcpy(digest->bytes.data(), raw.data(), raw.size());
  }
  return ContentHash{h.high64, h.low64};
}

Result<bool> same_content(int fd, const std::string& other, uint64_t size, const std::string& what) {
  UniqueFd ofd(::open(other.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ofd) return sys_error("open " + other);
  std::string a(1u << 20, '\0'), b(1u << 20, '\0');
  for (uint64_t off = 0; off < size; off += a.size()) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(a.size(), size - off));
    NESTBOX_TRY(pread_exact(fd, a.data(), n, off, what));
    NESTBOX_TRY(pread_exact(ofd.get(), b.data(), n, off, other));
    if (std::memcmp(a.data(), b.data(), n) != 0) return false;
  }
  return true;
}

}  // namespace

FdFile* DataWriter::file_for_shim() { return file_; }
int DataWriter::on_block_for_shim(Job* job, uint32_t size, uint32_t flags, const uint8_t* data,
                                  uint64_t location) {
  return on_block(job, size, flags, data, location);
}

Result<std::unique_ptr<DataWriter>> DataWriter::create(FdFile* file, const Compressor& comp,
                                                        sqfs_frag_table_t* frags,
                                                        const DataOptions& opts,
                                                        BlockStore* store) {
  std::unique_ptr<DataWriter> w(new DataWriter());
  w->file_ = file;
  w->comp_ = &comp;
  w->frags_ = frags;
  w->store_ = store;
  w->opts_ = opts;
  w->shim_ = std::make_unique<Shim>();
  w->shim_->base.base.destroy = shim_destroy;
  w->shim_->base.base.copy = nullptr;
  w->shim_->base.write_data_block = shim_write;
  w->shim_->base.get_block_count = shim_count;
  w->shim_->owner = w.get();

  sqfs_block_processor_desc_t desc{};
  desc.size = sizeof desc;
  desc.max_block_size = opts.block_size;
  desc.num_workers = opts.threads == 0 ? 1 : opts.threads;
  desc.max_backlog = desc.num_workers * 8 + 8;
  desc.cmp = comp.compress.get();
  desc.wr = &w->shim_->base;
  desc.tbl = nullptr;  // fragments are packed by us, not by the processor
  sqfs_block_processor_t* proc = nullptr;
  if (int r = sqfs_block_processor_create_ex(&desc, &proc); r != 0)
    return sqfs_failure("create block processor", r);
  w->proc_.reset(proc);
  return w;
}

DataWriter::~DataWriter() { proc_.reset(); }  // stop workers before the shim goes away

Status DataWriter::check(int code, const std::string& what) {
  if (!writer_error_.ok()) return writer_error_;
  if (code == 0) return ok_status();
  return sqfs_failure(what, code, file_->last_errno);
}

DataWriter::Job* DataWriter::track(std::unique_ptr<Job> job) {
  Job* raw = job.get();
  in_flight_.emplace(raw, std::move(job));
  return raw;
}

int DataWriter::on_block(Job* job, uint32_t size, uint32_t flags, const uint8_t* data,
                         uint64_t location) {
  uint32_t word = job->precompressed ? job->cached_words[job->next]
                                     : size | ((flags & SQFS_BLK_IS_COMPRESSED) ? 0 : kUncompressedBit);
  if (job->capture) {
    job->captured.words.push_back(word);
    job->captured.data.append(reinterpret_cast<const char*>(data), size);
  }
  if (job->kind == Job::Kind::kFile) {
    FileData& fd = files_[job->file_index];
    if (job->starts_file && job->next == 0) fd.blocks_start = location;
    fd.words.push_back(word);
  } else if (int r = sqfs_frag_table_set(frags_, job->frag_index, location, word); r != 0) {
    return r;
  }
  if (++job->next < job->count) return 0;
  if (job->capture) {
    Status st = store_->put(job->key, job->captured);
    if (!st.ok()) {
      writer_error_ = std::move(st);
      return SQFS_ERROR_IO;
    }
  }
  in_flight_.erase(job);
  return 0;
}

Status DataWriter::submit_raw(Job* job, const char* data, size_t size) {
  return check(sqfs_block_processor_submit_block(proc_.get(), job, kSubmitFlags, data, size),
               "compress data");
}

Status DataWriter::submit_cached(std::unique_ptr<Job> job, const StoreEntry& entry) {
  job->precompressed = true;
  job->cached_words = entry.words;
  job->count = static_cast<uint32_t>(entry.words.size());
  Job* raw = track(std::move(job));
  const char* p = entry.data.data();
  for (uint32_t w : entry.words) {
    size_t n = SQFS_ON_DISK_BLOCK_SIZE(w);
    NESTBOX_TRY(check(sqfs_block_processor_submit_block(proc_.get(), raw,
                                                        kSubmitFlags | SQFS_BLK_DONT_COMPRESS, p, n),
                      "write cached data"));
    p += n;
  }
  return ok_status();
}

// One buffer for every file read at once, grown to the largest (at most
// kWholeFileLimit) and never cleared: each file overwrites what it reads, so
// neither zero-filling nor a fresh mapping per file is paid for.
char* DataWriter::whole_buffer(size_t size) {
  if (size > whole_capacity_) {
    whole_.reset(new char[size]);
    whole_capacity_ = size;
  }
  return whole_.get();
}

Result<size_t> DataWriter::add_file(const FsEntry& e) {
  size_t index = files_.size();
  files_.emplace_back().size = e.size;
  alias_.push_back(index);
  ++stats_.files;
  const std::string what = e.source_path + " (for " + e.path + ")";
  auto opened = open_source_file(e);
  if (!opened.ok()) return std::move(opened).error();
  UniqueFd fd = std::move(*opened);
  if (e.size == 0) return index;

  // Content the index found equal (same size and SHA-256) to a file written
  // before: the same data, not read again.
  if (e.content_id != kNoContentId) {
    if (auto it = by_content_id_.find(e.content_id); it != by_content_id_.end()) {
      alias_[index] = it->second;
      ++stats_.duplicate_files;
      return index;
    }
    // Written by an earlier image of this run: its entries, not the file.
    if (const WrittenContent* w = store_->recall(e.content_id, comp_->fingerprint)) {
      auto taken = add_written(index, e, *w);
      if (!taken.ok()) return std::move(taken).error();
      if (*taken) {
        // Found by bytes as well, as if it had been read: a later file the
        // index did not number is then stored once too, and the image is the
        // one a run without the earlier images writes.
        by_content_id_.emplace(e.content_id, index);
        if (e.hash != ContentHash{}) by_content_.emplace(std::make_pair(e.hash, e.size), Original{index, e.source_path});
        return index;
      }
    }
  }

  // The store is keyed by a SHA-256 of the content, never by the XXH3 the
  // index compares (a third party's file can be made to collide with it).
  // Files of many blocks are stored block by block, so a small change to a
  // big file recompresses only the blocks it touched.
  const uint64_t nfull = e.size / opts_.block_size;
  const size_t tail = static_cast<size_t>(e.size % opts_.block_size);
  const bool per_block = store_->enabled() && nfull >= kPerBlockMin;
  const bool whole_key = store_->enabled() && !per_block;
  // In a store of one run, an indexed content's entries are keyed by its
  // content id (block_store.h, kRun* kinds): its bytes are not hashed for it.
  const uint32_t run_id = store_->remembers() ? e.content_id : kNoContentId;
  const char* whole = nullptr;  // the whole file, when it was read at once
  ContentHash hash;
  ContentDigest digest;
  // A large indexed file whose key does not need its whole content first is
  // read once: hashed as its blocks are read, checked against the index at
  // the end (the run fails and commits nothing on a mismatch).
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> verify(nullptr, XXH3_freeState);
  // Indexed, and no other indexed file has its size (the index did not read
  // it): no file of the run can share its data, so a large one is not hashed
  // before its blocks are read either.
  const bool unique = e.content_id != kNoContentId && e.hash == ContentHash{};
  if (e.size <= kWholeFileLimit) {
    char* buf = whole_buffer(e.size);
    NESTBOX_TRY(pread_exact(fd.get(), buf, e.size, 0, what));
    XXH128_hash_t h = XXH3_128bits(buf, e.size);
    hash = {h.high64, h.low64};
    if (whole_key && nfull > 0 && run_id == kNoContentId) digest = content_digest(buf, e.size);  // the key of its full blocks
    whole = buf;
  } else if (unique && !whole_key) {
    // hash stays zero: not compared, not entered below
  } else if (e.hash != ContentHash{} && !whole_key) {
    hash = e.hash;
    verify.reset(XXH3_createState());
    if (!verify) return failure("out of memory");
    XXH3_128bits_reset(verify.get());
  } else {
    auto h = hash_stream(fd.get(), e.size, what, whole_key && run_id == kNoContentId ? &digest : nullptr);
    if (!h.ok()) return std::move(h).error();
    hash = *h;
  }
  const auto changed = [&] { return failure(what + ": content changed since it was indexed (hash mismatch)"); };
  if (e.hash != ContentHash{} && e.hash != hash) return changed();
  // Both maps name only files whose data is written (never an alias: a
  // reader follows one alias_ step).
  auto key = std::make_pair(hash, e.size);
  if (hash == ContentHash{}) {
    // unique in the run (above)
  } else if (auto it = by_content_.find(key); it != by_content_.end()) {
    auto same = same_content(fd.get(), it->second.source, e.size, what);
    if (!same.ok()) return std::move(same).error();
    if (*same) {
      alias_[index] = it->second.index;
      if (e.content_id != kNoContentId) by_content_id_.emplace(e.content_id, it->second.index);
      ++stats_.duplicate_files;
      return index;
    }
  } else {
    by_content_.emplace(key, Original{index, e.source_path});
  }
  if (e.content_id != kNoContentId) by_content_id_.emplace(e.content_id, index);

  keys_.clear();
  if (per_block) {
    NESTBOX_TRY(add_blocks_each(index, e, fd.get(), whole, nfull, run_id, verify.get()));
  } else if (nfull > 0) {
    std::optional<StoreKey> key;
    if (whole_key)
      key = run_id != kNoContentId
                ? make_store_key(EntryKind::kRunFileBlocks, run_digest({run_id}), comp_->fingerprint)
                : make_store_key(EntryKind::kFileBlocks, digest, comp_->fingerprint);
    NESTBOX_TRY(add_blocks(index, e, fd.get(), whole, key ? &*key : nullptr, nfull, verify.get()));
  }
  if (tail > 0) {
    std::string tail_buf;
    const char* tail_data;
    if (whole) {
      tail_data = whole + nfull * opts_.block_size;
    } else {
      tail_buf.resize(tail);
      NESTBOX_TRY(pread_exact(fd.get(), tail_buf.data(), tail, nfull * opts_.block_size, what));
      tail_data = tail_buf.data();
      if (verify) XXH3_128bits_update(verify.get(), tail_data, tail);
    }
    NESTBOX_TRY(add_tail(index, tail_data, tail, XXH3_64bits(tail_data, tail), e.content_id));
    if (e.content_id != kNoContentId)
      NESTBOX_TRY(store_->remember(e.content_id, comp_->fingerprint, std::move(keys_), tail_data,
                                   static_cast<uint32_t>(tail)));
  } else if (e.content_id != kNoContentId) {
    NESTBOX_TRY(store_->remember(e.content_id, comp_->fingerprint, std::move(keys_), nullptr, 0));
  }
  if (verify) {
    XXH128_hash_t h = XXH3_128bits_digest(verify.get());
    if (ContentHash{h.high64, h.low64} != e.hash) return changed();
  }
  return index;
}

// A content an earlier image of this run wrote (store_->recall): its full
// blocks' entries submitted as they are, its tail packed from the copy the
// store kept. false when an entry is missing or does not fit: the caller
// then reads the file as for any other.
Result<bool> DataWriter::add_written(size_t index, const FsEntry& e, const WrittenContent& w) {
  const uint64_t nfull = e.size / opts_.block_size;
  if (w.tail_size != e.size % opts_.block_size) return false;
  std::vector<StoreEntry> entries(w.blocks.size());
  uint64_t words = 0;
  for (size_t i = 0; i < w.blocks.size(); ++i) {
    if (store_->get(w.blocks[i], opts_.block_size, &entries[i]) != BlockStore::Lookup::kHit) return false;
    words += entries[i].words.size();
  }
  if (words != nfull) return false;
  std::string tail;
  NESTBOX_TRY(store_->read_tail(w, &tail));
  for (size_t i = 0; i < entries.size(); ++i) {
    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::kFile;
    job->file_index = index;
    job->starts_file = i == 0;
    NESTBOX_TRY(submit_cached(std::move(job), entries[i]));
  }
  stats_.blocks_from_cache += nfull;
  if (!tail.empty())
    NESTBOX_TRY(add_tail(index, tail.data(), tail.size(), XXH3_64bits(tail.data(), tail.size()), e.content_id));
  return true;
}

// Full block `i` of a file: in the whole-file buffer, or read into `scratch`
// (and fed to `verify`, a streaming check against the index's hash).
Result<const char*> DataWriter::full_block(int fd, const char* whole, uint64_t i,
                                           XXH3_state_t* verify, const std::string& what,
                                           std::string* scratch) {
  if (whole) return whole + i * opts_.block_size;
  scratch->resize(opts_.block_size);
  NESTBOX_TRY(pread_exact(fd, scratch->data(), scratch->size(), i * opts_.block_size, what));
  if (verify) XXH3_128bits_update(verify, scratch->data(), scratch->size());
  return static_cast<const char*>(scratch->data());
}

// One block of a file at a time (a file of many blocks): each looked up in
// the store by its own bytes, taken from it or compressed and stored.
Status DataWriter::add_blocks_each(size_t index, const FsEntry& e, int fd, const char* whole,
                                   uint64_t nfull, uint32_t run_id, XXH3_state_t* verify) {
  std::string scratch;
  for (uint64_t i = 0; i < nfull; ++i) {
    auto p = full_block(fd, whole, i, verify, e.source_path, &scratch);
    if (!p.ok()) return std::move(p).error();
    auto job = std::make_unique<Job>();
    job->kind = Job::Kind::kFile;
    job->file_index = index;
    job->starts_file = i == 0;
    job->count = 1;
    job->key = run_id != kNoContentId
                   ? make_store_key(EntryKind::kRunDataBlock, run_digest({run_id, i}), comp_->fingerprint)
                   : make_store_key(EntryKind::kDataBlock, content_digest(*p, opts_.block_size), comp_->fingerprint);
    keys_.push_back(job->key);
    StoreEntry entry;
    auto found = store_->get(job->key, opts_.block_size, &entry);
    if (found == BlockStore::Lookup::kHit && entry.words.size() == 1) {
      ++stats_.blocks_from_cache;
      NESTBOX_TRY(submit_cached(std::move(job), entry));
      continue;
    }
    if (found != BlockStore::Lookup::kMiss) ++stats_.cache_corrupt;
    job->capture = true;
    ++stats_.blocks_compressed;
    NESTBOX_TRY(submit_raw(track(std::move(job)), *p, opts_.block_size));
  }
  return ok_status();
}

Status DataWriter::add_blocks(size_t index, const FsEntry& e, int fd, const char* whole,
                              const StoreKey* key, uint64_t nfull, XXH3_state_t* verify) {
  auto job = std::make_unique<Job>();
  job->kind = Job::Kind::kFile;
  job->file_index = index;
  job->count = static_cast<uint32_t>(nfull);
  if (key) {
    job->key = *key;
    keys_.push_back(job->key);
    StoreEntry entry;
    auto found = store_->get(job->key, opts_.block_size, &entry);
    if (found == BlockStore::Lookup::kHit && entry.words.size() == nfull) {
      stats_.blocks_from_cache += nfull;
      return submit_cached(std::move(job), entry);
    }
    if (found != BlockStore::Lookup::kMiss) ++stats_.cache_corrupt;
    job->capture = true;
  }
  Job* raw = track(std::move(job));
  stats_.blocks_compressed += nfull;
  std::string scratch;
  for (uint64_t i = 0; i < nfull; ++i) {
    auto p = full_block(fd, whole, i, verify, e.source_path, &scratch);
    if (!p.ok()) return std::move(p).error();
    NESTBOX_TRY(submit_raw(raw, *p, opts_.block_size));
  }
  return ok_status();
}

Status DataWriter::add_tail(size_t index, const char* data, size_t size, uint64_t tail_hash,
                            uint32_t content_id) {
  if (frag_buf_.size() + size > opts_.block_size) NESTBOX_TRY(flush_fragment());
  if (frag_buf_.empty()) {
    NESTBOX_TRY(check(sqfs_frag_table_append(frags_, 0, 0, &frag_index_), "fragment table"));
    ++frag_count_;
    frag_parts_.clear();
    frag_by_id_ = store_->remembers();
  }
  // Equal ids and sizes in the same order are equal fragment bytes (each id
  // is one content; its tail is its last bytes).
  if (content_id == kNoContentId) frag_by_id_ = false;
  if (frag_by_id_) frag_parts_.insert(frag_parts_.end(), {content_id, size});
  files_[index].frag_index = frag_index_;
  files_[index].frag_offset = static_cast<uint32_t>(frag_buf_.size());
  frag_buf_.append(data, size);
  if (opts_.stable_fragments && frag_buf_.size() >= opts_.block_size / 2 && (tail_hash & 3) == 0)
    return flush_fragment();
  return ok_status();
}

Status DataWriter::flush_fragment() {
  if (frag_buf_.empty()) return ok_status();
  auto job = std::make_unique<Job>();
  job->kind = Job::Kind::kFragment;
  job->frag_index = frag_index_;
  job->count = 1;
  ++stats_.fragment_blocks;
  std::string data = std::move(frag_buf_);
  frag_buf_.clear();
  if (store_->enabled()) {
    job->key = frag_by_id_ ? make_store_key(EntryKind::kRunFragmentBlock, run_digest(frag_parts_), comp_->fingerprint)
                           : make_store_key(EntryKind::kFragmentBlock, content_digest(data.data(), data.size()),
                                            comp_->fingerprint);
    StoreEntry entry;
    auto found = store_->get(job->key, opts_.block_size, &entry);
    if (found == BlockStore::Lookup::kHit && entry.words.size() == 1) {
      ++stats_.fragment_blocks_from_cache;
      return submit_cached(std::move(job), entry);
    }
    if (found != BlockStore::Lookup::kMiss) ++stats_.cache_corrupt;
    job->capture = true;
  }
  return submit_raw(track(std::move(job)), data.data(), data.size());
}

Status DataWriter::finish() {
  NESTBOX_TRY(flush_fragment());
  NESTBOX_TRY(check(sqfs_block_processor_finish(proc_.get()), "finish data blocks"));
  if (!in_flight_.empty()) return failure("finish data blocks: blocks still in flight");
  return ok_status();
}

const FileData& DataWriter::file_data(size_t index) const { return files_[alias_[index]]; }

}  // namespace nestbox::composer::squashfs
