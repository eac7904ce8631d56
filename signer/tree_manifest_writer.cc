#include "signer/tree_manifest_writer.h"

#include <vector>

#include "util/file_io.h"
#include "verifier/tree_manifest.h"

namespace nestbox::signer {
namespace {

// "<path> <type> <mode> <uid> <gid> <content> <xattrs>" with uid and gid 0.
// Every field is escaped (no byte outside 0x21..0x7e), so spaces separate
// exactly seven fields; anything else is refused rather than guessed at.
Result<std::string> root_owned_line(std::string_view line) {
  std::vector<std::string_view> f;
  size_t start = 0;
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i == line.size() || line[i] == ' ') {
      f.push_back(line.substr(start, i - start));
      start = i + 1;
    }
  }
  if (f.size() != 7) return failure("tree manifest line with " + std::to_string(f.size()) + " fields: " +
                                    std::string(line));
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (i) out += ' ';
    out += (i == 3 || i == 4) ? std::string_view("0") : f[i];
  }
  return out;
}

}  // namespace

Status write_tree_manifest(const std::string& root, const std::string& out_path,
                           const TreeManifestOptions& options) {
  std::string text;
  bool header = true;
  NESTBOX_TRY_CTX(verifier::walk_tree(root, [&](std::string_view line) -> Status {
                    if (options.root_owned && !header) {
                      auto owned = root_owned_line(line);
                      if (!owned.ok()) return std::move(owned).error();
                      text += *owned;
                    } else {
                      text.append(line);
                    }
                    text += '\n';
                    if (header && !options.location.empty())
                      text += std::string(verifier::kTreeLocationPrefix) +
                              verifier::escape_tree_field(options.location) + '\n';
                    header = false;
                    return ok_status();
                  }),
                  "tree manifest of " + root);
  return write_file_atomic(out_path, text, 0644);
}

}  // namespace nestbox::signer
