// Lexical path helpers for paths inside a container root. Pure string work:
// no file system access, so they are safe on untrusted names.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace nestbox::composer {

// Normalises an archive member or manifest path to an absolute path inside
// the root: "./usr//bin/" -> "/usr/bin", "" or "." -> "/". Refuses what could
// leave the root or is ambiguous: ".." components, absolute paths when
// `allow_absolute` is false, NUL bytes. The error message names the problem.
Result<std::string> normalize_member(std::string_view name, bool allow_absolute);

// Normalises an absolute path lexically, clamping ".." at the root
// ("/a/../../b" -> "/b"), the way the kernel resolves ".." at "/".
std::string normalize_clamped(std::string_view path);

// "/usr/bin/x" -> "/usr/bin"; "/x" -> "/"; "/" -> "/".
std::string parent_of(std::string_view path);
// "/usr/bin/x" -> "x".
std::string base_of(std::string_view path);
// Joins an absolute directory and a relative or absolute path, then
// normalises with ".." clamped at the root.
std::string join_clamped(std::string_view dir, std::string_view rel);

// Where a symlink at `link_path` with `target` points, or an error when a
// relative target climbs above the root ("/a/l -> ../../etc" escapes).
// Absolute targets are resolved inside the root and never escape.
Result<std::string> symlink_destination(std::string_view link_path, std::string_view target);

// Splits "/a/b/c" into {"a", "b", "c"}.
std::vector<std::string> split_components(std::string_view path);

// True when `path` equals `dir` or lies beneath it ("/usr" contains "/usr/x").
bool path_within(std::string_view path, std::string_view dir);

}  // namespace nestbox::composer
