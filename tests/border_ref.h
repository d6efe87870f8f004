/* SPDX-License-Identifier: MIT */
/* border_ref.h — the filter's border modes written again from their definitions, for the tests
 * that hold the direct and the FFT sums to an f64 reference */
#ifndef HDM_BORDER_REF_H
#define HDM_BORDER_REF_H

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

#endif
