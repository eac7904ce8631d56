#include "signer/keys.h"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rsa.h>
#include <openssl/store.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <memory>

#include "util/fd.h"
#include "util/file_io.h"

namespace nestbox::signer {

namespace {

using crypto::ossl::last_error;

struct BioDeleter {
  void operator()(BIO* p) const { BIO_free(p); }
};
struct StoreDeleter {
  void operator()(OSSL_STORE_CTX* p) const { OSSL_STORE_close(p); }
};
struct StoreInfoDeleter {
  void operator()(OSSL_STORE_INFO* p) const { OSSL_STORE_INFO_free(p); }
};

std::string bio_string(BIO* bio) {
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(n));
}

// Creates `path` exclusively and writes `data`; unlinks it on failure.
Status write_new_file(const std::string& path, const std::string& data, mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return sys_error("create " + path);
  Status st = write_all(fd.get(), data.data(), data.size(), path);
  if (st.ok() && ::fchmod(fd.get(), mode) != 0) st = sys_error("chmod " + path);
  if (st.ok() && ::fsync(fd.get()) != 0) st = sys_error("fsync " + path);
  if (!st.ok()) ::unlink(path.c_str());
  return st;
}

bool has_scheme(const std::string& uri) {
  size_t colon = uri.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  for (size_t i = 0; i < colon; ++i)
    if (!std::isalnum(static_cast<unsigned char>(uri[i])) && uri[i] != '+' && uri[i] != '-') return false;
  return true;
}

}  // namespace

Result<KeyType> parse_key_type(std::string_view name) {
  if (name == "ed25519") return KeyType::kEd25519;
  if (name == "ecdsa-p256") return KeyType::kEcdsaP256;
  if (name == "rsa-3072") return KeyType::kRsa3072;
  return bad_input("key type '" + std::string(name) + "': expected ed25519, ecdsa-p256 or rsa-3072");
}

Result<std::string> generate_key(KeyType type, const std::string& private_path, const std::string& public_path) {
  crypto::ossl::Pkey key;
  switch (type) {
    case KeyType::kEd25519: key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")); break;
    case KeyType::kEcdsaP256: key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); break;
    case KeyType::kRsa3072: key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{3072})); break;
  }
  if (!key) return failure("key generation: " + last_error());
  std::unique_ptr<BIO, BioDeleter> priv(BIO_new(BIO_s_mem()));
  if (!priv || PEM_write_bio_PrivateKey(priv.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return failure("encode private key: " + last_error());
  auto pub = public_pem(key.get());
  if (!pub.ok()) return std::move(pub).error();
  auto id = crypto::ossl::key_id(key.get());
  if (!id.ok()) return std::move(id).error();
  NESTBOX_TRY(write_new_file(private_path, bio_string(priv.get()), 0600));
  Status st = write_new_file(public_path, *pub, 0644);
  if (!st.ok()) {
    ::unlink(private_path.c_str());
    return std::move(st).error();
  }
  return crypto::to_hex(*id);
}

Status load_provider(const std::string& name) {
  if (!OSSL_PROVIDER_available(nullptr, "default") && !OSSL_PROVIDER_load(nullptr, "default"))
    return failure("load provider default: " + last_error());
  if (OSSL_PROVIDER_available(nullptr, name.c_str())) return ok_status();
  if (!OSSL_PROVIDER_load(nullptr, name.c_str()))
    return failure("load provider " + name + ": " + last_error());
  return ok_status();
}

Result<crypto::ossl::Pkey> load_private_key(const std::string& uri) {
  std::string store_uri = uri;
  if (!has_scheme(uri)) {
    if (::access(uri.c_str(), R_OK) != 0) return sys_error("key " + uri);
    store_uri = "file:" + uri;
    // OSSL_STORE's file scheme wants an absolute path.
    if (uri[0] != '/') {
      char cwd[4096];
      if (!::getcwd(cwd, sizeof cwd)) return sys_error("getcwd");
      store_uri = std::string("file:") + cwd + "/" + uri;
    }
  }
  std::unique_ptr<OSSL_STORE_CTX, StoreDeleter> store(
      OSSL_STORE_open(store_uri.c_str(), nullptr, nullptr, nullptr, nullptr));
  if (!store) return bad_input("key " + uri + ": cannot open (" + last_error() + ")");
  OSSL_STORE_expect(store.get(), OSSL_STORE_INFO_PKEY);
  while (!OSSL_STORE_eof(store.get())) {
    std::unique_ptr<OSSL_STORE_INFO, StoreInfoDeleter> info(OSSL_STORE_load(store.get()));
    if (!info) {
      if (OSSL_STORE_error(store.get())) break;
      continue;
    }
    if (OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) {
      crypto::ossl::Pkey key(OSSL_STORE_INFO_get1_PKEY(info.get()));
      if (key) return key;
    }
  }
  return bad_input("key " + uri + ": no private key found (" + last_error() + ")");
}

Result<std::string> public_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1) return failure("encode public key: " + last_error());
  return bio_string(bio.get());
}

Result<std::string> sign(EVP_PKEY* key, image::SigAlgorithm alg, std::string_view message) {
  crypto::ossl::MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx) return failure("EVP_MD_CTX_new: " + last_error());
  EVP_PKEY_CTX* pctx = nullptr;
  const EVP_MD* md = alg == image::SigAlgorithm::kEd25519 ? nullptr : EVP_sha256();
  if (EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1)
    return failure("sign init: " + last_error());
  if (alg == image::SigAlgorithm::kRsaPssSha256) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1)
      return failure("RSA-PSS parameters: " + last_error());
  }
  const auto* msg = reinterpret_cast<const unsigned char*>(message.data());
  size_t len = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &len, msg, message.size()) != 1)
    return failure("sign: " + last_error());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, msg, message.size()) != 1)
    return failure("sign: " + last_error());
  sig.resize(len);
  if (sig.size() > image::kMaxSignatureSize) return bad_input("signature larger than 512 bytes (key too large)");
  return sig;
}

}  // namespace nestbox::signer
