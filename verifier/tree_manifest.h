// The tree digest manifest: what a signed image of kind kTreeManifest carries
// for `tree` and `host-hardlink` containers instead of a squashfs, so their
// rootfs directories can be verified at every boot too. Target-safe.
//
// Text, one entry a line, produced by a depth-first walk with each directory's
// children in byte order of their names (deterministic, no readdir order):
//
//   nestbox-tree-manifest 1
//   <path> <type> <mode> <uid> <gid> <content> <xattrs>
//
// path: absolute inside the tree ("/" for the root), escaped; type: d f l c b
// p s; mode: octal permission bits (07777); content: f "<size>:<sha256 hex>",
// l the escaped link target, c/b "<major>:<minor>", else "-"; xattrs: "-" or
// "name=<hex value>" joined by ',' in name order. Escaping: bytes outside
// 0x21..0x7e and '%' ',' '=' become %XX. mtimes are not part of it.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "util/result.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

inline constexpr std::string_view kTreeManifestHeader = "nestbox-tree-manifest 1";

// Walks `root` and calls `sink` with each line (without '\n'), header first.
using ManifestSink = std::function<Status(std::string_view line)>;
Status walk_tree(const std::string& root, const ManifestSink& sink);

// Checks the directory `root` against the manifest in a verified image (kind
// kTreeManifest, `info` from verify_image). Streams the manifest from the file
// again, re-hashing it against the signed digest, and compares line by line.
Status verify_tree(const std::string& image_path, const ImageInfo& info, const std::string& root);

}  // namespace nestbox::verifier
