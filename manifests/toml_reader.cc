#include "manifests/toml_reader.h"

#include <algorithm>

#include "manifests/units.h"
#include "util/shown.h"

namespace nestbox::manifests::detail {

SourcePos Diagnostics::to_pos(const toml::source_region& where) const {
  return SourcePos{file_, static_cast<int>(where.begin.line), static_cast<int>(where.begin.column)};
}

void Diagnostics::error(const toml::source_region& where, const std::string& path,
                        const std::string& what) {
  error(to_pos(where), path, what);
}

void Diagnostics::error(const SourcePos& where, const std::string& path, const std::string& what) {
  // One line per error: a key or value holding a line break must not forge
  // another ("m.toml: ok"), nor a control byte drive the terminal.
  errors_.emplace_back(where, shown(path.empty() ? what : path + ": " + what));
}

void Diagnostics::remember(const std::string& path, const toml::source_region& where) {
  positions_.emplace(path, to_pos(where));
}

SourcePos Diagnostics::pos(const std::string& path) const {
  // A key never written points at its nearest written parent table.
  std::string p = path;
  while (!p.empty()) {
    auto it = positions_.find(p);
    if (it != positions_.end()) return it->second;
    size_t cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
  return SourcePos{file_, 1, 1};
}

std::string Diagnostics::message() const {
  auto sorted = errors_;
  std::stable_sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.first.line, a.first.column) < std::tie(b.first.line, b.first.column);
  });
  std::string out;
  for (const auto& [pos, text] : sorted) {
    if (!out.empty()) out += "\n";
    out += shown(pos.file) + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) + ": " + text;
  }
  return out;
}

const char* type_name(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    default: return "nothing";
  }
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

const char* text_problem(const std::string& s) {
  for (char c : s) {
    if (c == '\0') return "holds a NUL byte; expected text without \\u0000";
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      return "holds a line break or control character; expected one line of text";
  }
  return nullptr;
}

TableView::TableView(Diagnostics& diag, const toml::table& table, std::string path)
    : diag_(diag), table_(table), path_(std::move(path)) {}

std::string TableView::path_of(const char* key) const {
  return path_.empty() ? std::string(key) : path_ + "." + key;
}

const toml::node* TableView::lookup(const char* key) {
  if (std::find(known_.begin(), known_.end(), key) == known_.end()) known_.emplace_back(key);
  const toml::node* node = table_.get(key);
  if (node) diag_.remember(path_of(key), node->source());
  return node;
}

const toml::node* TableView::raw(const char* key) { return lookup(key); }

void TableView::wrong_type(const toml::node& node, const char* key, const char* expected) {
  diag_.error(node.source(), path_of(key),
              std::string("got ") + type_name(node) + "; expected " + expected);
}

bool TableView::get_text(const char* key, std::string& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  if (!n->is_string()) return wrong_type(*n, key, "a string"), false;
  out = n->as_string()->get();
  return true;
}

bool TableView::get(const char* key, std::string& out) {
  std::string value;
  if (!get_text(key, value)) return false;
  if (const char* why = text_problem(value)) {
    diag_.error(lookup(key)->source(), path_of(key), why);
    return false;
  }
  out = std::move(value);
  return true;
}

bool TableView::get(const char* key, bool& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  if (!n->is_boolean()) return wrong_type(*n, key, "true or false"), false;
  out = n->as_boolean()->get();
  return true;
}

bool TableView::get_uint(const char* key, uint64_t& out, uint64_t min, uint64_t max) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  std::string range = "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (!n->is_integer()) return wrong_type(*n, key, range.c_str()), false;
  int64_t v = n->as_integer()->get();
  if (v < 0 || static_cast<uint64_t>(v) < min || static_cast<uint64_t>(v) > max) {
    diag_.error(n->source(), path_of(key), std::to_string(v) + " is out of range; expected " + range);
    return false;
  }
  out = static_cast<uint64_t>(v);
  return true;
}

