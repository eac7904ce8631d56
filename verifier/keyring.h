// The trusted keys of a device: a directory of PEM public keys, minus a
// revocation list of key ids. Target-safe.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "util/result.h"
#include "verifier/crypto.h"
#include "verifier/verifier.h"

namespace nestbox::verifier {

// Reads a revocation list: one lower-case hex key id (64 digits) a line;
// blank lines and '#' comments ignored. Any other line is an error.
// The file must be a regular file (not a symlink, FIFO or device).
Result<std::vector<std::string>> read_revocation_list(const std::string& path);
// The same, of text already read; errors name `path`.
Result<std::vector<std::string>> parse_revocation_list(const std::string& text, const std::string& path);

class TrustedKeys {
 public:
  // Loads every *.pem and *.pub in keyring.dir (sorted by name) and the revocation list
  // (keyring.revoked_ids plus keyring.dir/revoked when present). A file that
  // is not a usable public key is an error: the keyring fails closed. Each
  // file is opened O_NOFOLLOW beneath one fd of the directory and must be a
  // regular file (a symlink, FIFO or device there is an error).
  static Result<TrustedKeys> load(const Keyring& keyring);

  // Key by hex id, or nullptr. Revoked keys are still found; ask revoked().
  const crypto::PublicKey* find(const std::string& id_hex) const;
  bool revoked(const std::string& id_hex) const;
  size_t size() const { return keys_.size(); }

 private:
  std::vector<std::pair<std::string, crypto::PublicKey>> keys_;
  std::vector<std::string> revoked_;
};

}  // namespace nestbox::verifier
