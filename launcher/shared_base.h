// One verified, read-only mount of an overlay base, shared by every running
// container over the same base content, so their page cache is one
// (docs/launcher.md, "One base, mounted once"). Libc only.
//
//   <state_root>/.bases/lock              flock EX: one launcher sets up or tears down at a time
//   <state_root>/.bases/<key>/holders     flock SH, held by each live launcher using the mount
//   <state_root>/.bases/<key>/root        the mount (squashfs, ro, nodev, nosuid, noexec)
//
// <key> names the verified content, never a path: the base's name and the
// digest its signed metadata gives for the bytes mounted (the payload
// SHA-256 when every byte was hashed; the dm-verity root hash, salt and data
// block count when dm-verity holds every block to it). Two images with equal keys are the
// same bytes, so a container may join a mount another launcher made from
// its own verified fd.
//
// The reference count is the set of live holders of `holders`' shared lock,
// kept by the kernel: a SIGKILLed launcher's lock goes with its process, so
// no count can drift. Whoever finds no holder left (the last one to stop, or
// the next start after a crash) unmounts it. Call order: acquire() (under
// the lock: join a held mount, or clean a stale one and mount afresh through
// the verified fd) → dir() to bind below the layer → destructor (after the
// container's processes are gone).
#pragma once

#include <string>

#include "launcher/launcher.h"
#include "util/fd.h"
#include "util/result.h"

namespace nestbox::launcher {

inline constexpr const char* kBasesDir = ".bases";

// The content key of a verified base window (see above); empty when the
// window carries no verified digest (then it is never shared).
std::string shared_base_key(const std::string& base_name, const ImageWindow& window);

class SharedBase {
 public:
  static Result<SharedBase> acquire(const std::string& state_root, const std::string& base_name,
                                    const ImageWindow& window, bool legacy_loop);
  SharedBase(SharedBase&& other) noexcept;
  SharedBase& operator=(SharedBase&&) = delete;
  ~SharedBase();

  // The mounted base, to bind read-only below the container's layer.
  const std::string& dir() const { return root_; }
  // Whether this launcher mounted it (false: it joined a live mount).
  bool created() const { return created_; }
  // dm-verity refused a block of the base (false without dm-verity).
  bool corrupted() const;

 private:
  SharedBase() = default;
  std::string bases_, key_, root_, dm_name_;
  UniqueFd holder_;  // the shared lock on <key>/holders
  bool created_ = false;
};

// Unmounts every shared base no live launcher holds (left by a killed one).
// Called by acquire(); exposed for `nestbox-launch boot` and the tests.
Status sweep_stale_bases(const std::string& state_root);

}  // namespace nestbox::launcher
