/* SPDX-License-Identifier: MIT */
/* border_ref.h — the filter's border modes written again from their definitions, and an f64
 * separable sum over them, for the tests that hold the filter's sums to an f64 reference */
#ifndef HDM_BORDER_REF_H
#define HDM_BORDER_REF_H

#include <stdlib.h>

/* The modes in the order of hdm__border, as steps spell them. */
static const char *const ref_borders[] = {"clamp", "mirror", "wrap", "zero"};

/* The sample index i of a size-n image reads under border b, or -1 for zero: replicate,
 * reflect-101, periodic, zero. */
static inline long ref_index(long i, long n, int b)
{
    if (b == 0)
        return i < 0 ? 0 : i >= n ? n - 1 : i;
    if (b == 2)
        return ((i % n) + n) % n;
    if (b == 3)
        return i < 0 || i >= n ? -1 : i;
    if (n == 1)
        return 0;
    while (i < 0 || i >= n)
        i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
}

/* One 1-D pass of the n taps t (centre n/2) under border b, from src into dst: lines lines,
 * across apart, of len samples, along apart. */
static inline void ref_pass(const double *src, double *dst, long len, long along, long lines,
                            long across, const double *t, int n, int b)
{
    for (long l = 0; l < lines; l++)
        for (long x = 0; x < len; x++) {
            double s = 0;
            for (int i = 0; i < n; i++) {
                long xx = ref_index(x + i - n / 2, len, b);
                s += xx < 0 ? 0 : t[i] * src[l * across + xx * along];
            }
            dst[l * across + x * along] = s;
        }
}

/* The f64 correlation of a w × h plane src with the separable kernel of n taps t (the same
 * both ways) under border b, into dst: each row along, then each column of that down. */
static inline void ref_sep_sum(const double *src, long w, long h, const double *t, int n, int b,
                               double *dst)
{
    double *mid = malloc((size_t)w * h * sizeof *mid);
    ref_pass(src, mid, w, 1, h, w, t, n, b);
    ref_pass(mid, dst, h, w, w, 1, t, n, b);
    free(mid);
}

#endif
