# Shared part of the Debian cross toolchain files (g++-<triple> from Debian).
# Expects NESTBOX_CROSS_TRIPLE and NESTBOX_QEMU set by the per-arch file.
# Target libraries (libcrypto, libmnl) come from the target's Debian -dev
# packages, extracted by scripts/cross-build.sh into NESTBOX_CROSS_LIBS (a
# flattened sysroot: usr/include, usr/lib); nothing is installed into the host.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${NESTBOX_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${NESTBOX_CROSS_TRIPLE}-g++)
set(CMAKE_LIBRARY_ARCHITECTURE ${NESTBOX_CROSS_TRIPLE})

if(NOT NESTBOX_CROSS_LIBS AND DEFINED ENV{NESTBOX_CROSS_LIBS})
  set(NESTBOX_CROSS_LIBS "$ENV{NESTBOX_CROSS_LIBS}")
endif()
set(NESTBOX_CROSS_LIBS "${NESTBOX_CROSS_LIBS}" CACHE PATH
    "Extracted target -dev packages (scripts/cross-build.sh)")
# Re-read by try_compile projects.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES NESTBOX_CROSS_LIBS)

set(CMAKE_FIND_ROOT_PATH /usr/${NESTBOX_CROSS_TRIPLE} ${NESTBOX_CROSS_LIBS})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

# Tests run under qemu-user; the target's libc comes from the cross toolchain,
# libcrypto/libmnl from the extracted sysroot.
set(CMAKE_CROSSCOMPILING_EMULATOR ${NESTBOX_QEMU} -L /usr/${NESTBOX_CROSS_TRIPLE}
    -E LD_LIBRARY_PATH=${NESTBOX_CROSS_LIBS}/usr/lib)
