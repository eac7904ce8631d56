#include "launcher/store_commands.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>

#include "launcher/health_check.h"
#include "launcher/lifecycle.h"
#include "launcher/parallel.h"
#include "launcher/quoted_output.h"
#include "launcher/signal_block.h"
#include "launcher/state.h"
#include "policy/format.h"
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
    out += ",\"active\":" + active + ",\"slots\":[" + slots + "]," + trial_json(*r.installed);
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
  if (r.installed) std::fputs(trial_text(*r.installed).c_str(), stdout);
}

std::string exit_text(int status) {
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "exited " + std::to_string(WEXITSTATUS(status));
}

// Forks the launcher of one container: it runs in the foreground of the child.
pid_t start_child(const Prepared& run, const std::string& name) {
  std::fflush(nullptr);
  pid_t boot_pid = ::getpid();
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  // If boot dies (procd's SIGKILL after term_timeout), stop gracefully:
  // SIGTERM stays blocked until run_container waits for it.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != boot_pid) ::_exit(1);
  // The container's output reaches boot's log only quoted, never as one of
  // boot's own lines (launcher/quoted_output.h).
  auto output = launcher::QuotedOutput::start(name);
  if (!output.ok()) {
    std::fprintf(stderr, "nestbox-launch boot: %s: %s\n", name.c_str(), output.error().message.c_str());
    ::_exit(1);
  }
  int status = run(output->out(), output->err());
  std::fflush(nullptr);
  // The container is gone; what a process it passed a write end to still
  // holds must not keep this launcher (as StdioRelay::finish).
  output->finish(2000);
  ::_exit(status);
}

double seconds_since(const timespec& t0) {
  timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<double>(now.tv_sec - t0.tv_sec) + static_cast<double>(now.tv_nsec - t0.tv_nsec) / 1e9;
}

// The verified image to start for `name`, base or not. Prints nothing: boot
// verifies several at once and reports in name order (note_fallback).
Result<verifier::BootImage> verify_installed(const std::string& name, const StoreArgs& a) {
  NESTBOX_TRY(verifier::check_container_name(name));
  if (!is_dir(a.store_dir + "/" + name)) return bad_input(name + ": not installed in " + a.store_dir);
  return open_store(a).bootable(name, a.mode);
}

void note_fallback(const std::string& name, const Result<verifier::BootImage>& image) {
  if (image.ok() && image->fell_back)
    std::fprintf(stderr, "nestbox-launch: %s: active slot unusable (%s); using slot %c, version %s\n",
                 name.c_str(), image->active_problem.c_str(), image->slot,
                 version_text(image->info.version, image->info.version_string).c_str());
}

Result<verifier::BootImage> find_installed(const std::string& name, const StoreArgs& a) {
  auto image = verify_installed(name, a);
  note_fallback(name, image);
  return image;
}

// A container `boot` started, and its trial when it is on one.
struct Child {
  std::string name;
  bool on_trial = false;
  uint64_t version = 0;
  uint32_t seconds = 0;
  timespec started{};
  policy::Health health;     // the trial's check ([health]), if it has one
  std::string failed_check;  // why the check failed: the container is being stopped
};

// One boot: starts containers, judges trials, waits for the children.
class Boot {
 public:
  Boot(const StoreArgs& a, const Prepare& prepare) : a_(a), store_(open_store(a)), prepare_(prepare) {}

