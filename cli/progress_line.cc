#include "cli/progress_line.h"

#include <unistd.h>

#include <cstdio>

namespace nestbox::cli {
namespace {

std::string mib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

std::string progress_text(const composer::Progress& p, int bar_width) {
  // The bar follows bytes (compression time goes with them), entries when
  // there are no file bytes at all.
  double done = p.bytes_total ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
                : p.entries_total ? static_cast<double>(p.entries_done) / static_cast<double>(p.entries_total)
                                  : 1.0;
  int filled = static_cast<int>(done * bar_width + 0.5);
  if (filled > bar_width) filled = bar_width;
  std::string bar = "[" + std::string(static_cast<size_t>(filled), '#') +
                    std::string(static_cast<size_t>(bar_width - filled), '.') + "]";
  std::string entries = p.entries_total
                            ? std::to_string(p.entries_done) + "/" + std::to_string(p.entries_total) + " entries, "
                            : "";  // an output that is one file (sign)
  return bar + "  " + entries + mib(p.bytes_done) + "/" + mib(p.bytes_total) + " MiB";
}

bool ProgressLine::wanted(bool quiet) { return !quiet && ::isatty(STDERR_FILENO) == 1; }

composer::ProgressFn ProgressLine::callback() {
  if (!enabled_) return nullptr;
  return [this](const composer::Progress& p) { update(p); };
}

void ProgressLine::update(const composer::Progress& p) {
  if (!enabled_) return;
  bool complete = p.entries_done >= p.entries_total && p.bytes_done >= p.bytes_total;
  auto now = std::chrono::steady_clock::now();
  // Redrawn at most ten times a second, but always the first and last time.
  if (open_ && p.output == output_ && !complete && now - last_ < std::chrono::milliseconds(100)) return;
  if (open_ && p.output != output_) std::fputc('\n', stderr);
  last_ = now;
  output_ = p.output;
  std::fprintf(stderr, "\r\033[K%s: %s", p.output.c_str(), progress_text(p).c_str());
  open_ = !complete;
  if (complete) std::fputc('\n', stderr);
  std::fflush(stderr);
}

ProgressLine::~ProgressLine() {
  if (open_) std::fputc('\n', stderr);  // an output that failed half-way
}

}  // namespace nestbox::cli
