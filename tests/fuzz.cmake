# SPDX-License-Identifier: MIT
# The fuzz targets and their seed corpus (hostile input of every module).

# Fuzz targets. Under HADAMARD_FUZZ they are libFuzzer programs; otherwise each links
# fuzz/replay.c, a main that runs every file it is given through the target once. Either way
# the normal test run replays the seed corpus and every kept crasher.
set(HDM_FUZZ_DIR ${CMAKE_CURRENT_SOURCE_DIR}/fuzz)
foreach(target load roundtrip steps batch resume)
  set(name ${target}_fuzzer)
  if(HADAMARD_FUZZ)
    add_executable(${name} fuzz/${name}.c)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(replay_args -runs=0)
  else()
    add_executable(${name} fuzz/${name}.c fuzz/replay.c)
    set(replay_args)
  endif()
  if(target STREQUAL "steps") # the CLI's parser, as shipped
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src/cli/args.c
                   ${PROJECT_SOURCE_DIR}/src/cli/messages.c)
  elseif(target STREQUAL "resume") # the CLI's record files, as shipped
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src/cli/resume.c
                   ${PROJECT_SOURCE_DIR}/src/cli/messages.c)
  elseif(target STREQUAL "batch") # the CLI's batch planning, as shipped
    target_sources(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src/cli/batch.c
                   ${PROJECT_SOURCE_DIR}/src/cli/resume.c
                   ${PROJECT_SOURCE_DIR}/src/cli/messages.c)
  endif()
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_compile_definitions(${name} PRIVATE _POSIX_C_SOURCE=200809L)
  target_link_libraries(${name} PRIVATE hadamard_static)
  add_test(NAME ${name}_replay COMMAND ${name} ${replay_args}
           ${HDM_FUZZ_DIR}/corpus/${target} ${HDM_FUZZ_DIR}/crashers)
endforeach()

# One target per codec with a library of its own, replaying the round trip corpus (a selector
# byte, then a file of any format: the others are skipped), corpus/meta (small JPEG, TIFF and
# WebP files carrying an ICC profile, EXIF with Orientation 6 and XMP) and every crasher.
foreach(fmt JPEG TIFF WEBP)
  string(TOLOWER ${fmt} target)
  set(name ${target}_fuzzer)
  if(HADAMARD_FUZZ)
    add_executable(${name} fuzz/codec_fuzzer.c)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    set(replay_args -runs=0)
  else()
    add_executable(${name} fuzz/codec_fuzzer.c fuzz/replay.c)
    set(replay_args)
  endif()
  target_compile_definitions(${name} PRIVATE HDM_FUZZ_FORMAT=HDM_FORMAT_${fmt}
                             _POSIX_C_SOURCE=200809L)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR})
  target_link_libraries(${name} PRIVATE hadamard_static)
  add_test(NAME ${name}_replay COMMAND ${name} ${replay_args}
           ${HDM_FUZZ_DIR}/corpus/roundtrip ${HDM_FUZZ_DIR}/corpus/meta ${HDM_FUZZ_DIR}/crashers)
endforeach()

# The seed corpus generator: `cmake --build BUILD --target fuzz-corpus` rewrites
# tests/fuzz/corpus/ from seeds.c (commit the result).
add_executable(make_corpus fuzz/make_corpus.c fuzz/seeds.c)
target_include_directories(make_corpus PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(make_corpus PRIVATE hadamard_static PkgConfig::PNG)
add_custom_target(fuzz-corpus COMMAND make_corpus ${HDM_FUZZ_DIR}/corpus
                  COMMENT "Writing the fuzz seed corpus into ${HDM_FUZZ_DIR}/corpus")