  // Starts each of `names`: trials are settled first (an interrupted one is
  // rolled back, which changes the slot to verify), then every image is
  // verified, several at once (each is hashed independently: CPU and I/O
  // bound), then the containers are started in the order given, so what
  // boot prints does not depend on which verification ended first. A
  // refused image is reported and skipped; the others still start.
  void start_all(const std::vector<std::string>& names) {
    std::vector<Result<std::optional<verifier::TrialRecord>>> trials;
    for (const std::string& name : names) trials.push_back(settle(name));
    std::vector<std::optional<Result<verifier::BootImage>>> images(names.size());
    run_parallel(names.size(), parallel_jobs(names.size()),
                 [&](size_t i) { images[i].emplace(verify_installed(names[i], a_)); });
    // A container that joins another's namespaces needs that one running
    // first: joiners start after the containers they join (in rounds, name
    // order within each), and wait for them (wait_ready). A cycle, or a
    // join of a container this boot does not start, starts as it comes;
    // the joiner's own checks then refuse it if its target is not running.
    std::vector<std::vector<std::string>> joins(names.size());
    for (size_t i = 0; i < names.size(); ++i) {
      if (!images[i]->ok() || (*images[i])->info.policy.empty()) continue;
      const std::string& bytes = (*images[i])->info.policy;
      auto decoded = policy::decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
      if (!decoded.ok()) continue;  // prepare refuses it
      for (const policy::Namespace& ns : decoded->namespaces)
        if (ns.mode == policy::NsMode::kJoin && ns.join != names[i] &&
            std::find(names.begin(), names.end(), ns.join) != names.end() &&
            std::find(joins[i].begin(), joins[i].end(), ns.join) == joins[i].end())
          joins[i].push_back(ns.join);
    }
    std::vector<bool> done(names.size());
    for (size_t left = names.size(); left > 0;) {
      bool progress = false;
      for (size_t i = 0; i < names.size(); ++i) {
        if (done[i]) continue;
        bool ready = std::all_of(joins[i].begin(), joins[i].end(), [&](const std::string& j) {
          size_t k = static_cast<size_t>(std::find(names.begin(), names.end(), j) - names.begin());
          return done[k];
        });
        if (!ready) continue;
        for (const std::string& j : joins[i]) wait_ready(j);
        note_fallback(names[i], *images[i]);
        start(names[i], std::move(trials[i]), std::move(*images[i]));
        done[i] = true;
        --left;
        progress = true;
      }
      if (progress) continue;
      for (size_t i = 0; i < names.size(); ++i) {  // a cycle: the first left goes
        if (done[i]) continue;
        joins[i].clear();
        break;
      }
    }
  }

