/* SPDX-License-Identifier: MIT */
/* load_fuzzer.c — every input format through hdm_load_memory: refused cleanly or decoded */
#include "fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hdm_options opt;
    hdm_fuzz_options(&opt);
    hdm_image *img = NULL;
    hdm_error e = {0};
    hdm_status st = hdm_load_memory(data, size, &opt, &img, &e);
    if (st) {
        hdm_fuzz_check_error(st, &e);
        HDM_FUZZ_CHECK(img == NULL);
        return 0;
    }
    /* What decoded respects the limits, and every sample is readable (ASan checks the reads). */
    HDM_FUZZ_CHECK(img && img->width && img->height);
    HDM_FUZZ_CHECK(img->channels >= 1 && img->channels <= HDM_MAX_CHANNELS);
    HDM_FUZZ_CHECK((uint64_t)img->width * img->height <= opt.max_pixels);
    HDM_FUZZ_CHECK(img->width <= opt.max_width && img->height <= opt.max_height);
    unsigned sum = 0;
    for (uint32_t c = 0; c < img->channels; c++)
        for (uint32_t y = 0; y < img->height; y++) {
            const unsigned char *row = hdm_row(img, c, y);
            sum += row[0] + row[(size_t)img->width * img->depth - 1];
        }
    (void)sum;
    hdm_image_free(img);
    return 0;
}
