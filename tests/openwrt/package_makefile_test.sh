#!/bin/sh
# openwrt/feed/nestbox/Makefile against a minimal stand-in of the OpenWrt
# buildroot's include files: it must parse with GNU make, declare the target
# package with the right dependencies, and its install recipes must place the
# binaries, init script and UCI config where OpenWrt expects them.
set -eu
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
feed="$src/openwrt/feed/nestbox"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }

top="$tmp/top"
mkdir -p "$top/include" "$tmp/build/openwrt-build/launcher" "$tmp/hostbuild/openwrt-build/cli" "$tmp/staging-host"
echo '#!/bin/sh' > "$tmp/build/openwrt-build/launcher/nestbox-launch"
echo '#!/bin/sh' > "$tmp/hostbuild/openwrt-build/cli/nestbox"
mkdir -p "$tmp/hostbuild/openwrt/ci" "$tmp/hostbuild/openwrt/feed/nestbox/files"
cp "$src/openwrt/ci/vendor-ci.sh" "$tmp/hostbuild/openwrt/ci/"
cp "$src/openwrt/feed/nestbox/files/nestbox-rootfs-hook.sh" "$tmp/hostbuild/openwrt/feed/nestbox/files/"

cat > "$top/rules.mk" <<'MK'
INCLUDE_DIR:=$(TOPDIR)/include
INSTALL_DIR:=install -d -m0755
INSTALL_BIN:=install -m0755
INSTALL_CONF:=install -m0600
INSTALL_DATA:=install -m0644
CP:=cp -fpR
MK
cat > "$top/include/package.mk" <<'MK'
PKG_BUILD_DIR ?= $(BUILD_DIR)
# Like OpenWrt: each Package/<name> define is evaluated for its variables,
# and the install recipe becomes a target for this test.
define BuildPackage
$(eval $(Package/$(1)))
$(info package $(1) DEPENDS=$(strip $(DEPENDS)) PKG_BUILD_DEPENDS=$(PKG_BUILD_DEPENDS))
$(info conffiles $(1): $(strip $(Package/$(1)/conffiles)))
$(info license $(PKG_LICENSE) $(PKG_LICENSE_FILES))
$(file >$(POSTINST_OUT),$(Package/$(1)/postinst))
$(info cmake_options $(strip $(CMAKE_OPTIONS)))
$(file >$(CONFIG_OUT),$(Package/$(1)/config))
install-$(1):
	$(call Package/$(1)/install,$(DESTDIR))
endef
MK
cat > "$top/include/host-build.mk" <<'MK'
define HostBuild
$(info host HOST_BUILD_DEPENDS=$(strip $(HOST_BUILD_DEPENDS)))
$(info source $(PKG_NAME) $(PKG_VERSION) $(PKG_SOURCE) $(PKG_HASH))
$(info url $(PKG_NAME) $(strip $(PKG_SOURCE_URL)))
$(info host CMAKE_HOST_OPTIONS=$(strip $(CMAKE_HOST_OPTIONS)))
host-install:
	$(call Host/Install)
endef
MK
cat > "$top/include/cmake.mk" <<'MK'
CMAKE_BINARY_SUBDIR ?= openwrt-build
CMAKE_BINARY_DIR = $(PKG_BUILD_DIR)$(if $(CMAKE_BINARY_SUBDIR),/$(CMAKE_BINARY_SUBDIR))
MK

mk() {
	make -s --no-print-directory -C "$feed" TOPDIR="$top" BUILD_DIR="$tmp/build" \
		HOST_BUILD_DIR="$tmp/hostbuild" CMAKE_BINARY_SUBDIR=openwrt-build \
		STAGING_DIR_HOST="$tmp/staging-host" DESTDIR="$tmp/root" POSTINST_OUT="$tmp/postinst" CONFIG_OUT="$tmp/config.in" "$@"
}