bool TableView::get_u32(const char* key, uint32_t& out, uint32_t min, uint32_t max) {
  uint64_t v;
  if (!get_uint(key, v, min, max)) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

bool TableView::get_size(const char* key, uint64_t& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  static const char* kExpected = "a size such as \"64M\" (suffix K, M, G or T) or an integer in bytes";
  if (n->is_integer() && n->as_integer()->get() >= 0) {
    out = static_cast<uint64_t>(n->as_integer()->get());
    return true;
  }
  if (!n->is_string()) return wrong_type(*n, key, kExpected), false;
  const std::string& text = n->as_string()->get();
  auto v = parse_size(text);
  if (!v) {
    diag_.error(n->source(), path_of(key), in_quotes(text) + " is not a size; expected " + kExpected);
    return false;
  }
  out = *v;
  return true;
}

bool TableView::get_duration_us(const char* key, uint64_t& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  static const char* kExpected = "a duration such as \"100ms\" (suffix us, ms or s)";
  if (!n->is_string()) return wrong_type(*n, key, kExpected), false;
  const std::string& text = n->as_string()->get();
  auto v = parse_duration_us(text);
  if (!v) {
    diag_.error(n->source(), path_of(key), in_quotes(text) + " is not a duration; expected " + kExpected);
    return false;
  }
  out = *v;
  return true;
}

bool TableView::get_mode(const char* key, uint32_t& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  static const char* kExpected = "an octal mode such as \"0755\" or 0o755";
  if (n->is_integer()) {
    int64_t v = n->as_integer()->get();
    if (v < 0 || v > 07777) {
      diag_.error(n->source(), path_of(key), std::to_string(v) + " is out of range; expected " + kExpected);
      return false;
    }
    out = static_cast<uint32_t>(v);
    return true;
  }
  if (!n->is_string()) return wrong_type(*n, key, kExpected), false;
  const std::string& text = n->as_string()->get();
  auto v = parse_mode(text);
  if (!v) {
    diag_.error(n->source(), path_of(key), in_quotes(text) + " is not a mode; expected " + kExpected);
    return false;
  }
  out = *v;
  return true;
}

bool TableView::get_strings(const char* key, std::vector<std::string>& out) {
  const toml::node* n = lookup(key);
  if (!n) return false;
  if (!n->is_array()) return wrong_type(*n, key, "an array of strings"), false;
  std::vector<std::string> values;
  const toml::array& arr = *n->as_array();
  for (size_t i = 0; i < arr.size(); ++i) {
    if (!arr[i].is_string()) {
      diag_.error(arr[i].source(), path_of(key) + "[" + std::to_string(i) + "]",
                  std::string("got ") + type_name(arr[i]) + "; expected a string");
      return false;
    }
    const std::string& v = arr[i].as_string()->get();
    if (const char* why = text_problem(v)) {
      diag_.error(arr[i].source(), path_of(key) + "[" + std::to_string(i) + "]", why);
      return false;
    }
    diag_.remember(path_of(key) + "[" + std::to_string(i) + "]", arr[i].source());
    values.push_back(v);
  }
  out = std::move(values);
  return true;
}

const toml::table* TableView::table(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return nullptr;
  if (!n->is_table()) return wrong_type(*n, key, "a table"), nullptr;
  return n->as_table();
}

const toml::array* TableView::array_of_tables(const char* key) {
  const toml::node* n = lookup(key);
  if (!n) return nullptr;
  if (!n->is_array_of_tables() && !(n->is_array() && n->as_array()->empty())) {
    std::string expected = std::string("an array of tables ([[") + path_of(key) + "]])";
    return wrong_type(*n, key, expected.c_str()), nullptr;
  }
  return n->as_array();
}

void TableView::require(const char* key, const char* expected) {
  if (table_.get(key)) return;
  diag_.error(table_.source(), path_of(key), std::string("missing; expected ") + expected);
}

void TableView::finish() {
  for (auto&& [key, node] : table_) {
    std::string name(key.str());
    if (std::find(known_.begin(), known_.end(), name) != known_.end()) continue;
    std::string hint = did_you_mean(name, known_);
    std::string what = "unknown key";
    what += hint.empty() ? "; expected one of " + [&] {
      std::string all;
      for (const auto& k : known_) all += (all.empty() ? "" : ", ") + k;
      return all;
    }() : "; did you mean " + in_quotes(hint) + "?";
    diag_.error(key.source(), path_of(name.c_str()), what);
  }
}

}  // namespace nestbox::manifests::detail
