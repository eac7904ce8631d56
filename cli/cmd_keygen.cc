// nestbox keygen --out PREFIX [--type ed25519|ecdsa-p256|rsa-3072]: writes
// PREFIX.key (PKCS#8 PEM, 0600) and PREFIX.pub (SPKI PEM), prints the key id.
// nestbox keygen --id PUBKEY: prints the key id of a public key.
#include <iostream>

#include "cli/command.h"
#include "signer/keys.h"
#include "util/file_io.h"
#include "util/json_text.h"
#include "verifier/crypto.h"
#include "verifier/openssl_key.h"

namespace nestbox::cli {

Runner define_keygen(CLI::App& sub) {
  auto out = std::make_shared<std::string>();
  auto type = std::make_shared<std::string>("ed25519");
  auto id_of = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  sub.add_option("-o,--out", *out, "Output prefix: writes PREFIX.key and PREFIX.pub");
  sub.add_option("-t,--type", *type, "ed25519 (default), ecdsa-p256 or rsa-3072");
  sub.add_option("--id", *id_of, "Print the key id (SHA-256 of the DER public key) of a PEM public key");
  sub.add_flag("--json", *json, "Print the key id and files as JSON");
  return [=] {
    if (!id_of->empty()) {
      auto pem = read_file(*id_of);
      if (!pem.ok()) return report("keygen", pem.error());
      auto key = crypto::ossl::load_public_pem(*pem, *id_of);
      if (!key.ok()) return report("keygen", key.error());
      auto id = crypto::ossl::key_id(key->get());
      if (!id.ok()) return report("keygen", id.error());
      if (*json)
        std::cout << json_text({{"key_id", crypto::to_hex(*id)}, {"public_key", *id_of}}, 2) << "\n";
      else
        std::cout << crypto::to_hex(*id) << "\n";
      return kExitOk;
    }
    if (out->empty()) return report("keygen", bad_input("--out PREFIX is required"));
    auto t = signer::parse_key_type(*type);
    if (!t.ok()) return report("keygen", t.error());
    auto id = signer::generate_key(*t, *out + ".key", *out + ".pub");
    if (!id.ok()) return report("keygen", id.error());
    if (*json)
      std::cout << json_text({{"key_id", *id}, {"type", *type}, {"private_key", *out + ".key"},
                              {"public_key", *out + ".pub"}}, 2) << "\n";
    else
      std::cout << *id << "\n";
    return kExitOk;
  };
}

}  // namespace nestbox::cli
