// nestbox-launch: the on-target verifier and launcher. Links only libc,
// libcrypto and libmnl (checked by launcher/CMakeLists.txt and tests/launcher). Reads only
// signed images and their baked policy: no TOML, JSON or archive parser here.
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "launcher/container_network.h"
#include "launcher/fds.h"
#include "launcher/image_device.h"
#include "launcher/kernel_preflight.h"
#include "launcher/launcher.h"
#include "launcher/lifecycle.h"
#include "launcher/overlay_base.h"
#include "launcher/stdio_relay.h"
#include "launcher/store_commands.h"
#include "launcher/tree_source.h"
#include "kernel-check/probe.h"
#include "policy/arch.h"
#include "policy/format.h"
#include "util/dm_device.h"
#include "util/file_io.h"
#include "verifier/crypto.h"
#include "verifier/verifier.h"

#ifndef NESTBOX_DEFAULT_ROLLBACK_DIR
#define NESTBOX_DEFAULT_ROLLBACK_DIR ""  // <store>/.state
#endif

namespace {

using namespace nestbox;

// Global options, accepted before or after the command's operands.
struct Args {
  std::vector<std::string> operands;
  std::string state_root = "/run/nestbox";
  std::string cgroup_parent;
  int stop_timeout_ms = 10000;
  bool stop_timeout_given = false;            // stop: pass it to the running launcher
  bool json = false;
  // boot: the container's stdout and stderr (its quoted output); -1: the launcher's own.
  int container_stdout = -1, container_stderr = -1;
  std::string keyring = "/etc/nestbox/keys";  // trusted public keys (+ a `revoked` list)
  // How run and boot check an image's data (docs/launcher.md, *Verification
  // modes*): auto = dm-verity when the kernel has it and the image has a hash
  // tree, else every byte hashed before mounting; --verity / --full force one.
  enum class DataMode { kAuto, kVerity, kFull } data_mode = DataMode::kAuto;
  bool data_mode_conflict = false;            // both --verity and --full
  verifier::Mode mode = verifier::Mode::kFull;  // select_mode()'s decision
  std::string compat;                         // device compatibility string (else /etc/nestbox/compat)
  std::string store_dir = launch::kDefaultStoreDir;  // the A/B container store
  // Its anti-rollback records: the build's default (the OpenWrt package:
  // /etc/nestbox/rollback, where its scripts keep them for every store), else
  // <store>/.state. One place for every command, so `run OLD.img` or an
  // `install` by hand checks the floor boot keeps.
  std::string rollback_dir = NESTBOX_DEFAULT_ROLLBACK_DIR;
  bool allow_downgrade = false;
  bool if_newer = false;
  uint32_t trial_seconds = 0;  // install --trial / --trial-seconds
  std::string probe_root;                     // kernel probe's /proc, /sys prefix (tests)
  bool kernel_checked = false;                // boot probed the kernel before forking
  std::string base_image;                     // overlay: the base image (else by name in the store)
  std::string partition_dir = "/dev/disk/by-partlabel";  // storage partitions by name
};

// install --trial without --trial-seconds: how long the new version must stay up.
constexpr uint32_t kDefaultTrialSeconds = 60;
// The architecture this binary was built for: the only one it can run.
constexpr const char* kDeviceArch = policy::build_arch_name();

// The device's compatibility string: --compat, else the first line of
// /etc/nestbox/compat. Unknown is an error: an image is never run on a device
// whose identity cannot be checked.
Result<std::string> device_compat(const Args& a) {
  if (!a.compat.empty()) return a.compat;
  const char* path = "/etc/nestbox/compat";
  // Opened once, O_NOFOLLOW | O_NONBLOCK, and it must be a regular file: a
  // FIFO here hung run, boot and install (open waited for a writer).
  struct stat st;
  if (::lstat(path, &st) != 0 && errno == ENOENT)
    return failure(std::string("no device compatibility string: pass --compat or write ") + path);
  auto text = read_regular_file(path);
  if (!text.ok()) return std::move(text.error().context("device compatibility string"));
  std::string compat = text->substr(0, text->find('\n'));
  while (!compat.empty() && compat.back() == '\r') compat.pop_back();
  if (compat.empty()) return failure(std::string(path) + ": empty; expected the device compatibility string");
  return compat;
}

int report(const Error& e, const char* command) {
  std::fprintf(stderr, "nestbox-launch %s: %s\n", command, e.message.c_str());
  return static_cast<int>(e.kind);
}

// Parses options up to "--" (the rest are operands verbatim, for exec).
bool parse(int argc, char** argv, Args& a) {
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    std::string v;
    if (s == "--") {
      for (++i; i < argc; ++i) a.operands.push_back(argv[i]);
    } else if (s == "--json") {
      a.json = true;
    } else if (s == "--state-dir") {
      if (!value(a.state_root)) return false;
    } else if (s == "--keyring") {
      if (!value(a.keyring)) return false;
    } else if (s == "--compat") {
      if (!value(a.compat)) return false;
    } else if (s == "--store") {
      if (!value(a.store_dir)) return false;
    } else if (s == "--rollback-dir") {
      if (!value(a.rollback_dir) || a.rollback_dir.empty()) return false;
    } else if (s == "--allow-downgrade") {
      a.allow_downgrade = true;
    } else if (s == "--if-newer") {
      a.if_newer = true;
    } else if (s == "--trial") {
      if (a.trial_seconds == 0) a.trial_seconds = kDefaultTrialSeconds;
    } else if (s == "--trial-seconds") {
      // 1..kMaxTrialSeconds, decimal digits only: implies --trial.
      if (!value(v) || v.empty() || v.size() > 5 || v.find_first_not_of("0123456789") != std::string::npos)
        return false;
      unsigned long n = 0;
      for (char c : v) n = n * 10 + static_cast<unsigned long>(c - '0');
      if (n == 0 || n > verifier::kMaxTrialSeconds) return false;
      a.trial_seconds = static_cast<uint32_t>(n);
    } else if (s == "--kernel-probe-root") {
      if (!value(a.probe_root)) return false;
    } else if (s == "--base") {
      if (!value(a.base_image)) return false;
    } else if (s == "--partition-dir") {
      if (!value(a.partition_dir)) return false;
    } else if (s == "--verity" || s == "--full") {
      Args::DataMode m = s == "--verity" ? Args::DataMode::kVerity : Args::DataMode::kFull;
      if (a.data_mode != Args::DataMode::kAuto && a.data_mode != m) a.data_mode_conflict = true;
      a.data_mode = m;
    } else if (s == "--cgroup-parent") {
      if (!value(a.cgroup_parent)) return false;
    } else if (s == "--stop-timeout") {
      if (!value(v) || v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos) {
        std::fprintf(stderr, "nestbox-launch: --stop-timeout needs milliseconds (digits)\n");
        return false;
      }
      a.stop_timeout_ms = std::atoi(v.c_str());
      a.stop_timeout_given = true;
    } else if (s.rfind("--", 0) == 0) {
      std::fprintf(stderr, "nestbox-launch: unknown option '%s'\n", s.c_str());
      return false;
    } else {
      a.operands.push_back(s);
    }
  }
  return true;
}

