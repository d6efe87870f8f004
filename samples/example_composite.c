/* SPDX-License-Identifier: MIT */
/* example_composite.c — composite in memory on an RGBA frame the app owns, no files */
#include <hadamard.h>
#include <stdio.h>
#include <stdlib.h>

enum { W = 320, H = 200 };

int main(void)
{
    /* The app's frame, e.g. from a UI toolkit: interleaved RGBA, 8 bits, its own stride. */
    size_t stride = W * 4 + 64;
    unsigned char *frame = calloc(H, stride);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            unsigned char *p = frame + y * stride + x * 4;
            p[0] = (unsigned char)(x * 255 / (W - 1)), p[1] = 128;
            p[2] = (unsigned char)(y * 255 / (H - 1)), p[3] = 255;
        }
    /* A gray overlay the app drew: a horizontal band. */
    hdm_image *base = NULL, *band = NULL, *lit = NULL, *out = NULL;
    hdm_error err = {0};
    if (hdm_image_from_interleaved(frame, W, H, 4, HDM_U8, stride, &base) ||
        hdm_image_new(W, H, 1, HDM_U8, &band))
        return 1;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            ((unsigned char *)hdm_row(band, 0, y))[x] = y > 80 && y < 120 ? 255 : 0;
    /* Screen the band over the frame at 60% opacity, then fade the frame's alpha by the band. */
    if (hdm_blend(base, band, HDM_BLEND_SCREEN, 0.6, 0, NULL, &lit, &err) ||
        hdm_mask(lit, band, HDM_MASK_ALPHA | HDM_MASK_INVERT, NULL, &out, &err) ||
        hdm_image_to_interleaved(out, frame, stride)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    const unsigned char *mid = frame + 100 * stride + 160 * 4, *top = frame + 10 * stride;
    printf("band pixel %u %u %u %u, outside pixel %u %u %u %u\n", mid[0], mid[1], mid[2],
           mid[3], top[0], top[1], top[2], top[3]);
    hdm_image_free(base);
    hdm_image_free(band);
    hdm_image_free(lit);
    hdm_image_free(out);
    free(frame);
    return 0;
}
