// Small libcrypto wrappers shared by signer and verifier (target-safe): RAII
// owners, streaming SHA-256, key ids and signature verification.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "verifier/image_format.h"

namespace nestbox::crypto {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Streaming SHA-256. finish() returns the 32 raw bytes.
class Sha256 {
 public:
  Sha256();
  bool ok() const { return ok_; }
  void update(const void* data, size_t size);
  std::string finish();

 private:
  MdCtx ctx_;
  bool ok_ = false;
};

std::string sha256(std::string_view data);
std::string to_hex(std::string_view bytes);
// Lower-case hex only; empty result and false on bad input.
bool from_hex(std::string_view hex, std::string* out);

// Key id: SHA-256 of the DER SubjectPublicKeyInfo (raw 32 bytes).
Result<std::string> key_id(EVP_PKEY* key);

// The signature algorithm a key implies; the image's entry must match it.
Result<image::SigAlgorithm> algorithm_for_key(EVP_PKEY* key);
const char* algorithm_name(image::SigAlgorithm alg);

// Verifies `signature` over `message` with `key` using `alg`. Fails closed.
Status verify_signature(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature);

// Parses a PEM SubjectPublicKeyInfo.
Result<Pkey> load_public_pem(std::string_view pem, const std::string& what);

// Initialises libcrypto for the target, before any other libcrypto call:
// no configuration file (openssl.cnf or $OPENSSL_CONF could activate other
// providers, load engine or provider modules into this root process, or
// switch SHA-256 off), no name tables of every cipher and digest (nothing
// looks algorithms up by name), no cleanup handler at exit (the process
// ends; freeing OpenSSL's stores only costs time). Fails closed: a launcher
// whose libcrypto could not be set up this way verifies nothing.
Status init_target_library();

// The last libcrypto error as text, queue cleared.
std::string last_openssl_error();

}  // namespace nestbox::crypto
