# The core module (src/core/): the image model, statuses and options.
hdm_test(test_core_image test_core_image.c testutil.c)
