#include "verifier/crypto.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

namespace nestbox::crypto {

namespace {
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
}  // namespace

std::string last_openssl_error() {
  unsigned long e = ERR_get_error();
  std::string out = "unknown libcrypto error";
  if (e != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    out = buf;
  }
  ERR_clear_error();
  return out;
}

Status init_target_library() {
  const uint64_t opts = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ATEXIT | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                        OPENSSL_INIT_NO_ADD_ALL_DIGESTS;
  if (OPENSSL_init_crypto(opts, nullptr) != 1) return failure("libcrypto initialisation: " + last_openssl_error());
  return ok_status();
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  ok_ = ctx_ && EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) == 1;
}

void Sha256::update(const void* data, size_t size) {
  if (ok_ && size > 0) ok_ = EVP_DigestUpdate(ctx_.get(), data, size) == 1;
}

std::string Sha256::finish() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok_ || EVP_DigestFinal_ex(ctx_.get(), md, &len) != 1 || len != 32) {
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

std::string to_hex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool from_hex(std::string_view hex, std::string* out) {
  out->clear();
  if (hex.size() % 2 != 0) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      out->clear();
      return false;
    }
    out->push_back(static_cast<char>(hi << 4 | lo));
  }
  return true;
}

Result<std::string> key_id(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return failure("encode public key: " + last_openssl_error());
  std::string id = sha256(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(len)));
  OPENSSL_free(der);
  return id;
}

Result<image::SigAlgorithm> algorithm_for_key(EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return image::SigAlgorithm::kEd25519;
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64] = {};
    size_t len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof group, &len) != 1)
      return bad_input("EC key without a named curve");
    if (std::strcmp(group, "prime256v1") != 0 && std::strcmp(group, "P-256") != 0)
      return bad_input(std::string("unsupported EC curve ") + group + " (expected P-256)");
    return image::SigAlgorithm::kEcdsaP256Sha256;
  }
  if (EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "RSA-PSS")) {
    if (EVP_PKEY_get_bits(key) < 3072)
      return bad_input("RSA key of " + std::to_string(EVP_PKEY_get_bits(key)) +
                       " bits (expected at least 3072)");
    return image::SigAlgorithm::kRsaPssSha256;
  }
  return bad_input("unsupported key type (expected Ed25519, ECDSA P-256 or RSA)");
}

const char* algorithm_name(image::SigAlgorithm alg) {
  switch (alg) {
    case image::SigAlgorithm::kEd25519: return "ed25519";
    case image::SigAlgorithm::kEcdsaP256Sha256: return "ecdsa-p256-sha256";
    case image::SigAlgorithm::kRsaPssSha256: return "rsa-pss-sha256";
  }
  return "unknown";
}

Status verify_signature(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature) {
  auto expected = algorithm_for_key(key);
  if (!expected.ok()) return std::move(expected).error();
  if (*expected != alg)
    return bad_input(std::string("algorithm ") + algorithm_name(alg) + " does not match the key (" +
                     algorithm_name(*expected) + ")");
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return failure("EVP_MD_CTX_new: " + last_openssl_error());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == image::SigAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1)
    return failure("verify init: " + last_openssl_error());
  if (alg == image::SigAlgorithm::kRsaPssSha256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
      return failure("RSA-PSS parameters: " + last_openssl_error());
  }
  int rc = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                            message.size());
  ERR_clear_error();
  if (rc != 1) return failure("signature does not verify");
  return ok_status();
}

Result<Pkey> load_public_pem(std::string_view pem, const std::string& what) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return failure(what + ": BIO_new_mem_buf failed");
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    ERR_clear_error();
    return bad_input(what + ": not a PEM public key (expected -----BEGIN PUBLIC KEY-----)");
  }
  return key;
}

}  // namespace nestbox::crypto
