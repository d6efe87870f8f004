/* SPDX-License-Identifier: MIT */
/* roundtrip_fuzzer.c — decode, multiply or mask with itself, encode to a chosen format, decode
 *
 * The first byte chooses the output format and the operation; the rest is the input file. A
 * file that decodes must go all the way round: what we write we must read back, same size,
 * and bit-identical for PNG and TIFF (deflate, every depth). */
#include "fuzz/fuzz.h"

static const hdm_format outputs[] = {HDM_FORMAT_PNG, HDM_FORMAT_JPEG, HDM_FORMAT_BMP,
                                     HDM_FORMAT_TGA, HDM_FORMAT_HDR, HDM_FORMAT_TIFF};
enum { N_OUTPUTS = sizeof outputs / sizeof outputs[0] };

/* Plane 0 of img as a 1-channel view: a gray operand that broadcasts. */
static hdm_image gray_view(const hdm_image *img)
{
    hdm_image v = *img;
    v.channels = 1;
    for (uint32_t c = 1; c < HDM_MAX_CHANNELS; c++)
        v.plane[c] = NULL;
    v.owned_ = NULL;
    return v;
}

static void check_same(const hdm_image *a, const hdm_image *b)
{
    HDM_FUZZ_CHECK(a->width == b->width && a->height == b->height);
    HDM_FUZZ_CHECK(a->channels == b->channels && a->depth == b->depth);
    size_t bytes = (size_t)a->width * a->depth;
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            HDM_FUZZ_CHECK(memcmp(hdm_row(a, c, y), hdm_row(b, c, y), bytes) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    unsigned sel = data[0];
    hdm_format fmt = outputs[sel % N_OUTPUTS];
    unsigned op = sel / N_OUTPUTS % 4;
    unsigned flags = (sel & 0x80) ? HDM_MASK_INVERT : 0;

    hdm_options opt;
    hdm_fuzz_options(&opt);
    opt.max_pixels = 1u << 18; /* encoders are slow under ASan: keep each run short */
    hdm_image *img = NULL, *res = NULL, *back = NULL;
    hdm_error e = {0};
    hdm_status st = hdm_load_memory(data + 1, size - 1, &opt, &img, &e);
    if (st) {
        hdm_fuzz_check_error(st, &e);
        return 0;
    }
    hdm_image gray = gray_view(img);
    switch (op) {
    case 0: st = hdm_mul(img, img, NULL, &res, &e); break;
    case 1: st = hdm_mul(img, &gray, NULL, &res, &e); break;
    case 2: st = hdm_mask(img, &gray, flags, NULL, &res, &e); break;
    default: st = hdm_mask(img, &gray, flags | HDM_MASK_ALPHA, NULL, &res, &e); break;
    }
    if (st)
        fprintf(stderr, "op %u failed: %s\n", op, e.message);
    HDM_FUZZ_CHECK(st == HDM_OK); /* same shape and a gray operand: nothing to refuse */

    void *enc = NULL;
    size_t enc_size = 0;
    st = hdm_save_memory(res, fmt, &opt, &enc, &enc_size, &e);
    HDM_FUZZ_CHECK(st == HDM_OK);
    st = hdm_load_memory(enc, enc_size, &opt, &back, &e);
    if (st)
        fprintf(stderr, "reload of %s failed: %s\n", hdm_format_name(fmt), e.message);
    HDM_FUZZ_CHECK(st == HDM_OK);
    HDM_FUZZ_CHECK(back->width == res->width && back->height == res->height);
    if ((fmt == HDM_FORMAT_PNG && res->depth != HDM_F32) || fmt == HDM_FORMAT_TIFF)
        check_same(res, back);
    hdm_free(enc);
    hdm_image_free(back);
    hdm_image_free(res);
    hdm_image_free(img);
    return 0;
}
