#include "util/dm_device.h"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include <cerrno>
#include <algorithm>
#include <cstring>
#include <utility>
#include <vector>

#include "util/fd.h"

namespace nestbox::dm {
namespace {

// One ioctl's buffer: struct dm_ioctl, then the payload (input) or the
// kernel's answer (output), 8-byte aligned as the kernel expects.
class Call {
 public:
  Call(const std::string& name, uint32_t flags, const std::string& payload, size_t room)
      : buf_((sizeof(dm_ioctl) + payload.size() + room + 7) / 8, 0) {
    dm_ioctl* io = this->io();
    io->version[0] = DM_VERSION_MAJOR;  // 4: every kernel since 2.6
    io->version[1] = 0;
    io->version[2] = 0;
    io->data_size = static_cast<uint32_t>(buf_.size() * 8);
    io->data_start = sizeof(dm_ioctl);
    io->flags = flags;
    std::memcpy(io->name, name.data(), std::min(name.size(), sizeof io->name - 1));
    std::memcpy(reinterpret_cast<char*>(io) + sizeof(dm_ioctl), payload.data(), payload.size());
  }
  dm_ioctl* io() { return reinterpret_cast<dm_ioctl*>(buf_.data()); }
  // The answer's bytes [data_start, data_size).
  std::string_view out() {
    const dm_ioctl* io = this->io();
    size_t end = std::min<size_t>(io->data_size, buf_.size() * 8);
    if (io->data_start >= end) return {};
    return {reinterpret_cast<const char*>(buf_.data()) + io->data_start, end - io->data_start};
  }

