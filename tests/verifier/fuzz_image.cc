// Fuzz target: the verifier's parsing of untrusted image bytes (trailer,
// metadata, signature block, region bounds). The input is written to a file
// and verified in both modes against a fixed one-key keyring. The same bytes
// are then parsed as each small record the on-target store reads (the trial
// record and result, the rollback records, a revocation list): whoever writes
// a store on removable media writes those too. One target, so CI's fuzz time
// does not grow.
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <sys/stat.h>
#include <string>

#include "util/temp_path.h"
#include "util/fd.h"
#include "verifier/image_format.h"
#include "verifier/keyring.h"
#include "verifier/rollback_state.h"
#include "verifier/trial_state.h"
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
    ::mkdir((d + "/state").c_str(), 0700);
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
  std::string state = scratch_dir() + "/state";
  for (const char* record : {"trial", "trial-result", "nas.version", "nas.security_version"}) {
    int rfd = ::open((state + "/" + record).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (rfd < 0) return 0;
    (void)!::write(rfd, data, size);
    ::close(rfd);
  }
  nestbox::UniqueFd state_fd(::open(state.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!state_fd) return 0;
  nestbox::verifier::StateDir held{state_fd.get(), state};
  (void)nestbox::verifier::read_trial(held);
  (void)nestbox::verifier::read_trial_result(held);
  (void)nestbox::verifier::read_version_record_at(held, "nas");
  (void)nestbox::verifier::read_security_version_at(held, "nas");
  (void)nestbox::verifier::parse_revocation_list(std::string(reinterpret_cast<const char*>(data), size), "revoked");
  return 0;
}
