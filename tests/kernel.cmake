# SPDX-License-Identifier: MIT
# Kernel tests and benchmark (owned by the kernel work).

# Every variant against the scalar reference, and the reference against exact maths.
hdm_test(test_kernel ${CMAKE_CURRENT_SOURCE_DIR}/test_kernel.c)
# which variants the build has, so a build without SIMD is told from a dispatch that lost them
target_compile_definitions(test_kernel PRIVATE HDM_KERNEL_ARCH="${HDM_KERNEL_ARCH}")

# The same variant-against-scalar checks without Criterion: the program .ci/kernel-neon.sh
# cross-builds for aarch64, run natively here so it is exercised on every machine.
add_executable(kernel_neon_check ${CMAKE_CURRENT_SOURCE_DIR}/kernel_neon_check.c)
target_include_directories(kernel_neon_check PRIVATE ${PROJECT_SOURCE_DIR}/src
  ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(kernel_neon_check PRIVATE _GNU_SOURCE
  HDM_KERNEL_ARCH="${HDM_KERNEL_ARCH}")
target_link_libraries(kernel_neon_check PRIVATE hadamard_static)
add_test(NAME kernel_neon_check COMMAND kernel_neon_check)

# kernel_bench: a program, not a test. It also measures the scalar reference compiled a second
# time without auto-vectorisation, under another table name.
add_library(hdm_scalar_novec OBJECT ${PROJECT_SOURCE_DIR}/src/kernel/scalar.c)
target_include_directories(hdm_scalar_novec PRIVATE ${PROJECT_SOURCE_DIR}/src/kernel)
target_compile_definitions(hdm_scalar_novec PRIVATE hdm__kernel_scalar=hdm__kernel_scalar_novec
  hdm__png_filter_rest_scalar=hdm__png_filter_rest_scalar_novec)
target_compile_options(hdm_scalar_novec PRIVATE -fno-tree-vectorize -fno-tree-slp-vectorize)

add_executable(kernel_bench ${CMAKE_CURRENT_SOURCE_DIR}/bench/kernel_bench.c
  $<TARGET_OBJECTS:hdm_scalar_novec>)
target_include_directories(kernel_bench PRIVATE ${PROJECT_SOURCE_DIR}/src
  ${CMAKE_CURRENT_SOURCE_DIR})
target_compile_definitions(kernel_bench PRIVATE _GNU_SOURCE)
target_link_libraries(kernel_bench PRIVATE hadamard_static Threads::Threads)
