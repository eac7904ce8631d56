// The verifier's crypto, one narrow interface with two build-time backends
// (NESTBOX_CRYPTO_BACKEND): crypto_openssl.cc (libcrypto, the default) and
// crypto_mbedtls.cc (mbedTLS, OpenWrt's default TLS library, for small flash;
// docs/image-format.md "Verifier crypto backends"). Nothing here names a backend's
// types, so every target file compiles the same against either. Exactly one
// backend is linked into a program. Target-safe.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "util/result.h"
#include "verifier/image_format.h"

namespace nestbox::crypto {

// "openssl" or "mbedtls": the backend this program was linked with.
const char* backend_name();

// Streaming SHA-256. finish() returns the 32 raw bytes (empty, and ok() false,
// when the backend failed).
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  bool ok() const { return ok_; }
  void update(const void* data, size_t size);
  std::string finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
  bool ok_ = false;
};

std::string sha256(std::string_view data);
std::string to_hex(std::string_view bytes);
// Lower-case hex only; empty result and false on bad input.
bool from_hex(std::string_view hex, std::string* out);

// An owned public key of one of the supported algorithms (opaque: the
// backend's key object lives behind it). Move-only.
class PublicKey {
 public:
  struct Impl;
  PublicKey();
  explicit PublicKey(std::unique_ptr<Impl> impl);
  ~PublicKey();
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  explicit operator bool() const { return impl_ != nullptr; }
  Impl* impl() const { return impl_.get(); }

 private:
  std::unique_ptr<Impl> impl_;
};

// Parses a PEM SubjectPublicKeyInfo. A key the backend cannot verify with
// (mbedTLS: Ed25519) is refused here, naming the backend.
Result<PublicKey> load_public_pem(std::string_view pem, const std::string& what);

// Key id: SHA-256 of the DER SubjectPublicKeyInfo (raw 32 bytes). Both
// backends give the same id for the same key (the signer computes it with
// libcrypto).
Result<std::string> key_id(const PublicKey& key);

// The signature algorithm a key implies; the image's entry must match it.
Result<image::SigAlgorithm> algorithm_for_key(const PublicKey& key);
const char* algorithm_name(image::SigAlgorithm alg);
// Whether this backend verifies `alg` at all (mbedTLS: not Ed25519).
bool algorithm_supported(image::SigAlgorithm alg);

// Verifies `signature` over `message` with `key` using `alg`. Fails closed.
Status verify_signature(const PublicKey& key, image::SigAlgorithm alg, std::string_view message,
                        std::string_view signature);

// Initialises the crypto library for the target, before any other call.
// OpenSSL: no configuration file (openssl.cnf or $OPENSSL_CONF could activate
// other providers, load engine or provider modules into this root process, or
// switch SHA-256 off), no name tables of every cipher and digest (nothing
// looks algorithms up by name), no cleanup handler at exit. mbedTLS reads no
// configuration and loads nothing: nothing to do. Fails closed: a launcher
// whose crypto could not be set up this way verifies nothing.
Status init_target_library();

// The backend's last error as text (OpenSSL: its error queue, cleared).
std::string last_error();

}  // namespace nestbox::crypto
