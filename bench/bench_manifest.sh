# Sourced by the compose benchmarks: one manifest per tree, everything
# selected (no include, no binaries).
#   bench_manifest FILE NAME SOURCE STRATEGY [COMPRESSOR]
#   STRATEGY squashfs | overlay (base "shared"); no COMPRESSOR: the manifest's
#   default (the command line's --comp decides).
bench_manifest() {
  cat >"$1" <<EOF
schema = 1
name = "$2"
version = 1
arch = "x86_64"
compat = "bench"
[process]
command = ["/bin/busybox", "true"]
[rootfs]
strategy = "$4"
$( [[ -n ${5:-} ]] && echo "compressor = \"$5\"" )
$( [[ $4 == overlay ]] && echo 'base = "shared"' )
[[rootfs.source]]
path = "$3"
EOF
}