 private:
  // Waits (at most 10 s) until `name`, started by this boot, has its init
  // recorded, so a container joining its namespaces finds them; returns at
  // once when it was not started or its launcher has already ended.
  void wait_ready(const std::string& name) {
    auto it = started_.find(name);
    if (it == started_.end()) return;
    std::string dir = a_.state_root + "/" + name;
    for (int tries = 0; tries < 2000; ++tries) {
      if (launcher::is_running(dir) && read_file(dir + "/init_start").ok()) return;
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(it->second), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
          info.si_pid != 0)
        return;  // ended (reaped in supervise): the joiner's own check reports it
      ::usleep(5000);
    }
  }

  // Settles an interrupted trial of `name`; its live trial, if any.
  Result<std::optional<verifier::TrialRecord>> settle(const std::string& name) {
    auto trial = store_.live_trial(name);
    if (!trial.ok()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: trial record: %s\n", name.c_str(),
                   trial.error().message.c_str());
    } else if (*trial && (*trial)->started) {
      // Started by an earlier boot and never judged: that boot was killed or
      // the power went. Never marked good, so it goes.
      roll_back(name, (*trial)->version,
                "the trial start was interrupted before it was judged (launcher killed or power lost)");
      trial = std::optional<verifier::TrialRecord>();
    }
    return trial;
  }

  // Starts `name` from its verified image (its trial, if pending).
  void start(const std::string& name, Result<std::optional<verifier::TrialRecord>> trial,
             Result<verifier::BootImage> image) {
    if (image.ok() && image->info.policy.empty()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: base image, not started\n", name.c_str());
      return;
    }
    Child child{name};
    if (trial.ok() && *trial && image.ok()) {
      if (image->slot != (*trial)->slot) {
        // bootable() fell back: the trial slot does not verify.
        roll_back(name, (*trial)->version, "slot " + std::string(1, (*trial)->slot) + " unusable: " +
                                               image->active_problem);
      } else if (Status st = store_.start_trial(name); !st.ok()) {
        // Unrecorded, a trial would not be rolled back after a power cut: not started.
        std::fprintf(stderr, "nestbox-launch boot: %s: refused: %s\n", name.c_str(), st.error().message.c_str());
        failed_.push_back(name + " (refused)");
        return;
      } else {
        child.on_trial = true;
        child.version = (*trial)->version;
        child.seconds = (*trial)->seconds;
        const std::string& bytes = image->info.policy;
        auto decoded = policy::decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
        if (decoded.ok()) child.health = decoded->health;  // else prepare refuses it below
      }
    }
    if (!launch(std::move(image), std::move(child))) return;
  }

 public:

  // Waits until every child has ended, passing stop signals on, committing
  // trials that stayed up and replacing those that did not.
  void supervise(const launcher::SignalBlock& block) {
    bool stopping = false;
    while (!children_.empty()) {
      int sig = ::sigtimedwait(&block.set(), nullptr, next_deadline());
      if (sig < 0) {
        judge_running();
        continue;
      }
      if (sig == SIGTERM || sig == SIGINT || sig == SIGHUP) {
        // A trial stopped on request is not judged: it stays "started", and
        // the next boot rolls it back (never marked good).
        stopping = true;
        for (const auto& [pid, child] : children_) ::kill(pid, SIGTERM);
        continue;
      }
      int status = 0;
      pid_t pid;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        auto it = children_.find(pid);
        if (it == children_.end()) continue;
        Child child = std::move(it->second);
        children_.erase(it);
        std::fprintf(stderr, "nestbox-launch boot: %s: %s\n", child.name.c_str(), exit_text(status).c_str());
        // A launcher killed outright ran no destructor: its container died with
        // it (parent-death signal), its state directory and cgroups are cleared here.
        if (WIFSIGNALED(status) && launcher::clear_stale(a_.state_root, child.name))
          std::fprintf(stderr, "nestbox-launch boot: %s: cleared what its launcher left\n", child.name.c_str());
        if (child.on_trial && !stopping) {
          char why[160];
          std::snprintf(why, sizeof why, "version %llu %s after %.1f s; it had to stay up %u s",
                        static_cast<unsigned long long>(child.version), exit_text(status).c_str(),
                        seconds_since(child.started), child.seconds);
          std::string reason = child.failed_check.empty() ? why : child.failed_check;
          if (roll_back(child.name, child.version, reason)) launch(find_installed(child.name, a_), Child{child.name});
          continue;
        }
        bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        if (!ok && !stopping) failed_.push_back(child.name + " (" + exit_text(status) + ")");
      }
    }
  }

  std::vector<std::string>& failed() { return failed_; }

 private:
  bool launch(Result<verifier::BootImage> image, Child child) {
    const std::string& name = child.name;
    Result<Prepared> run = image.ok() ? prepare_(*image) : Result<Prepared>(std::move(image).error());
    if (!run.ok()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: refused: %s\n", name.c_str(), run.error().message.c_str());
      failed_.push_back(name + " (refused)");
      return false;
    }
    ::clock_gettime(CLOCK_MONOTONIC, &child.started);
    pid_t pid = start_child(*run, name);
    if (pid < 0) {
      std::fprintf(stderr, "nestbox-launch boot: %s: fork failed\n", name.c_str());
      failed_.push_back(name + " (not started)");
      return false;
    }
    std::fprintf(stderr, "nestbox-launch boot: %s: started version %s from slot %c (pid %d)%s\n", name.c_str(),
                 version_text(image->info.version, image->info.version_string).c_str(), image->slot,
                 static_cast<int>(pid), child.on_trial ? " on trial" : "");
    started_[name] = pid;
    children_[pid] = std::move(child);
    return true;
  }

  bool roll_back(const std::string& name, uint64_t version, const std::string& reason) {
    auto back = store_.abandon_trial(name, reason);
    if (!back.ok()) {
      std::fprintf(stderr, "nestbox-launch boot: %s: trial of version %llu failed (%s); %s\n", name.c_str(),
                   static_cast<unsigned long long>(version), reason.c_str(), back.error().message.c_str());
      failed_.push_back(name + " (trial failed, not rolled back)");
      return false;
    }
    std::fprintf(stderr, "nestbox-launch boot: %s: trial of version %llu failed (%s); rolled back to version %s\n",
                 name.c_str(), static_cast<unsigned long long>(version), reason.c_str(),
                 version_text(back->version, back->version_string).c_str());
    return true;
  }

  // Commits each trial whose time is up while its container still runs and
  // whose [health] check, if it has one, passes; stops the others (they are
  // rolled back when their launcher has ended).
  void judge_running() {
    for (auto& [pid, child] : children_) {
      if (!child.on_trial || !child.failed_check.empty() || seconds_since(child.started) < child.seconds) continue;
      if (!child.health.argv.empty()) {
        std::string problem = launcher::run_health_check(a_.state_root, child.name, child.health);
        if (!problem.empty()) {
          child.failed_check = "version " + std::to_string(child.version) + " stayed up " +
                               std::to_string(child.seconds) + " s but its health check " + problem;
          ::kill(pid, SIGTERM);
          continue;
        }
      }
      child.on_trial = false;
      if (Status st = store_.commit_trial(child.name); !st.ok()) {
        // Left "started": the next boot rolls it back.
        std::fprintf(stderr, "nestbox-launch boot: %s: trial not committed: %s\n", child.name.c_str(),
                     st.error().message.c_str());
        continue;
      }
      std::fprintf(stderr, "nestbox-launch boot: %s: version %llu stayed up %u s%s: committed\n",
                   child.name.c_str(), static_cast<unsigned long long>(child.version), child.seconds,
                   child.health.argv.empty() ? "" : " and passed its health check");
    }
  }

  // How long sigtimedwait may wait: until the nearest trial ends, else for ever.
  const timespec* next_deadline() {
    double wait = -1;
    for (const auto& [pid, child] : children_) {
      if (!child.on_trial || !child.failed_check.empty()) continue;
      double left = std::max(0.0, child.seconds - seconds_since(child.started));
      if (wait < 0 || left < wait) wait = left;
    }
    if (wait < 0) return nullptr;
    timeout_.tv_sec = static_cast<time_t>(wait);
    timeout_.tv_nsec = static_cast<long>((wait - static_cast<double>(timeout_.tv_sec)) * 1e9) + 1000000;
    if (timeout_.tv_nsec >= 1000000000) {
      timeout_.tv_sec += 1;
      timeout_.tv_nsec -= 1000000000;
    }
    return &timeout_;
  }

  const StoreArgs& a_;
  verifier::Store store_;
  const Prepare& prepare_;
  std::map<pid_t, Child> children_;
  std::map<std::string, pid_t> started_;  // launcher pid of each container this boot started
  std::vector<std::string> failed_;
  timespec timeout_{};
};

}  // namespace

