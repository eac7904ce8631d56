// verify_probe IMAGE KEYRING full|verity [N]: a target-shaped binary (libc +
// libcrypto + the verifier, like nestbox-launch) for bench/signer_verify.py.
// Verifies N times in-process; prints the median time of one verify_image call
// and the process's peak RSS. Exit 0 only if every verification passed.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "util/file_io.h"
#include "verifier/verifier.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: verify_probe IMAGE KEYRING full|verity [N]\n");
    return 2;
  }
  using nestbox::verifier::Mode;
  Mode mode = std::strcmp(argv[3], "verity") == 0 ? Mode::kVerity : Mode::kFull;
  int n = argc > 4 ? std::atoi(argv[4]) : 1;
  std::vector<double> us;
  for (int i = 0; i < n; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto info = nestbox::verifier::verify_image(argv[1], {argv[2], {}}, mode);
    auto t1 = std::chrono::steady_clock::now();
    if (!info.ok()) {
      std::fprintf(stderr, "%s\n", info.error().message.c_str());
      return 1;
    }
    us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::sort(us.begin(), us.end());
  auto status = nestbox::read_file("/proc/self/status");
  long hwm = -1;
  if (status.ok())
    if (size_t p = status->find("VmHWM:"); p != std::string::npos) hwm = std::strtol(status->c_str() + p + 6, nullptr, 10);
  std::printf("median_us=%.1f peak_rss_kib=%ld\n", us[us.size() / 2], hwm);
  return 0;
}
