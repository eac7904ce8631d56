// The backend-independent part of crypto.h: hex and algorithm names.
#include "verifier/crypto.h"

namespace nestbox::crypto {

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

const char* algorithm_name(image::SigAlgorithm alg) {
  switch (alg) {
    case image::SigAlgorithm::kEd25519: return "ed25519";
    case image::SigAlgorithm::kEcdsaP256Sha256: return "ecdsa-p256-sha256";
    case image::SigAlgorithm::kRsaPssSha256: return "rsa-pss-sha256";
  }
  return "unknown";
}

}  // namespace nestbox::crypto
