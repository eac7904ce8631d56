#include "composer/closure.h"

#include <fnmatch.h>

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <cstring>

#include "composer/elf.h"
#include "composer/path.h"

namespace nestbox::composer {
namespace {

void push_unique(std::vector<std::string>* v, const std::string& s) {
  if (std::find(v->begin(), v->end(), s) == v->end()) v->push_back(s);
}

std::string trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

Result<std::string> read_text(const RootView& root, const std::string& path, bool* found) {
  auto r = resolve_in_root(root, path);
  if (!r.ok()) return std::move(r).error();
  *found = r->kind == NodeKind::kRegular;
  if (!*found) return std::string();
  auto m = root.map(r->path);
  if (!m.ok()) return std::move(m).error();
  auto b = m->bytes();
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Expands a glob (wildcards in any component) inside the root, sorted.
Result<std::vector<std::string>> glob_in_root(const RootView& root, const std::string& pattern) {
  std::vector<std::string> current = {"/"};
  for (const auto& comp : split_components(pattern)) {
    std::vector<std::string> next;
    bool wild = comp.find_first_of("*?[") != std::string::npos;
    for (const auto& dir : current) {
      auto r = resolve_in_root(root, dir);
      if (!r.ok()) return std::move(r).error();
      if (r->kind != NodeKind::kDirectory) continue;
      std::string base = dir == "/" ? "" : dir;
      if (!wild) {
        next.push_back(base + "/" + comp);
        continue;
      }
      auto names = root.list(r->path);
      if (!names.ok()) return std::move(names).error();
      for (const auto& n : *names)
        if (fnmatch(comp.c_str(), n.c_str(), FNM_PERIOD) == 0) next.push_back(base + "/" + n);
    }
    current = std::move(next);
  }
  std::sort(current.begin(), current.end());
  return current;
}

// An ld.so.conf and what it includes, read from an untrusted root. The depth
// limit alone let a few files fan out (60 files each including 4 more: 4^15
// parses), so each file is read once, which changes nothing in the result
// (directories are kept once, in first-seen order), and there is a cap.
constexpr size_t kMaxConfFiles = 256;

struct ConfWalk {
  std::set<std::string> seen;  // resolved paths already parsed
  std::vector<std::string> dirs;
};

Status parse_conf(const RootView& root, const std::string& file, int depth, ConfWalk* walk) {
  if (depth > 16) return bad_input(file + ": include nesting too deep");
  auto resolved = resolve_in_root(root, file);
  if (!resolved.ok()) return std::move(resolved).error();
  if (resolved->kind != NodeKind::kRegular || !walk->seen.insert(resolved->path).second) return ok_status();
  if (walk->seen.size() > kMaxConfFiles)
    return bad_input(file + ": ld.so.conf and its includes are more than " + std::to_string(kMaxConfFiles) +
                     " files; expected fewer");
  bool found = false;
  auto text = read_text(root, resolved->path, &found);
  if (!text.ok()) return std::move(text).error();
  if (!found) return ok_status();
  std::vector<std::string>* out = &walk->dirs;
  size_t pos = 0;
  while (pos < text->size()) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) nl = text->size();
    std::string line = text->substr(pos, nl - pos);
    pos = nl + 1;
    line = trim(line.substr(0, line.find('#')));
    if (line.empty()) continue;
    if (line.rfind("include", 0) == 0 && line.size() > 7 && (line[7] == ' ' || line[7] == '\t')) {
      std::string pat = trim(line.substr(8));
      if (pat.empty()) continue;
      if (pat[0] != '/') pat = parent_of(file) + "/" + pat;
      auto files = glob_in_root(root, pat);
      if (!files.ok()) return std::move(files).error();
      for (const auto& f : *files) NESTBOX_TRY(parse_conf(root, f, depth + 1, walk));
      continue;
    }
    if (line.rfind("hwcap", 0) == 0) continue;
    if (line[0] != '/') continue;
    push_unique(out, normalize_clamped(line));
  }
  return ok_status();
}

// Memoises lstat answers: a closure looks at the same directories and
// symlinks again and again (every soname tried in every search directory).
class CachingView : public RootView {
 public:
  explicit CachingView(const RootView& inner) : inner_(inner) {}
  Result<NodeInfo> lstat(const std::string& path) const override {
    auto it = cache_.find(path);
    if (it != cache_.end()) return it->second;
    auto r = inner_.lstat(path);
    if (r.ok()) cache_.emplace(path, *r);
    return r;
  }
  Result<MappedFile> map(const std::string& path) const override { return inner_.map(path); }
  Result<std::vector<std::string>> list(const std::string& path) const override {
    return inner_.list(path);
  }

