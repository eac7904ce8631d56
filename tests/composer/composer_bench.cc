// Benchmark driver (not a test): times the content index over a list of
// files, for bench/composer_run.sh to compare with xxhsum.
//   composer_bench index LIST_FILE [THREADS]   (LIST_FILE: one path per line)
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "composer/content_index.h"

int main(int argc, char** argv) {
  if (argc < 3 || std::string(argv[1]) != "index") {
    fprintf(stderr, "usage: composer_bench index LIST_FILE [THREADS]\n");
    return 2;
  }
  std::vector<std::string> files;
  std::ifstream in(argv[2]);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) files.push_back(line);
  unsigned threads = argc > 3 ? std::stoul(argv[3]) : 0;
  auto t0 = std::chrono::steady_clock::now();
  auto index = nestbox::composer::ContentIndex::build_files(files, threads);
  auto t1 = std::chrono::steady_clock::now();
  if (!index.ok()) {
    fprintf(stderr, "%s\n", index.error().message.c_str());
    return 1;
  }
  double s = std::chrono::duration<double>(t1 - t0).count();
  printf("files=%zu bytes=%llu distinct=%zu seconds=%.3f MBps=%.1f\n", files.size(),
         static_cast<unsigned long long>(index->bytes_hashed()), index->distinct_contents(), s,
         index->bytes_hashed() / s / 1e6);
  return 0;
}
