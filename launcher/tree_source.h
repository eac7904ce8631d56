// The rootfs of a tree image (kind kTreeManifest: `tree` and `host-hardlink`
// containers): the directory the signed manifest names, opened once and
// verified entry by entry against it at every start. The descriptor returned
// is the one that was walked; the launcher bind-mounts that descriptor
// (/proc/self/fd/N), never the path again. Libc + libcrypto only.
#pragma once

#include <memory>
#include <string>

#include "util/fd.h"
#include "util/result.h"
#include "verifier/verifier.h"

namespace nestbox::launcher {

struct VerifiedTree {
  std::string path;                   // where it was found (for messages)
  std::shared_ptr<UniqueFd> root;     // O_DIRECTORY, the verified root
};

// `image_fd`/`info`: the verified image (every byte hashed). The location is
// the manifest's signed one, else verifier::kDefaultTreeDir/`container`;
// each component is opened with openat(O_NOFOLLOW | O_DIRECTORY) from "/"
// (no symlink anywhere on the way), then the tree is checked with
// verifier::TreeRules::only_root_writes. Errors start with "tree PATH: ".
Result<VerifiedTree> open_verified_tree(int image_fd, const verifier::ImageInfo& info, const std::string& container);

}  // namespace nestbox::launcher
