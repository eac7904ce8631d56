// Device-mapper through its raw ioctls on /dev/mapper/control (linux/dm-ioctl.h):
// no libdevmapper, no libcryptsetup on the target. Only what nestbox needs: a
// read-only dm-verity device built from an image's *signed* verity parameters
// (never from the on-disk superblock), its status, and its removal.
// Call order: verity_available() → DmDevice::create_verity() → mount
// node() → (container runs) → corrupted() → destructor removes the device.
// A device left by a launcher that was killed is removed by name (remove()).
// Target-safe: libc only.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "util/result.h"

namespace nestbox::dm {

inline constexpr const char* kControl = "/dev/mapper/control";

// The verity parameters, from the signed image metadata.
struct VerityParams {
  uint64_t data_blocks = 0;
  uint32_t data_block_size = 4096, hash_block_size = 4096;
  uint32_t hash_type = 1;
  // Byte offset of the veritysetup superblock on the hash device (the image's
  // verity region); the tree starts one hash block after it.
  uint64_t hash_offset = 0;
  std::string root_hex, salt_hex;  // lower-case hex; salt may be empty ("-")
};

// The verity target's parameter line (kernel Documentation/admin-guide/
// device-mapper/verity.rst), the same fields `veritysetup open` loads:
//   1 <data dev> <hash dev> <data bs> <hash bs> <data blocks> <hash start block>
//   sha256 <root hex> <salt hex>
// Refuses parameters the kernel would misread (bad hex, zero blocks, an
// offset that is not a whole number of hash blocks).
Result<std::string> verity_table(const VerityParams& p, const std::string& data_dev, const std::string& hash_dev);

// "MAJOR:MINOR" of a device number: how the table names the loop device
// (no path lookup by the kernel).
std::string dev_string(dev_t dev);

// Ok when the running kernel can set up dm-verity: `control` exists and the
// `verity` target is listed (DM_LIST_VERSIONS; a modular dm-verity must be
// loaded). The error says which part is missing and names CONFIG_DM_VERITY.
Status verity_available(const std::string& control = kControl);

class DmDevice {
 public:
  // DM_DEV_CREATE `name`, DM_TABLE_LOAD one read-only verity target over
  // `backing` (data and hash tree on the same device), DM_DEV_SUSPEND to
  // resume it. Any failure removes what was created.
  static Result<DmDevice> create_verity(const std::string& name, const VerityParams& p, dev_t backing,
                                        const std::string& control = kControl);
  // Removes device `name` (DM_DEV_REMOVE): retried while it is busy (a
  // mount namespace on its way out), then marked for deferred removal (the
  // kernel removes it when its last user closes it). Ok when it did not exist.
  static Status remove(const std::string& name, const std::string& control = kControl);
  // True if device `name` exists.
  static bool exists(const std::string& name, const std::string& control = kControl);
  // The live table of `name`, "<start> <length> <type> <params>" as dmsetup
  // table prints it (DM_TABLE_STATUS with DM_STATUS_TABLE_FLAG).
  static Result<std::string> table(const std::string& name, const std::string& control = kControl);
  // The status line ("<start> <length> verity V" or "... C").
  static Result<std::string> status(const std::string& name, const std::string& control = kControl);

  DmDevice(DmDevice&& o) noexcept;
  DmDevice& operator=(DmDevice&&) = delete;
  ~DmDevice();

  const std::string& name() const { return name_; }
  dev_t dev() const { return dev_; }
  // The block device node to mount: /dev/dm-MINOR (devtmpfs), checked to be
  // a block device with this device's number.
  Result<std::string> node() const;
  // dm-verity reports a corrupted block it was asked to read ("C" status).
  bool corrupted() const;
  // Gives up ownership: the device outlives this object (a mount shared by
  // several launchers holds it; the last one removes it by name).
  void disown() { name_.clear(); }

 private:
  DmDevice(std::string name, dev_t dev, std::string control)
      : name_(std::move(name)), dev_(dev), control_(std::move(control)) {}
  std::string name_;
  dev_t dev_ = 0;
  std::string control_;
};

}  // namespace nestbox::dm
