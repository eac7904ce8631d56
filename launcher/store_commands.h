// nestbox-launch's container-store commands (front end, not the launcher
// library): install, rollback, list (store + running), boot, and the store
// lookup behind `run NAME`. The store itself is verifier::Store
// (verifier/store.h); docs/launcher.md, "Container store".
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "util/result.h"
#include "verifier/store.h"

namespace nestbox::launch {

// Default store on the device: persistent flash (OpenWrt's /var is tmpfs).
inline constexpr const char* kDefaultStoreDir = "/srv/nestbox/store";

struct StoreArgs {
  std::string store_dir = kDefaultStoreDir;
  std::string rollback_dir;  // anti-rollback records; empty: <store>/.state
  std::string keyring;
  std::string state_root;
  verifier::DeviceIdentity device;  // compat may be empty where not needed (list, run)
  verifier::Mode mode = verifier::Mode::kFull;
  bool allow_downgrade = false;
  bool if_newer = false;  // install: only an image newer than the installed one
  uint32_t trial_seconds = 0;  // install --trial: the next start is provisional for this long
  bool json = false;
};

verifier::Store open_store(const StoreArgs& a);

// `install IMAGE`, `rollback NAME`, `list`: exit status (0, 1 failure, 2 bad input).
int install_command(const std::vector<std::string>& operands, const StoreArgs& a);
int rollback_command(const std::vector<std::string>& operands, const StoreArgs& a);
int list_command(const StoreArgs& a);

// The image `run NAME` starts: the active slot, else the other one (said on
// stderr). Bases (no policy) are refused: they are not runnable.
Result<verifier::BootImage> installed_image(const std::string& name, const StoreArgs& a);

// What boot runs for one container: `prepare` checks the verified image in
// the boot process (arch, compat, policy, kernel) and returns the function a
// forked child calls to run it in the foreground (its exit status), giving
// it the descriptors the container's stdout and stderr become (its quoted
// output, launcher/quoted_output.h; the launcher's own stay boot's).
using Prepared = std::function<int(int stdout_fd, int stderr_fd)>;
using Prepare = std::function<Result<Prepared>(const verifier::BootImage&)>;

// The trial state of an installed container as JSON members
// (`"trial":{...},"last_trial":{...}`, each null when there is none), for
// `list --json` and `status --json`; and as text lines for `status`.
std::string trial_json(const verifier::ContainerStatus& c);
std::string trial_text(const verifier::ContainerStatus& c);
// The store's view of one container (nullopt when it is not installed).
std::optional<verifier::ContainerStatus> store_status(const std::string& name, const StoreArgs& a);

// `boot [NAME...]`: the named containers (the init script passes the enabled
// ones), or every installed one. Each is verified again and started in its own
// child; one that fails is refused, logged and skipped, the others start. Bases
// are never started. Stays in the foreground until every container has ended
// (SIGTERM/SIGINT/SIGHUP are passed on); exit 0 only when every container was
// started and exited 0 or was stopped by such a signal, else 1 with a summary
// naming each failure.
// Trials (install --trial): a trial found "started" (its boot was killed or
// lost power before judging it) is rolled back before anything starts; a
// pending one is marked started (durably), then started, and judged: still
// running after its seconds, it is committed; ended before, it is rolled back
// (the reason recorded) and the previous slot started in its place.
int boot_command(const std::vector<std::string>& operands, const StoreArgs& a, const Prepare& prepare);

}  // namespace nestbox::launch
