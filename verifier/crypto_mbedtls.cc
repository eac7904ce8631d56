// crypto.h on mbedTLS (NESTBOX_CRYPTO_BACKEND=mbedtls): ECDSA P-256 and
// RSA-PSS through mbedtls_pk, SHA-256 through mbedtls_sha256. OpenWrt ships
// mbedTLS in its default image, so this backend adds no library there.
// mbedTLS (2.28, and 3.x) has no Ed25519: Ed25519 keys are refused when the
// keyring loads and Ed25519 signatures are never accepted (fail closed), no
// hand-rolled replacement (docs/image-format.md, "Verifier crypto backends").
#include <mbedtls/asn1.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include <cstring>

#include "verifier/crypto.h"

#ifndef MBEDTLS_PRIVATE  // 2.x: the fields are public
#define MBEDTLS_PRIVATE(member) member
#endif

namespace nestbox::crypto {

namespace {

// 2.28 names its int-returning SHA-256 calls *_ret; 3.x dropped the suffix.
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
int sha_starts(mbedtls_sha256_context* c) { return mbedtls_sha256_starts(c, 0); }
int sha_update(mbedtls_sha256_context* c, const unsigned char* p, size_t n) { return mbedtls_sha256_update(c, p, n); }
int sha_finish(mbedtls_sha256_context* c, unsigned char* out) { return mbedtls_sha256_finish(c, out); }
int sha_oneshot(const unsigned char* p, size_t n, unsigned char* out) { return mbedtls_sha256(p, n, out, 0); }
#else
int sha_starts(mbedtls_sha256_context* c) { return mbedtls_sha256_starts_ret(c, 0); }
int sha_update(mbedtls_sha256_context* c, const unsigned char* p, size_t n) {
  return mbedtls_sha256_update_ret(c, p, n);
}
int sha_finish(mbedtls_sha256_context* c, unsigned char* out) { return mbedtls_sha256_finish_ret(c, out); }
int sha_oneshot(const unsigned char* p, size_t n, unsigned char* out) { return mbedtls_sha256_ret(p, n, out, 0); }
#endif

mbedtls_ecp_group_id ec_group(const mbedtls_pk_context* pk) {
#if MBEDTLS_VERSION_NUMBER >= 0x03050000
  return mbedtls_pk_get_ec_group_id(pk);
#else
  return mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp).id;
#endif
}

const char* kBegin = "-----BEGIN PUBLIC KEY-----";
const char* kEnd = "-----END PUBLIC KEY-----";

struct PemOwner {
  mbedtls_pem_context ctx;
  PemOwner() { mbedtls_pem_init(&ctx); }
  ~PemOwner() { mbedtls_pem_free(&ctx); }
};

// The OID of a SubjectPublicKeyInfo's AlgorithmIdentifier; empty when the
// DER is not shaped like one (mbedtls_pk_parse_public_key then says why).
std::string spki_algorithm_oid(const unsigned char* der, size_t len) {
  unsigned char* p = const_cast<unsigned char*>(der);
  const unsigned char* end = der + len;
  size_t n = 0;
  if (mbedtls_asn1_get_tag(&p, end, &n, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE) != 0) return {};
  mbedtls_asn1_buf oid, params;
  if (mbedtls_asn1_get_alg(&p, p + n, &oid, &params) != 0) return {};
  return std::string(reinterpret_cast<const char*>(oid.p), oid.len);
}

}  // namespace

