/* SPDX-License-Identifier: MIT */
/* codec_fuzzer.c — one codec's reader, metadata and writer: header, decode, and a round trip
 *
 * Built once per format (HDM_FUZZ_FORMAT: jpeg_fuzzer, tiff_fuzzer, webp_fuzzer). Byte 0 picks
 * what the round trip keeps (all metadata, none, only the ICC profile) and whether the
 * Orientation tag is applied; the rest is the file. Inputs of another format are skipped, so
 * every run spends its time in this codec. What decodes must be written in the same format
 * with its metadata and read back: the same size, the ICC profile the same length when kept,
 * none of what was stripped. */
#include "fuzz/fuzz.h"

#ifndef HDM_FUZZ_FORMAT
#error "HDM_FUZZ_FORMAT names the format this target reads"
#endif

static void check_detail(const hdm_file_info *d, size_t size)
{
    HDM_FUZZ_CHECK(d->image.width && d->image.height);
    HDM_FUZZ_CHECK(d->stored_width && d->stored_height);
    HDM_FUZZ_CHECK(d->orientation <= 8 && d->pages >= 1);
    HDM_FUZZ_CHECK(memchr(d->color, '\0', sizeof d->color));
    HDM_FUZZ_CHECK(memchr(d->compression, '\0', sizeof d->compression));
    HDM_FUZZ_CHECK(memchr(d->subsampling, '\0', sizeof d->subsampling));
    HDM_FUZZ_CHECK(memchr(d->icc_description, '\0', sizeof d->icc_description));
    /* these three formats store the profile and XMP as they are: never more than the file */
    HDM_FUZZ_CHECK(d->icc_size <= size && d->xmp_size <= size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0];
    data++, size--;
    hdm_options opt;
    hdm_fuzz_options(&opt);
    opt.max_pixels = 1u << 18; /* encoders are slow under ASan: keep each run short */
    opt.strip_meta = sel % 3 == 0 ? 0 : sel % 3 == 1 ? HDM_META_ALL : HDM_META_ALL & ~HDM_META_ICC;
    opt.no_rotate = (sel >> 2) & 1;
    opt.webp_lossless = 1;
    hdm_file_info d = {.size = sizeof d};
    hdm_error e = {0};
    hdm_status st = hdm_file_info_read_memory(data, size, &opt, &d, &e);
    if (st) {
        hdm_fuzz_check_error(st, &e);
        return 0;
    }
    if (d.image.format != HDM_FUZZ_FORMAT)
        return 0;
    check_detail(&d, size);

    hdm_pipeline *p = NULL;
    HDM_FUZZ_CHECK(hdm_pipeline_new(&p) == HDM_OK);
    void *out = NULL;
    size_t out_size = 0;
    st = hdm_pipeline_run_memory(p, data, size, HDM_FUZZ_FORMAT, &opt, &out, &out_size, &e);
    hdm_pipeline_free(p);
    if (st) { /* the header read; the pixels may still be damaged */
        hdm_fuzz_check_error(st, &e);
        HDM_FUZZ_CHECK(out == NULL);
        return 0;
    }
    hdm_file_info back = {.size = sizeof back};
    st = hdm_file_info_read_memory(out, out_size, &opt, &back, &e);
    if (st)
        fprintf(stderr, "reading back what was written failed: %s\n", e.message);
    HDM_FUZZ_CHECK(st == HDM_OK);
    HDM_FUZZ_CHECK(back.image.width == d.image.width && back.image.height == d.image.height);
    HDM_FUZZ_CHECK(back.image.format == HDM_FUZZ_FORMAT);
    if (!(opt.strip_meta & HDM_META_ICC)) /* kept whole, or left out (said) when its colour
                                           * space is not the output's */
        HDM_FUZZ_CHECK(back.icc_size == d.icc_size || back.icc_size == 0);
    else
        HDM_FUZZ_CHECK(back.icc_size == 0);
    if (opt.strip_meta & HDM_META_EXIF)
        HDM_FUZZ_CHECK(back.exif_size == 0);
    if (opt.strip_meta & HDM_META_XMP)
        HDM_FUZZ_CHECK(back.xmp_size == 0);
    /* an applied tag is written as 1 (or not at all); a kept one as it was */
    if (!opt.no_rotate)
        HDM_FUZZ_CHECK(back.orientation <= 1);
    hdm_free(out);
    return 0;
}
