# SPDX-License-Identifier: MIT
# The codec module (src/codec/): PNG through libpng and the threaded writer, JPEG through
# libjpeg-turbo (test_codec_jpeg makes its own inputs with libjpeg's API), WebP through libwebp
# (test_codec_webp likewise with libwebp's), the stb formats, and hostile input for each. Every test image is made inside the tests (libpng's write API,
# hand-written bytes), so nothing beyond the build's own dependencies is needed to run them.
hdm_test(test_codec_png test_codec_png.c testutil.c)
hdm_test(test_codec_png_large test_codec_png_large.c testutil.c)
hdm_test(test_codec_stb test_codec_stb.c testutil.c)
hdm_test(test_codec_jpeg test_codec_jpeg.c testutil.c cli_run.c cli_assert.c)
add_dependencies(test_codec_jpeg hadamard_cli)
# test_codec_jpeg_huff: the Huffman re-coder against libjpeg's optimize_coding, damaged streams.
hdm_test(test_codec_jpeg_huff test_codec_jpeg_huff.c testutil.c)
add_dependencies(test_codec_jpeg_huff hadamard_cli)
# test_codec_webp makes its inputs with libwebp's API, animations with libwebpmux's encoder.
pkg_check_modules(WEBPMUX REQUIRED IMPORTED_TARGET libwebpmux)
hdm_test(test_codec_webp test_codec_webp.c testutil.c cli_run.c cli_assert.c)
target_link_libraries(test_codec_webp PRIVATE PkgConfig::WEBPMUX)
add_dependencies(test_codec_webp hadamard_cli)
hdm_test(test_codec_tiff test_codec_tiff.c testutil.c cli_run.c cli_assert.c)
target_link_libraries(test_codec_tiff PRIVATE PkgConfig::TIFF)
add_dependencies(test_codec_tiff hadamard_cli)
# Metadata through TIFF and WebP: inputs made with libtiff and libwebpmux, outputs read back by
# both and, where it is installed (it must be in CI), by exiftool.
hdm_test(test_codec_meta_tiff_webp test_codec_meta_tiff_webp.c testutil.c cli_run.c cli_assert.c)
target_link_libraries(test_codec_meta_tiff_webp PRIVATE PkgConfig::TIFF PkgConfig::WEBPMUX)
add_dependencies(test_codec_meta_tiff_webp hadamard_cli)
if(HADAMARD_SANITIZE)
  # test_codec_stb compiles stb_image_write to make its JPEG inputs: the same signed shift as
  # src/codec/stb.c (see the top-level CMakeLists.txt), left out for the same reason.
  set_source_files_properties(test_codec_stb.c PROPERTIES COMPILE_OPTIONS -fno-sanitize=shift-base)
endif()
foreach(t test_codec_png test_codec_png_large test_codec_stb test_codec_jpeg test_codec_webp
          test_codec_tiff)
  hdm_test_variants(${t})
endforeach()

# Hostile files through the CLI and the public API, under a watchdog (alarm in each child).
hdm_test(test_codec_png_hostile test_codec_png_hostile.c cli_run.c cli_assert.c testutil.c)
hdm_test(test_codec_stb_hostile test_codec_stb_hostile.c cli_run.c cli_assert.c testutil.c)
add_dependencies(test_codec_png_hostile hadamard_cli)
add_dependencies(test_codec_stb_hostile hadamard_cli)

# Metadata carried between PNG and JPEG, read back with libpng, libjpeg and exiftool (which
# .ci/deps --tests installs: under CI=true a missing one fails the test), and what info shows.
hdm_test(test_meta test_meta.c testutil.c cli_run.c)
add_dependencies(test_meta hadamard_cli)

# The codec table: every entry against the others, the files it writes, the seeds, the command.
hdm_test(test_codec_table test_codec_table.c testutil.c fuzz/seeds.c cli_run.c)
add_dependencies(test_codec_table hadamard_cli)

# The EXIF Orientation tag applied on load (src/stream/orient.c, src/codec/open.c): the adapter,
# PNG eXIf and JPEG APP1 files made in the test, damaged EXIF, and operands through the command.
hdm_test(test_orient test_orient.c testutil.c cli_run.c cli_assert.c)
add_dependencies(test_orient hadamard_cli)
