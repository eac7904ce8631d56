#!/usr/bin/env bash
# Regenerates the golden images both verifier crypto backends are checked
# against (tests/verifier/crypto_backend_test.cc): an ECDSA P-256 and an
# RSA-3072 key, a third (ECDSA) key no image is signed with, one image signed
# by each of the first two, and the key ids as the host signer (libcrypto)
# computes them. The private keys are thrown away.
#   usage: tests/verifier/data/backends/regen.sh BUILD_DIR
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
nestbox="${1:?usage: regen.sh BUILD_DIR}/cli/nestbox"
sqfs="$here/../../../signer/data/golden.sqfs"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
: > "$tmp/ids"
for k in ecdsa:ecdsa-p256 rsa:rsa-3072 other:ecdsa-p256; do
  name="${k%%:*}" type="${k#*:}"
  "$nestbox" keygen -t "$type" -o "$tmp/$name" >/dev/null
  cp "$tmp/$name.pub" "$here/$name.pub"
  echo "$name $("$nestbox" keygen --id "$tmp/$name.pub")" >> "$tmp/ids"
done
cp "$tmp/ids" "$here/key-ids.txt"
for name in ecdsa rsa; do
  SOURCE_DATE_EPOCH=1700000000 "$nestbox" sign -q --squashfs "$sqfs" --name "golden-$name" --version 1 \
    --version-string 1.0 --arch x86_64 --compat nestbox-golden --key "$tmp/$name.key" -o "$here/$name.img"
done
ls -l "$here"
