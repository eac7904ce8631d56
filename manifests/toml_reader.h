// Internal to the manifests component: typed, position-aware access to a TOML
// table. Every getter registers its key as known, so finish() can report the
// keys nobody asked for as unknown (with a did-you-mean). Errors are collected,
// not thrown: one run reports every problem in a manifest.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "manifests/model.h"

namespace nestbox::manifests::detail {

// Collected diagnostics and where every key was seen.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  void error(const toml::source_region& where, const std::string& path, const std::string& what);
  void error(const SourcePos& where, const std::string& path, const std::string& what);
  void remember(const std::string& path, const toml::source_region& where);
  // Position of a key seen while reading ("network.mode"); the file start if never seen.
  SourcePos pos(const std::string& path) const;
  bool seen(const std::string& path) const { return positions_.count(path) != 0; }
  SourcePos to_pos(const toml::source_region& where) const;

  const std::string& file() const { return file_; }
  bool failed() const { return !errors_.empty(); }
  std::string message() const;  // every error, one per line, in file order

 private:
  std::string file_;
  std::vector<std::pair<SourcePos, std::string>> errors_;
  std::map<std::string, SourcePos> positions_;
};

class TableView {
 public:
  TableView(Diagnostics& diag, const toml::table& table, std::string path);

  // Each returns true when the key was present and valid; on a present but
  // invalid value it records an error and leaves `out` untouched.
  // Strings are refused when they hold a NUL byte (every consumer is a C
  // string: argv, env, paths, labels) or a line break or other control
  // character (they end up in line-based files: lxc.conf, /proc/*/environ
  // readers); get_text() allows both, for literal file content.
  bool get(const char* key, std::string& out);
  bool get_text(const char* key, std::string& out);
  bool get(const char* key, bool& out);
  bool get_uint(const char* key, uint64_t& out, uint64_t min, uint64_t max);
  bool get_u32(const char* key, uint32_t& out, uint32_t min = 0, uint32_t max = UINT32_MAX);
  bool get_size(const char* key, uint64_t& out);         // "64M" or integer bytes
  bool get_duration_us(const char* key, uint64_t& out);  // "100ms"
  bool get_mode(const char* key, uint32_t& out);         // "0755" or 0o755
  bool get_strings(const char* key, std::vector<std::string>& out);
  template <typename E>
  bool get_enum(const char* key, E& out, std::span<const std::pair<const char*, E>> names);
  template <typename E>
  bool get_enum(const char* key, E& out, std::initializer_list<std::pair<const char*, E>> names) {
    return get_enum(key, out, std::span<const std::pair<const char*, E>>(names.begin(), names.size()));
  }

  // Sub-structures. nullptr when absent (or of the wrong type, which is reported).
  const toml::table* table(const char* key);
  const toml::array* array_of_tables(const char* key);
  const toml::node* raw(const char* key);  // any type, registered as known

  void require(const char* key, const char* expected);  // error if absent
  // Reports every key of the table that no getter asked for.
  void finish();

  std::string path_of(const char* key) const;
  Diagnostics& diag() { return diag_; }
  const toml::table& toml_table() const { return table_; }

 private:
  const toml::node* lookup(const char* key);
  void wrong_type(const toml::node& node, const char* key, const char* expected);

  Diagnostics& diag_;
  const toml::table& table_;
  std::string path_;
  std::vector<std::string> known_;
};

const char* type_name(const toml::node& node);
// What is wrong with a string value of a manifest ("holds a NUL byte"), or nullptr.
const char* text_problem(const std::string& s);
std::string in_quotes(const std::string& s);

template <typename E>
bool TableView::get_enum(const char* key, E& out, std::span<const std::pair<const char*, E>> names) {
  std::string text;
  if (!get(key, text)) return false;
  std::string expected;
  for (const auto& [name, value] : names) {
    if (text == name) {
      out = value;
      return true;
    }
    expected += (expected.empty() ? "" : ", ") + in_quotes(name);
  }
  diag_.error(lookup(key)->source(), path_of(key),
              in_quotes(text) + " is not a valid value; expected one of " + expected);
  return false;
}

}  // namespace nestbox::manifests::detail
