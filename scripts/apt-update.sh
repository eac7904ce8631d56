#!/usr/bin/env bash
# apt-get update that survives a mirror caught mid-sync ("File has unexpected
# size ... Mirror sync in progress?"): three tries, ten seconds apart, then
# carry on with the indices that did download. A package that is really
# missing still fails loudly at the install or download that needs it.
set -uo pipefail
for try in 1 2 3; do
  apt-get update -qq && exit 0
  ((try < 3)) && { echo "apt-update: apt-get update failed (try $try of 3); again in 10 s" >&2; sleep 10; }
done
echo "apt-update: some package indices did not download; going on with those that did" >&2
exit 0
