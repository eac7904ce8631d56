#include "verifier/verifier.h"

namespace nestbox::verifier {

Status check_installable(const ImageInfo& image, const DeviceIdentity& device, uint64_t installed_version,
                         bool allow_downgrade) {
  if (image.arch != device.arch)
    return failure("image " + image.name + " is for arch '" + image.arch + "', this device is '" + device.arch + "'");
  if (image.compat != device.compat)
    return failure("image " + image.name + " has compatibility '" + image.compat + "', this device needs '" +
                     device.compat + "'");
  if (image.version < installed_version && !allow_downgrade)
    return failure("rollback refused: image " + image.name + " version " + std::to_string(image.version) + " (" +
                     image.version_string + ") is lower than the installed version " +
                     std::to_string(installed_version) + " (use --allow-downgrade)");
  return ok_status();
}

}  // namespace nestbox::verifier
