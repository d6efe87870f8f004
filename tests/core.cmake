# SPDX-License-Identifier: MIT
# The core module (src/core/): the image model, statuses and options, and outputs that are
# complete or absent (io.c, through its internal hdm__out API).
hdm_test(test_core_image test_core_image.c testutil.c)
hdm_test(test_core_io test_core_io.c testutil.c)
