#include "composer/compose.h"

#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>

#include <filesystem>
#include <algorithm>
#include <map>
#include <optional>
#include <type_traits>

#include "composer/output_commit.h"
#include "composer/parallel_for.h"
#include "composer/path.h"
#include "composer/select.h"
#include "composer/source_tree.h"
#include "util/temp_path.h"

namespace nestbox::composer {

namespace fs = std::filesystem;

Result<ComposedContainer> prepare_container(const manifests::Manifest& m,
                                            const std::string& scratch,
                                            std::optional<int64_t> source_date_epoch,
                                            std::vector<std::string>* notes,
                                            const std::string& hardlink_dir,
                                            const std::function<void(const std::string&)>& explain,
                                            bool all_time,
                                            std::optional<size_t>* failed_source) {
  std::error_code ec;
  fs::create_directories(scratch, ec);
  if (ec) return failure("create " + scratch + ": " + ec.message());
  SourceTree src(scratch);
  if (!hardlink_dir.empty()) src.exclude(hardlink_dir);
  NESTBOX_TRY_CTX(src.add_manifest(m, failed_source), m.file.empty() ? m.name : m.file);
  SelectOptions so;
  so.source_date_epoch = source_date_epoch;
  so.all_time = all_time;
  if (explain)
    so.explain = [&](const std::string& path, const std::string& why) { explain(m.name + ": " + path + ": " + why); };
  auto tree = select_tree(src, m, so);
  if (!tree.ok()) return std::move(tree).error();
  ComposedContainer c;
  c.manifest = &m;
  c.strategy = m.rootfs.strategy;
  c.tree = std::move(*tree);
  for (const auto& s : m.rootfs.sources) {
    if (s.kind != manifests::SourceKind::kDirectory) continue;
    std::string p = s.path[0] == '/' || m.dir.empty() ? s.path : m.dir + "/" + s.path;
    char* real = realpath(p.c_str(), nullptr);
    c.staging_dir = real ? real : p;
    free(real);
    break;
  }
  for (const auto& [path, n] : src.notes()) {
    bool selected = std::binary_search(
        c.tree.entries.begin(), c.tree.entries.end(), path,
        [](const auto& a, const auto& b) {
          auto key = [](const auto& x) -> const std::string& {
            if constexpr (std::is_same_v<std::decay_t<decltype(x)>, FsEntry>) return x.path;
            else return x;
          };
          return key(a) < key(b);
        });
    if (selected) notes->push_back(m.name + ": " + n);
  }
  return c;
}

Status check_outside_directory_sources(const std::vector<manifests::Manifest>& manifests, const std::string& dir,
                                       const std::string& what) {
  std::error_code ec;
  fs::path out = fs::weakly_canonical(fs::absolute(dir), ec);
  if (ec) return failure("resolve " + dir + ": " + ec.message());
  for (const auto& m : manifests)
    for (const auto& s : m.rootfs.sources) {
      if (s.kind != manifests::SourceKind::kDirectory) continue;
      std::string p = s.path[0] == '/' || m.dir.empty() ? s.path : m.dir + "/" + s.path;
      fs::path src = fs::weakly_canonical(fs::absolute(p), ec);
      if (ec) continue;  // the walk names the error
      if (out == src || path_within(out.string(), src.string()))
        return bad_input(std::string(m.file.empty() ? m.name : m.file) + ": " + what + " " + dir +
                         " lies inside the directory source " + p + ", which would read it back; expected " +
                         (what == "output directory" ? "an " : "a ") + what + " outside every directory source");
    }
  return ok_status();
}

Result<ComposeReport> compose(const std::vector<manifests::Manifest>& manifests,
                              const ComposeOptions& opts,
                              std::span<OutputWriter* const> writers) {
  NESTBOX_TRY(check_outside_directory_sources(manifests, opts.out_dir, "output directory"));
  NESTBOX_TRY(refuse_symlinked_output_dir(opts.out_dir, "compose"));
  std::error_code ec;
  fs::create_directories(opts.out_dir, ec);
  if (ec) return failure("create " + opts.out_dir + ": " + ec.message());
  // An interrupted commit is completed first (its journal names the
  // outputs); other leftovers of an interrupted run are removed: outputs
  // were never touched.
  NESTBOX_TRY(OutputCommit::recover(opts.out_dir));
  for (const auto& e : fs::directory_iterator(opts.out_dir, ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(".nestbox-", 0) == 0) fs::remove_all(e.path(), ec);
  }
  TempDir scratch(opts.out_dir + "/.nestbox-work-" + std::to_string(getpid()));
  ComposeReport report;
  // Containers are selected side by side (source walks, package extraction
  // and ELF closures are independent of each other); results, notes and the
  // first error keep the manifests' order. -v explains one container after
  // another, so it selects them one at a time.
  std::vector<std::optional<Result<ComposedContainer>>> prepared(manifests.size());
  std::vector<std::vector<std::string>> notes(manifests.size());
  const unsigned workers = opts.explain ? 1 : worker_count(opts.threads, manifests.size());
  parallel_for(manifests.size(), workers, [&](size_t i, unsigned) {
    const auto& m = manifests[i];
    // One scratch directory per manifest, numbered: two containers side by
    // side never extract into the same place, even under one name.
    prepared[i] = prepare_container(m, scratch.path() + "/" + std::to_string(i) + "-" + m.name,
                                    opts.source_date_epoch,
                                    &notes[i], opts.hardlink_dir, opts.explain, opts.all_time);
  });
  std::vector<ComposedContainer> containers;
  for (size_t i = 0; i < manifests.size(); ++i) {
    Result<ComposedContainer>& c = *prepared[i];
    if (!c.ok()) return std::move(c).error();
    if (opts.force_strategy) c->strategy = *opts.force_strategy;
    containers.push_back(std::move(*c));
    for (auto& n : notes[i]) report.notes.push_back(std::move(n));
  }
  std::vector<FsTree*> trees;
  for (auto& c : containers) trees.push_back(&c.tree);
  auto index = ContentIndex::build(trees, opts.threads);
  if (!index.ok()) return std::move(index).error();
  report.distinct_contents = index->distinct_contents();
  report.bytes_hashed = index->bytes_hashed();

  OutputCommit own_commit(opts.out_dir);
  ComposeContext ctx;
  ctx.commit = opts.commit ? opts.commit : &own_commit;
  ctx.out_dir = opts.out_dir;
  ctx.hardlink_dir = opts.hardlink_dir;
  ctx.root_owned = opts.root_owned;
  ctx.index = &*index;
  ctx.progress = opts.progress;
  std::map<manifests::RootfsStrategy, std::vector<const ComposedContainer*>> by_strategy;
  for (const auto& c : containers) by_strategy[c.strategy].push_back(&c);
  for (const auto& [strategy, list] : by_strategy) {
    OutputWriter* w = nullptr;
    for (OutputWriter* cand : writers)
      if (cand->strategy() == strategy) w = cand;
    if (!w)
      return failure(std::string("no output writer for rootfs strategy '") +
                     manifests::to_string(strategy) + "' in this build (container " +
                     list.front()->manifest->name + ")");
  }
  for (const auto& [strategy, list] : by_strategy)
    for (OutputWriter* w : writers)
      if (w->strategy() == strategy) {
        NESTBOX_TRY(w->write(list, ctx, &report));
        break;
      }
  if (!opts.commit) NESTBOX_TRY(own_commit.commit());
  return report;
}

}  // namespace nestbox::composer
