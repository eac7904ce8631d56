// Manifest <-> JSON and Manifest -> text, all driven by reflect.h.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <functional>
#include <optional>
#include <type_traits>

#include "manifests/manifest.h"
#include "manifests/reflect.h"
#include "manifests/units.h"
#include "util/json_text.h"

namespace nestbox::manifests {
namespace {

using Json = nlohmann::ordered_json;

std::string octal(uint32_t mode) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};

class JsonWriter {
 public:
  explicit JsonWriter(Json& j) : j_(j) {}

  template <typename T>
  void field(const char* name, T& value) {
    if constexpr (std::is_same_v<T, std::optional<KernelVersion>>) {
      j_[name] = value ? Json(to_string(*value)) : Json(nullptr);
    } else if constexpr (is_optional<T>::value) {
      j_[name] = value ? Json(*value) : Json(nullptr);
    } else {
      j_[name] = value;
    }
  }
  template <typename E>
  void enumeration(const char* name, E& value, std::initializer_list<E>) { j_[name] = to_string(value); }
  void mode(const char* name, uint32_t& value) { j_[name] = octal(value); }
  template <typename Fn>
  void object(const char* name, Fn fn) {
    Json sub = Json::object();
    JsonWriter w(sub);
    fn(w);
    j_[name] = std::move(sub);
  }
  template <typename T, typename Fn>
  void list(const char* name, std::vector<T>& items, Fn fn) {
    Json arr = Json::array();
    for (T& item : items) {
      Json sub = Json::object();
      JsonWriter w(sub);
      fn(w, item);
      arr.push_back(std::move(sub));
    }
    j_[name] = std::move(arr);
  }

 private:
  Json& j_;
};

// Reads what JsonWriter wrote; a missing key or wrong type throws
// nlohmann::json::exception, caught in from_json().
class JsonReader {
 public:
  explicit JsonReader(const Json& j) : j_(j) {}

  template <typename T>
  void field(const char* name, T& value) {
    const Json& v = j_.at(name);
    if constexpr (std::is_same_v<T, std::optional<KernelVersion>>) {
      if (v.is_null()) value.reset();
      else value = parse_kernel_version(v.get<std::string>()).value();
    } else if constexpr (is_optional<T>::value) {
      if (v.is_null()) value.reset();
      else value = v.get<typename T::value_type>();
    } else {
      value = v.get<T>();
    }
  }
  template <typename E>
  void enumeration(const char* name, E& value, std::initializer_list<E> all) {
    std::string text = j_.at(name).get<std::string>();
    for (E e : all)
      if (text == to_string(e)) {
        value = e;
        return;
      }
    throw std::invalid_argument(std::string(name) + ": unknown value \"" + text + "\"");
  }
  void mode(const char* name, uint32_t& value) {
    value = parse_mode(j_.at(name).get<std::string>()).value();
  }
  template <typename Fn>
  void object(const char* name, Fn fn) {
    JsonReader r(j_.at(name));
    fn(r);
  }
  template <typename T, typename Fn>
  void list(const char* name, std::vector<T>& items, Fn fn) {
    items.clear();
    for (const Json& e : j_.at(name)) {
      JsonReader r(e);
      fn(r, items.emplace_back());
    }
  }

 private:
  const Json& j_;
};

// "key.path = value" lines; unset and empty values are left out.
class TextWriter {
 public:
  TextWriter(std::string& out, std::string prefix) : out_(out), prefix_(std::move(prefix)) {}

  template <typename T>
  void field(const char* name, T& value) {
    if constexpr (std::is_same_v<T, std::optional<KernelVersion>>) {
      if (value) line(name, "\"" + to_string(*value) + "\"");
    } else if constexpr (is_optional<T>::value) {
      if (value) line(name, std::to_string(*value));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!value.empty()) line(name, json_text(Json(value)));
    } else if constexpr (std::is_same_v<T, bool>) {
      line(name, value ? "true" : "false");
    } else if constexpr (std::is_arithmetic_v<T>) {
      line(name, std::to_string(value));
    } else {
      if (!value.empty()) line(name, json_text(Json(value)));
    }
  }
  template <typename E>
  void enumeration(const char* name, E& value, std::initializer_list<E>) {
    line(name, std::string("\"") + to_string(value) + "\"");
  }
  void mode(const char* name, uint32_t& value) { line(name, "\"" + octal(value) + "\""); }
  template <typename Fn>
  void object(const char* name, Fn fn) {
    TextWriter w(out_, key(name));
    fn(w);
  }
  template <typename T, typename Fn>
  void list(const char* name, std::vector<T>& items, Fn fn) {
    for (size_t i = 0; i < items.size(); ++i) {
      TextWriter w(out_, key(name) + "[" + std::to_string(i) + "]");
      fn(w, items[i]);
    }
  }

 private:
  std::string key(const char* name) const { return prefix_.empty() ? name : prefix_ + "." + name; }
  void line(const char* name, const std::string& value) { out_ += key(name) + " = " + value + "\n"; }

  std::string& out_;
  std::string prefix_;
};

}  // namespace

std::string to_json(const Manifest& manifest) {
  Manifest m = manifest;  // the visitor takes mutable references
  Json j = Json::object();
  JsonWriter w(j);
  detail::visit_manifest(w, m);
  return json_text(j, 2) + "\n";
}

Result<Manifest> from_json(std::string_view json, const std::string& file) {
  try {
    Json j = Json::parse(json);
    Manifest m;
    JsonReader r(j);
    detail::visit_manifest(r, m);
    m.file = file;
    return m;
  } catch (const std::exception& e) {
    return bad_input(file + ": " + e.what());
  }
}

std::string to_text(const Manifest& manifest) {
  Manifest m = manifest;
  std::string out;
  TextWriter w(out, "");
  detail::visit_manifest(w, m);
  return out;
}

}  // namespace nestbox::manifests
