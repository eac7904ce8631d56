// Signing keys on the host: generation (PEM files), loading through OSSL_STORE
// (a file path, a file: URI, or any provider's URI such as pkcs11:), and
// signing through OpenSSL 3 EVP so an HSM-backed provider works unchanged.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"
#include "verifier/crypto.h"
#include "verifier/openssl_key.h"
#include "verifier/image_format.h"

namespace nestbox::signer {

enum class KeyType { kEd25519, kEcdsaP256, kRsa3072 };

// "ed25519" (default), "ecdsa-p256", "rsa-3072".
Result<KeyType> parse_key_type(std::string_view name);

// Generates a key pair; writes the private key (PKCS#8 PEM, mode 0600) and the
// public key (SubjectPublicKeyInfo PEM). Refuses to overwrite either file.
// Returns the key id (hex).
Result<std::string> generate_key(KeyType type, const std::string& private_path, const std::string& public_path);

// Loads a provider by name (e.g. "pkcs11") into the default library context,
// with the default provider kept available. Idempotent.
Status load_provider(const std::string& name);

// Loads a private key: a plain path is read as PEM/DER; anything with a scheme
// ("file:...", "pkcs11:...") goes through OSSL_STORE.
Result<crypto::ossl::Pkey> load_private_key(const std::string& uri);

// The public half as SubjectPublicKeyInfo PEM.
Result<std::string> public_pem(EVP_PKEY* key);

// Signs `message` (the image's signed digest) with `alg`.
Result<std::string> sign(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message);

}  // namespace nestbox::signer
