// libcrypto key helpers for the host signer and the OpenSSL verifier backend
// (crypto_openssl.cc): RAII owners, key ids, the algorithm a key implies and
// EVP verification. Never linked with the mbedTLS backend's nestbox-launch;
// its names do not collide with crypto.h's, so a host program may link it
// beside either backend.
#pragma once

#include <openssl/evp.h>

#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "verifier/image_format.h"

namespace nestbox::crypto::ossl {

struct PkeyDeleter {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// The last libcrypto error as text, queue cleared.
std::string last_error();

// Key id: SHA-256 of the DER SubjectPublicKeyInfo (raw 32 bytes).
Result<std::string> key_id(EVP_PKEY* key);

// The signature algorithm a key implies (Ed25519, EC P-256, RSA >= 3072 bits).
Result<image::SigAlgorithm> algorithm_for_key(EVP_PKEY* key);

// Verifies `signature` over `message` with `key` using `alg`. Fails closed.
Status verify_signature(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature);

// Parses a PEM SubjectPublicKeyInfo.
Result<Pkey> load_public_pem(std::string_view pem, const std::string& what);

}  // namespace nestbox::crypto::ossl
