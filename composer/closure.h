// ELF dependency closure inside a target root: what the dynamic loader of the
// *target* would load for a set of programs. The interpreter (PT_INTERP), the
// DT_NEEDED libraries searched in DT_RPATH (object, then the executable, when
// no DT_RUNPATH), DT_RUNPATH, /etc/ld.so.conf (+ includes), the interpreter's
// directory and the default directories (/lib64, /usr/lib64 for 64-bit; /lib,
// /usr/lib), with $ORIGIN expanded. Symlinks are followed inside the root.
// Libraries are taken only when compatible (class, byte order, machine, ABI).
#pragma once

#include <string>
#include <vector>

#include "composer/root_view.h"
#include "util/result.h"

namespace nestbox::composer {

struct ClosureObject {
  std::string path;       // where it was found (as lddtree prints it)
  std::string real_path;  // after following symlinks
  std::vector<std::string> symlinks;  // symlinks traversed to reach it
  std::string needed_by;  // "" for a root, the parent object's path otherwise
  std::string name;       // the DT_NEEDED name, "interpreter", or "" for a root
  std::string via;        // "root", "interp", "rpath", "runpath", "ld.so.conf", "default"
  std::vector<std::string> needed;  // its own DT_NEEDED
};

struct Closure {
  std::vector<ClosureObject> objects;  // discovery order: root, its interp, its libs...
  // Every path to install in a container so the closure works: found paths,
  // symlinks traversed and real files. Sorted, unique.
  std::vector<std::string> install_paths;
  // Found paths, unique, discovery order (what `nestbox closure` prints).
  std::vector<std::string> listed_paths;
};

// The library directories from /etc/ld.so.conf of the root, includes
// expanded (sorted glob matches), in order, without duplicates.
Result<std::vector<std::string>> load_ld_so_conf(const RootView& root);

// Computes the closure of `programs` (absolute paths inside the root).
// Non-ELF programs starting with "#!" contribute their interpreter. An
// unresolved library is a kBadInput error naming the binary and the soname.
Result<Closure> compute_closure(const RootView& root, const std::vector<std::string>& programs);

}  // namespace nestbox::composer
