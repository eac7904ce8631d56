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
#include <cerrno>
#include <cstdio>
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

namespace {

// A private key file's bytes, read from one open: a regular file (a FIFO
// hung `sign` in open(2), a directory made OSSL_STORE try every file in it)
// that no other user may read or change (as ssh refuses an unprotected
// key: a signing key readable by the build host's other users is as good as
// published, and one they may write can be swapped for theirs).
Result<std::string> read_private_key_file(const std::string& path, const std::string& shown) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  if (!fd) return sys_error("key " + shown);
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return sys_error("stat key " + shown);
  if (!S_ISREG(st.st_mode)) return bad_input("key " + shown + ": not a regular file");
  if (st.st_mode & 077) {
    char mode[8];
    snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return bad_input("key " + shown + ": mode " + mode +
                     " lets other users read or change the private key; expected 0600 or stricter (chmod 600 " +
                     path + ")");
  }
  constexpr off_t kMaxKeyFile = 1 << 20;
  if (st.st_size > kMaxKeyFile) return bad_input("key " + shown + ": larger than 1 MiB, not a key");
  if (::fcntl(fd.get(), F_SETFL, O_RDONLY) != 0) return sys_error("fcntl key " + shown);
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    ssize_t n = ::read(fd.get(), data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return sys_error("read key " + shown);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  data.resize(got);
  return data;
}

// The host path of a "file:" URI ("file:/k", "file:///k", "file://localhost/k"), or "".
std::string file_uri_path(const std::string& uri) {
  if (uri.compare(0, 5, "file:") != 0) return "";
  std::string p = uri.substr(5);
  if (p.compare(0, 11, "//localhost") == 0) p = p.substr(11);
  else if (p.compare(0, 2, "//") == 0) p = p.substr(2);
  return p;
}

Result<crypto::ossl::Pkey> first_private_key(OSSL_STORE_CTX* store, const std::string& uri) {
  OSSL_STORE_expect(store, OSSL_STORE_INFO_PKEY);
  while (!OSSL_STORE_eof(store)) {
    std::unique_ptr<OSSL_STORE_INFO, StoreInfoDeleter> info(OSSL_STORE_load(store));
    if (!info) {
      if (OSSL_STORE_error(store)) break;
      continue;
    }
    if (OSSL_STORE_INFO_get_type(info.get()) == OSSL_STORE_INFO_PKEY) {
      crypto::ossl::Pkey key(OSSL_STORE_INFO_get1_PKEY(info.get()));
      if (key) return key;
    }
  }
  return bad_input("key " + uri + ": no private key found (" + last_error() + ")");
}

}  // namespace

Result<crypto::ossl::Pkey> load_private_key(const std::string& uri) {
  std::string path = has_scheme(uri) ? file_uri_path(uri) : uri;
  if (path.empty()) {  // a provider's URI (pkcs11:...): the provider reads it
    std::unique_ptr<OSSL_STORE_CTX, StoreDeleter> store(
        OSSL_STORE_open(uri.c_str(), nullptr, nullptr, nullptr, nullptr));
    if (!store) return bad_input("key " + uri + ": cannot open (" + last_error() + ")");
    return first_private_key(store.get(), uri);
  }
  // A file: opened and checked once here, then decoded from memory (PEM or
  // DER, as OSSL_STORE's file loader reads them), never opened again by name.
  auto data = read_private_key_file(path, uri);
  if (!data.ok()) return std::move(data).error();
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new_mem_buf(data->data(), static_cast<int>(data->size())));
  if (!bio) return failure("BIO_new_mem_buf: " + last_error());
  std::unique_ptr<OSSL_STORE_CTX, StoreDeleter> store(
      OSSL_STORE_attach(bio.get(), "file", nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr));
  if (!store) return bad_input("key " + uri + ": cannot open (" + last_error() + ")");
  auto key = first_private_key(store.get(), uri);
  OPENSSL_cleanse(data->data(), data->size());
  return key;
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
