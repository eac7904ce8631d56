#include "launcher/store_commands.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <map>

#include "launcher/lifecycle.h"
#include "launcher/signal_block.h"
#include "util/file_io.h"
#include "util/json_quote.h"
#include "verifier/rollback_state.h"

namespace nestbox::launch {

namespace {

int report(const Error& e, const char* command) {
  std::fprintf(stderr, "nestbox-launch %s: %s\n", command, e.message.c_str());
  return static_cast<int>(e.kind);
}

std::string version_text(uint64_t version, const std::string& text) {
  std::string v = std::to_string(version);
  return text.empty() || text == v ? v : v + " (" + text + ")";
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// One row of `list`: a container that is installed, running, or both.
struct Row {
  const verifier::ContainerStatus* installed = nullptr;
  const launcher::ContainerStatus* running = nullptr;
};

std::string slot_json(const verifier::SlotStatus& s) {
  std::string out = std::string("{\"slot\":\"") + s.slot + "\",\"present\":" + (s.present ? "true" : "false") +
                    ",\"active\":" + (s.active ? "true" : "false");
  if (s.present && s.problem.empty())
    out += ",\"version\":" + std::to_string(s.version) + ",\"version_string\":" + json_string(s.version_string);
  if (!s.problem.empty()) out += ",\"problem\":" + json_string(s.problem);
  return out + "}";
}

std::string row_json(const std::string& name, const Row& r) {
  std::string out = "{\"name\":" + json_string(name) + ",\"state\":" +
                    json_string(r.running ? r.running->state : "stopped") + ",\"pid\":" +
                    std::to_string(r.running ? r.running->launcher_pid : 0) + ",\"init_pid\":" +
                    std::to_string(r.running ? r.running->init_pid : 0);
  if (r.running) {
    std::string cgroups;
    for (const std::string& c : r.running->cgroups) cgroups += (cgroups.empty() ? "" : ",") + json_string(c);
    out += ",\"cgroups\":[" + cgroups + "]";
  }
  out += std::string(",\"installed\":") + (r.installed ? "true" : "false");
  if (r.installed) {
    std::string active = "null", slots;
    for (const verifier::SlotStatus& s : r.installed->slots) {
      if (s.active) active = std::string("\"") + s.slot + "\"";
      slots += (slots.empty() ? "" : ",") + slot_json(s);
    }
    out += ",\"active\":" + active + ",\"slots\":[" + slots + "]";
  }
  return out + "}";
}

// "a=2 (2.0)*": version of the slot, `*` when active; "-" empty, "?" unreadable.
std::string slot_text(const verifier::SlotStatus& s) {
  std::string v = !s.present ? "-" : !s.problem.empty() ? "?" : version_text(s.version, s.version_string);
  return std::string(1, s.slot) + "=" + v + (s.active ? "*" : "");
}

void print_row(const std::string& name, const Row& r) {
  std::string line;
  char head[96];
  std::snprintf(head, sizeof head, "%-20s %-8s %d", name.c_str(), r.running ? r.running->state.c_str() : "stopped",
                r.running ? r.running->init_pid : 0);
  line = head;
  if (r.installed)
    for (const verifier::SlotStatus& s : r.installed->slots) line += "  " + slot_text(s);
  std::puts(line.c_str());
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited " + std::to_string(WEXITSTATUS(status));
}

// Forks the launcher of one container: it runs in the foreground of the child.
pid_t start_child(const Prepared& run) {
  std::fflush(nullptr);
  pid_t boot_pid = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // If boot dies (procd's SIGKILL after term_timeout), stop gracefully:
  // SIGTERM stays blocked until run_container waits for it.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != boot_pid) ::_exit(1);
  int status = run();
  std::fflush(nullptr);
  ::_exit(status);
}

// Waits until every child has ended, passing stop signals on; records the
// failures (a container stopped on request is none).
void supervise(const launcher::SignalBlock& block, const std::string& state_root,
               std::map<pid_t, std::string>* children, std::vector<std::string>* failed) {
  bool stopping = false;
  while (!children->empty()) {
    int sig = ::sigwaitinfo(&block.set(), nullptr);
    if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
      stopping = true;
      for (const auto& [pid, name] : *children) ::kill(pid, SIGTERM);
      continue;
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = children->find(pid);
      if (it == children->end()) continue;
      std::fprintf(stderr, "nestbox-launch boot: %s: %s\n", it->second.c_str(), exit_text(status).c_str());
      bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && !stopping) failed->push_back(it->second + " (" + exit_text(status) + ")");
      // A launcher killed outright ran no destructor: its container died with
      // it (parent-death signal), its state directory and cgroups are cleared here.
      if (WIFSIGNALED(status) && launcher::clear_stale(state_root, it->second))
        std::fprintf(stderr, "nestbox-launch boot: %s: cleared what its launcher left\n", it->second.c_str());
      children->erase(it);
    }
  }
}

}  // namespace

verifier::Store open_store(const StoreArgs& a) {
  verifier::StoreOptions o;
  o.root = a.store_dir;
  o.keyring.dir = a.keyring;
  o.keyring.only_root_writes = true;
  o.device = a.device;
  return verifier::Store(std::move(o));
}