check mk -n install-nestbox-launch > "$tmp/parse.out" 2>&1
check grep -q "package nestbox-launch DEPENDS=+NESTBOX_CRYPTO_OPENSSL:libopenssl +NESTBOX_CRYPTO_MBEDTLS:libmbedtls +kmod-loop +kmod-fs-squashfs PKG_BUILD_DEPENDS=libmnl" "$tmp/parse.out"
# The verifier's crypto library is a menuconfig choice (default OpenSSL); the
# choice reaches CMake, and only the chosen library is a runtime dependency.
check grep -q "^cmake_options .*-DNESTBOX_CRYPTO_BACKEND=openssl" "$tmp/parse.out"
check grep -q "^  choice$" "$tmp/config.in"
check grep -q "^    default NESTBOX_CRYPTO_OPENSSL$" "$tmp/config.in"
check grep -q "^    config NESTBOX_CRYPTO_MBEDTLS$" "$tmp/config.in"
check grep -q "^    config NESTBOX_CRYPTO_OPENSSL$" "$tmp/config.in"
check grep -q "^  endchoice$" "$tmp/config.in"
check sh -c "grep '^PKG_CONFIG_DEPENDS:=' '$feed/Makefile' | grep -q CONFIG_NESTBOX_CRYPTO_MBEDTLS"
check mk -n install-nestbox-launch CONFIG_NESTBOX_CRYPTO_MBEDTLS=y > "$tmp/parse-mbedtls.out" 2>&1
check grep -q "^cmake_options .*-DNESTBOX_CRYPTO_BACKEND=mbedtls" "$tmp/parse-mbedtls.out"
# The host tool's libraries: host builds, each a HostBuild package of this
# feed (the packages feed has none of them as host builds), installed where
# cmake.mk looks; the host tool builds no tests (no GoogleTest needed).
check grep -q "^host HOST_BUILD_DEPENDS=nestbox-libarchive/host nestbox-libseccomp/host nestbox-xxhash/host nestbox-nlohmann-json/host nestbox-openssl/host nestbox-libmnl/host nestbox-libsquashfs/host nestbox-tomlplusplus/host nestbox-cli11/host$" "$tmp/parse.out"
# ... and every other package of the feed is one of them (a host library
# added to the feed but not declared would never be built).
for m in "$src"/openwrt/feed/*/Makefile; do
	name="$(basename "$(dirname "$m")")"
	[ "$name" = nestbox ] && continue
	check grep -Eq "^host HOST_BUILD_DEPENDS=(.* )?$name/host( |\$)" "$tmp/parse.out"
done
check grep -q "^host CMAKE_HOST_OPTIONS=.*-DNESTBOX_TESTS=OFF" "$tmp/parse.out"
# shellcheck disable=SC2013 # one line of words
for dep in $(sed -n 's/^host HOST_BUILD_DEPENDS=//p' "$tmp/parse.out"); do
	m="$src/openwrt/feed/${dep%/host}/Makefile"
	check grep -q '^PKG_NAME:='"${dep%/host}"'$' "$m"
	check grep -q 'call HostBuild' "$m"
	check grep -q '^PKG_HOST_ONLY:=1' "$m"
	# Fetched from upstream and checked: a hash, never "skip".
	check grep -Eq '^PKG_(MIRROR_)?HASH:=[0-9a-f]{64}$' "$m"
done
# Where no OpenWrt tree packages the tarball with a hash, PKG_HASH comes from
# Debian's signed source indices, recorded in fixtures/host-sources/
# (provenance.txt: the index entries, and the .dsc files apt checked against
# them): the Makefile's PKG_VERSION, PKG_SOURCE (expanded), PKG_HASH and pool
# URL must be the recorded ones, the hash must be the index's and the .dsc's,
# and each kept .dsc must be the one the index names (its SHA-256 and size).
prov="$src/tests/openwrt/fixtures/host-sources"
# shellcheck disable=SC2034 # size/debsrc/debver used below
grep -v '^#' "$prov/provenance.txt" | while read -r pkg ver file sha size debsrc debver pool; do
	mk -C "$src/openwrt/feed/$pkg" -n > "$tmp/$pkg.out" 2>&1 || echo "FAIL: make $pkg"
	grep -qx "source $pkg $ver $file $sha" "$tmp/$pkg.out" || echo "FAIL: $pkg PKG_VERSION/PKG_SOURCE/PKG_HASH differ from $prov/provenance.txt"
	grep -q "^url $pkg \(.* \)\?https://deb.debian.org/$pool/\( \|$\)" "$tmp/$pkg.out" || echo "FAIL: $pkg PKG_SOURCE_URL is not $pool"
	grep -qx "##  $sha $size $file" "$prov/provenance.txt" || echo "FAIL: $pkg hash not in the recorded index entry"
	dsc="$prov/${debsrc}_$debver.dsc"
	if [ -f "$dsc" ]; then
		grep -qx " $sha $size $file" "$dsc" || echo "FAIL: $pkg hash not in $dsc"
		grep -qx "##  $(sha256sum < "$dsc" | cut -d' ' -f1) $(wc -c < "$dsc") ${debsrc}_$debver.dsc" "$prov/provenance.txt" ||
			echo "FAIL: $dsc is not the .dsc the index names"
	fi
done > "$tmp/provenance.out"
cat "$tmp/provenance.out"
check test ! -s "$tmp/provenance.out"
for pkg in nestbox-openssl nestbox-libmnl nestbox-libsquashfs; do
	check grep -q "^$pkg " "$prov/provenance.txt"
done
# Every feed package fetched from Debian's pool has a recorded provenance.
for m in "$src"/openwrt/feed/*/Makefile; do
	if grep -q 'deb.debian.org' "$m"; then
		check grep -q "^$(basename "$(dirname "$m")") " "$prov/provenance.txt"
	fi
