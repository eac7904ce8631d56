# 32-bit little-endian MIPS routers (e.g. OpenWrt ramips/mt7621): Debian's
# g++-mipsel-linux-gnu. See scripts/cross-build.sh.
set(CMAKE_SYSTEM_PROCESSOR mipsel)
set(NESTBOX_CROSS_TRIPLE mipsel-linux-gnu)
set(NESTBOX_QEMU qemu-mipsel)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
