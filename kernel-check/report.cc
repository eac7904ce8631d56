#include "kernel-check/report.h"

#include <cstdio>
#include <string_view>
#include <utility>

#include "kernel-check/expr.h"
#include "kernel-check/version.h"
#include "util/json_quote.h"

namespace nestbox::kernel_check {

const char* to_string(State s) {
  switch (s) {
    case State::kAvailable: return "available";
    case State::kModule: return "module";
    case State::kMissing: return "missing";
    case State::kTooOld: return "too old";
    case State::kUnknown: return "unknown";
    case State::kUnusable: return "unusable";
  }
  return "?";
}

bool ContainerVerdict::enforceable() const {
  if (!kernel_min_ok) return false;
  for (const Use& u : uses)
    if (!kernel_check::enforceable(u.state)) return false;
  return true;
}

const FacilityStatus* Report::find(Feature f) const {
  for (const FacilityStatus& s : facilities)
    if (s.facility->bit == static_cast<int>(f)) return &s;
  return nullptr;
}

const FacilityStatus* Report::find(std::string_view name) const {
  for (const FacilityStatus& s : facilities)
    if (name == s.facility->name) return &s;
  return nullptr;
}

bool Report::all_enforceable() const {
  for (const ContainerVerdict& c : containers)
    if (!c.enforceable()) return false;
  return true;
}

void add_containers(Report* report, const std::vector<ContainerNeeds>& containers) {
  for (const ContainerNeeds& needs : containers) {
    ContainerVerdict v;
    v.name = needs.name;
    v.file = needs.file;
    v.kernel_min = needs.kernel_min;
    if (needs.kernel_min)
      v.kernel_min_ok = report->version.known() && report->version >= *needs.kernel_min;
    for (const Requirement& r : needs.requirements) {
      Use use{r};
      if (const FacilityStatus* s = report->find(r.feature)) {
        use.state = s->state;
        if (s->state == State::kMissing) use.enable = s->enable;
        if (s->state == State::kTooOld) use.enable = "kernel >= " + to_string(s->facility->since);
      } else {
        use.state = State::kUnknown;
      }
      v.uses.push_back(std::move(use));
    }
    report->containers.push_back(std::move(v));
  }
}

namespace {

// Appends s, then spaces up to `width` (at least one).
void pad(std::string* out, std::string_view s, size_t width) {
  out->append(s);
  out->append(s.size() >= width ? 1 : width - s.size(), ' ');
}

void kernel_line(const Report& r, std::string* out) {
  *out += "kernel ";
  *out += to_string(r.version);
  if (!r.version_source.empty()) *out += " (from " + r.version_source + ")";
  if (!r.arch.empty()) *out += ", arch " + r.arch;
}

void talk_table(const Report& r, std::string* out) {
  *out += "Which container facilities does this kernel have? (the talk's table)\n  ";
  pad(out, "Facility", 22);
  pad(out, "Since", 9);
  *out += "available  module  missing  too old\n";
  const State columns[] = {State::kAvailable, State::kModule, State::kMissing, State::kTooOld};
  const size_t widths[] = {11, 8, 9, 7};
  for (const FacilityStatus& s : r.facilities) {
    if (!(s.facility->sources & kFromTalk)) continue;
    std::string row = "  ";
    pad(&row, s.facility->title, 22);
    pad(&row, to_string(s.facility->since), 9);
    for (size_t i = 0; i < 4; ++i) pad(&row, s.state == columns[i] ? "X" : "", widths[i]);
    if (s.state == State::kUnknown) row += "(unknown)";
    if (s.state == State::kUnusable) row += "(unusable here)";
    while (!row.empty() && row.back() == ' ') row.pop_back();
    *out += row;
    *out += '\n';
  }
}

void status_note(const FacilityStatus& s, const Version& kernel, std::string* out) {
  switch (s.state) {
    case State::kMissing:
      *out += "enable ";
      *out += s.enable;
      return;
    case State::kTooOld:
      *out += "needs kernel >= ";
      *out += to_string(s.facility->since);
      *out += ", this is ";
      *out += to_string(kernel);
      return;
    default: *out += s.detail;
  }
}

void facility_list(const Report& r, std::string* out) {
  *out += "All facilities\n";
  for (int c = 0; c <= static_cast<int>(Category::kOther); ++c) {
    bool header = false;
    for (const FacilityStatus& s : r.facilities) {
      if (static_cast<int>(s.facility->category) != c) continue;
      if (!header) {
        *out += "  [";
        *out += to_string(static_cast<Category>(c));
        *out += "]\n";
      }
      header = true;
      *out += "    ";
      pad(out, s.facility->name, 30);
      pad(out, to_string(s.state), 10);
      status_note(s, r.version, out);
      *out += '\n';
    }
  }
}

// One line per feature a container uses, with every manifest key that uses it.
void container_list(const Report& r, std::string* out) {
  *out += "Containers\n";
  for (const ContainerVerdict& c : r.containers) {
    size_t bad = !c.kernel_min_ok;
    std::vector<std::pair<const Use*, std::string>> lines;  // first use of a feature, its keys
    for (const Use& u : c.uses) {
      auto it = lines.begin();
      while (it != lines.end() && it->first->requirement.feature != u.requirement.feature) ++it;
      if (it != lines.end()) {
        it->second += ", " + u.requirement.key;
        continue;
      }
      lines.push_back({&u, u.requirement.key});
      bad += !enforceable(u.state);
    }
    *out += "  ";
    *out += c.name;
    if (!c.file.empty()) *out += " (" + c.file + ")";
    *out += ": ";
    *out += bad ? "CANNOT BE ENFORCED (" + std::to_string(bad) + " missing)" : "enforceable";
    *out += '\n';
    if (c.kernel_min) {
      *out += "    ";
      pad(out, c.kernel_min_ok ? "ok" : "TOO OLD", 9);
      pad(out, "kernel_min", 24);
      *out += "needs ";
      *out += to_string(*c.kernel_min);
      *out += ", this is ";
      *out += to_string(r.version);
      *out += '\n';
    }
    for (const auto& [u, keys] : lines) {
      const char* mark = enforceable(u->state) ? "ok" : u->state == State::kMissing ? "MISSING"
                                                    : u->state == State::kTooOld   ? "TOO OLD"
                                                    : u->state == State::kUnusable ? "UNUSABLE"
                                                                                   : "UNKNOWN";
      *out += "    ";
      pad(out, mark, 9);
      pad(out, facility(u->requirement.feature).name, 24);
      *out += keys;
      if (!u->enable.empty()) {
        *out += "; enable ";
        *out += u->enable;
      } else if (u->state == State::kModule) {
        *out += " (module)";
      }
      *out += '\n';
    }
  }
}

// Minimal JSON writer: the target cannot use nlohmann-json. Appends to one
// string (no temporary per `+`: this renderer ships in nestbox-launch).
void quote_to(std::string* out, std::string_view s) { append_json_string(out, s); }

struct Quoted {  // a value written as a JSON string
  std::string_view text;
};
void put(std::string* out, std::string_view s) { out->append(s); }
void put(std::string* out, Quoted q) { quote_to(out, q.text); }
template <typename... Pieces>
void emit(std::string* out, const Pieces&... pieces) {
  (put(out, pieces), ...);
}
const char* boolean(bool b) { return b ? "true" : "false"; }

void sources_json(uint8_t sources, std::string* out) {
  const std::pair<uint8_t, const char*> names[] = {
      {kFromTalk, "talk"}, {kFromLxc, "lxc-checkconfig"}, {kFromMoby, "moby check-config.sh"},
      {kFromNestbox, "nestbox"}};
  const char* sep = "[";
  for (auto [bit, name] : names) {
    if (!(sources & bit)) continue;
    emit(out, sep, Quoted{name});
    sep = ", ";
  }
  if (*sep == '[') out->push_back('[');
  out->push_back(']');
}

void facility_json(const FacilityStatus& s, std::string* out) {
  const Facility& f = *s.facility;
  std::string bit = f.bit >= 0 ? std::to_string(f.bit) : "null";
  emit(out, "{\"name\": ", Quoted{f.name}, ", \"title\": ", Quoted{f.title}, ", \"category\": ",
       Quoted{to_string(f.category)}, ", \"bit\": ", bit, ", \"since\": ", Quoted{to_string(f.since)},
       ", \"config\": ", Quoted{describe_expr(f.config)}, ", \"checked_by\": ");
  sources_json(f.sources, out);
  emit(out, ", \"state\": ", Quoted{to_string(s.state)}, ", \"detail\": ", Quoted{s.detail}, ", \"enable\": ",
       Quoted{s.enable}, "}");
}

void container_json(const ContainerVerdict& c, std::string* out) {
  std::string kernel_min = c.kernel_min ? to_string(*c.kernel_min) : "";
  emit(out, "{\"name\": ", Quoted{c.name}, ", \"file\": ", Quoted{c.file}, ", \"enforceable\": ",
       boolean(c.enforceable()), ", \"kernel_min\": ");
  if (c.kernel_min)
    quote_to(out, kernel_min);
  else
    out->append("null");
  emit(out, ", \"kernel_min_ok\": ", boolean(c.kernel_min_ok), ", \"uses\": [");
  for (size_t i = 0; i < c.uses.size(); ++i) {
    const Use& u = c.uses[i];
    emit(out, i ? ",\n        " : "\n        ", "{\"feature\": ", Quoted{facility(u.requirement.feature).name},
         ", \"key\": ", Quoted{u.requirement.key}, ", \"state\": ", Quoted{to_string(u.state)},
         ", \"enforceable\": ", boolean(enforceable(u.state)), ", \"enable\": ", Quoted{u.enable}, "}");
  }
  out->append(c.uses.empty() ? "]}" : "\n      ]}");
}

}  // namespace

std::string render_text(const Report& r) {
  std::string out = "nestbox kernel-check: " + r.source + "\n";
  kernel_line(r, &out);
  out += "\n\n";
  talk_table(r, &out);
  out += "\n";
  facility_list(r, &out);
  if (!r.containers.empty()) {
    out += "\n";
    container_list(r, &out);
    out += r.all_enforceable() ? "\nverdict: every container can be enforced by this kernel\n"
                               : "\nverdict: some containers CANNOT be enforced by this kernel\n";
  }
  return out;
}

std::string render_json(const Report& r) {
  std::string out;
  emit(&out, "{\n  \"source\": ", Quoted{r.source}, ",\n  \"kernel\": {\"version\": ",
       Quoted{to_string(r.version)}, ", \"from\": ", Quoted{r.version_source}, ", \"arch\": ", Quoted{r.arch},
       "},\n  \"talk_table\": [");
  bool first = true;
  for (const FacilityStatus& s : r.facilities) {
    if (!(s.facility->sources & kFromTalk)) continue;
    emit(&out, first ? "\n    " : ",\n    ", "{\"facility\": ", Quoted{s.facility->name}, ", \"title\": ",
         Quoted{s.facility->title}, ", \"since\": ", Quoted{to_string(s.facility->since)}, ", \"state\": ",
         Quoted{to_string(s.state)}, "}");
    first = false;
  }
  out += "\n  ],\n  \"facilities\": [";
  for (size_t i = 0; i < r.facilities.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    facility_json(r.facilities[i], &out);
  }
  out += "\n  ],\n  \"containers\": [";
  for (size_t i = 0; i < r.containers.size(); ++i) {
    out += i ? ",\n    " : "\n    ";
    container_json(r.containers[i], &out);
  }
  emit(&out, r.containers.empty() ? "]" : "\n  ]", ",\n  \"enforceable\": ", boolean(r.all_enforceable()),
       "\n}\n");
  return out;
}

}  // namespace nestbox::kernel_check
