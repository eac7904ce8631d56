#include "launcher/image_device.h"

#include <sys/stat.h>

namespace nestbox::launcher {

std::string verity_device_name(const std::string& container, const std::string& role) {
  return "nestbox:" + container + ":" + role;
}

void remove_stale_verity(const std::string& container) {
  struct stat st;
  if (::stat(dm::kControl, &st) != 0) return;  // no device-mapper: nothing can be left
  for (const char* role : {"rootfs", "base"}) {
    std::string name = verity_device_name(container, role);
    if (dm::DmDevice::exists(name)) (void)dm::DmDevice::remove(name);  // create_verity reports what stays
  }
}

Result<ImageDevice> ImageDevice::attach(const ImageWindow& w, const std::string& container, const std::string& role,
                                        bool legacy_loop) {
  ImageDevice d;
  LoopRequest req{w.path, w.offset, w.size, true, legacy_loop, w.fd ? w.fd->get() : -1};
  if (w.verity) {
    // The loop covers the payload and the hash tree; dm-verity reads both.
    if (w.verity_end <= w.offset || w.verity->hash_offset + w.offset >= w.verity_end)
      return failure("verity: hash tree window outside the image");
    req.size = w.verity_end - w.offset;
  }
  auto loop = LoopDevice::attach(req);
  if (!loop.ok()) return std::move(loop).error();
  d.loop_.emplace(std::move(*loop));
  d.node_ = d.loop_->path();
  if (!w.verity) return d;

  struct stat st;
  if (::fstat(d.loop_->fd(), &st) != 0) return sys_error("stat " + d.loop_->path());
  auto dev = dm::DmDevice::create_verity(verity_device_name(container, role), *w.verity, st.st_rdev);
  if (!dev.ok()) return std::move(dev.error().context("dm-verity"));
  d.dm_.emplace(std::move(*dev));
  auto node = d.dm_->node();
  if (!node.ok()) return std::move(node.error().context("dm-verity"));
  d.node_ = *node;
  return d;
}

}  // namespace nestbox::launcher
