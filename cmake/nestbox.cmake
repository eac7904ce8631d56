# Conventions shared by every component:
#   nestbox_library(<name> SOURCES ... [DEPS ...])  -> static library nestbox_<name>
#   nestbox_test(<name> SOURCES ... [DEPS ...])     -> gtest binary <name>, registered with ctest
# Include root is the repository root, so headers are included as "component/header.h".

function(nestbox_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(nestbox_${name} STATIC ${ARG_SOURCES})
  target_include_directories(nestbox_${name} PUBLIC ${PROJECT_SOURCE_DIR})
  target_link_libraries(nestbox_${name} PUBLIC ${ARG_DEPS})
endfunction()

#   SERIAL: the suite asserts system-wide state (mounts, loop devices, cgroups
#   left behind), so no other test may run beside it.
function(nestbox_test name)
  cmake_parse_arguments(ARG "SERIAL" "" "SOURCES;DEPS" ${ARGN})
  set(_serial FALSE)
  if(ARG_SERIAL)
    set(_serial TRUE)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  # Test code is built for compile speed (these options follow the build
  # type's, so they win): the code under test keeps its build type in its
  # libraries (a product source listed in a test's SOURCES is built at -Og
  # there too), and CI builds every test twice (plain and ASan+UBSan), where
  # test files at -O2 -g were half of the build time. Benchmarks are not
  # nestbox_test targets and keep the build type. GCC's -Og warns of
  # "maybe uninitialized" values it cannot follow: not an error in tests.
  target_compile_options(${name} PRIVATE -Og -g1 -Wno-error=maybe-uninitialized)
  target_compile_definitions(${name} PRIVATE
    NESTBOX_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    NESTBOX_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(CMAKE_CROSSCOMPILING)
    # Cross builds: one ctest per binary, run under CMAKE_CROSSCOMPILING_EMULATOR.
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES ENVIRONMENT
      "NESTBOX_SOURCE_DIR=${PROJECT_SOURCE_DIR};GTEST_FILTER=${NESTBOX_CROSS_GTEST_FILTER}")
  else()
    gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
      PROPERTIES ENVIRONMENT "NESTBOX_SOURCE_DIR=${PROJECT_SOURCE_DIR}" RUN_SERIAL ${_serial})
  endif()
endfunction()

# libFuzzer target (only with -DNESTBOX_FUZZ=ON and clang).
function(nestbox_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NESTBOX_FUZZ)
    add_executable(${name} ${ARG_SOURCES})
    target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS})
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()
