/* SPDX-License-Identifier: MIT */
/* ops_test.h — what the blend, window and filter tests share: seeded images, f64 rounding */
#ifndef HDM_OPS_TEST_H
#define HDM_OPS_TEST_H

#include "hadamard.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef enum fill { FILL_RANDOM, FILL_ZERO, FILL_MAX, FILL_MID, FILL_COUNT } fill;

/* The tests' one generator (testutil.c), as one stream per test program. */
static tu_rng ops_rng;

static inline void rng_seed(uint64_t s) { tu_seed(&ops_rng, s); }

static inline uint32_t rng(void) { return (uint32_t)(tu_next(&ops_rng) >> 32); }

static inline double maxval(hdm_depth d) { return d == HDM_U8 ? 255 : d == HDM_U16 ? 65535 : 1; }

static inline uint32_t raw(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y)
{
    const void *row = hdm_row(img, c, y);
    return img->depth == HDM_U8 ? ((const uint8_t *)row)[x] : ((const uint16_t *)row)[x];
}

static inline void set_raw(hdm_image *img, uint32_t c, uint32_t x, uint32_t y, uint32_t v)
{
    void *row = hdm_row(img, c, y);
    if (img->depth == HDM_U8)
        ((uint8_t *)row)[x] = (uint8_t)v;
    else
        ((uint16_t *)row)[x] = (uint16_t)v;
}

/* A sample normalised to [0, 1], exactly as f64. */
static inline double val(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y)
{
    return raw(img, c, x, y) / maxval(img->depth);
}

static inline hdm_image *make_image(uint32_t w, uint32_t h, uint32_t ch, hdm_depth d, fill f)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, ch, d, &img), HDM_OK);
    uint32_t m = (uint32_t)maxval(d);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint32_t v = f == FILL_ZERO ? 0 : f == FILL_MAX ? m : f == FILL_MID ? m / 2 + 1
                                                                   : rng() % (m + 1);
                set_raw(img, c, x, y, v);
            }
    return img;
}

/* The exact answer's sample: round half up, clamped to [0, M]. */
static inline double quantise(double v, hdm_depth d)
{
    double m = maxval(d), t = floor(v * m + 0.5);
    return t < 0 ? 0 : t > m ? m : t;
}

/* |got − quantise(ref)| in LSB; every test keeps the largest it saw in *worst. */
static inline double lsb_off(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y,
                             double ref, double *worst)
{
    double e = fabs((double)raw(img, c, x, y) - quantise(ref, img->depth));
    if (e > *worst)
        *worst = e;
    return e;
}

static const uint32_t sizes[][2] = {{1, 1}, {1, 9}, {9, 1}, {17, 3}, {33, 5}, {5, 31}};
enum { N_SIZES = sizeof sizes / sizeof sizes[0] };

static inline void report_worst(const char *what, double worst)
{
    fprintf(stderr, "%s: largest error %g LSB\n", what, worst);
}

#endif
