/* The memory floor of any libcrypto-3 program that checks an image in verity
 * mode: load libcrypto, one SHA-256, read one Ed25519 public key (PEM), one
 * signature verification (which fails: the signature is zeros). bench/launcher.sh
 * reports its peak RSS beside nestbox-launch's. Usage: crypto_floor KEY.pub */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>

int main(int argc, char** argv) {
  unsigned char md[32], sig[64] = {0};
  FILE* f;
  EVP_PKEY* key;
  EVP_MD_CTX* ctx;
  if (argc != 2 || !(f = fopen(argv[1], "r"))) return 2;
  EVP_Digest("x", 1, md, NULL, EVP_sha256(), NULL);
  key = PEM_read_PUBKEY(f, NULL, NULL, NULL);
  fclose(f);
  if (!key) return 1;
  ctx = EVP_MD_CTX_new();
  if (!ctx || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) != 1) return 1;
  return EVP_DigestVerify(ctx, sig, sizeof sig, md, sizeof md) == 1; /* 0: refused, as expected */
}
