# SPDX-License-Identifier: MIT
# Kernel sources: the scalar reference, the dispatcher, and each SIMD variant with its own flags.
set(HDM_KERNEL_SOURCES
  ${CMAKE_CURRENT_LIST_DIR}/scalar.c
  ${CMAKE_CURRENT_LIST_DIR}/dispatch.c)

set(HDM_KERNEL_ARCH none)
if(HADAMARD_ENABLE_SIMD)
  if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64|x86|i[3-6]86)$")
    set(HDM_KERNEL_ARCH x86)
  elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64|ARM64)$")
    set(HDM_KERNEL_ARCH arm64)
  endif()
endif()

if(HDM_KERNEL_ARCH STREQUAL "x86")
  # Each ISA file gets only its own flags, so every variant builds with any x86-64 compiler and
  # the rest of the library stays baseline; dispatch.c decides at run time which one is used.
  list(APPEND HDM_KERNEL_SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/x86_sse2.c
    ${CMAKE_CURRENT_LIST_DIR}/x86_avx2.c
    ${CMAKE_CURRENT_LIST_DIR}/x86_avx512.c)
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/x86_sse2.c
    PROPERTIES COMPILE_OPTIONS "-msse2")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/x86_avx2.c
    PROPERTIES COMPILE_OPTIONS "-mavx2")
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/x86_avx512.c
    PROPERTIES COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512vl")
elseif(HDM_KERNEL_ARCH STREQUAL "arm64")
  # Advanced SIMD is part of the AArch64 baseline: no flags needed.
  list(APPEND HDM_KERNEL_SOURCES ${CMAKE_CURRENT_LIST_DIR}/neon.c)
else()
  set_source_files_properties(${CMAKE_CURRENT_LIST_DIR}/dispatch.c
    PROPERTIES COMPILE_DEFINITIONS HDM_NO_SIMD)
endif()
