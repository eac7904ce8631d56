#include "composer/select.h"

#include <fnmatch.h>

#include <cstdlib>
#include <map>
#include <set>
#include <utility>
#include <vector>

#include "composer/closure.h"
#include "composer/elf.h"
#include "composer/root_view.h"
#include "composer/path.h"
#include "policy/arch.h"

namespace nestbox::composer {
namespace {

// Whether `pat` matches `path` component by component, "**" standing for any
// number of components. The plain recursion retried every split at each "**"
// and was exponential in their count (a dozen over a deep tree hung compose);
// this fills the table of which pattern suffix matches which path suffix, one
// row per pattern component: O(|pat| x |path|) fnmatch calls at most.
bool match_parts(const std::vector<std::string>& pat, const std::vector<std::string>& path) {
  const size_t n = path.size();
  // next[j]: pat[i+1..] matches path[j..]; row i is built from it.
  std::vector<char> next(n + 1, 0), row(n + 1, 0);
  next[n] = 1;  // the empty pattern matches the empty rest
  for (size_t i = pat.size(); i-- > 0;) {
    if (pat[i] == "**") {
      row[n] = next[n];
      for (size_t j = n; j-- > 0;) row[j] = next[j] || row[j + 1];
    } else {
      row[n] = 0;
      for (size_t j = 0; j < n; ++j)
        row[j] = next[j + 1] && fnmatch(pat[i].c_str(), path[j].c_str(), 0) == 0;
    }
    std::swap(row, next);
  }
  return next[0];
}

// Adds `path` and, for a directory, everything beneath it.
void add_subtree(const std::map<std::string, FsEntry>& all, const std::string& path,
                 std::set<std::string>* out) {
  out->insert(path);
  std::string prefix = path == "/" ? "/" : path + "/";
  for (auto it = all.lower_bound(prefix);
       it != all.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    out->insert(it->first);
}

// A binary built for another architecture than the manifest's is an error.
Status check_arch(const RootView& view, const manifests::Manifest& m) {
  // ELF machine and byte order from the one architecture table.
  const policy::ArchInfo& arch = policy::kArches[static_cast<size_t>(m.arch)];
  uint16_t machine = policy::elf_machine(arch);
  bool big = arch.big_endian;
  for (const auto& b : m.rootfs.binaries) {
    auto r = resolve_in_root(view, normalize_clamped(b));
    if (!r.ok() || r->kind != NodeKind::kRegular) continue;  // the closure reports it
    auto map = view.map(r->path);
    if (!map.ok() || !is_elf(map->bytes())) continue;
    auto e = parse_elf(map->bytes(), b);
    if (!e.ok()) return std::move(e.error().context(m.name + ": rootfs.binaries"));
    if (e->machine != machine || e->big_endian != big)
      return bad_input(m.name + ": rootfs.binaries: " + b + " is ELF machine " +
                       std::to_string(e->machine) + (e->big_endian ? " big-endian" : "") +
                       ", not the manifest's arch " + manifests::to_string(m.arch));
  }
  return ok_status();
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& path) {
  return match_parts(split_components(pattern), split_components(path));
}

std::optional<uint32_t> map_id(const std::vector<manifests::IdMapRange>& map, uint32_t id) {
  for (const auto& r : map)
    if (id >= r.inside && id - r.inside < r.count) return r.outside + (id - r.inside);
  return std::nullopt;
}

Result<FsTree> select_tree(const SourceTree& src, const manifests::Manifest& m,
                           const SelectOptions& opts) {
  const auto& all = src.entries();
  const auto& r = m.rootfs;
  std::set<std::string> chosen;
  // Why each path was taken (only with opts.explain): the first reason wins.
  std::map<std::string, std::string> why;
  auto because = [&](const std::set<std::string>& paths, const std::string& top, const std::string& reason) {
    if (!opts.explain) return;
    for (const auto& p : paths)
      why.emplace(p, p == top ? reason : "inside " + top + ", which " + reason);
  };
  if (r.include.empty() && r.binaries.empty()) {
    for (const auto& [p, e] : all) chosen.insert(p);
    if (opts.explain)
      for (const auto& p : chosen) why.emplace(p, "no rootfs.include or rootfs.binaries (everything)");
  } else {
    for (const auto& [p, e] : all)
      for (const auto& g : r.include)
        if (glob_match(g, p)) {
          std::set<std::string> sub;
          add_subtree(all, p, &sub);
          chosen.insert(sub.begin(), sub.end());
          because(sub, p, "matches rootfs.include \"" + g + "\"");
          break;
        }
  }
  if (!r.exclude.empty()) {
    std::set<std::string> removed;
    for (const auto& p : chosen)
      for (const auto& g : r.exclude)
        if (glob_match(g, p)) {
          std::set<std::string> sub;
          add_subtree(all, p, &sub);
          removed.insert(sub.begin(), sub.end());
          if (opts.explain)
            for (const auto& q : sub) opts.explain(q, "left out: rootfs.exclude \"" + g + "\"");
          break;
        }
    for (const auto& p : removed) chosen.erase(p), why.erase(p);
  }
  if (!r.binaries.empty()) {
    auto view = src.view();
    NESTBOX_TRY(check_arch(*view, m));
    auto c = compute_closure(*view, r.binaries);
    if (!c.ok()) return std::move(c.error().context(m.name + ": rootfs.binaries"));
    chosen.insert(c->install_paths.begin(), c->install_paths.end());
    if (opts.explain) {
      // ClosureObject::via in words.
      auto where = [](const std::string& via) -> std::string {
        if (via == "interp") return "the interpreter's directory";
        if (via == "rpath") return "DT_RPATH";
        if (via == "runpath") return "DT_RUNPATH";
        if (via == "default") return "the default directories";
        return via;  // "ld.so.conf"
      };
      for (const ClosureObject& o : c->objects) {
        std::string reason = o.via == "root" ? "listed in rootfs.binaries"
                             : o.name == "interpreter" ? "ELF closure: the interpreter of " + o.needed_by
                                                 : "ELF closure: " + o.name + " needed by " + o.needed_by +
                                                       " (found in " + where(o.via) + ")";
        why.emplace(o.path, reason);
        why.emplace(o.real_path, reason);
        for (const auto& l : o.symlinks) why.emplace(l, reason + ", a symlink on the way");
      }
      for (const auto& p : c->install_paths) why.emplace(p, "ELF closure of rootfs.binaries");
    }
  }
  for (const auto& p : src.forced()) {
    std::set<std::string> sub;
    add_subtree(all, p, &sub);
    chosen.insert(sub.begin(), sub.end());
    because(sub, p,
            "made by the manifest: its [[rootfs.dir]], .file, .symlink, .device, or a mount point its policy "
            "needs");
  }
  // Parents of everything chosen.
  std::set<std::string> parents;
  for (const auto& p : chosen)
    for (std::string d = parent_of(p); parents.insert(d).second && d != "/"; d = parent_of(d)) {}
  chosen.insert(parents.begin(), parents.end());
  chosen.insert("/");
  if (opts.explain)
    for (const auto& p : chosen) {
      auto it = why.emplace(p, "a parent directory of what was taken").first;
      if (all.count(p)) opts.explain(p, "taken: " + it->second);
    }

  FsTree tree;
  tree.entries.reserve(chosen.size());
  for (const auto& p : chosen) {
    auto it = all.find(p);
    if (it == all.end()) continue;  // closure paths are always in the tree; be safe
    auto bad = src.violations().find(p);
    if (bad != src.violations().end()) return bad_input(bad->second);
    FsEntry e = it->second;
    // An image stores only these xattr namespaces, and the image writer
    // refuses any other: a trusted staging file with an ACL
    // (system.posix_acl_access) passed validate, which selects but writes
    // nothing, and then failed compose. Refused here, as the writer words it.
    if (m.rootfs.strategy == manifests::RootfsStrategy::kSquashfs ||
        m.rootfs.strategy == manifests::RootfsStrategy::kOverlay)
      for (const Xattr& x : e.xattrs)
        if (x.name.rfind("user.", 0) != 0 && x.name.rfind("trusted.", 0) != 0 && x.name.rfind("security.", 0) != 0)
          return bad_input(m.name + ": " + p + ": xattr '" + x.name +
                           "': squashfs stores only user.*, trusted.* and security.* names");
    // Clamped to SOURCE_DATE_EPOCH; what the manifest made (no source gave
    // it a time) gets SOURCE_DATE_EPOCH itself, not 1970.
    if (opts.source_date_epoch && (opts.all_time || e.mtime > *opts.source_date_epoch || src.made(p)))
      e.mtime = *opts.source_date_epoch;
    if (m.users.shift_ownership) {
      auto uid = map_id(m.users.uid_map, e.uid);
      auto gid = map_id(m.users.gid_map, e.gid);
      if (!uid || !gid)
        return bad_input(m.name + ": " + p + ": owner " + std::to_string(e.uid) + ":" +
                         std::to_string(e.gid) + " is not mapped by users.uid_map/gid_map");
      e.uid = *uid, e.gid = *gid;
    }
    tree.entries.push_back(std::move(e));
  }
  return tree;
}

}  // namespace nestbox::composer