launch::StoreArgs store_args(const Args& a);

// What the verifier hands to the launcher: a verified image's squashfs window
// (with the verified fd: the loop device's, never `path` again; and in verity
// mode the signed dm-verity parameters) and its decoded policy.
struct VerifiedImage {
  std::string path;
  launcher::ImageWindow window;
  policy::Policy policy;
  launcher::VerifiedTree tree;  // a tree image: its directory, verified now
};

// A verified image (from a file or the store) becomes runnable: arch,
// compatibility and its decoded policy.
Result<VerifiedImage> admit(const std::string& path, std::shared_ptr<UniqueFd> fd, const verifier::ImageInfo& info,
                            const Args& a) {
  auto compat = device_compat(a);
  if (!compat.ok()) return std::move(compat).error();
  if (!fd) return failure(path + ": no verified file descriptor");  // never mount by path
  NESTBOX_TRY_CTX(verifier::check_only_root_writes(fd->get()), path);
  // Arch and compatibility before anything is mounted. The version floor
  // belongs to install; the rollback index (security_version) is checked for
  // every image that runs (verify(), Store::bootable()).
  Status identity = verifier::check_installable(info, {kDeviceArch, *compat}, 0, false);
  if (!identity.ok()) return std::move(identity.error().context(path));
  const std::string& bytes = info.policy;
  auto decoded = policy::decode(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  if (!decoded.ok()) return std::move(decoded.error().context(path + ": signed policy"));
  if (decoded->name != info.name)
    return bad_input(path + ": policy is for container \"" + decoded->name + "\" but the image is \"" +
                     info.name + "\"");
  // The architecture is signed twice, in the metadata (checked against this
  // device above) and in the policy (whose seccomp program and byte order
  // are for it): a policy baked for another architecture would start here,
  // mounted and set up, its filter never matching (or, without one, unnoticed).
  if (decoded->arch != info.arch)
    return bad_input(path + ": policy is for arch \"" + decoded->arch + "\" but the image is for \"" +
                     info.arch + "\"");
  VerifiedImage image;
  if (info.tree_manifest) {  // checked entry by entry now, at every start
    if (decoded->rootfs == policy::RootfsKind::kOverlay)
      return bad_input(path + ": a tree image with an overlay policy");
    auto tree = launcher::open_verified_tree(fd->get(), info, info.name);
    if (!tree.ok()) return std::move(tree.error().context(path));
    image.tree = std::move(*tree);
  }
  auto window = launcher::verified_window(path, std::move(fd), info);
  if (!window.ok()) return std::move(window).error();
  image.path = path;
  image.window = std::move(*window);
  image.policy = std::move(*decoded);
  return image;
}

// Verifies the image against the keyring and decodes its signed policy.
// Every refusal (unsigned, tampered, untrusted or revoked key, malformed
// policy, a rollback index below the device's) happens here, before anything
// is mounted. The file is opened once; that fd is verified (every byte, or in
// verity mode the metadata, whose root hash dm-verity then holds every block
// to) and later given to the loop device, so a rename over `path` cannot swap it.
Result<VerifiedImage> verify(const std::string& path, const Args& a) {
  verifier::Keyring keyring;
  keyring.dir = a.keyring;
  keyring.only_root_writes = true;
  auto file = verifier::open_verified_to_mount(path, keyring, a.mode);
  if (!file.ok()) return std::move(file).error();
  auto image = admit(path, std::make_shared<UniqueFd>(std::move(file->fd)), file->info, a);
  if (!image.ok()) return image;
  NESTBOX_TRY_CTX(launch::open_store(store_args(a)).admit(file->info), path);
  return image;
}

int run_verified(const VerifiedImage& image, const Args& a) {
  launcher::RootfsSource src;
  src.image = image.window;
  if (image.tree.root) {  // a tree image: the verified directory, not the window
    src.kind = launcher::RootfsSource::Kind::kTree;
    src.tree = image.tree.path;
    src.tree_fd = image.tree.root;
  }
  if (image.policy.rootfs == policy::RootfsKind::kOverlay) {  // the image is the layer
    auto compat = device_compat(a);
    if (!compat.ok()) return report(compat.error(), "run");
    launcher::BaseLookup lookup{a.base_image, a.store_dir, {a.keyring, {}, /*only_root_writes=*/true},
                                a.mode,
                                {kDeviceArch, *compat}, a.rollback_dir};
    auto base = launcher::resolve_overlay_base(image.policy, lookup);
    if (!base.ok()) return report(base.error(), "run");
    src.kind = launcher::RootfsSource::Kind::kOverlay;
    src.base = std::move(*base);
  }
  launcher::Options o;
  o.state_root = a.state_root;
  o.cgroup_parent = a.cgroup_parent;
  o.stop_timeout_ms = a.stop_timeout_ms;
  o.partition_dir = a.partition_dir;
  o.stdout_fd = a.container_stdout;
  o.stderr_fd = a.container_stderr;
  // The policy's baked kernel features against the running kernel, before
  // anything is created (the launcher's own check_kernel() follows).
  if (!a.kernel_checked)
    o.preflight = [&a](const policy::Policy& p) { return launch::check_kernel_features(p, a.probe_root); };
  launcher::ContainerNetwork net;  // kept until the container has stopped
  net.attach(o);
  auto r = launcher::run_container(image.policy, src, o);
  Status down = net.teardown();
  if (!down.ok()) report(down.error().context("network teardown"), "run");
  if (!r.ok()) {
    int status = report(r.error(), "run");
    // What the preflight left for a failed start (the squashfs decompressor).
    if (Status why = launch::check_deferred_kernel_features(image.policy, a.probe_root); !why.ok())
      report(why.error(), "run");
    return status;
  }
  if (r->verity_corrupted) {
    std::fprintf(stderr,
                 "nestbox-launch run: %s: dm-verity refused corrupted blocks of %s (reads failed with EIO): "
                 "the image is damaged or was tampered with; reinstall it\n",
                 image.policy.name.c_str(), image.path.c_str());
    if (r->exit_code == 0) return 1;
  }
  if (!down.ok() && r->exit_code == 0) return 1;  // something was left behind
  if (r->oom_killed)
    std::fprintf(stderr, "nestbox-launch run: %s: out of memory, a process was killed\n",
                 image.policy.name.c_str());
  if (!r->failure.empty())
    std::fprintf(stderr, "nestbox-launch run: %s: service %s\n", image.policy.name.c_str(), r->failure.c_str());
  // How a stop ended: the processes ended on SIGTERM, or were killed when the
  // stop timeout ran out.
  if (r->stopped)
    std::fprintf(stderr, "nestbox-launch run: %s: stopped: %s\n", image.policy.name.c_str(),
                 r->killed_after_timeout ? "killed after the stop timeout"
                                         : "its processes ended on SIGTERM");
  return r->exit_code;
}

launch::StoreArgs store_args(const Args& a) {
  launch::StoreArgs s;
  s.store_dir = a.store_dir;
  s.rollback_dir = a.rollback_dir;
  s.keyring = a.keyring;
  s.state_root = a.state_root;
  s.device.arch = kDeviceArch;
  s.mode = a.mode;  // run and boot: select_mode(); install always verifies every byte
  s.allow_downgrade = a.allow_downgrade;
  s.if_newer = a.if_newer;
  s.trial_seconds = a.trial_seconds;
  s.json = a.json;
  return s;
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && !S_ISDIR(st.st_mode);
}

// `run IMAGE` runs a file (a path with a '/' is always one); any other
// operand is a container in the store.
Result<VerifiedImage> resolve(const std::string& what, const Args& a) {
  if (is_file(what) || what.find('/') != std::string::npos) return verify(what, a);
  auto installed = launch::installed_image(what, store_args(a));
  if (!installed.ok()) return std::move(installed).error();
  return admit(installed->path, installed->fd, installed->info, a);
}

// Decides how run and boot check the data. --verity verifies the metadata and
// root hash only and leaves every data block to dm-verity: on a kernel
// without it the data would be mounted unchecked, so it fails closed. auto
// takes dm-verity where the kernel has it (per image: one without a hash tree
// is hashed in full), else full mode.
Status select_mode(Args& a) {
  if (a.data_mode_conflict) return bad_input("--verity and --full: choose one");
  if (a.data_mode == Args::DataMode::kFull) {
    a.mode = verifier::Mode::kFull;
    return ok_status();
  }
  Status dm = dm::verity_available();
  if (a.data_mode == Args::DataMode::kVerity) {
    if (!dm.ok())
      return failure("--verity: refused: " + dm.error().message +
                     "; without dm-verity the image's data would be mounted unchecked: run without --verity "
                     "(every byte is then verified before mounting)");
    a.mode = verifier::Mode::kVerity;
    return ok_status();
  }
  a.mode = dm.ok() ? verifier::Mode::kAuto : verifier::Mode::kFull;
  return ok_status();
}

int cmd_run(const Args& given) {
  Args a = given;
  if (Status st = select_mode(a); !st.ok()) return report(st.error(), "run");
  if (a.operands.size() != 1) return report(bad_input("usage: run IMAGE|NAME"), "run");
  auto image = resolve(a.operands[0], a);
  if (!image.ok()) return report(image.error(), "run");
  return run_verified(*image, a);
}

// install and rollback check the image against the device: arch and compat.
int store_write(const Args& a, const char* command,
                int (*run)(const std::vector<std::string>&, const launch::StoreArgs&)) {
  Args checked = a;  // same flags, same refusals as run and boot
  if (Status st = select_mode(checked); !st.ok()) return report(st.error(), command);
  launch::StoreArgs s = store_args(a);  // install and rollback hash every byte, whatever the mode
  auto compat = device_compat(a);
  if (!compat.ok()) return report(compat.error(), command);
  s.device.compat = *compat;
  return run(a.operands, s);
}
int cmd_install(const Args& a) { return store_write(a, "install", launch::install_command); }
int cmd_rollback(const Args& a) { return store_write(a, "rollback", launch::rollback_command); }

int cmd_boot(const Args& given) {
  Args a = given;
  if (Status st = select_mode(a); !st.ok()) return report(st.error(), "boot");
  auto prepare = [&a](const verifier::BootImage& b) -> Result<launch::Prepared> {
    auto image = admit(b.path, b.fd, b.info, a);
    if (!image.ok()) return std::move(image).error();
    // Refuse here, in the boot process, what the kernel cannot enforce.
    NESTBOX_TRY(launch::check_kernel_features(image->policy, a.probe_root));
    Args checked = a;
    checked.kernel_checked = true;
    return launch::Prepared([image = std::move(*image), checked](int out, int err) {
      Args quoted = checked;
      quoted.container_stdout = out;
      quoted.container_stderr = err;
      return run_verified(image, quoted);
    });
  };
  return launch::boot_command(a.operands, store_args(a), prepare);
}

int cmd_stop(const Args& a) {
  if (a.operands.size() != 1) return report(bad_input("usage: stop NAME"), "stop");
  Status s = launcher::stop_container(a.state_root, a.operands[0], a.stop_timeout_ms + 5000,
                                      a.stop_timeout_given ? a.stop_timeout_ms : -1);
  return s.ok() ? 0 : report(s.error(), "stop");
}

int freeze(const Args& a, bool frozen, const char* name) {
  if (a.operands.size() != 1) return report(bad_input(std::string("usage: ") + name + " NAME"), name);
  Status s = launcher::freeze_container(a.state_root, a.operands[0], frozen);
  return s.ok() ? 0 : report(s.error(), name);
}
int cmd_freeze(const Args& a) { return freeze(a, true, "freeze"); }
int cmd_thaw(const Args& a) { return freeze(a, false, "thaw"); }

void print_text(const launcher::ContainerStatus& s) {
  std::printf("%-20s %-8s %s\n", "NAME", "STATE", "INIT_PID");
  std::printf("%-20s %-8s %d\n", s.name.c_str(), s.state.c_str(), s.init_pid);
  if (s.services.empty()) return;
  std::printf("%-20s %-8s %s\n", "SERVICE", "STATE", "RESTARTS");
  for (const launcher::ServiceStatus& v : s.services)
    std::printf("%-20s %-8s %u\n", v.name.c_str(), v.state.c_str(), v.restarts);
}

int cmd_status(const Args& a) {
  if (a.operands.size() != 1) return report(bad_input("usage: status NAME"), "status");
  auto s = launcher::container_status(a.state_root, a.operands[0]);
  if (!s.ok()) return report(s.error(), "status");
  // An installed container also shows its trial (install --trial) and how
  // the last one ended.
  auto stored = launch::store_status(a.operands[0], store_args(a));
  if (a.json) {
    std::string json = launcher::to_json(*s);
    if (stored && !json.empty() && json.back() == '}')
      json.insert(json.size() - 1, "," + launch::trial_json(*stored));
    std::puts(json.c_str());
  } else {
    print_text(*s);
    if (stored) std::fputs(launch::trial_text(*stored).c_str(), stdout);
  }
  return 0;
}

int cmd_list(const Args& a) { return launch::list_command(store_args(a)); }

int cmd_exec(const Args& a) {
  if (a.operands.size() < 2) return report(bad_input("usage: exec NAME [--] COMMAND..."), "exec");
  launcher::ExecRequest req;
  req.argv.assign(a.operands.begin() + 1, a.operands.end());
  auto r = launcher::exec_in_container(a.state_root, a.operands[0], req);
  return r.ok() ? *r : report(r.error(), "exec");
}

// dm-table NAME: the live table and status of container NAME's dm-verity
// device, as `dmsetup table` / `dmsetup status` print them (target tests, and
// the operator's proof that the signed root hash is what the kernel checks).
int cmd_dm_table(const Args& a) {
  if (a.operands.size() != 1) return report(bad_input("usage: dm-table NAME"), "dm-table");
  int shown = 0;
  for (const char* role : {"rootfs", "base"}) {
    std::string dev = launcher::verity_device_name(a.operands[0], role);
    if (!dm::DmDevice::exists(dev)) continue;
    ++shown;
    auto table = dm::DmDevice::table(dev);
    if (!table.ok()) return report(table.error(), "dm-table");
    auto status = dm::DmDevice::status(dev);
    if (!status.ok()) return report(status.error(), "dm-table");
    std::printf("%s table: %s\n%s status: %s\n", dev.c_str(), table->c_str(), dev.c_str(), status->c_str());
  }
  if (shown == 0) return report(failure("no dm-verity device of " + a.operands[0]), "dm-table");
  return 0;
}

struct Command {
  const char* name;
  const char* summary;
  int (*run)(const Args& args);
};

const Command kCommands[] = {
    {"run", "Verify and run a container in the foreground (IMAGE, or NAME from the store)", cmd_run},
    {"stop", "Stop a running container gracefully (NAME)", cmd_stop},
    {"freeze", "Freeze every process of a container (NAME)", cmd_freeze},
    {"thaw", "Thaw a frozen container (NAME)", cmd_thaw},
    {"status", "Show one container's state (NAME) [--json]", cmd_status},
    {"list", "List installed (slots, versions, active) and running containers [--json]", cmd_list},
    {"exec", "Run a command inside a running container (NAME -- COMMAND...)", cmd_exec},
    {"install",
     "Verify an image and install it into the store (IMAGE) [--allow-downgrade] [--if-newer] [--trial] "
     "[--trial-seconds N]",
     cmd_install},
    {"rollback", "Make a container's other slot active again (NAME)", cmd_rollback},
    {"boot", "Verify and start the enabled containers (NAME... or all installed)", cmd_boot},
    {"dm-table", "Show a running container's dm-verity table and status (NAME)", cmd_dm_table},
    {"check", "Report which container facilities the running kernel has [--json] [--require]", nullptr},
};

int usage(FILE* out) {
  std::fprintf(out,
               "usage: nestbox-launch <command> [args] [--state-dir DIR] [--cgroup-parent PATH]\n"
               "                      [--stop-timeout MS] [--json] [--keyring DIR] [--verity|--full]\n"
               "                      [--compat STRING] [--base IMG] [--store DIR]\n"
               "                      [--rollback-dir DIR] [--partition-dir DIR]\n"
               "rollback records: --rollback-dir, default %s\n\ncommands:\n",
               *NESTBOX_DEFAULT_ROLLBACK_DIR ? NESTBOX_DEFAULT_ROLLBACK_DIR : "<store>/.state");
  for (const Command& c : kCommands) std::fprintf(out, "  %-10s %s\n", c.name, c.summary);
  return out == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Before anything is opened: nothing of the launcher's may land on 0-2.
  if (Status s = launcher::secure_stdio(); !s.ok()) return report(s.error(), argc > 1 ? argv[1] : "");
  // Before any other libcrypto call: the verifier's libcrypto reads no
  // configuration (verifier/crypto.h, init_target_library).
  if (Status s = crypto::init_target_library(); !s.ok()) return report(s.error(), argc > 1 ? argv[1] : "");
  if (argc < 2) return usage(stderr);
  if (!std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h")) return usage(stdout);
  if (!std::strcmp(argv[1], "--version")) {
    std::puts("nestbox-launch 0.1.0");
    return 0;
  }
  // `check` has its own arguments (kernel-check's probe parses them).
  if (!std::strcmp(argv[1], "check")) return kernel_check::run_check_command(argc - 1, argv + 1);
  // Options go before the command as well as after it: the command is the
  // first operand (`nestbox-launch --store S list` = `nestbox-launch list --store S`).
  Args args;
  if (!parse(argc, argv, args)) return usage(stderr);
  if (args.operands.empty()) return usage(stderr);
  std::string name = args.operands.front();
  args.operands.erase(args.operands.begin());
  if (name == "check") {
    std::fprintf(stderr, "nestbox-launch: check takes its own options after it (nestbox-launch check --json)\n");
    return 2;
  }
  for (const Command& c : kCommands) {
    if (name != c.name || !c.run) continue;
    // What puts the caller's descriptors into a container: never one of the
    // host's files or devices as it is (launcher/stdio_relay.h).
    if (name != "run" && name != "boot" && name != "exec") return c.run(args);
    auto relay = launcher::StdioRelay::start();
    if (!relay.ok()) return report(relay.error(), name.c_str());
    int status = c.run(args);
    // run and boot return once their containers are gone, exec once its
    // command has ended: a write end that a process of the container still
    // holds (a daemon the command left, one passed to a process outside)
    // must not hold them (stdio_relay.h). What arrives within 2 s is copied.
    relay->finish(2000);
    return status;
  }
  std::fprintf(stderr, "nestbox-launch: unknown command '%s'\n", name.c_str());
  return usage(stderr);
}