done
check grep -q "conffiles nestbox-launch: /etc/config/nestbox" "$tmp/parse.out"
# nestbox-launch's default --rollback-dir is where the scripts keep the records
# (files/nestbox.init): a command run by hand checks the floor boot keeps.
check grep -q "^cmake_options .*-DNESTBOX_DEFAULT_ROLLBACK_DIR=/etc/nestbox/rollback" "$tmp/parse.out"
check grep -q "^NESTBOX_ROLLBACK_DIR=\"\${NESTBOX_ROLLBACK_DIR:-/etc/nestbox/rollback}\"$" "$feed/files/nestbox.init"
check grep -q "cmake_options -DNESTBOX_TARGET_ONLY=ON -DCMAKE_BUILD_TYPE=MinSizeRel -DNESTBOX_REQUIRE_STATIC_MNL=ON" "$tmp/parse.out"
# Target-side rule: nothing host-only may be a runtime dependency.
check sh -c "! grep '^package ' '$tmp/parse.out' | sed 's/PKG_BUILD_DEPENDS=.*//' | grep -E '[+](libarchive|libsquashfs|squashfs-tools|toml|xxhash|libseccomp|nlohmann)'"

check mk install-nestbox-launch > /dev/null
check test -x "$tmp/root/usr/sbin/nestbox-launch"
check test -x "$tmp/root/etc/init.d/nestbox"
check cmp -s "$tmp/root/etc/config/nestbox" "$feed/files/nestbox.config"
check test "$(head -n1 "$tmp/root/etc/init.d/nestbox")" = "#!/bin/sh /etc/rc.common"
# sysupgrade keeps the store (with its rollback records); the first boot
# installs the firmware's images; the images directory exists.
check test "$(grep -v '^#' "$tmp/root/lib/upgrade/keep.d/nestbox")" = "/srv/nestbox/store/
/etc/nestbox/rollback/"
check cmp -s "$tmp/root/etc/uci-defaults/90-nestbox-images" "$feed/files/nestbox.uci-defaults"
check test -d "$tmp/root/usr/lib/nestbox/images"
# PKG_LICENSE names the license of the LICENSE file it points at.
check grep -q "license Apache-2.0 LICENSE" "$tmp/parse.out"
check grep -q "Apache License" "$src/LICENSE"
check grep -q "Version 2.0, January 2004" "$src/LICENSE"

# The postinst as prepare_rootfs runs it (IPKG_INSTROOT=ROOT bash SCRIPT):
# the hook with the staged rootfs; nothing on the device (no IPKG_INSTROOT)
# or without manifests.
printf '#!/bin/sh\necho "hook $*" > "%s/hook.out"\n' "$tmp" > "$tmp/fake-hook"
chmod +x "$tmp/fake-hook"
check env IPKG_INSTROOT="$tmp/root" NESTBOX_MANIFESTS=m.toml NESTBOX_ROOTFS_HOOK="$tmp/fake-hook" bash "$tmp/postinst"
check test "$(cat "$tmp/hook.out")" = "hook $tmp/root"
rm -f "$tmp/hook.out"
check env IPKG_INSTROOT= NESTBOX_MANIFESTS=m.toml NESTBOX_ROOTFS_HOOK="$tmp/fake-hook" bash "$tmp/postinst"
check env IPKG_INSTROOT="$tmp/root" NESTBOX_MANIFESTS= NESTBOX_ROOTFS_HOOK="$tmp/fake-hook" bash "$tmp/postinst"
check test ! -e "$tmp/hook.out"

check mk host-install > /dev/null
check test -x "$tmp/staging-host/bin/nestbox"
check cmp -s "$tmp/staging-host/bin/nestbox-vendor-ci" "$src/openwrt/ci/vendor-ci.sh"
check test -x "$tmp/staging-host/bin/nestbox-vendor-ci"
check cmp -s "$tmp/staging-host/bin/nestbox-rootfs-hook" "$src/openwrt/feed/nestbox/files/nestbox-rootfs-hook.sh"

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