std::string trial_json(const verifier::ContainerStatus& c) {
  std::string out = "\"trial\":";
  if (c.trial)
    out += std::string("{\"slot\":\"") + c.trial->slot + "\",\"version\":" + std::to_string(c.trial->version) +
           ",\"seconds\":" + std::to_string(c.trial->seconds) + ",\"state\":\"" +
           (c.trial->started ? "started" : "pending") + "\"}";
  else
    out += "null";
  out += ",\"last_trial\":";
  if (c.last_trial)
    out += "{\"outcome\":" + json_string(c.last_trial->outcome) + ",\"version\":" +
           std::to_string(c.last_trial->version) + ",\"reason\":" + json_string(c.last_trial->reason) + "}";
  else
    out += "null";
  if (!c.trial_problem.empty()) out += ",\"trial_problem\":" + json_string(c.trial_problem);
  return out;
}

std::string trial_text(const verifier::ContainerStatus& c) {
  std::string out;
  if (c.trial)
    out += "  trial: version " + std::to_string(c.trial->version) + " in slot " + c.trial->slot + ", " +
           (c.trial->started ? "started, not judged yet" : "pending") + " (must stay up " +
           std::to_string(c.trial->seconds) + " s)\n";
  if (c.last_trial)
    out += "  last trial: version " + std::to_string(c.last_trial->version) + " " +
           (c.last_trial->outcome == "committed" ? std::string("committed")
                                                 : "rolled back: " + c.last_trial->reason) +
           "\n";
  if (!c.trial_problem.empty()) out += "  trial record: " + c.trial_problem + "\n";
  return out;
}

std::optional<verifier::ContainerStatus> store_status(const std::string& name, const StoreArgs& a) {
  auto all = open_store(a).list();
  if (!all.ok()) return std::nullopt;
  for (verifier::ContainerStatus& c : *all)
    if (c.name == name) return std::move(c);
  return std::nullopt;
}

verifier::Store open_store(const StoreArgs& a) {
  verifier::StoreOptions o;
  o.root = a.store_dir;
  o.rollback_dir = a.rollback_dir;
  o.keyring.dir = a.keyring;
  o.keyring.only_root_writes = true;
  o.device = a.device;
  return verifier::Store(std::move(o));
}

int install_command(const std::vector<std::string>& operands, const StoreArgs& a) {
  if (operands.size() != 1)
    return report(bad_input("usage: install IMAGE [--store DIR] [--allow-downgrade] [--if-newer] [--trial] "
                            "[--trial-seconds N]"),
                  "install");
  bool up_to_date = false;
  auto info = open_store(a).install(operands[0], a.allow_downgrade, {}, a.if_newer ? &up_to_date : nullptr,
                                    a.trial_seconds);
  if (!info.ok()) return report(info.error(), "install");
  if (up_to_date) {
    std::printf("%s: version %s is not newer than the installed one: not installed\n", info->name.c_str(),
                version_text(info->version, info->version_string).c_str());
    return 0;
  }
  std::printf("%s: installed version %s%s\n", info->name.c_str(),
              version_text(info->version, info->version_string).c_str(),
              info->policy.empty() ? " (base image, not runnable)" : "");
  if (a.trial_seconds > 0)
    std::printf("%s: on trial: the next boot commits it once it stays up %u s, else rolls it back\n",
                info->name.c_str(), a.trial_seconds);
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
  Boot boot(a, prepare);
  boot.start_all(names);
  boot.supervise(block);
  if (boot.failed().empty()) return 0;
  std::string list;
  for (const std::string& f : boot.failed()) list += (list.empty() ? "" : ", ") + f;
  std::fprintf(stderr, "nestbox-launch boot: %zu container(s) failed: %s\n", boot.failed().size(), list.c_str());
  return 1;
}

}  // namespace nestbox::launch
