#include "kernel-check/report.h"

#include <cstdio>

#include "kernel-check/expr.h"
#include "kernel-check/version.h"

namespace nestbox::kernel_check {

const char* to_string(State s) {
  switch (s) {
    case State::kAvailable: return "available";
    case State::kModule: return "module";
    case State::kMissing: return "missing";
    case State::kTooOld: return "too old";
    case State::kUnknown: return "unknown";
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

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + " " : s + std::string(width - s.size(), ' ');
}

std::string kernel_line(const Report& r) {
  std::string line = "kernel " + to_string(r.version);
  if (!r.version_source.empty()) line += " (from " + r.version_source + ")";
  if (!r.arch.empty()) line += ", arch " + r.arch;
  return line;
}

void talk_table(const Report& r, std::string* out) {
  *out += "Which container facilities does this kernel have? (the talk's table)\n";
  *out += "  " + pad("Facility", 22) + pad("Since", 9) + "available  module  missing  too old\n";
  const State columns[] = {State::kAvailable, State::kModule, State::kMissing, State::kTooOld};
  const size_t widths[] = {11, 8, 9, 7};
  for (const FacilityStatus& s : r.facilities) {
    if (!(s.facility->sources & kFromTalk)) continue;
    std::string row = "  " + pad(s.facility->title, 22) + pad(to_string(s.facility->since), 9);
    for (size_t i = 0; i < 4; ++i) row += pad(s.state == columns[i] ? "X" : "", widths[i]);
    if (s.state == State::kUnknown) row += "(unknown)";
    while (!row.empty() && row.back() == ' ') row.pop_back();
    *out += row + "\n";
  }
}

std::string status_note(const FacilityStatus& s, const Version& kernel) {
  switch (s.state) {
    case State::kMissing: return "enable " + s.enable;
    case State::kTooOld:
      return "needs kernel >= " + to_string(s.facility->since) + ", this is " + to_string(kernel);
    default: return s.detail;
  }
}

void facility_list(const Report& r, std::string* out) {
  *out += "All facilities\n";
  for (int c = 0; c <= static_cast<int>(Category::kOther); ++c) {
    bool header = false;
    for (const FacilityStatus& s : r.facilities) {
      if (static_cast<int>(s.facility->category) != c) continue;
      if (!header) *out += std::string("  [") + to_string(static_cast<Category>(c)) + "]\n";
      header = true;
      *out += "    " + pad(s.facility->name, 30) + pad(to_string(s.state), 10) +
              status_note(s, r.version) + "\n";
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
    *out += "  " + c.name + (c.file.empty() ? "" : " (" + c.file + ")") + ": " +
            (bad ? "CANNOT BE ENFORCED (" + std::to_string(bad) + " missing)" : "enforceable") + "\n";
    if (c.kernel_min)
      *out += "    " + pad(c.kernel_min_ok ? "ok" : "TOO OLD", 9) + pad("kernel_min", 24) + "needs " +
              to_string(*c.kernel_min) + ", this is " + to_string(r.version) + "\n";
    for (const auto& [u, keys] : lines) {
      std::string mark = enforceable(u->state) ? "ok" : u->state == State::kMissing ? "MISSING"
                                                    : u->state == State::kTooOld   ? "TOO OLD"
                                                                                   : "UNKNOWN";
      std::string note = u->state == State::kModule ? " (module)" : "";
      if (!u->enable.empty()) note = "; enable " + u->enable;
      *out += "    " + pad(mark, 9) + pad(facility(u->requirement.feature).name, 24) + keys + note + "\n";
    }
  }
}

// Minimal JSON writer: the target cannot use nlohmann-json.
std::string quote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (ch < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", ch);
          out += buf;
        } else {
          out += static_cast<char>(ch);
        }
    }
  }
  return out + "\"";
}

std::string sources_json(uint8_t sources) {
  std::string out = "[";
  const std::pair<uint8_t, const char*> names[] = {
      {kFromTalk, "talk"}, {kFromLxc, "lxc-checkconfig"}, {kFromMoby, "moby check-config.sh"},
      {kFromNestbox, "nestbox"}};
  for (auto [bit, name] : names)
    if (sources & bit) out += std::string(out.size() > 1 ? ", " : "") + quote(name);
  return out + "]";
}

std::string facility_json(const FacilityStatus& s) {
  const Facility& f = *s.facility;
  return "{\"name\": " + quote(f.name) + ", \"title\": " + quote(f.title) +
         ", \"category\": " + quote(to_string(f.category)) +
         ", \"bit\": " + (f.bit >= 0 ? std::to_string(f.bit) : "null") +
         ", \"since\": " + quote(to_string(f.since)) + ", \"config\": " + quote(describe_expr(f.config)) +
         ", \"checked_by\": " + sources_json(f.sources) + ", \"state\": " + quote(to_string(s.state)) +
         ", \"detail\": " + quote(s.detail) + ", \"enable\": " + quote(s.enable) + "}";
}

std::string container_json(const ContainerVerdict& c) {
  std::string out = "{\"name\": " + quote(c.name) + ", \"file\": " + quote(c.file) +
                    ", \"enforceable\": " + (c.enforceable() ? "true" : "false") +
                    ", \"kernel_min\": " + (c.kernel_min ? quote(to_string(*c.kernel_min)) : "null") +
                    ", \"kernel_min_ok\": " + (c.kernel_min_ok ? "true" : "false") + ", \"uses\": [";
  for (size_t i = 0; i < c.uses.size(); ++i) {
    const Use& u = c.uses[i];
    out += std::string(i ? ",\n        " : "\n        ") + "{\"feature\": " +
           quote(facility(u.requirement.feature).name) + ", \"key\": " + quote(u.requirement.key) +
           ", \"state\": " + quote(to_string(u.state)) +
           ", \"enforceable\": " + (enforceable(u.state) ? "true" : "false") +
           ", \"enable\": " + quote(u.enable) + "}";
  }
  return out + (c.uses.empty() ? "]}" : "\n      ]}");
}

}  // namespace

std::string render_text(const Report& r) {
  std::string out = "nestbox kernel-check: " + r.source + "\n" + kernel_line(r) + "\n\n";
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
  std::string out = "{\n  \"source\": " + quote(r.source) + ",\n  \"kernel\": {\"version\": " +
                    quote(to_string(r.version)) + ", \"from\": " + quote(r.version_source) +
                    ", \"arch\": " + quote(r.arch) + "},\n  \"talk_table\": [";
  bool first = true;
  for (const FacilityStatus& s : r.facilities) {
    if (!(s.facility->sources & kFromTalk)) continue;
    out += std::string(first ? "\n    " : ",\n    ") + "{\"facility\": " + quote(s.facility->name) +
           ", \"title\": " + quote(s.facility->title) + ", \"since\": " +
           quote(to_string(s.facility->since)) + ", \"state\": " + quote(to_string(s.state)) + "}";
    first = false;
  }
  out += "\n  ],\n  \"facilities\": [";
  for (size_t i = 0; i < r.facilities.size(); ++i)
    out += std::string(i ? ",\n    " : "\n    ") + facility_json(r.facilities[i]);
  out += "\n  ],\n  \"containers\": [";
  for (size_t i = 0; i < r.containers.size(); ++i)
    out += std::string(i ? ",\n    " : "\n    ") + container_json(r.containers[i]);
  out += std::string(r.containers.empty() ? "]" : "\n  ]") + ",\n  \"enforceable\": " +
         (r.all_enforceable() ? "true" : "false") + "\n}\n";
  return out;
}

}  // namespace nestbox::kernel_check