struct PublicKey::Impl {
  mbedtls_pk_context pk;
  Impl() { mbedtls_pk_init(&pk); }
  ~Impl() { mbedtls_pk_free(&pk); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

PublicKey::PublicKey() = default;
PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::~PublicKey() = default;
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;

const char* backend_name() { return "mbedtls"; }

std::string last_error() { return "mbedTLS error"; }

// mbedTLS reads no configuration file and loads no modules.
Status init_target_library() { return ok_status(); }

struct Sha256::State {
  mbedtls_sha256_context ctx;
  State() { mbedtls_sha256_init(&ctx); }
  ~State() { mbedtls_sha256_free(&ctx); }
};

Sha256::Sha256() : state_(new State) { ok_ = sha_starts(&state_->ctx) == 0; }

Sha256::~Sha256() = default;

void Sha256::update(const void* data, size_t size) {
  if (ok_ && size > 0) ok_ = sha_update(&state_->ctx, static_cast<const unsigned char*>(data), size) == 0;
}

std::string Sha256::finish() {
  unsigned char md[32];
  if (!ok_ || sha_finish(&state_->ctx, md) != 0) {
    ok_ = false;
    return std::string();
  }
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

std::string sha256(std::string_view data) {
  unsigned char md[32];
  if (sha_oneshot(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md) != 0) return {};
  return std::string(reinterpret_cast<char*>(md), sizeof md);
}

Result<PublicKey> load_public_pem(std::string_view pem, const std::string& what) {
  const std::string not_pem = what + ": not a PEM public key (expected -----BEGIN PUBLIC KEY-----)";
  std::string text(pem);  // mbedtls_pem_read_buffer wants a NUL-terminated string
  if (text.find('\0') != std::string::npos) return bad_input(not_pem);
  PemOwner der;
  size_t used = 0;
  if (mbedtls_pem_read_buffer(&der.ctx, kBegin, kEnd, reinterpret_cast<const unsigned char*>(text.c_str()),
                              nullptr, 0, &used) != 0)
    return bad_input(not_pem);
  const unsigned char* d = der.ctx.MBEDTLS_PRIVATE(buf);
  size_t dlen = der.ctx.MBEDTLS_PRIVATE(buflen);
  // id-Ed25519 (RFC 8410): refused by name rather than as an unknown key.
  if (spki_algorithm_oid(d, dlen) == std::string("\x2b\x65\x70", 3))
    return bad_input(what + ": Ed25519 key, but this nestbox-launch verifies with mbedTLS, which has no Ed25519 "
                            "(use an ECDSA P-256 or RSA-3072 key, or the OpenSSL backend)");
  auto impl = std::make_unique<PublicKey::Impl>();
  if (int rc = mbedtls_pk_parse_public_key(&impl->pk, d, dlen); rc != 0)
    return bad_input(what + ": unsupported or malformed public key (mbedTLS error -0x" +
                     to_hex(std::string{static_cast<char>((-rc) >> 8), static_cast<char>(-rc)}) + ")");
  return PublicKey(std::move(impl));
}

// The same bytes libcrypto's i2d_PUBKEY gives: both encode the parsed key
// (named curve, uncompressed point; rsaEncryption with NULL parameters).
Result<std::string> key_id(const PublicKey& key) {
  unsigned char buf[4096];
  int len = mbedtls_pk_write_pubkey_der(&key.impl()->pk, buf, sizeof buf);
  if (len <= 0) return failure("encode public key: mbedTLS error");
  // mbedtls_pk_write_pubkey_der writes at the end of the buffer.
  return sha256(std::string_view(reinterpret_cast<char*>(buf + sizeof buf - len), static_cast<size_t>(len)));
}

Result<image::SigAlgorithm> algorithm_for_key(const PublicKey& key) {
  const mbedtls_pk_context* pk = &key.impl()->pk;
  switch (mbedtls_pk_get_type(pk)) {
    case MBEDTLS_PK_ECKEY: {
      mbedtls_ecp_group_id id = ec_group(pk);
      if (id != MBEDTLS_ECP_DP_SECP256R1) {
        const mbedtls_ecp_curve_info* info = mbedtls_ecp_curve_info_from_grp_id(id);
        return bad_input(std::string("unsupported EC curve ") + (info ? info->name : "?") + " (expected P-256)");
      }
      return image::SigAlgorithm::kEcdsaP256Sha256;
    }
    case MBEDTLS_PK_RSA: {
      size_t bits = mbedtls_pk_get_bitlen(pk);
      if (bits < 3072) return bad_input("RSA key of " + std::to_string(bits) + " bits (expected at least 3072)");
      return image::SigAlgorithm::kRsaPssSha256;
    }
    default: return bad_input("unsupported key type (expected ECDSA P-256 or RSA)");
  }
}

bool algorithm_supported(image::SigAlgorithm alg) { return alg != image::SigAlgorithm::kEd25519; }

Status verify_signature(const PublicKey& key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature) {
  if (!algorithm_supported(alg))
    return bad_input(std::string("algorithm ") + algorithm_name(alg) + " is not supported by the mbedTLS backend");
  auto expected = algorithm_for_key(key);
  if (!expected.ok()) return std::move(expected).error();
  if (*expected != alg)
    return bad_input(std::string("algorithm ") + algorithm_name(alg) + " does not match the key (" +
                     algorithm_name(*expected) + ")");
  // As EVP_DigestVerify with SHA-256: the signature is over SHA-256(message).
  std::string hash = sha256(message);
  if (hash.size() != 32) return failure("sha256: mbedTLS error");
  const auto* h = reinterpret_cast<const unsigned char*>(hash.data());
  const auto* sig = reinterpret_cast<const unsigned char*>(signature.data());
  int rc;
  if (alg == image::SigAlgorithm::kRsaPssSha256) {
    // MGF1 with SHA-256, salt exactly the digest length (RSA_PSS_SALTLEN_DIGEST).
    mbedtls_pk_rsassa_pss_options opts{MBEDTLS_MD_SHA256, 32};
    rc = mbedtls_pk_verify_ext(MBEDTLS_PK_RSASSA_PSS, &opts, &key.impl()->pk, MBEDTLS_MD_SHA256, h, 32, sig,
                               signature.size());
  } else {
    rc = mbedtls_pk_verify(&key.impl()->pk, MBEDTLS_MD_SHA256, h, 32, sig, signature.size());
  }
  if (rc != 0) return failure("signature does not verify");
  return ok_status();
}

}  // namespace nestbox::crypto