 private:
  const RootView& inner_;
  mutable std::map<std::string, NodeInfo> cache_;
};

struct Loaded {
  ElfInfo elf;
  std::string path;
};

class ClosureBuilder {
 public:
  explicit ClosureBuilder(const RootView& root) : cached_(root), root_(cached_) {}

  Status init() {
    auto conf = load_ld_so_conf(root_);
    if (!conf.ok()) return std::move(conf).error();
    conf_ = std::move(*conf);
    return ok_status();
  }

  // Each program is its own process: sonames and RPATHs do not carry over.
  Status add_program(const std::string& program) {
    loaded_.clear();
    main_ = ElfInfo();
    main_path_.clear();
    interp_dirs_.clear();
    auto norm = normalize_member(program, true);
    if (!norm.ok()) return std::move(norm.error().context(program));
    auto r = resolve_in_root(root_, *norm);
    if (!r.ok()) return std::move(r).error();
    if (r->kind != NodeKind::kRegular)
      return bad_input(program + ": not a regular file inside the root");
    auto m = root_.map(r->path);
    if (!m.ok()) return std::move(m).error();
    ClosureObject obj{*norm, r->path, r->symlinks, "", "", "root", {}};
    if (!is_elf(m->bytes())) {
      add_object(obj);
      return add_script_interpreter(*norm, m->bytes());
    }
    auto elf = parse_elf(m->bytes(), *norm);
    if (!elf.ok()) return std::move(elf).error();
    obj.needed = elf->needed;
    add_object(obj);
    main_ = *elf;
    main_path_ = r->path;
    std::vector<std::string> interp_dirs;
    if (!elf->interp.empty()) {
      auto ir = resolve_in_root(root_, normalize_clamped(elf->interp));
      if (!ir.ok()) return std::move(ir).error();
      if (ir->kind != NodeKind::kRegular)
        return bad_input(program + ": interpreter " + elf->interp + " not found in the root");
      add_object({normalize_clamped(elf->interp), ir->path, ir->symlinks, *norm, "interpreter",
                  "interp", {}});
      std::string d = parent_of(ir->path);
      interp_dirs_ = {d};
      if (!path_within(d, "/usr")) interp_dirs_.push_back(normalize_clamped("/usr" + d));
      loaded_.insert({base_of(elf->interp), ir->path});
    }
    return load_needed(*elf, r->path, *norm, program);
  }

  Closure finish() {
    std::sort(out_.install_paths.begin(), out_.install_paths.end());
    out_.install_paths.erase(std::unique(out_.install_paths.begin(), out_.install_paths.end()),
                             out_.install_paths.end());
    return std::move(out_);
  }

 private:
  void add_object(const ClosureObject& o) {
    push_unique(&out_.listed_paths, o.path);
    out_.install_paths.push_back(o.path);
    out_.install_paths.push_back(o.real_path);
    for (const auto& s : o.symlinks) out_.install_paths.push_back(s);
    out_.objects.push_back(o);
  }

  Status add_script_interpreter(const std::string& program, std::span<const uint8_t> b) {
    if (b.size() < 3 || b[0] != '#' || b[1] != '!') return ok_status();
    std::string line(reinterpret_cast<const char*>(b.data()) + 2,
                     std::min<size_t>(b.size() - 2, 256));
    line = trim(line.substr(0, line.find('\n')));
    std::string interp = line.substr(0, line.find_first_of(" \t"));
    if (interp.empty() || interp[0] != '/') return ok_status();
    if (++script_depth_ > 4) return bad_input(program + ": script interpreters nest too deep");
    NESTBOX_TRY_CTX(add_program(interp), program + ": script interpreter");
    return ok_status();
  }

  std::vector<std::string> expand(const std::string& list, const std::string& origin) {
    std::vector<std::string> dirs;
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t c = list.find(':', pos);
      if (c == std::string::npos) c = list.size();
      std::string d = list.substr(pos, c - pos);
      pos = c + 1;
      for (const char* tok : {"$ORIGIN", "${ORIGIN}"}) {
        size_t at;
        while ((at = d.find(tok)) != std::string::npos) d.replace(at, strlen(tok), origin);
      }
      for (const char* tok : {"$LIB", "${LIB}"}) {
        size_t at;
        while ((at = d.find(tok)) != std::string::npos) d.replace(at, strlen(tok), "lib");
      }
      if (d.empty() || d[0] != '/' || d.find('$') != std::string::npos) continue;
      push_unique(&dirs, normalize_clamped(d));
    }
    return dirs;
  }

  using SearchDir = std::pair<std::string, const char*>;

