# nestbox image commands for an OpenWrt target's image/Makefile (buildroot).
#
#   include $(TOPDIR)/feeds/nestbox/../image/nestbox.mk     (or copy this file)
#
#   define Device/my-router
#     ...
#     NESTBOX_MANIFESTS := $(TOPDIR)/nestbox/nas.toml $(TOPDIR)/nestbox/web.toml
#     IMAGES += nestbox.bin
#     IMAGE/nestbox.bin := nestbox-compose | nestbox-sign | nestbox-verify | nestbox-store
#   endef
#
# Build/<cmd> is called with $@ = the image being produced. The commands work
# in $@.nestbox/ and finally write $@ as a tar of signed container images,
# which the device installs with `nestbox-launch install` (or which is written
# to a dedicated flash partition). The rootfs the containers are composed from
# is the firmware's own staged rootfs, $(TARGET_DIR).
#
# Settings (make variables, e.g. in the device definition or .config env):
#   NESTBOX             nestbox binary   (default $(STAGING_DIR_HOST)/bin/nestbox,
#                                         installed by the host package nestbox/host)
#   NESTBOX_MANIFESTS   container manifests (TOML)
#   NESTBOX_SIGNING_KEY private key (PEM) or an OpenSSL provider URI (pkcs11:...)
#   NESTBOX_KEYRING     directory of trusted public keys for the verify step
#   NESTBOX_KERNEL_CONFIG kernel .config checked by nestbox-kernel-check
#                       (default $(LINUX_DIR)/.config)

NESTBOX ?= $(STAGING_DIR_HOST)/bin/nestbox
NESTBOX_KERNEL_CONFIG ?= $(LINUX_DIR)/.config
NESTBOX_SOURCE_DATE_EPOCH = $(if $(SOURCE_DATE_EPOCH),$(SOURCE_DATE_EPOCH),0)

define Build/nestbox-kernel-check
	$(NESTBOX) kernel-check --config $(NESTBOX_KERNEL_CONFIG) --manifests $(NESTBOX_MANIFESTS)
endef

define Build/nestbox-compose
	rm -rf $@.nestbox
	mkdir -p $@.nestbox
	$(NESTBOX) validate $(NESTBOX_MANIFESTS)
	SOURCE_DATE_EPOCH=$(NESTBOX_SOURCE_DATE_EPOCH) \
		$(NESTBOX) compose --staging $(TARGET_DIR) --out $@.nestbox $(NESTBOX_MANIFESTS)
endef

define Build/nestbox-sign
	$(NESTBOX) sign --key $(NESTBOX_SIGNING_KEY) $(sort $(wildcard $@.nestbox/*.img))
endef

define Build/nestbox-verify
	$(NESTBOX) verify --keyring $(NESTBOX_KEYRING) $(sort $(wildcard $@.nestbox/*.img))
endef

# Reproducible store archive: fixed order, owner and time.
define Build/nestbox-store
	tar --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$(NESTBOX_SOURCE_DATE_EPOCH) \
		-C $@.nestbox -cf $@.new $(notdir $(sort $(wildcard $@.nestbox/*.img)))
	mv $@.new $@
	rm -rf $@.nestbox
endef
