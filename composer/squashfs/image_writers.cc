#include "composer/squashfs/image_writers.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <future>
#include <map>

#include "composer/output_layout.h"
#include "composer/squashfs/overlay_split.h"
#include "util/temp_path.h"
#include "verifier/crypto.h"

namespace nestbox::composer::squashfs {
namespace {

namespace fs = std::filesystem;

// The block store of one compose run, shared by both writers: the --cache
// directory, or a temporary one under the output directory (removed at the
// end) as soon as a run writes more than one image.
class StoreSession {
 public:
  explicit StoreSession(std::string cache_dir) : cache_dir_(std::move(cache_dir)) {}

  Result<BlockStore*> get(const std::string& out_dir, size_t images) {
    if (store_) return &*store_;
    Result<BlockStore> s = failure("");
    if (cache_dir_.empty()) {
      if (images < 2) return &disabled_;
      auto made = TempDir::create(out_dir + "/.nestbox-blocks-");
      if (!made.ok()) return std::move(made).error().context("temporary block store");
      temp_dir_ = std::move(*made);
      s = BlockStore::open_for_one_run(temp_dir_.path());
    } else {
      s = BlockStore::open(cache_dir_);
    }
    if (!s.ok()) return std::move(s).error();
    store_ = std::move(*s);
    return &*store_;
  }
  const BlockStore* active() const { return store_ ? &*store_ : nullptr; }

 private:
  std::string cache_dir_;
  TempDir temp_dir_;  // declared before the store: removed after it is closed
  std::optional<BlockStore> store_;
  BlockStore disabled_;
};

// <out>/.nestbox-images-<pid>/: images of one writer call until all are done.
class Staging {
 public:
  static Result<Staging> create(const std::string& out_dir) {
    Staging s;
    std::string dir = out_dir + "/.nestbox-images-" + std::to_string(::getpid());
    { TempDir leftover(dir); }  // removes what a crashed run with this pid left
    if (::mkdir(dir.c_str(), 0755) != 0) return sys_error("create " + dir);
    s.dir_ = TempDir(std::move(dir));
    return s;
  }
  // A temporary path for the image that will end up at `final_path`.
  std::string add(const std::string& final_path) {
    std::string tmp = dir_.path() + "/" + std::to_string(moves_.size()) + ".sqfs";
    moves_.push_back({tmp, final_path});
    return tmp;
  }
  // Hands every finished image to the run's commit, which renames them
  // into place with the rest of the run's outputs.
  Status install(OutputCommit* commit) {
    for (const auto& [tmp, final_path] : moves_) NESTBOX_TRY(commit->adopt(tmp, final_path));
    return ok_status();
  }

 private:
  TempDir dir_;  // util/temp_path.h: removed with what is left in it
  std::vector<std::pair<std::string, std::string>> moves_;
};

// The disk write-back and the read-back from the page cache run side by side.
Result<std::string> sync_and_digest(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  auto synced = std::async(std::launch::async, [f = fd.get()] { return ::fsync(f) == 0 ? 0 : errno; });
  auto digest = padded_sha256(path);
  if (int err = synced.get(); err != 0) return sys_error("fsync " + path, err);
  return digest;
}

// Each finished image (written with SquashOptions::sync off) is synced to
// the disk and read back for its padded SHA-256 on a thread of its own while
// the next image is written (it is still in the page cache); one image at a
// time (two threads: the read-back and the fsync). wait() before the images
// are committed: only synced images are renamed into place.
class DigestQueue {
 public:
  explicit DigestQueue(std::vector<ImageRecord>* recs) : recs_(recs) {}
  // Starts on (*recs)[index]'s image at `path`, after the one before is done.
  Status start(size_t index, std::string path) {
    NESTBOX_TRY(wait());
    index_ = index;
    pending_ = std::async(std::launch::async, [p = std::move(path)] { return sync_and_digest(p); });
    return ok_status();
  }
  Status wait() {
    if (!pending_.valid()) return ok_status();
    auto digest = pending_.get();
    if (!digest.ok()) return std::move(digest).error();
    (*recs_)[index_].payload_sha256 = std::move(*digest);
    return ok_status();
  }

