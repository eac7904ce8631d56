#include "policy/runtime_forms.h"

#include <unistd.h>

#include <cerrno>

#include "policy/bake.h"
#include "policy/format.h"
#include "policy/lxc.h"
#include "policy/oci.h"
#include "policy/ubus_acl.h"
#include "util/file_io.h"

namespace nestbox::policy {

Status write_runtime_forms(const manifests::Manifest& m, const std::string& out_dir) {
  return write_runtime_forms(m, out_dir, {});
}

Status write_runtime_forms(const manifests::Manifest& m, const std::string& out_dir,
                           const RuntimeFormsOptions& options) {
  auto baked = bake(m);
  if (!baked.ok()) return std::move(baked).error();
  // A layer that states its base requirement is not pinned: any base that
  // satisfies it runs below it (docs/launcher.md, "The base").
  if (!baked->base_requirement.set()) baked->base_sha256 = options.base_sha256;
  auto blob = encode(*baked);
  if (!blob.ok()) return std::move(blob).error();
  auto oci = oci_config(m);
  if (!oci.ok()) return std::move(oci).error();
  std::string dev = options.device_dir.empty() ? out_dir : options.device_dir;
  auto lxc = lxc_config(m, LxcOptions{dev + "/rootfs", dev + "/lxc.seccomp"});
  if (!lxc.ok()) return std::move(lxc).error();
  std::string ctx = "write runtime forms of " + m.name;
  NESTBOX_TRY_CTX(write_file_atomic(out_dir + "/" + kPolicyFileName, std::string(blob->begin(), blob->end())), ctx);
  NESTBOX_TRY_CTX(write_file_atomic(out_dir + "/config.json", *oci), ctx);
  std::string profile = out_dir + "/lxc.seccomp";
  if (!lxc->seccomp.empty()) {
    NESTBOX_TRY_CTX(write_file_atomic(profile, lxc->seccomp), ctx);
  } else if (::unlink(profile.c_str()) != 0 && errno != ENOENT) {
    return sys_error("remove stale " + profile).context(ctx);  // lxc.conf no longer names it
  }
  NESTBOX_TRY_CTX(write_file_atomic(out_dir + "/lxc.conf", lxc->config), ctx);
  // [ipc.ubus]: ubusd's ACL and the host account it names (policy/ubus_acl.h).
  NESTBOX_TRY_CTX(write_ubus_acl(m, out_dir), ctx);
  return ok_status();
}

}  // namespace nestbox::policy
