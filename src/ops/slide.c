/* SPDX-License-Identifier: MIT */
/* slide.c — a kernel as a box and a few cosines (its form), and the phases that sum it */
#include "ops/slide.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

enum { T = HDM__SLIDE_TERMS, B = 1 + HDM__SLIDE_TERMS };

/* cos(m·θ) for m = 0 … T, from cos θ by cos mθ = 2 cos θ · cos (m−1)θ − cos (m−2)θ */
static void cosines(double c1, double *c)
{
    c[0] = 1;
    c[1] = c1;
    for (int m = 2; m < B; m++)
        c[m] = 2 * c1 * c[m - 1] - c[m - 2];
}

/* Solves the B × B system g·a = h in place by elimination with partial pivoting; false when
 * it is singular. */
static bool solve(double g[B][B], double *h, double *a)
{
    for (int i = 0; i < B; i++) {
        int piv = i;
        for (int j = i + 1; j < B; j++)
            if (fabs(g[j][i]) > fabs(g[piv][i]))
                piv = j;
        if (!(fabs(g[piv][i]) > 0))
            return false;
        for (int k = 0; k < B; k++) {
            double s = g[i][k];
            g[i][k] = g[piv][k];
            g[piv][k] = s;
        }
        double s = h[i];
        h[i] = h[piv];
        h[piv] = s;
        for (int j = i + 1; j < B; j++) {
            double q = g[j][i] / g[i][i];
            for (int k = i; k < B; k++)
                g[j][k] -= q * g[i][k];
            h[j] -= q * h[i];
        }
    }
    for (int i = B - 1; i >= 0; i--) {
        double s = h[i];
        for (int k = i + 1; k < B; k++)
            s -= g[i][k] * a[k];
        a[i] = s / g[i][i];
    }
    return true;
}

/* The least-squares a for one period, and the sum of |form − tap| it leaves; +∞ if none. The
 * taps are symmetric, so x and −x are counted once, twice over. */
static double fit_one(const double *t, uint32_t r, double period, double *a)
{
    double g[B][B] = {{0}}, h[B] = {0}, c[B];
    for (uint32_t x = 0; x <= r; x++) {
        double wt = x ? 2 : 1;
        cosines(cos(PI * x / period), c);
        for (int i = 0; i < B; i++) {
            h[i] += wt * c[i] * t[r + x];
            for (int k = 0; k < B; k++)
                g[i][k] += wt * c[i] * c[k];
        }
    }
    if (!solve(g, h, a))
        return INFINITY;
    double l1 = 0;
    for (uint32_t x = 0; x <= r; x++) {
        cosines(cos(PI * x / period), c);
        double f = 0;
        for (int i = 0; i < B; i++)
            f += a[i] * c[i];
        l1 += (x ? 2 : 1) * fabs(f - t[r + x]);
    }
    return isfinite(l1) ? l1 : INFINITY;
}

bool hdm__slide_fit(const double *t, uint32_t r, hdm__slide_form *f)
{
    memset(f, 0, sizeof *f);
    if (r == 0)
        return false;
    /* the best period is 1.25 r but for the smallest windows (as the fit is scale-free for
     * large r), so a large window, whose fit is long, tries only those next to it */
    int lo = r > 4096 ? 3 : 0, hi = r > 4096 ? 7 : 12;
    double best = INFINITY, a[B];
    for (int i = lo; i <= hi; i++) {
        double period = r * (1 + 0.05 * i), l1 = fit_one(t, r, period, a);
        if (l1 < best) {
            best = l1;
            f->period = period;
            memcpy(f->a, a, sizeof a);
        }
    }
    if (!(best <= HDM__SLIDE_FIT)) {
        memset(f, 0, sizeof *f);
        return false;
    }
    f->r = r;
    return true;
}

void hdm__slide_box(uint32_t r, hdm__slide_form *f)
{
    memset(f, 0, sizeof *f);
    f->r = r;
    f->a[0] = 1.0 / (2.0 * r + 1);
    f->period = r ? r : 1; /* the cosines' weights are 0: any period */
}

uint64_t hdm__slide_axis_bytes(uint32_t r, uint32_t n)
{
    return sizeof(hdm__slide_axis) +
           ((uint64_t)(n + 2ull * r) * 2 * T + (uint64_t)n * (1 + 2 * T)) * sizeof(float);
}

hdm__slide_axis *hdm__slide_axis_new(const hdm__slide_form *f, uint32_t n)
{
    hdm__slide_axis *a = calloc(1, sizeof *a);
    size_t steps = (size_t)n + 2 * (size_t)f->r;
    if (!a || !(a->e = malloc(steps * 2 * T * sizeof *a->e)) ||
        !(a->p = malloc((size_t)n * (1 + 2 * T) * sizeof *a->p))) {
        hdm__slide_axis_free(a);
        return NULL;
    }
    a->n = n;
    a->r = f->r;
    /* in f64, then rounded once: at most a few million radians, where cos and sin of a
     * double are still within an ulp of a float's */
    for (size_t t = 0; t < steps; t++) {
        double k = (double)t - f->r;
        for (int m = 0; m < T; m++) {
            double ph = PI * (m + 1) * k / f->period;
            a->e[t * 2 * T + m] = (float)cos(ph);
            a->e[t * 2 * T + T + m] = (float)sin(ph);
        }
    }
    for (size_t j = 0; j < n; j++) {
        float *p = a->p + j * (1 + 2 * T);
        p[0] = (float)f->a[0];
        for (int m = 0; m < T; m++) {
            double ph = PI * (m + 1) * (double)j / f->period;
            p[1 + m] = (float)(f->a[1 + m] * cos(ph));
            p[1 + T + m] = (float)(f->a[1 + m] * sin(ph));
        }
    }
    return a;
}

void hdm__slide_axis_free(hdm__slide_axis *a)
{
    if (!a)
        return;
    free(a->e);
    free(a->p);
    free(a);
}