 private:
  std::vector<ImageRecord>* recs_;
  size_t index_ = 0;
  std::future<Result<std::string>> pending_;
};

SquashOptions options_for(const ImageOptions& io, const manifests::Manifest& m) {
  SquashOptions o;
  o.compressor.name = io.compressor.value_or(manifests::to_string(m.rootfs.compressor));
  o.compressor.level = io.level;
  o.block_size = io.block_size.value_or(m.rootfs.block_size);
  o.threads = io.threads;
  o.pad = io.pad;
  o.mkfs_time = io.mkfs_time;
  o.allowed_compressors = io.allowed_compressors;
  o.max_file_size = m.rootfs.max_file_size;
  o.progress = io.progress;
  o.explain = io.explain;
  o.progress_name = m.name;
  return o;
}

ComposeReport::Output output_of(const std::string& name, const char* strategy,
                                const std::string& path, const FsTree& tree) {
  ComposeReport::Output o{name, strategy, path};
  o.entries = tree.entries.size();
  for (const auto& e : tree.entries)
    if (e.type == EntryType::kRegular) {
      ++o.files;
      o.bytes += e.size;
    }
  o.copied = o.files;
  return o;
}

Status check_names(std::span<const ComposedContainer* const> containers) {
  for (const ComposedContainer* c : containers)
    if (c->manifest->name.find('/') != std::string::npos || c->manifest->name.empty())
      return bad_input("container name '" + c->manifest->name + "' cannot name an image file");
  return ok_status();
}

class SquashfsImageWriter : public OutputWriter {
 public:
  SquashfsImageWriter(ImageOptions o, ImageLog* log, std::shared_ptr<StoreSession> s)
      : opts_(std::move(o)), log_(log), session_(std::move(s)) {}
  manifests::RootfsStrategy strategy() const override {
    return manifests::RootfsStrategy::kSquashfs;
  }

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& ctx,
               ComposeReport* report) override {
    NESTBOX_TRY(check_names(containers));
    auto store = session_->get(ctx.out_dir, containers.size());
    if (!store.ok()) return std::move(store).error();
    auto staging = Staging::create(ctx.out_dir);
    if (!staging.ok()) return std::move(staging).error();
    std::vector<ImageRecord> recs;
    recs.reserve(containers.size());
    DigestQueue digests(&recs);
    for (const ComposedContainer* c : containers) {
      const auto& m = *c->manifest;
      ImageRecord r;
      r.kind = ImageRecord::Kind::kStandalone;
      r.name = m.name;
      r.path = OutputLayout(ctx.out_dir).squashfs(m.name);
      SquashOptions o = options_for(opts_, m);
      o.sync = false;  // digests.start syncs it
      r.compressor = o.compressor.name;
      r.block_size = o.block_size;
      std::string tmp = staging->add(r.path);
      auto st = write_squashfs(c->tree, tmp, o, *store);
      if (!st.ok()) return std::move(st.error().context(m.name + ": image " + r.path));
      r.stats = *st;
      recs.push_back(std::move(r));
      NESTBOX_TRY(digests.start(recs.size() - 1, tmp));
    }
    NESTBOX_TRY(digests.wait());
    NESTBOX_TRY(staging->install(ctx.commit));
    for (size_t i = 0; i < containers.size(); ++i)
      report->outputs.push_back(output_of(containers[i]->manifest->name, manifests::to_string(strategy()),
                                          recs[i].path, containers[i]->tree));
    for (auto& r : recs) log_->images.push_back(std::move(r));
    if (session_->active()) log_->store = session_->active()->stats();
    return ok_status();
  }

 private:
  ImageOptions opts_;
  ImageLog* log_;
  std::shared_ptr<StoreSession> session_;
};

// A single container's base: its tree without the manifest's own extras
// (an extra directory stays when base entries remain beneath it).
FsTree base_of_single(const ComposedContainer& c) {
  const auto& r = c.manifest->rootfs;
  std::set<std::string> extras;
  for (const auto& d : r.dirs) extras.insert(d.path);
  for (const auto& f : r.files) extras.insert(f.path);
  for (const auto& s : r.symlinks) extras.insert(s.path);
  for (const auto& d : r.devices) extras.insert(d.path);
  FsTree base;
  const auto& es = c.tree.entries;
  // Entries are sorted by path, so a directory's descendants follow it; walk
  // backwards to know whether a kept entry lies beneath each directory.
  std::vector<bool> keep(es.size(), false);
  std::set<std::string> kept_parents;
  auto parent_of = [](const std::string& p) {
    size_t slash = p.rfind('/');
    return slash == 0 ? std::string("/") : p.substr(0, slash);
  };
  for (size_t i = es.size(); i-- > 0;) {
    const FsEntry& e = es[i];
    bool needed = e.path == "/" || !extras.count(e.path) ||
                  (e.type == EntryType::kDirectory && kept_parents.count(e.path));
    if (!needed) continue;
    keep[i] = true;
    if (e.path != "/") kept_parents.insert(parent_of(e.path));
  }
  for (size_t i = 0; i < es.size(); ++i)
    if (keep[i]) base.entries.push_back(es[i]);
  return base;
}

class OverlayImageWriter : public OutputWriter {
 public:
  OverlayImageWriter(ImageOptions o, ImageLog* log, std::shared_ptr<StoreSession> s)
      : opts_(std::move(o)), log_(log), session_(std::move(s)) {}
  manifests::RootfsStrategy strategy() const override {
    return manifests::RootfsStrategy::kOverlay;
  }

