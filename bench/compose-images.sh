#!/usr/bin/env bash
# Composer II through `nestbox compose` (manifests -> selection -> content
# index -> squashfs/overlay images -> runtime forms), side by side with
# mksquashfs and gensquashfs in one run: same compressor, level, block size and
# thread count. Corpus: bench/squashfs-corpus.sh (c1, c2, c3: three overlapping
# router rootfs trees). Prints a markdown table with ratios.
#   usage: bench/compose-images.sh [NESTBOX_BINARY] [OUT_DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nestbox=$(realpath "${1:-$here/../build/cli/nestbox}")
out=${2:-/tmp/nestbox-compose-bench}
corpus=$("$here/squashfs-corpus.sh")
comp=${COMP:-gzip}; level=${LEVEL-9}; [[ $comp == lz4 ]] && level=; bs=${BS:-131072}; threads=${THREADS:-2}
rm -rf "$out"; mkdir -p "$out"
export SOURCE_DATE_EPOCH=1700000000

. "$here/bench_manifest.sh"
manifest() { bench_manifest "$out/$1.toml" "$1" "$2" "$3" "$comp"; }  # name source strategy
for i in 1 2 3; do
  manifest c$i "$corpus/c$i" squashfs
  manifest o$i "$corpus/c$i" overlay
done

declare -A secs rss
measure() {  # name shell-command (may use nb, mk, gen)
  local name=$1; shift
  /usr/bin/time -f "%e %M" -o "$out/$name.time" \
    bash -c "$(declare -f nb mk gen); set -e; cd $out; $*" >"$out/$name.log" 2>&1
  read -r secs[$name] rss[$name] <"$out/$name.time"
  echo "$name: ${secs[$name]} s, ${rss[$name]} KiB  ($*)" >&2
}
export nestbox comp level bs threads
# lz4 has no level (mksquashfs refuses -Xcompression-level for it).
nb() { "$nestbox" compose --comp "$comp" ${level:+--level "$level"} --block-size "$bs" --threads "$threads" --json "$@"; }
mk() { mksquashfs "$1" "$2" -comp "$comp" ${level:+-Xcompression-level "$level"} -b "$bs" -processors "$threads" \
         -noappend -no-progress -quiet -always-use-fragments; }
gen() { gensquashfs --pack-dir "$1" -c "$comp" ${level:+-X "level=$level"} -b "$bs" -j "$threads" -k -x -f -q "$2"; }
size() { stat -c %s "$1"; }
ratio() { python3 -c "print(f'{$1/$2:.3f}')"; }

c1=$corpus/c1 c2=$corpus/c2 c3=$corpus/c3
tar -cf - -C "$corpus" c1 c2 c3 | cat >/dev/null  # warm the page cache for every tool (tar skips reading when it writes to /dev/null itself)
measure nestbox_one nb --out one c1.toml
measure mksquashfs_one mk "$c1" "$out/m1.img"
measure gensquashfs_one gen "$c1" "$out/g1.img"
measure nestbox_three nb --out three c1.toml c2.toml c3.toml
measure mksquashfs_three "mk $c1 $out/m3-1.img; mk $c2 $out/m3-2.img; mk $c3 $out/m3-3.img"
measure nestbox_overlay nb --out overlay o1.toml o2.toml o3.toml
# Rebuild after touching one file: a hardlinked copy of c1 with one file replaced.
rm -rf "$out/touched" && cp -al "$c1" "$out/touched"
manifest t "$out/touched" squashfs
measure nestbox_cold nb --out cold --cache "$out/cache" t.toml
f=$out/touched/etc/dnsmasq.conf; [[ -e $f ]] || f=$(find "$out/touched/etc" -type f | sort | head -1)
cp --remove-destination "$f" "$f.new" && echo "# touched" >>"$f.new" && mv "$f.new" "$f"
measure nestbox_warm nb --out warm --cache "$out/cache" t.toml

sum3() { echo $(( $(size "$1") + $(size "$2") + $(size "$3") )); }
n3=$(sum3 "$out/three/c1.sqfs" "$out/three/c2.sqfs" "$out/three/c3.sqfs")
m3=$(sum3 "$out/m3-1.img" "$out/m3-2.img" "$out/m3-3.img")
ov=$(( $(size "$out/overlay/base/shared.sqfs") + $(sum3 "$out/overlay/o1.layer.sqfs" "$out/overlay/o2.layer.sqfs" "$out/overlay/o3.layer.sqfs") ))
n1=$(size "$out/one/c1.sqfs")
stats() { python3 -c "
import json,sys
r=json.load(open('$out/$1.log'))
for i in r['images']:
    print(f\"{i['path']}: {i['image_size']} B, {i['blocks_compressed']} blocks compressed, {i['blocks_from_cache']} from cache, {i['fragment_blocks']} fragment blocks ({i['fragment_blocks_from_cache']} from cache), {i['duplicate_files']} duplicate files\")"; }
cat <<MD
Corpus: $(du -s --apparent-size -B1M "$c1" | cut -f1) MiB, $(find "$c1" | wc -l) entries (c1); $comp level $level, block size $bs, $threads threads; load average $(cut -d' ' -f1-3 /proc/loadavg).

| case | nestbox compose | anchor | time ratio | size ratio | peak RSS nestbox / anchor |
|---|---|---|---|---|---|
| one container vs mksquashfs | ${secs[nestbox_one]} s, $n1 B | ${secs[mksquashfs_one]} s, $(size "$out/m1.img") B | $(ratio ${secs[nestbox_one]} ${secs[mksquashfs_one]}) | $(ratio $n1 $(size "$out/m1.img")) | ${rss[nestbox_one]} / ${rss[mksquashfs_one]} KiB |
| one container vs gensquashfs | ${secs[nestbox_one]} s | ${secs[gensquashfs_one]} s, $(size "$out/g1.img") B | $(ratio ${secs[nestbox_one]} ${secs[gensquashfs_one]}) | $(ratio $n1 $(size "$out/g1.img")) | ${rss[nestbox_one]} / ${rss[gensquashfs_one]} KiB |
| three containers vs 3× mksquashfs | ${secs[nestbox_three]} s, $n3 B | ${secs[mksquashfs_three]} s, $m3 B | $(ratio ${secs[nestbox_three]} ${secs[mksquashfs_three]}) | $(ratio $n3 $m3) | ${rss[nestbox_three]} / ${rss[mksquashfs_three]} KiB |
| three containers, overlay (base + 3 layers) vs 3× mksquashfs | ${secs[nestbox_overlay]} s, $ov B | ${secs[mksquashfs_three]} s, $m3 B | $(ratio ${secs[nestbox_overlay]} ${secs[mksquashfs_three]}) | $(ratio $ov $m3) | ${rss[nestbox_overlay]} KiB |
| rebuild after touching one file: warm cache vs cold | ${secs[nestbox_warm]} s | ${secs[nestbox_cold]} s | $(ratio ${secs[nestbox_warm]} ${secs[nestbox_cold]}) | $(ratio $(size "$out/warm/t.sqfs") $(size "$out/cold/t.sqfs")) | ${rss[nestbox_warm]} / ${rss[nestbox_cold]} KiB |

nestbox statistics (compose --json):
\`\`\`
$(stats nestbox_three; stats nestbox_overlay; stats nestbox_warm)
\`\`\`
MD
