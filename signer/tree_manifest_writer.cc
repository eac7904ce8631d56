#include "signer/tree_manifest_writer.h"

#include "util/file_io.h"
#include "verifier/tree_manifest.h"

namespace nestbox::signer {

Status write_tree_manifest(const std::string& root, const std::string& out_path) {
  std::string text;
  NESTBOX_TRY_CTX(verifier::walk_tree(root, [&](std::string_view line) {
                    text.append(line);
                    text += '\n';
                    return ok_status();
                  }),
                  "tree manifest of " + root);
  return write_file_atomic(out_path, text, 0644);
}

}  // namespace nestbox::signer