int install_command(const std::vector<std::string>& operands, const StoreArgs& a) {
  if (operands.size() != 1)
    return report(bad_input("usage: install IMAGE [--store DIR] [--allow-downgrade] [--if-newer]"), "install");
  if (Status st = make_dirs(a.store_dir, 0755); !st.ok()) return report(st.error(), "install");
  bool up_to_date = false;
  auto info = open_store(a).install(operands[0], a.allow_downgrade, {}, a.if_newer ? &up_to_date : nullptr);
  if (!info.ok()) return report(info.error(), "install");
  if (up_to_date) {
    std::printf("%s: version %s is not newer than the installed one: not installed\n", info->name.c_str(),
                version_text(info->version, info->version_string).c_str());
    return 0;
  }
  std::printf("%s: installed version %s%s\n", info->name.c_str(),
              version_text(info->version, info->version_string).c_str(),
              info->policy.empty() ? " (base image, not runnable)" : "");
  return 0;
}

int rollback_command(const std::vector<std::string>& operands, const StoreArgs& a) {
  if (operands.size() != 1) return report(bad_input("usage: rollback NAME [--store DIR]"), "rollback");
  auto info = open_store(a).rollback(operands[0]);
  if (!info.ok()) return report(info.error(), "rollback");
  std::printf("%s: rolled back to version %s\n", info->name.c_str(),
              version_text(info->version, info->version_string).c_str());
  return 0;
}

int list_command(const StoreArgs& a) {
  auto installed = open_store(a).list();
  if (!installed.ok()) return report(installed.error(), "list");
  auto running = launcher::list_containers(a.state_root);
  if (!running.ok()) return report(running.error(), "list");
  std::map<std::string, Row> rows;  // sorted by name
  for (const verifier::ContainerStatus& c : *installed) rows[c.name].installed = &c;
  for (const launcher::ContainerStatus& s : *running) rows[s.name].running = &s;
  if (a.json) {
    std::string out = "[";
    for (const auto& [name, row] : rows) out += (out.size() > 1 ? "," : "") + row_json(name, row);
    std::puts((out + "]").c_str());
  } else {
    std::printf("%-20s %-8s %s  %s\n", "NAME", "STATE", "INIT_PID", "SLOTS (version, * active)");
    for (const auto& [name, row] : rows) print_row(name, row);
  }
  return 0;
}

namespace {

// The verified image to start for `name`, base or not.
Result<verifier::BootImage> find_installed(const std::string& name, const StoreArgs& a) {
  NESTBOX_TRY(verifier::check_container_name(name));
  if (!is_dir(a.store_dir + "/" + name)) return bad_input(name + ": not installed in " + a.store_dir);
  auto image = open_store(a).bootable(name, a.mode);
  if (!image.ok()) return std::move(image).error();
  if (image->fell_back)
    std::fprintf(stderr, "nestbox-launch: %s: active slot unusable (%s); using slot %c, version %s\n",
                 name.c_str(), image->active_problem.c_str(), image->slot,
                 version_text(image->info.version, image->info.version_string).c_str());
  return image;
}

}  // namespace

Result<verifier::BootImage> installed_image(const std::string& name, const StoreArgs& a) {
  if (!is_dir(a.store_dir + "/" + name) && verifier::check_container_name(name).ok())
    return bad_input(name + ": not an image file, and no container of that name is installed in " + a.store_dir);
  auto image = find_installed(name, a);
  if (image.ok() && image->info.policy.empty())
    return bad_input(name + ": a base image (no policy): not runnable by itself");
  return image;
}

int boot_command(const std::vector<std::string>& operands, const StoreArgs& a, const Prepare& prepare) {
  std::vector<std::string> names = operands;
  if (names.empty()) {
    auto installed = open_store(a).list();
    if (!installed.ok()) return report(installed.error(), "boot");
    for (const verifier::ContainerStatus& c : *installed) names.push_back(c.name);
  }
  launcher::SignalBlock block;
  std::map<pid_t, std::string> children;
  std::vector<std::string> failed;
  for (const std::string& name : names) {
    auto image = find_installed(name, a);
    if (image.ok() && image->info.policy.empty()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: base image, not started\n", name.c_str());
      continue;
    }
    Result<Prepared> run = image.ok() ? prepare(*image) : Result<Prepared>(std::move(image).error());
    if (!run.ok()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: refused: %s\n", name.c_str(), run.error().message.c_str());
      failed.push_back(name + " (refused)");
      continue;
    }
    pid_t pid = start_child(*run);
    if (pid < 0) {
      std::fprintf(stderr, "nestbox-launch boot: %s: fork failed\n", name.c_str());
      failed.push_back(name + " (not started)");
      continue;
    }
    std::fprintf(stderr, "nestbox-launch boot: %s: started version %s from slot %c (pid %d)\n", name.c_str(),
                 version_text(image->info.version, image->info.version_string).c_str(), image->slot,
                 static_cast<int>(pid));
    children[pid] = name;
  }
  supervise(block, a.state_root, &children, &failed);
  if (failed.empty()) return 0;
  std::string list;
  for (const std::string& f : failed) list += (list.empty() ? "" : ", ") + f;
  std::fprintf(stderr, "nestbox-launch boot: %zu container(s) failed: %s\n", failed.size(), list.c_str());
  return 1;
}

}  // namespace nestbox::launch
