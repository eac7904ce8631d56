#!/bin/sh
# The feed's host package (nestbox/host) configured as OpenWrt's buildroot
# configures it: cmake with exactly the variables, flags and environment that
# include/cmake.mk (Host/Configure/Default), include/host-build.mk
# (HOST_BUILD_PREFIX, Host/Exports) and rules.mk (HOST_CPPFLAGS, HOST_CFLAGS,
# HOST_LDFLAGS, PKG_CONFIG, HOSTCC) give it, against an OpenWrt-shaped
# staging_dir that holds only what the host builds would install there:
#   staging_dir/host      tools/ (always built): gcc wrappers, pkg-config,
#                         zlib, xz, zstd, lz4
#   staging_dir/hostpkg   HOST_BUILD_PREFIX of package host builds: every
#                         HOST_BUILD_DEPENDS entry of openwrt/feed/nestbox/Makefile
#                         (docs/openwrt.md, "The host package")
# The libraries are Debian's, symlinked to where those host builds install them
# (.pc files rewritten to that prefix, as an installed .pc says).
# Asserts: configure passes; without any one declared dependency it fails
# naming that dependency ('Could NOT find LibArchive', ...; without
# nestbox-openssl/host 'Could NOT find OpenSSL', the issue's first failure);
# the declared list is exactly what the configure needs; outside the
# staging dir (Debian's /usr) nothing that find_library/find_path/pkg-config
# resolves is used.
#
# Read from openwrt/openwrt (not copied; the values are restated below):
#   include/cmake.mk     commit 067dec6c07b6965afa043004adfbdf6b449c78c6
#     Host/Configure/Default, CMAKE_HOST_FIND_ROOT_PATH
#     := $(STAGING_DIR)/host;$(STAGING_DIR_HOSTPKG);$(STAGING_DIR_HOST),
#     CMAKE_HOST_INSTALL_PREFIX = $(HOST_BUILD_PREFIX), HOST_USE_NINJA ?= 1
#   include/host-build.mk (2020+ form, "HOST_BUILD_PREFIX?=$(if
#     $(IS_PACKAGE_BUILD),$(STAGING_DIR_HOSTPKG),$(STAGING_DIR_HOST))",
#     Host/Exports/Default: PKG_CONFIG_PATH, PKG_CONFIG_LIBDIR, STAGING_PREFIX)
#   rules.mk (HOSTCC:=$(STAGING_DIR_HOST)/bin/gcc, HOST_CPPFLAGS/HOST_LDFLAGS
#     with the IS_PACKAGE_BUILD dirs, PKG_CONFIG:=$(STAGING_DIR_HOST)/bin/pkg-config)
# A feed package is built from package/feeds/, so IS_PACKAGE_BUILD is set.
set -eu
src="${NESTBOX_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}"
command -v cmake > /dev/null || { echo "cmake missing"; exit 77; }
command -v pkg-config > /dev/null || { echo "pkg-config missing"; exit 77; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT INT TERM
fails=0 passes=0
check() { if "$@"; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: $*"; fi; }
multi=/usr/lib/$(gcc -dumpmachine)

# HOST_BUILD_DEPENDS and CMAKE_HOST_OPTIONS as the feed Makefile sets them,
# read with GNU make through a minimal stand-in of the include files.
top="$tmp/top"
mkdir -p "$top/include"
# shellcheck disable=SC2016 # make syntax, not shell
printf 'INCLUDE_DIR:=$(TOPDIR)/include\n' > "$top/rules.mk"
: > "$top/include/package.mk"
: > "$top/include/cmake.mk"
cat > "$top/include/host-build.mk" <<'MK'
define HostBuild
$(info HOST_BUILD_DEPENDS=$(strip $(HOST_BUILD_DEPENDS)))
$(info CMAKE_HOST_OPTIONS=$(strip $(CMAKE_HOST_OPTIONS)))
endef
BuildPackage=
MK
make -s --no-print-directory -C "$src/openwrt/feed/nestbox" TOPDIR="$top" -n > "$tmp/vars" 2>&1 || true
declared="$(sed -n 's/^HOST_BUILD_DEPENDS=//p' "$tmp/vars")"
host_options="$(sed -n 's/^CMAKE_HOST_OPTIONS=//p' "$tmp/vars")"
check test -n "$declared"
check test -n "$host_options"
# Every declared host build exists in this feed (openwrt/feed/NAME/Makefile
# with a HostBuild) -- the packages feed has none of these as host builds.
for d in $declared; do
	check grep -q 'call HostBuild' "$src/openwrt/feed/${d%/host}/Makefile"
done

# What each provider installs: headers (in include/), libraries (lib/),
# pkg-config files and CMake package directories.
pc() { # NAME PREFIX: Debian's NAME.pc as installed under PREFIX
	mkdir -p "$2/lib/pkgconfig"
	# shellcheck disable=SC2016 # ${prefix} is pkg-config's, not the shell's
	sed -e "s|^prefix=.*|prefix=$2|" -e 's|^libdir=.*|libdir=${prefix}/lib|' \
		-e 's|^includedir=.*|includedir=${prefix}/include|' \
		"$multi/pkgconfig/$1.pc" > "$2/lib/pkgconfig/$1.pc"
}
libs() { # PREFIX LIB...: the .so/.a files of each LIB
	mkdir -p "$1/lib"
	p="$1"; shift
	for l in "$@"; do
		# STATIC_HOSTPKG=1: the feed's host packages install static libraries
		# only (Debian has no libmnl.a: its shared one stands in).
		for f in "$multi/$l".so* "$multi/$l".a; do
			[ "${STATIC_HOSTPKG:-0}" = 1 ] && [ "$p" = "$HOST_BUILD_PREFIX" ] && [ "${f%.a}" = "$f" ] &&
				[ -e "$multi/$l.a" ] && continue
			[ -e "$f" ] && ln -sf "$f" "$p/lib/"
		done
	done
	return 0
}
hdrs() { # PREFIX PATH...: /usr/include/PATH
	mkdir -p "$1/include"
	p="$1"; shift
	for h in "$@"; do ln -sf "/usr/include/$h" "$p/include/"; done
}
provide() { # PROVIDER PREFIX
	case "$1" in
	tools)
		mkdir -p "$2/bin"
		ln -sf "$(command -v gcc)" "$2/bin/gcc"
		ln -sf "$(command -v g++)" "$2/bin/g++"
		ln -sf "$(command -v pkg-config)" "$2/bin/pkg-config"
		hdrs "$2" zlib.h zstd.h zstd_errors.h lzma.h lzma lz4.h lz4frame.h lz4hc.h
		ln -sf "/usr/include/$(gcc -dumpmachine)/zconf.h" "$2/include/"
		libs "$2" libz libzstd liblzma liblz4
		pc zlib "$2"; pc libzstd "$2"; pc liblzma "$2"; pc liblz4 "$2" ;;
	nestbox-libarchive/host)
		hdrs "$2" archive.h archive_entry.h; libs "$2" libarchive; pc libarchive "$2" ;;
	nestbox-libseccomp/host)
		hdrs "$2" seccomp.h seccomp-syscalls.h; libs "$2" libseccomp; pc libseccomp "$2" ;;
	nestbox-xxhash/host)
		hdrs "$2" xxhash.h xxh3.h; libs "$2" libxxhash; pc libxxhash "$2" ;;
	nestbox-nlohmann-json/host)
		hdrs "$2" nlohmann
		mkdir -p "$2/share/cmake/nlohmann_json"
		for f in /usr/share/cmake/nlohmann_json/*; do ln -sf "$f" "$2/share/cmake/nlohmann_json/"; done ;;
	nestbox-openssl/host)
		mkdir -p "$2/include/openssl"
		for f in /usr/include/openssl/* "/usr/include/$(gcc -dumpmachine)/openssl"/*; do
			ln -sf "$f" "$2/include/openssl/"
		done
		libs "$2" libcrypto libssl; pc libcrypto "$2" ;;
	nestbox-libsquashfs/host)
		hdrs "$2" sqfs; libs "$2" libsquashfs; pc libsquashfs1 "$2" ;;
	nestbox-tomlplusplus/host)
		# Debian's toml++ is a compiled library (upstream's CMake install is
		# header-only); its package config, copied and pointed at PREFIX as
		# an installed one would be.
		hdrs "$2" toml++; libs "$2" libtomlplusplus
		mkdir -p "$2/lib/cmake/tomlplusplus"
		for f in "$multi/cmake/tomlplusplus"/*; do
			sed -e "s|^get_filename_component(PACKAGE_PREFIX_DIR .*|set(PACKAGE_PREFIX_DIR \"$2\")|" \
				-e "s|lib/$(gcc -dumpmachine)/libtomlplusplus|lib/libtomlplusplus|" \
				"$f" > "$2/lib/cmake/tomlplusplus/${f##*/}"
		done ;;
	nestbox-cli11/host)
		hdrs "$2" CLI
		mkdir -p "$2/share/cmake/CLI11"
		cp /usr/share/cmake/CLI11/* "$2/share/cmake/CLI11/" ;;
	nestbox-libmnl/host)
		hdrs "$2" libmnl; libs "$2" libmnl; pc libmnl "$2" ;;
	*) echo "no recipe for provider $1"; return 1 ;;
	esac
}
# One configure as the buildroot runs it. $1: a provider left out ("" = none).
configure() {
	topdir="$tmp/run/openwrt"
	rm -rf "$tmp/run"
	STAGING_DIR="$topdir/staging_dir/target-x86_64_musl"
	STAGING_DIR_HOST="$topdir/staging_dir/host"
	STAGING_DIR_HOSTPKG="$topdir/staging_dir/hostpkg"
	HOST_BUILD_PREFIX="$STAGING_DIR_HOSTPKG"
	mkdir -p "$STAGING_DIR/host" "$STAGING_DIR_HOST" "$STAGING_DIR_HOSTPKG"
	provide tools "$STAGING_DIR_HOST"
	for p in $declared; do
		[ "$p" = "$1" ] || provide "$p" "$HOST_BUILD_PREFIX"
	done
	HOST_CPPFLAGS="-I$STAGING_DIR_HOST/include -I$STAGING_DIR_HOSTPKG/include -I$STAGING_DIR/host/include"
	HOST_CFLAGS="-O2 $HOST_CPPFLAGS"
	HOST_LDFLAGS="-L$STAGING_DIR_HOST/lib -L$STAGING_DIR_HOSTPKG/lib -L$STAGING_DIR/host/lib"
	bin="$tmp/run/build/nestbox-0.1.0/openwrt-build"
	mkdir -p "$bin"
	# shellcheck disable=SC2086 # CMAKE_HOST_OPTIONS is a word list, as in make
	(cd "$bin" && env -u PKG_CONFIG_SYSROOT_DIR \
		PATH="$STAGING_DIR_HOST/bin:$PATH" \
		PKG_CONFIG="$STAGING_DIR_HOST/bin/pkg-config" \
		STAGING_PREFIX="$HOST_BUILD_PREFIX" \
		PKG_CONFIG_PATH="$STAGING_DIR_HOST/lib/pkgconfig:$HOST_BUILD_PREFIX/lib/pkgconfig" \
		PKG_CONFIG_LIBDIR="$HOST_BUILD_PREFIX/lib/pkgconfig" \
		CFLAGS="$HOST_CFLAGS" CXXFLAGS="$HOST_CFLAGS" LDFLAGS="$HOST_LDFLAGS" \
		cmake \
			--no-warn-unused-cli \
			-DCMAKE_BUILD_TYPE=Release \
			-DCMAKE_C_COMPILER_LAUNCHER="" \
			-DCMAKE_C_COMPILER="$STAGING_DIR_HOST/bin/gcc" \
			-DCMAKE_CXX_COMPILER_LAUNCHER="" \
			-DCMAKE_CXX_COMPILER="$STAGING_DIR_HOST/bin/g++" \
			-DCMAKE_ASM_COMPILER_LAUNCHER="" \
			-DCMAKE_ASM_COMPILER="$STAGING_DIR_HOST/bin/gcc" \
			-DCMAKE_C_FLAGS_RELEASE="-DNDEBUG" \
			-DCMAKE_CXX_FLAGS_RELEASE="-DNDEBUG" \
			-DCMAKE_EXE_LINKER_FLAGS:STRING="$HOST_LDFLAGS" \
			-DCMAKE_MODULE_LINKER_FLAGS:STRING="$HOST_LDFLAGS" \
			-DCMAKE_SHARED_LINKER_FLAGS:STRING="$HOST_LDFLAGS" \
			-DCMAKE_FIND_ROOT_PATH="$STAGING_DIR/host;$STAGING_DIR_HOSTPKG;$STAGING_DIR_HOST" \
			-DCMAKE_FIND_ROOT_PATH_MODE_PROGRAM=BOTH \
			-DCMAKE_FIND_ROOT_PATH_MODE_LIBRARY=ONLY \
			-DCMAKE_FIND_ROOT_PATH_MODE_INCLUDE=ONLY \
			-DCMAKE_STRIP=: \
			-DCMAKE_INSTALL_PREFIX="$HOST_BUILD_PREFIX" \
			-DCMAKE_PREFIX_PATH="$HOST_BUILD_PREFIX" \
			-DCMAKE_SKIP_RPATH=TRUE \
			-DCMAKE_INSTALL_LIBDIR=lib \
			-DCMAKE_EXPORT_PACKAGE_REGISTRY=FALSE \
			-DCMAKE_EXPORT_NO_PACKAGE_REGISTRY=TRUE \
			-DCMAKE_FIND_USE_PACKAGE_REGISTRY=FALSE \
			-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=TRUE \
			-DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=FALSE \
			-DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=TRUE \
			-DBUILD_SHARED_LIBS=OFF \
			-DCMAKE_GENERATOR="Ninja" \
			$host_options \
			"$src") > "$tmp/out" 2>&1
}

# All providers present: configure passes, and every library it resolved is
# the staging dir's, never the build host's /usr.
if configure ""; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: configure"; cat "$tmp/out"; fi
cache="$tmp/run/build/nestbox-0.1.0/openwrt-build/CMakeCache.txt"
check grep -q "^OPENSSL_CRYPTO_LIBRARY:FILEPATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/libcrypto.so" "$cache"
check grep -q "^LibArchive_INCLUDE_DIR:PATH=$tmp/run/openwrt/staging_dir/hostpkg/include" "$cache"
check grep -q "^nlohmann_json_DIR:PATH=$tmp/run/openwrt/staging_dir/hostpkg/share/cmake/nlohmann_json" "$cache"
check grep -q "^tomlplusplus_DIR:PATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/cmake/tomlplusplus" "$cache"
check grep -q "^CLI11_DIR:PATH=$tmp/run/openwrt/staging_dir/hostpkg/share/cmake/CLI11" "$cache"
check grep -q "^ZLIB_INCLUDE_DIR:PATH=$tmp/run/openwrt/staging_dir/host/include" "$cache"
check grep -q "^pkgcfg_lib_SECCOMP_seccomp:FILEPATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/libseccomp" "$cache"
check grep -q "^pkgcfg_lib_SQUASHFS_squashfs:FILEPATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/libsquashfs" "$cache"
check grep -q "^pkgcfg_lib_MNL_mnl:FILEPATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/libmnl" "$cache"
check grep -q "^NESTBOX_MNL_INCLUDE_DIR:PATH=$tmp/run/openwrt/staging_dir/hostpkg/include" "$cache"
check sh -c "! grep -E '^(OPENSSL|LibArchive|ZLIB|pkgcfg_lib|NESTBOX_MNL)[^=]*=/usr/' '$cache'"
check grep -q "^NESTBOX_TESTS:BOOL=OFF" "$cache"

# As the feed's host packages install them (static only): libsquashfs.a and
# libarchive.a bring their private dependencies (pkg-config --static) to the
# host tool's link line, or the buildroot's link fails on inflate, lzma_*, ...
if STATIC_HOSTPKG=1 configure ""; then passes=$((passes + 1)); else fails=$((fails + 1)); echo "FAIL: static configure"; cat "$tmp/out"; fi
check grep -q "^pkgcfg_lib_SQUASHFS_squashfs:FILEPATH=$tmp/run/openwrt/staging_dir/hostpkg/lib/libsquashfs.a" "$cache"
link="$(grep -A3 '^build cli/nestbox:' "$tmp/run/build/nestbox-0.1.0/openwrt-build/build.ninja" | grep 'LINK_LIBRARIES' || true)"
for dep in -lz -llzma -lzstd -llz4; do
	check sh -c "printf '%s\n' '$link' | tr ' ' '\n' | grep -qx -- '$dep'"
done

# Each declared dependency is needed: without it, configure fails naming it.
expect_missing() { # PROVIDER MESSAGE
	if configure "$1"; then
		fails=$((fails + 1)); echo "FAIL: configure passed without $1"
	else
		check grep -q "$2" "$tmp/out"
	fi
}
expect_missing nestbox-libarchive/host "Could NOT find LibArchive"
expect_missing nestbox-libseccomp/host "Package 'libseccomp'.* not found"
expect_missing nestbox-xxhash/host "Package 'libxxhash'.* not found"
expect_missing nestbox-openssl/host "Could NOT find OpenSSL"
expect_missing nestbox-libsquashfs/host "Package 'libsquashfs1'.* not found"
expect_missing nestbox-libmnl/host "Package 'libmnl'.* not found"
# nlohmann_json is a CMake package: cmake.mk leaves CMAKE_FIND_ROOT_PATH_MODE_PACKAGE
# at its default (BOTH), so without the host build a build machine that has
# it in /usr would still configure; the staging copy wins when it is there
# (nlohmann_json_DIR above).

echo "$passes passed, $fails failed"
[ "$fails" -eq 0 ]