 private:
  std::vector<uint64_t> buf_;
};

Result<UniqueFd> open_control(const std::string& control) {
  UniqueFd fd(::open(control.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return sys_error("open " + control);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat " + control);
  if (!S_ISCHR(st.st_mode)) return failure(control + ": not a character device");
  return fd;
}

// Runs `cmd`, growing the output room while the kernel says it was too small.
Result<Call> run(const std::string& control, unsigned long cmd, const char* what, const std::string& name,
                 uint32_t flags, const std::string& payload = {}, uint32_t targets = 0) {
  if (name.size() >= DM_NAME_LEN) return bad_input(std::string(what) + ": device name too long: " + name);
  auto fd = open_control(control);
  if (!fd.ok()) return std::move(fd).error();
  for (size_t room = 16384; room <= (1u << 20); room *= 4) {
    Call c(name, flags, payload, room);
    c.io()->target_count = targets;
    if (::ioctl(fd->get(), cmd, c.io()) != 0)
      return sys_error(std::string(what) + (name.empty() ? "" : " " + name));
    if (!(c.io()->flags & DM_BUFFER_FULL_FLAG)) return c;
  }
  return failure(std::string(what) + ": answer too large");
}

bool is_hex(const std::string& s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// The first target's "<start> <length> <type> <text>" from a DM_TABLE_STATUS answer.
Result<std::string> first_target(Call& c, const char* what) {
  std::string_view out = c.out();
  if (c.io()->target_count == 0) return failure(std::string(what) + ": no table loaded");
  if (out.size() < sizeof(dm_target_spec)) return failure(std::string(what) + ": short answer");
  dm_target_spec spec;
  std::memcpy(&spec, out.data(), sizeof spec);
  std::string_view text = out.substr(sizeof spec);
  text = text.substr(0, text.find('\0'));
  std::string type(spec.target_type, strnlen(spec.target_type, sizeof spec.target_type));
  return std::to_string(spec.sector_start) + " " + std::to_string(spec.length) + " " + type + " " +
         std::string(text);
}

Result<std::string> table_status(const std::string& name, const std::string& control, uint32_t flags,
                                 const char* what) {
  auto c = run(control, DM_TABLE_STATUS, what, name, flags);
  if (!c.ok()) return std::move(c).error();
  return first_target(*c, what);
}

void sleep_ms(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace

std::string dev_string(dev_t dev) { return std::to_string(major(dev)) + ":" + std::to_string(minor(dev)); }

Result<std::string> verity_table(const VerityParams& p, const std::string& data_dev, const std::string& hash_dev) {
  auto power_of_two = [](uint32_t v) { return v >= 512 && (v & (v - 1)) == 0; };
  if (p.hash_type != 1) return bad_input("verity: hash type " + std::to_string(p.hash_type) + " unsupported");
  if (!power_of_two(p.data_block_size) || !power_of_two(p.hash_block_size))
    return bad_input("verity: block sizes must be powers of two >= 512");
  if (p.data_blocks == 0) return bad_input("verity: no data blocks");
  if (p.hash_offset % p.hash_block_size != 0)
    return bad_input("verity: hash offset " + std::to_string(p.hash_offset) + " is not a multiple of the hash block size");
  if (p.root_hex.size() != 64 || !is_hex(p.root_hex)) return bad_input("verity: root hash is not 64 hex digits");
  if (p.salt_hex.size() % 2 != 0 || p.salt_hex.size() > 512 || !is_hex(p.salt_hex))
    return bad_input("verity: bad salt");
  if (data_dev.empty() || hash_dev.empty() || data_dev.find(' ') != std::string::npos ||
      hash_dev.find(' ') != std::string::npos)
    return bad_input("verity: bad device");
  // veritysetup's format: a superblock of one hash block at the offset, the
  // tree right after it (cryptsetup VERITY_hash_offset_block()).
  uint64_t hash_start = p.hash_offset / p.hash_block_size + 1;
  return "1 " + data_dev + " " + hash_dev + " " + std::to_string(p.data_block_size) + " " +
         std::to_string(p.hash_block_size) + " " + std::to_string(p.data_blocks) + " " +
         std::to_string(hash_start) + " sha256 " + p.root_hex + " " + (p.salt_hex.empty() ? "-" : p.salt_hex);
}

Status verity_available(const std::string& control) {
  const std::string no_dm =
      "this kernel has no device-mapper (CONFIG_BLK_DEV_DM), so no dm-verity (CONFIG_DM_VERITY): " + control;
  struct stat st;
  if (::stat(control.c_str(), &st) != 0) return sys_error(no_dm);
  // A node with no driver behind it (dmsetup creates one even where the
  // kernel has no device-mapper) says the same thing.
  {
    UniqueFd probe(::open(control.c_str(), O_RDWR | O_CLOEXEC));
    if (!probe && (errno == ENODEV || errno == ENXIO)) return sys_error(no_dm);
  }
  auto c = run(control, DM_LIST_VERSIONS, "DM_LIST_VERSIONS", "", 0);
  if (!c.ok()) return std::move(c).error().context("device-mapper");
  std::string_view out = c->out();
  for (size_t at = 0; at + sizeof(dm_target_versions) <= out.size();) {
    dm_target_versions v;
    std::memcpy(&v, out.data() + at, sizeof v);
    std::string_view rest = out.substr(at + sizeof v);
    if (rest.substr(0, rest.find('\0')) == "verity") return ok_status();
    if (v.next == 0) break;
    at += v.next;
  }
  return failure("this kernel's device-mapper has no verity target (CONFIG_DM_VERITY; load dm-verity if it is a module)");
}

Result<DmDevice> DmDevice::create_verity(const std::string& name, const VerityParams& p, dev_t backing,
                                         const std::string& control) {
  std::string dev = dev_string(backing);
  auto params = verity_table(p, dev, dev);
  if (!params.ok()) return std::move(params).error();
  auto created = run(control, DM_DEV_CREATE, "DM_DEV_CREATE", name, 0);
  if (!created.ok()) {
    if (created.error().sys_errno == EBUSY)
      return std::move(created.error().context("a device of that name exists (another launch, or left behind)"));
    return std::move(created).error();
  }
  DmDevice owner(name, static_cast<dev_t>(created->io()->dev), control);

  // One target covering the data blocks, in 512-byte sectors.
  dm_target_spec spec;
  std::memset(&spec, 0, sizeof spec);
  spec.sector_start = 0;
  spec.length = p.data_blocks * (p.data_block_size / 512);
  std::memcpy(spec.target_type, "verity", 7);
  std::string payload(reinterpret_cast<const char*>(&spec), sizeof spec);
  payload += *params;
  payload.push_back('\0');
  payload.resize((payload.size() + 7) / 8 * 8, '\0');
  spec.next = static_cast<uint32_t>(payload.size());
  std::memcpy(payload.data(), &spec, sizeof spec);
  auto loaded = run(control, DM_TABLE_LOAD, "DM_TABLE_LOAD", name, DM_READONLY_FLAG, payload, 1);
  if (!loaded.ok()) return std::move(loaded.error().context("verity table '" + *params + "'"));
  auto resumed = run(control, DM_DEV_SUSPEND, "DM_DEV_SUSPEND (resume)", name, 0);
  if (!resumed.ok()) return std::move(resumed).error();
  return owner;
}

Status DmDevice::remove(const std::string& name, const std::string& control) {
  int busy_tries = 0;
  while (true) {
    auto c = run(control, DM_DEV_REMOVE, "DM_DEV_REMOVE", name, 0);
    if (c.ok()) return ok_status();
    int err = c.error().sys_errno;
    if (err == ENXIO) return ok_status();  // no such device
    if (err != EBUSY) return std::move(c).error();
    // Busy: the mount that held it is released asynchronously after the
    // container's last process (its mount namespace) is gone.
    if (++busy_tries <= 100) {
      sleep_ms(20);
      continue;
    }
    auto deferred = run(control, DM_DEV_REMOVE, "DM_DEV_REMOVE (deferred)", name, DM_DEFERRED_REMOVE);
    if (!deferred.ok()) return std::move(deferred).error();
    return failure("DM_DEV_REMOVE " + name + ": still in use after 2 s; deferred removal scheduled");
  }
}

bool DmDevice::exists(const std::string& name, const std::string& control) {
  return run(control, DM_DEV_STATUS, "DM_DEV_STATUS", name, 0).ok();
}

Result<std::string> DmDevice::table(const std::string& name, const std::string& control) {
  return table_status(name, control, DM_STATUS_TABLE_FLAG, "DM_TABLE_STATUS (table)");
}

Result<std::string> DmDevice::status(const std::string& name, const std::string& control) {
  return table_status(name, control, 0, "DM_TABLE_STATUS");
}

DmDevice::DmDevice(DmDevice&& o) noexcept
    : name_(std::exchange(o.name_, std::string())), dev_(o.dev_), control_(std::move(o.control_)) {}

DmDevice::~DmDevice() {
  if (!name_.empty()) (void)remove(name_, control_);
}

Result<std::string> DmDevice::node() const {
  std::string path = "/dev/dm-" + std::to_string(minor(dev_));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return sys_error("device node of " + name_ + " (devtmpfs)");
  if (!S_ISBLK(st.st_mode) || st.st_rdev != dev_)
    return failure(path + " is not the block device " + dev_string(dev_) + " of " + name_);
  return path;
}

bool DmDevice::corrupted() const {
  auto s = status(name_, control_);
  // "<start> <length> verity V|C ..." ; anything unreadable counts as corrupted.
  if (!s.ok()) return true;
  size_t at = s->find(" verity ");
  return at == std::string::npos || s->compare(at + 8, 1, "V") != 0;
}

}  // namespace nestbox::dm
