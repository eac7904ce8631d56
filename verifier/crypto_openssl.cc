// crypto.h on OpenSSL libcrypto (NESTBOX_CRYPTO_BACKEND=openssl, the default).
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "verifier/crypto.h"
#include "verifier/openssl_key.h"

namespace nestbox::crypto {

struct PublicKey::Impl {
  ossl::Pkey key;
};

PublicKey::PublicKey() = default;
PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;

const char* backend_name() { return "openssl"; }

std::string last_error() { return ossl::last_error(); }

Status init_target_library() {
  const uint64_t opts = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                        OPENSSL_INIT_NO_ADD_ALL_DIGESTS;
  if (OPENSSL_init_crypto(opts, nullptr) != 1) return failure("libcrypto initialisation: " + last_error());
  return ok_status();
}

struct Sha256::State {
  ossl::MdCtx ctx;
};

Sha256::Sha256() : state_(new State{ossl::MdCtx(EVP_MD_CTX_new())}) {
  ok_ = state_->ctx && EVP_DigestInit_ex(state_->ctx.get(), EVP_sha256(), nullptr) == 1;
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) {
  if (ok_ && size > 0) ok_ = EVP_DigestUpdate(state_->ctx.get(), data, size) == 1;
}

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok_ || EVP_DigestFinal_ex(state_->ctx.get(), md, &len) != 1 || len != 32) {
    ok_ = false;
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string sha256(std::string_view data) {
  unsigned char md[32];
  if (EVP_Digest(data.data(), data.size(), md, nullptr, EVP_sha256(), nullptr) != 1) return {};
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

Result<PublicKey> load_public_pem(std::string_view pem, const std::string& what) {
  auto key = ossl::load_public_pem(pem, what);
  if (!key.ok()) return std::move(key).error();
  return PublicKey(std::unique_ptr<PublicKey::Impl>(new PublicKey::Impl{std::move(*key)}));
}

Result<std::string> key_id(const PublicKey& key) { return ossl::key_id(key.impl()->key.get()); }

Result<image::SigAlgorithm> algorithm_for_key(const PublicKey& key) {
  return ossl::algorithm_for_key(key.impl()->key.get());
}

bool algorithm_supported(image::SigAlgorithm) { return true; }

Status verify_signature(const PublicKey& key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature) {
  return ossl::verify_signature(key.impl()->key.get(), alg, message, signature);
}

}  // namespace nestbox::crypto