  Status write(std::span<const ComposedContainer* const> containers, const ComposeContext& ctx,
               ComposeReport* report) override {
    NESTBOX_TRY(check_names(containers));
    std::map<std::string, std::vector<const ComposedContainer*>> groups;
    for (const ComposedContainer* c : containers) {
      const std::string& b = c->manifest->rootfs.base;
      groups[b.empty() ? kAutomaticBase : b].push_back(c);
    }
    for (const auto& [base, list] : groups) {
      if (base.find('/') != std::string::npos)
        return bad_input(list.front()->manifest->file + ": rootfs.base '" + base +
                         "' cannot name an image file");
      for (const ComposedContainer* c : containers)
        if (c->manifest->name == base)
          return bad_input(c->manifest->file + ": container '" + base +
                           "' has the name of an overlay base; a base is installed like a "
                           "container of that name, so the names must differ");
    }
    size_t images = 0;
    for (const auto& [base, list] : groups) images += 1 + list.size();
    auto store = session_->get(ctx.out_dir, images);
    if (!store.ok()) return std::move(store).error();
    auto staging = Staging::create(ctx.out_dir);
    if (!staging.ok()) return std::move(staging).error();

    std::vector<ImageRecord> recs;
    recs.reserve(images);
    DigestQueue digests(&recs);
    std::vector<ComposeReport::Output> outs;
    for (const auto& [base, list] : groups) {
      std::vector<const FsTree*> trees;
      for (const ComposedContainer* c : list) trees.push_back(&c->tree);
      Result<OverlaySplit> split = list.size() == 1
                                       ? split_overlay_with_base(base_of_single(*list[0]), trees)
                                       : split_overlay(trees, 2);
      if (!split.ok()) return std::move(split.error().context("overlay base " + base));
      // Images first: the base (its digest pins it in every layer's policy).
      ImageRecord b;
      b.kind = ImageRecord::Kind::kBase;
      b.name = base;
      b.path = OutputLayout(ctx.out_dir).base(base);
      for (const ComposedContainer* c : list) b.containers.push_back(c->manifest->name);
      SquashOptions bo = options_for(opts_, *list.front()->manifest);
      bo.sync = false;  // digests.start syncs it
      bo.progress_name = "base " + base;
      b.compressor = bo.compressor.name;
      b.block_size = bo.block_size;
      std::string btmp = staging->add(b.path);
      auto bst = write_squashfs(split->base, btmp, bo, *store);
      if (!bst.ok()) return std::move(bst.error().context("overlay base " + base + ": image " + b.path));
      b.stats = *bst;
      outs.push_back(output_of(base, "overlay-base", b.path, split->base));
      recs.push_back(std::move(b));
      NESTBOX_TRY(digests.start(recs.size() - 1, btmp));
      for (size_t i = 0; i < list.size(); ++i) {
        const auto& m = *list[i]->manifest;
        ImageRecord r;
        r.kind = ImageRecord::Kind::kLayer;
        r.name = m.name;
        r.base = base;
        r.path = OutputLayout(ctx.out_dir).layer(m.name);
        SquashOptions o = options_for(opts_, m);
        o.sync = false;  // digests.start syncs it
        r.compressor = o.compressor.name;
        r.block_size = o.block_size;
        std::string tmp = staging->add(r.path);
        auto st = write_squashfs(split->layers[i], tmp, o, *store);
        if (!st.ok()) return std::move(st.error().context(m.name + ": layer " + r.path));
        r.stats = *st;
        outs.push_back(output_of(m.name, manifests::to_string(strategy()), r.path, split->layers[i]));
        recs.push_back(std::move(r));
        NESTBOX_TRY(digests.start(recs.size() - 1, tmp));
      }
    }
    NESTBOX_TRY(digests.wait());
    NESTBOX_TRY(staging->install(ctx.commit));
    for (auto& o : outs) report->outputs.push_back(std::move(o));
    for (auto& r : recs) log_->images.push_back(std::move(r));
    if (session_->active()) log_->store = session_->active()->stats();
    return ok_status();
  }

