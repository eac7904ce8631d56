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

Status check_security_version(const ImageInfo& image, uint64_t floor) {
  if (image.security_version < floor)
    return failure("rollback refused: image " + image.name + " has security version " +
                   std::to_string(image.security_version) + ", lower than this device's " + std::to_string(floor) +
                   " (the rollback index is never lowered, not even with --allow-downgrade)");
  return ok_status();
}

}  // namespace nestbox::verifier
