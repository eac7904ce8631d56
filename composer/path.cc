#include "composer/path.h"

namespace nestbox::composer {

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

static std::string join_components(const std::vector<std::string>& parts) {
  if (parts.empty()) return "/";
  std::string out;
  for (const auto& p : parts) {
    out += '/';
    out += p;
  }
  return out;
}

Result<std::string> normalize_member(std::string_view name, bool allow_absolute) {
  if (name.find('\0') != std::string_view::npos) return bad_input("path contains a NUL byte");
  if (!name.empty() && name[0] == '/' && !allow_absolute)
    return bad_input("absolute path '" + std::string(name) + "' not allowed");
  std::vector<std::string> parts;
  for (auto& c : split_components(name)) {
    if (c == ".") continue;
    if (c == "..") return bad_input("path '" + std::string(name) + "' contains '..'");
    parts.push_back(std::move(c));
  }
  return join_components(parts);
}

std::string normalize_clamped(std::string_view path) {
  std::vector<std::string> parts;
  for (auto& c : split_components(path)) {
    if (c == ".") continue;
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(std::move(c));
  }
  return join_components(parts);
}

std::string parent_of(std::string_view path) {
  size_t slash = path.rfind('/');
  if (slash == std::string_view::npos || slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string base_of(std::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string join_clamped(std::string_view dir, std::string_view rel) {
  if (!rel.empty() && rel[0] == '/') return normalize_clamped(rel);
  std::string joined(dir);
  joined += '/';
  joined += rel;
  return normalize_clamped(joined);
}

Result<std::string> symlink_destination(std::string_view link_path, std::string_view target) {
  if (target.empty()) return bad_input("empty symlink target");
  if (target.find('\0') != std::string_view::npos) return bad_input("symlink target contains a NUL byte");
  if (target[0] == '/') return normalize_clamped(target);
  std::vector<std::string> parts = split_components(parent_of(link_path));
  for (auto& c : split_components(target)) {
    if (c == ".") continue;
    if (c == "..") {
      if (parts.empty())
        return bad_input("symlink target '" + std::string(target) + "' points outside the root");
      parts.pop_back();
      continue;
    }
    parts.push_back(std::move(c));
  }
  return join_components(parts);
}

bool path_within(std::string_view path, std::string_view dir) {
  if (dir == "/") return true;
  if (path.size() < dir.size() || path.compare(0, dir.size(), dir) != 0) return false;
  return path.size() == dir.size() || path[dir.size()] == '/';
}

}  // namespace nestbox::composer