  std::vector<SearchDir> search_dirs(const ElfInfo& elf, const std::string& origin) {
    std::vector<SearchDir> dirs;
    if (!elf.runpath) {
      if (elf.rpath)
        for (auto& d : expand(*elf.rpath, origin)) dirs.push_back({d, "rpath"});
      if (!main_.runpath && main_.rpath)
        for (auto& d : expand(*main_.rpath, parent_of(main_path_))) dirs.push_back({d, "rpath"});
    } else {
      for (auto& d : expand(*elf.runpath, origin)) dirs.push_back({d, "runpath"});
    }
    for (const auto& d : conf_) dirs.push_back({d, "ld.so.conf"});
    for (const auto& d : interp_dirs_) dirs.push_back({d, "interp"});
    if (elf.is64)
      for (const char* d : {"/lib64", "/usr/lib64"}) dirs.push_back({d, "default"});
    for (const char* d : {"/lib", "/usr/lib"}) dirs.push_back({d, "default"});
    return dirs;
  }

  Status load_needed(const ElfInfo& elf, const std::string& real, const std::string& shown,
                     const std::string& program) {
    std::deque<Loaded> queue;
    queue.push_back({elf, real});
    while (!queue.empty()) {
      Loaded cur = std::move(queue.front());
      queue.pop_front();
      std::vector<SearchDir> dirs;
      for (const auto& name : cur.elf.needed) {
        if (loaded_.count(name)) continue;
        if (dirs.empty()) dirs = search_dirs(cur.elf, parent_of(cur.path));
        ClosureObject obj;
        ElfInfo lib;
        auto found = find_library(cur.elf, name, dirs, &obj, &lib);
        if (!found.ok()) return std::move(found).error();
        if (!*found)
          return bad_input(program + ": library " + name + " (needed by " +
                           (cur.path == real ? shown : cur.path) + ") not found in the root");
        obj.needed_by = cur.path == real ? shown : cur.path;
        obj.name = name;
        obj.needed = lib.needed;
        loaded_.insert({name, obj.real_path});
        add_object(obj);
        queue.push_back({std::move(lib), obj.path});
      }
    }
    return ok_status();
  }

  Result<bool> find_library(const ElfInfo& parent, const std::string& name,
                            const std::vector<SearchDir>& dirs, ClosureObject* obj, ElfInfo* lib) {
    std::vector<SearchDir> direct;
    if (name.find('/') != std::string::npos) {
      if (name[0] != '/') return false;
      direct.push_back({parent_of(normalize_clamped(name)), "path"});
    }
    const auto& list = direct.empty() ? dirs : direct;
    std::string leaf = direct.empty() ? name : base_of(name);
    for (const auto& [dir, via] : list) {
      std::string candidate = normalize_clamped(dir + "/" + leaf);
      auto r = resolve_in_root(root_, candidate);
      if (!r.ok()) return std::move(r).error();
      if (r->kind != NodeKind::kRegular) continue;
      const auto& e = elf_at(r->path);
      if (!e || !elf_compatible(parent, *e)) continue;
      *obj = {candidate, r->path, r->symlinks, "", name, via, {}};
      *lib = *e;
      return true;
    }
    return false;
  }

  // Parsed ELF headers by real path (nullopt: not a usable ELF file).
  const std::optional<ElfInfo>& elf_at(const std::string& real) {
    auto it = elf_cache_.find(real);
    if (it != elf_cache_.end()) return it->second;
    std::optional<ElfInfo> info;
    auto m = root_.map(real);
    if (m.ok() && is_elf(m->bytes())) {
      auto e = parse_elf(m->bytes(), real);
      if (e.ok()) info = std::move(*e);
    }
    return elf_cache_.emplace(real, std::move(info)).first->second;
  }

  CachingView cached_;
  const RootView& root_;
  std::map<std::string, std::optional<ElfInfo>> elf_cache_;
  std::vector<std::string> conf_;
  std::vector<std::string> interp_dirs_;
  std::map<std::string, std::string> loaded_;
  ElfInfo main_;
  std::string main_path_;
  int script_depth_ = 0;
  Closure out_;
};

}  // namespace

Result<std::vector<std::string>> load_ld_so_conf(const RootView& root) {
  ConfWalk walk;
  NESTBOX_TRY(parse_conf(root, "/etc/ld.so.conf", 0, &walk));
  return std::move(walk.dirs);
}

Result<Closure> compute_closure(const RootView& root, const std::vector<std::string>& programs) {
  ClosureBuilder b(root);
  NESTBOX_TRY(b.init());
  for (const auto& p : programs) NESTBOX_TRY(b.add_program(p));
  return b.finish();
}

}  // namespace nestbox::composer
