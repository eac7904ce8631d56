// The tree digest manifest: what a signed image of kind kTreeManifest carries
// for `tree` and `host-hardlink` containers instead of a squashfs, so their
// rootfs directories can be verified at every boot too. Target-safe.
//
// Text, one entry a line, produced by a depth-first walk with each directory's
// children in byte order of their names (deterministic, no readdir order):
//
//   nestbox-tree-manifest 1
//   [nestbox-tree-location <escaped absolute path>]
//   <path> <type> <mode> <uid> <gid> <content> <xattrs>
//
// path: absolute inside the tree ("/" for the root), escaped; type: d f l c b
// p s; mode: octal permission bits (07777); content: f "<size>:<sha256 hex>",
// l the escaped link target, c/b "<major>:<minor>", else "-"; xattrs: "-" or
// "name=<hex value>" joined by ',' in name order. Escaping: bytes outside
// 0x21..0x7e and '%' ',' '=' become %XX. mtimes are not part of it.
//
// The optional second line is where the tree lives on the device (compose's
// host-hardlink directory + the container's name, as `sign --composed`
// records it): signed with the entries, so nestbox-launch takes the place
// from the signature, never from its caller. Without it the device looks in
// kDefaultTreeDir/NAME.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "util/fd.h"
#include "util/result.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

inline constexpr std::string_view kTreeManifestHeader = "nestbox-tree-manifest 1";
inline constexpr std::string_view kTreeLocationPrefix = "nestbox-tree-location ";
// Where a tree without a signed location lives on the device (compose's
// default host-hardlink directory, composer/staging_root.h).
inline constexpr const char* kDefaultTreeDir = "/usr/lib/nestbox/rootfs";

// What the device demands of a tree beyond matching the manifest.
struct TreeRules {
  // Nobody but root can change an entry after it was hashed: every entry is
  // owned by uid 0 with no group or other write bit (symlinks: owner only),
  // unless the filesystem cannot be written at all (squashfs, erofs, cramfs,
  // iso9660, romfs); and the tree is one filesystem (a directory on another
  // device, a mount inside the tree, is refused).
  bool only_root_writes = false;
};

// A path or field escaped as the manifest escapes it.
std::string escape_tree_field(std::string_view s);

// Opens a tree's root directory: O_DIRECTORY | O_NOFOLLOW (a symlink is refused).
Result<UniqueFd> open_tree_root(const std::string& root);

// Walks `root` and calls `sink` with each line (without '\n'), header first.
using ManifestSink = std::function<Status(std::string_view line)>;
Status walk_tree(const std::string& root, const ManifestSink& sink);
// The same walk from an open root directory: every entry reached by openat
// from its parent's descriptor (O_NOFOLLOW), never by a joined path.
Status walk_tree_fd(int root_fd, const ManifestSink& sink, const TreeRules& rules);

// Checks the directory `root` against the manifest in a verified image (kind
// kTreeManifest, `info` from verify_image). Streams the manifest from the file
// again, re-hashing it against the signed digest, and compares line by line.
Status verify_tree(const std::string& image_path, const ImageInfo& info, const std::string& root);

// The device's check: `image_fd` is the verified image (every byte hashed),
// `root_fd` the open tree root that will be mounted. Errors carry no image
// path; a difference is "tree: ENTRY: ..." naming the first differing entry.
Status verify_tree_fd(int image_fd, const ImageInfo& info, int root_fd, const TreeRules& rules);

// The signed location of the tree on the device ("" when the manifest has
// none), read from the verified image `image_fd`.
Result<std::string> tree_location(int image_fd, const ImageInfo& info);

}  // namespace nestbox::verifier
