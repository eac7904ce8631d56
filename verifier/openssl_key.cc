#include "verifier/openssl_key.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>

namespace nestbox::crypto::ossl {

namespace {
struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};

const char* name_of(image::SigAlgorithm alg) {
  switch (alg) {
    case image::SigAlgorithm::kEd25519: return "ed25519";
    case image::SigAlgorithm::kEcdsaP256Sha256: return "ecdsa-p256-sha256";
    case image::SigAlgorithm::kRsaPssSha256: return "rsa-pss-sha256";
  }
  return "unknown";
}
}  // namespace

std::string last_error() {
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

Result<std::string> key_id(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key, &der);
  if (len <= 0) return failure("encode public key: " + last_error());
  unsigned char md[32];
  int rc = EVP_Digest(der, static_cast<size_t>(len), md, nullptr, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  if (rc != 1) return failure("sha256: " + last_error());
  return std::string(reinterpret_cast<char*>(md), sizeof md);
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

Status verify_signature(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature) {
  auto expected = algorithm_for_key(key);
  if (!expected.ok()) return std::move(expected).error();
  if (*expected != alg)
    return bad_input(std::string("algorithm ") + name_of(alg) + " does not match the key (" +
                     name_of(*expected) + ")");
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return failure("EVP_MD_CTX_new: " + last_error());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == image::SigAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, key) != 1)
    return failure("verify init: " + last_error());
  if (alg == image::SigAlgorithm::kRsaPssSha256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
      return failure("RSA-PSS parameters: " + last_error());
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

}  // namespace nestbox::crypto::ossl
