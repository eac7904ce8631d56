// Progress of a long command on a terminal: one line on stderr per output
// (container or base), redrawn in place as its files are compressed
//   web: [##########..........]  1234/2468 entries, 12.3/24.6 MiB
// and ended with a newline when the output is complete. Drawn only when
// stderr is a terminal and -q was not given: logs and CI get the summary
// lines the commands print instead, never carriage returns.
#pragma once

#include <chrono>
#include <string>

#include "composer/progress.h"

namespace nestbox::cli {

class ProgressLine {
 public:
  // `enabled`: the caller's decision (use wanted() for the usual one).
  explicit ProgressLine(bool enabled) : enabled_(enabled) {}
  ~ProgressLine();
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // stderr is a terminal and the command is not quiet.
  static bool wanted(bool quiet);

  // The function to hand to the library (composer::ProgressFn); null when
  // disabled, so the library skips its bookkeeping.
  composer::ProgressFn callback();

  void update(const composer::Progress& p);

 private:
  bool enabled_;
  bool open_ = false;  // a line is drawn and not yet ended
  std::string output_;
  std::chrono::steady_clock::time_point last_{};
};

// "[####......]  12/34 entries, 1.2/3.4 MiB"; without entries (entries_total
// 0, an output made of one file) "[####......]  1.2/3.4 MiB". Exposed for the test.
std::string progress_text(const composer::Progress& p, int bar_width = 20);

}  // namespace nestbox::cli