 private:
  ImageOptions opts_;
  ImageLog* log_;
  std::shared_ptr<StoreSession> session_;
};

}  // namespace

const ImageRecord* ImageLog::base_of(const std::string& container) const {
  for (const auto& r : images)
    if (r.kind == ImageRecord::Kind::kLayer && r.name == container)
      for (const auto& b : images)
        if (b.kind == ImageRecord::Kind::kBase && b.name == r.base) return &b;
  return nullptr;
}

std::vector<std::unique_ptr<OutputWriter>> image_writers(const ImageOptions& options,
                                                         ImageLog* log) {
  auto session = std::make_shared<StoreSession>(options.cache_dir);
  std::vector<std::unique_ptr<OutputWriter>> w;
  w.push_back(std::make_unique<SquashfsImageWriter>(options, log, session));
  w.push_back(std::make_unique<OverlayImageWriter>(options, log, session));
  return w;
}

Result<MeasuredFlash> measure_flash(std::span<const ComposedContainer> containers,
                                    const std::string& scratch, const ImageOptions& options) {
  if (containers.empty()) return bad_input("measure: no containers");
  std::error_code ec;
  fs::create_directories(scratch, ec);
  if (ec) return failure("create " + scratch + ": " + ec.message());
  auto store = BlockStore::open_for_one_run(scratch);
  if (!store.ok()) return std::move(store).error();
  MeasuredFlash m;
  auto write_one = [&](const FsTree& t, const manifests::Manifest& man, const std::string& file,
                       const std::string& label) -> Result<uint64_t> {
    SquashOptions o = options_for(options, man);
    o.sync = false;  // scratch images: measured, then removed
    o.progress_name = label;
    auto st = write_squashfs(t, scratch + "/" + file, o, &*store);
    if (!st.ok()) return std::move(st).error();
    return st->image_size;
  };
  for (size_t i = 0; i < containers.size(); ++i) {
    const auto& c = containers[i];
    std::string file = "squashfs-" + std::to_string(i) + ".sqfs";
    auto n = write_one(c.tree, *c.manifest, file, c.manifest->name + " (squashfs)");
    if (!n.ok()) return std::move(n).error();
    m.squashfs_bytes += *n;
    m.squashfs_images.push_back(scratch + "/" + file);
    m.squashfs_image_bytes.push_back(*n);
  }
  std::vector<const FsTree*> trees;
  for (const auto& c : containers) trees.push_back(&c.tree);
  auto split = containers.size() == 1 ? split_overlay_with_base(base_of_single(containers[0]), trees)
                                      : split_overlay(trees, 2);
  if (!split.ok()) return std::move(split).error();
  auto b = write_one(split->base, *containers[0].manifest, "base.sqfs", "base (overlay)");
  if (!b.ok()) return std::move(b).error();
  m.base_bytes = m.overlay_bytes = *b;
  m.base_image = scratch + "/base.sqfs";
  for (size_t i = 0; i < containers.size(); ++i) {
    std::string file = "layer-" + std::to_string(i) + ".sqfs";
    auto n = write_one(split->layers[i], *containers[i].manifest, file,
                       containers[i].manifest->name + " (overlay layer)");
    if (!n.ok()) return std::move(n).error();
    m.overlay_bytes += *n;
    m.layer_images.push_back(scratch + "/" + file);
    m.layer_image_bytes.push_back(*n);
  }
  return m;
}

Result<std::string> padded_sha256(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return sys_error("open " + path);
  crypto::Sha256 md;
  std::vector<unsigned char> buf(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return sys_error("read " + path);
    }
    if (n == 0) break;
    md.update(buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  if (uint64_t rest = total % 4096; rest != 0) {
    std::vector<unsigned char> zeros(4096 - rest, 0);
    md.update(zeros.data(), zeros.size());
  }
  std::string out = md.finish();
  if (!md.ok() || out.size() != 32) return failure("sha256 of " + path + ": the crypto backend failed");
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : out) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}

}  // namespace nestbox::composer::squashfs
