# nestbox image command for an OpenWrt target's image/Makefile (buildroot).
#
#   include $(TOPDIR)/feeds/nestbox/../image/nestbox.mk     (or copy this file)
#
#   define Device/my-router
#     ...
#     NESTBOX_MANIFESTS := $(TOPDIR)/nestbox/nas.toml $(TOPDIR)/nestbox/web.toml
#     IMAGES += nestbox.bin
#     IMAGE/nestbox.bin := nestbox-images
#   endef
#
# Build/nestbox-images is called with $@ = the image being produced. It runs
# the vendor CI gate (openwrt/ci/vendor-ci.sh, installed by the host package
# as nestbox-vendor-ci): validate -> kernel-check -> compose -> sign -> verify,
# in $@.nestbox/, with the firmware's own staged rootfs $(TARGET_DIR) as
# --staging (manifests name it `path = "."`). It then writes $@ as a tar of the
# signed container images, which the device installs with `nestbox-launch
# install` (or which is written to a dedicated flash partition). Any failing
# stage fails the image build with that stage's report in $@.nestbox/reports/.
# An image recipe runs after root.$(fs) is made: host-hardlink trees it writes
# never reach the firmware's root file system. For those, use the feed's
# rootfs hook (nestbox-launch's postinst, run by prepare_rootfs before mkfs;
# docs/openwrt.md, "The rootfs hook").
#
# Settings (make variables, e.g. in the device definition or .config env):
#   NESTBOX             nestbox binary   (default $(STAGING_DIR_HOST)/bin/nestbox,
#                                         installed by the host package nestbox/host)
#   NESTBOX_CI          the gate script  (default $(STAGING_DIR_HOST)/bin/nestbox-vendor-ci)
#   NESTBOX_MANIFESTS   container manifests (TOML)
#   NESTBOX_SIGNING_KEY private key (PEM) or an OpenSSL provider URI (pkcs11:...)
#   NESTBOX_KEYRING     directory of trusted public keys for the verify step
#   NESTBOX_KERNEL_CONFIG kernel .config checked by kernel-check
#                       (default $(LINUX_DIR)/.config)
#   NESTBOX_ARCH, NESTBOX_COMPAT  the device's identity: verify refuses images
#                       made for another device
#
# The kernel modules a device's containers need go into its DEVICE_PACKAGES,
# from kernel-check's table (nestbox kernel-check --openwrt-packages):
#
#     DEVICE_PACKAGES += nestbox-launch $(call nestbox-kmods,$(TOPDIR)/nestbox/nas.toml ...)
#
# include/image.mk's Device/DumpInfo reads DEVICE_PACKAGES when the target's
# metadata is dumped (Target-Profile-Packages, the device profile's package
# selection), i.e. before any package is built: $(NESTBOX) must exist then
# (a nestbox on the build machine, or `make package/nestbox/host/compile`
# followed by `make defconfig`). Until it does the list is empty with a
# warning; a nestbox that fails (a bad manifest) stops make. Either way the
# image command's kernel-check refuses a kernel that lacks what a container
# needs.
#
# Each is a device variable (DEVICE_VARS, include/image.mk's Device/Export):
# a device's NESTBOX_MANIFESTS apply to that device's images only, not the
# value the last device definition left behind.

NESTBOX ?= $(STAGING_DIR_HOST)/bin/nestbox
NESTBOX_CI ?= $(STAGING_DIR_HOST)/bin/nestbox-vendor-ci
NESTBOX_KERNEL_CONFIG ?= $(LINUX_DIR)/.config
DEVICE_VARS += NESTBOX_MANIFESTS NESTBOX_SIGNING_KEY NESTBOX_KEYRING NESTBOX_KERNEL_CONFIG \
	NESTBOX_ARCH NESTBOX_COMPAT
nestbox-kmods = $(if $(wildcard $(NESTBOX)),$(call nestbox-kmods-run,$(1)),$(warning nestbox-kmods: $(NESTBOX) not built yet: no kernel modules listed for $(1)))
nestbox-kmods-run = $(call nestbox-kmods-check,$(shell $(NESTBOX) kernel-check --openwrt-packages --manifests $(1) 2>&1; echo "nestbox-exit=$$?"))
nestbox-kmods-check = $(if $(filter nestbox-exit=0,$(1)),$(filter-out nestbox-exit=%,$(1)),$(error nestbox kernel-check --openwrt-packages failed: $(1)))
NESTBOX_SOURCE_DATE_EPOCH = $(if $(SOURCE_DATE_EPOCH),$(SOURCE_DATE_EPOCH),0)

# The gate, then a reproducible archive of its images: fixed order, owner, time.
define Build/nestbox-images
	rm -rf $@.nestbox
	SOURCE_DATE_EPOCH=$(NESTBOX_SOURCE_DATE_EPOCH) NESTBOX=$(NESTBOX) $(NESTBOX_CI) \
		--staging $(TARGET_DIR) --kernel-config $(NESTBOX_KERNEL_CONFIG) \
		--key $(NESTBOX_SIGNING_KEY) --keyring $(NESTBOX_KEYRING) \
		$(if $(NESTBOX_ARCH),--arch $(NESTBOX_ARCH)) $(if $(NESTBOX_COMPAT),--compat $(NESTBOX_COMPAT)) \
		--root-owned --out $@.nestbox $(NESTBOX_MANIFESTS)
	tar --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$(NESTBOX_SOURCE_DATE_EPOCH) \
		-C $@.nestbox/images -cf $@.new .
	mv $@.new $@
	rm -rf $@.nestbox
endef
