// How far one output of a long build is (an image being compressed), for the
// people watching it: the library reports, the front end draws (cli/progress_line.h).
// Called from the writing thread, after each file's data is added, and once
// more with done == total when the output is complete.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace nestbox::composer {

struct Progress {
  std::string output;  // the container (or overlay base) the output is for
  uint64_t entries_done = 0, entries_total = 0;
  uint64_t bytes_done = 0, bytes_total = 0;  // regular files' data
};

using ProgressFn = std::function<void(const Progress&)>;

}  // namespace nestbox::composer
