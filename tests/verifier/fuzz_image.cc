// Fuzz target: the verifier's parsing of untrusted image bytes (trailer,
// metadata, signature block, region bounds). The input is written to a file
// and verified in both modes against a fixed one-key keyring.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <string>

#include "util/temp_path.h"
#include "verifier/image_format.h"
#include "verifier/verifier.h"

namespace {

// Removed at exit (a function-local static's destructor), like every run's
// scratch directory.
std::string scratch_dir() {
  static const nestbox::TempDir owner = [] {
    auto made = nestbox::TempDir::create("/tmp/nestbox-fuzz-");
    if (!made.ok()) std::abort();
    return std::move(*made);
  }();
  static const std::string dir = [] {
    std::string d = owner.path();
    ::mkdir((d + "/ring").c_str(), 0755);
    // The golden image's public key, so signature checks are reached.
    const char* src = std::getenv("NESTBOX_SOURCE_DIR");
    std::string pub = std::string(src ? src : ".") + "/tests/signer/data/golden-test-ed25519.pub";
    std::string cmd = "cp '" + pub + "' '" + d + "/ring/' 2>/dev/null";
    (void)!std::system(cmd.c_str());
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string path = scratch_dir() + "/input.img";
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 0;
  (void)!::write(fd, data, size);
  ::close(fd);
  nestbox::verifier::Keyring ring{scratch_dir() + "/ring", {}};
  (void)nestbox::verifier::verify_image(path, ring, nestbox::verifier::Mode::kFull);
  (void)nestbox::verifier::verify_image(path, ring, nestbox::verifier::Mode::kVerity);
  // Direct structural checks on the tail, too.
  if (size >= sizeof(nestbox::image::Trailer)) {
    nestbox::image::Trailer t;
    std::memcpy(&t, data + size - sizeof t, sizeof t);
    (void)nestbox::image::check_trailer(t, size);
  }
  return 0;
}
