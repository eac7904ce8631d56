# 64-bit ARM routers (e.g. OpenWrt mediatek/filogic, qualcommax): Debian's
# g++-aarch64-linux-gnu. See scripts/cross-build.sh.
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(NESTBOX_CROSS_TRIPLE aarch64-linux-gnu)
set(NESTBOX_QEMU qemu-aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
