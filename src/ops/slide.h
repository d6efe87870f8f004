/* SPDX-License-Identifier: MIT */
/* slide.h — kernels that are a box and a few cosines, summed as their window slides */
#ifndef HDM_SLIDE_H
#define HDM_SLIDE_H

#include "kernel/kernel.h"

#include <stdbool.h>
#include <stdint.h>

/* A symmetric kernel of 2r + 1 taps written as a box and HDM__SLIDE_TERMS cosines:
 *   tap(x) = a[0] + Σ_m a[m]·cos(π·m·x / period), |x| ≤ r.
 * Its correlation with a line is then a[0] times the window's sum plus a[m] times the window's
 * sums against each cosine, and all of those are running sums: each step adds the sample
 * entering the window and takes away the one leaving, whatever r is. r = 0: no such form. */
typedef struct hdm__slide_form {
    uint32_t r;
    double a[1 + HDM__SLIDE_TERMS];
    double period;
} hdm__slide_form;

/* How far from the taps a fitted form may be: the sum of |form − tap| over the window. A
 * product of two such forms (rows, then columns) is then within 2·10⁻⁵ of the kernel's, which
 * moves an 8-bit sample by at most 0.005 of a level. */
#define HDM__SLIDE_FIT 1e-5

/* The least-squares form of the 2r + 1 taps t (symmetric about t[r]), its period chosen among
 * r, 1.05 r, …, 1.6 r (above r = 4096 among 1.15 r … 1.35 r) as the closest; false (and
 * f->r = 0) when the closest is still further than HDM__SLIDE_FIT from the taps, or r is 0. */
bool hdm__slide_fit(const double *t, uint32_t r, hdm__slide_form *f);
/* The box of 2r + 1 taps, 1/(2r + 1) each: a[0] alone. */
void hdm__slide_box(uint32_t r, hdm__slide_form *f);

/* One axis of n samples: the phases the kernel primitives take. Step t (0 ≤ t < n + 2r) is
 * the sample at index t − r entering (its phases at e + t·2T: the cosines, then the sines, of
 * π·m·(t − r)/period); output j (0 ≤ j < n) is summed with p + j·(1 + 2T): a[0], then a[m]
 * times the cosines, then a[m] times the sines of π·m·j/period. */
typedef struct hdm__slide_axis {
    uint32_t n, r;
    float *e, *p;
} hdm__slide_axis;

/* NULL when out of memory. */
hdm__slide_axis *hdm__slide_axis_new(const hdm__slide_form *f, uint32_t n);
void hdm__slide_axis_free(hdm__slide_axis *a);
/* What an axis holds. */
uint64_t hdm__slide_axis_bytes(uint32_t r, uint32_t n);

#endif
