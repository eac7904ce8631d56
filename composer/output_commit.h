// Puts every output of one `nestbox compose` run into place together, last.
// Writers build each output (image, layer, base, tree, runtime directory)
// under a temporary name and hand it over with adopt(); nothing reaches its
// final path until commit(), which runs only when every container and every
// step succeeded. A refused or failed run therefore leaves the previous
// outputs whole: never a new NAME.sqfs beside an old runtime/NAME/policy.bin.
//
// Crash safety, as far as rename(2) allows: commit() first writes and fsyncs
// a journal (<out>/.nestbox-commit) naming every (temporary, final) pair, then
// renames, then removes the journal. A crash mid-commit leaves the journal;
// recover() (run by the next compose, and checked by `sign --composed`)
// completes the renames, so the set on disk is either all old or all new
// once recovered. What remains: between the crash and recovery, the outputs
// on disk may mix old and new; `sign --composed` refuses while a journal is
// present.
//
// Nothing is written outside the output directory: every final place's
// parent directories below it are opened one component at a time without
// following a symlink (all of them before the journal, so a planted symlink
// refuses the run with nothing moved), and recover() moves and removes only
// what lies inside it that way (a journal naming a staging-rootfs tree is
// refused: compose again).
//
// Call order: OutputCommit(out) -> adopt()... -> commit(); the destructor
// removes whatever was adopted but not committed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "util/fd.h"
#include "util/result.h"
#include "util/temp_path.h"

namespace nestbox::composer {

inline constexpr const char* kCommitJournal = ".nestbox-commit";

class OutputCommit {
 public:
  explicit OutputCommit(std::string out_dir);
  ~OutputCommit();
  OutputCommit(const OutputCommit&) = delete;
  OutputCommit& operator=(const OutputCommit&) = delete;

  // Takes over `tmp` (a finished file or directory) to be installed at
  // `final_path`. It is moved into this run's holding directory when it is on
  // the output's file system, so the writer's own temporary directories may
  // be removed; otherwise it stays where it is until commit or abort.
  Status adopt(const std::string& tmp, const std::string& final_path);

  // Like adopt(), for an output whose final place is `name` inside the
  // directory `dir` (resolved once, e.g. inside a staging rootfs): installed
  // with renameat2 relative to that fd, never by re-resolving a path string,
  // so a symlink swapped into the path meanwhile cannot redirect it.
  // `final_display` is the host path for messages and the journal.
  Status adopt_at(const std::string& tmp, std::shared_ptr<UniqueFd> dir, const std::string& name,
                  const std::string& final_display);

  // A fresh directory inside the holding directory, for outputs written
  // directly aside (runtime forms).
  Result<std::string> scratch_dir(const std::string& label);

  // Journal, rename every adopted output into place, fsync, drop the journal,
  // remove the previous versions of replaced directories.
  Status commit();

  // Completes an interrupted commit of `out_dir` (a journal left behind).
  static Status recover(const std::string& out_dir);
  static bool interrupted(const std::string& out_dir);

 private:
  struct Move {
    std::string tmp, final_path;
    std::shared_ptr<UniqueFd> dir;  // set: final place is `name` in *dir
    std::string name;
  };
  Status ensure_holding();

  std::string out_dir_;
  TempDir holding_;  // this run's holding directory, removed with its owner
  std::vector<Move> moves_;
  bool committed_ = false;
};

// The output directory a tool was given (`compose --out`, `sign --composed
// -o`) may not itself be a symlink (a third party's tree unpacked with
// `out -> /etc`): everything below it is written by name. `tool` words the
// error ("compose"). Nothing there yet is fine.
Status refuse_symlinked_output_dir(const std::string& dir, const std::string& tool);

}  // namespace nestbox::composer
