/* SPDX-License-Identifier: MIT */
/* resample.c — scale an operand by a separable filter, streamed row by row */
#include "kernel/kernel.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static double sinc(double x)
{
    if (x == 0)
        return 1;
    double t = PI * x;
    return sin(t) / t;
}

double hdm__rfilter_support(hdm__rfilter f)
{
    switch (f) {
    case HDM__RS_LANCZOS3: return 3;
    case HDM__RS_BICUBIC: return 2;
    case HDM__RS_BILINEAR: return 1;
    default: return 0.5; /* box; nearest is a point sample and never asks */
    }
}

double hdm__rfilter_eval(hdm__rfilter f, double x)
{
    double a = fabs(x);
    switch (f) {
    case HDM__RS_LANCZOS3: /* sinc(x)·sinc(x/3) on |x| < 3 */
        return a < 3 ? sinc(x) * sinc(x / 3) : 0;
    case HDM__RS_BICUBIC: /* Keys' cubic convolution with a = −0.5 (Catmull–Rom) */
        if (a < 1)
            return (1.5 * a - 2.5) * a * a + 1;
        if (a < 2)
            return ((-0.5 * a + 2.5) * a - 4) * a + 2;
        return 0;
    case HDM__RS_BILINEAR: /* the triangle */
        return a < 1 ? 1 - a : 0;
    default: /* box: [−0.5, 0.5), so a sample on a boundary counts once */
        return x >= -0.5 && x < 0.5 ? 1 : 0;
    }
}

/* One axis's taps: output i (of the window) is Σ_k w[i·taps + k]·in[start[i] + k]. */
typedef struct axis {
    uint32_t taps;
    uint32_t *start;
    float *w;
} axis;

static void axis_free(axis *a)
{
    free(a->start);
    free(a->w);
}

/* The input samples output i of an axis of n_in → n_out reads, before clamping to the edges:
 * [lo, hi], with the filter's argument per sample (j − c)/fs. nearest: the one whose centre
 * is nearest the output's. */
typedef struct span {
    int64_t lo, hi;
    double c, fs;
} span;

static span span_of(hdm__rfilter f, uint32_t n_in, uint32_t n_out, uint64_t i)
{
    span s;
    double scale = (double)n_out / n_in;
    s.c = ((double)i + 0.5) / scale - 0.5; /* the output sample's centre, in input samples */
    if (f == HDM__RS_NEAREST) {
        s.lo = s.hi = (int64_t)(((2 * i + 1) * (uint64_t)n_in) / (2 * (uint64_t)n_out));
        s.fs = 1;
        return s;
    }
    s.fs = scale < 1 ? 1 / scale : 1; /* shrinking widens the filter: it averages */
    double r = hdm__rfilter_support(f) * s.fs;
    s.lo = (int64_t)ceil(s.c - r);
    s.hi = (int64_t)floor(s.c + r);
    return s;
}

/* Output i's weights: dense[0 .. hi − lo] over input samples [lo, hi] (samples beyond an edge
 * read the edge sample), in double, normalised to sum 1; [*b, *e) is where they are not zero. */
static void weights(hdm__rfilter f, uint32_t n_in, uint32_t n_out, uint64_t i, double *dense,
                    int64_t *lo_out, int64_t *b_out, int64_t *e_out)
{
    span s = span_of(f, n_in, n_out, i);
    int64_t lo = s.lo < 0 ? 0 : s.lo, hi = s.hi >= n_in ? n_in - 1 : s.hi;
    if (lo > hi) /* wholly beyond an edge: the edge sample */
        lo = hi = s.lo < 0 ? 0 : n_in - 1;
    for (int64_t j = 0; j <= hi - lo; j++)
        dense[j] = 0;
    double sum = 0;
    if (f == HDM__RS_NEAREST) {
        dense[0] = sum = 1;
    } else {
        for (int64_t j = s.lo; j <= s.hi; j++) {
            double wj = hdm__rfilter_eval(f, ((double)j - s.c) / s.fs);
            int64_t jj = j < lo ? lo : j > hi ? hi : j;
            dense[jj - lo] += wj;
            sum += wj;
        }
    }
    if (!(fabs(sum) > 1e-12)) { /* no weight at all: the nearest sample */
        for (int64_t j = 0; j <= hi - lo; j++)
            dense[j] = 0;
        int64_t j = (int64_t)floor(s.c + 0.5);
        lo = hi = j < 0 ? 0 : j >= n_in ? n_in - 1 : j;
        dense[0] = sum = 1;
    }
    for (int64_t j = 0; j <= hi - lo; j++)
        dense[j] /= sum;
    /* trimmed of zeros at the ends, so an axis that does not scale is a copy */
    int64_t b = 0, e = hi - lo + 1;
    while (b < e - 1 && dense[b] == 0)
        b++;
    while (e > b + 1 && dense[e - 1] == 0)
        e--;
    *lo_out = lo;
    *b_out = b;
    *e_out = e;
}

/* Taps for outputs [first, first + count) of the n_in → n_out axis, stored in f32 with one tap
 * count for all (padded with zeros). Starts never go back (the vertical ring relies on it):
 * each is the least of its own and every later one's. */
/* The widest span of input samples, clamped to the input, that outputs [first, first + count)
 * read: a bound on the tap count (the starts' least-of-later rule never widens a span, as the
 * spans' first samples never go back). */
static uint64_t span_max_of(hdm__rfilter f, uint32_t n_in, uint32_t n_out, uint32_t first,
                            uint32_t count)
{
    uint64_t span_max = 1;
    for (uint32_t i = 0; i < count; i++) {
        span s = span_of(f, n_in, n_out, (uint64_t)first + i);
        int64_t lo = s.lo < 0 ? 0 : s.lo, hi = s.hi >= n_in ? n_in - 1 : s.hi;
        if (hi >= lo && (uint64_t)(hi - lo + 1) > span_max)
            span_max = (uint64_t)(hi - lo + 1);
    }
    return span_max;
}

static hdm_status axis_make(axis *a, hdm__rfilter f, uint32_t n_in, uint32_t n_out,
                            uint32_t first, uint32_t count)
{
    memset(a, 0, sizeof *a);
    uint64_t span_max = span_max_of(f, n_in, n_out, first, count);
    double *dense = malloc(span_max * sizeof *dense);
    int64_t *ts = malloc((size_t)count * sizeof *ts), *te = malloc((size_t)count * sizeof *te);
    a->start = malloc((size_t)count * sizeof *a->start);
    bool ok = dense && ts && te && a->start;
    for (uint32_t i = 0; ok && i < count; i++) {
        int64_t lo, b, e;
        weights(f, n_in, n_out, (uint64_t)first + i, dense, &lo, &b, &e);
        ts[i] = lo + b;
        te[i] = lo + e;
    }
    uint64_t taps = 1;
    for (uint32_t i = count; ok && i-- > 0;) {
        if (i + 1 < count && ts[i + 1] < ts[i])
            ts[i] = ts[i + 1];
        if ((uint64_t)(te[i] - ts[i]) > taps)
            taps = (uint64_t)(te[i] - ts[i]);
    }
    ok = ok && taps <= SIZE_MAX / sizeof(float) / (count ? count : 1) &&
         (a->w = calloc((size_t)taps * (count ? count : 1), sizeof *a->w));
    for (uint32_t i = 0; ok && i < count; i++) {
        int64_t lo, b, e;
        weights(f, n_in, n_out, (uint64_t)first + i, dense, &lo, &b, &e);
        int64_t start = ts[i] + (int64_t)taps > n_in ? (int64_t)n_in - (int64_t)taps : ts[i];
        a->start[i] = (uint32_t)start;
        float *wi = a->w + (size_t)i * taps;
        for (int64_t j = b; j < e; j++)
            wi[lo + j - start] = (float)dense[j];
    }
    a->taps = (uint32_t)taps;
    free(dense);
    free(ts);
    free(te);
    if (!ok) {
        axis_free(a);
        return HDM_ERR_NOMEM;
    }
    return HDM_OK;
}

/* The resampling source. Each input row is read once, premultiplied if asked and filtered
 * along x into a ring slot; an output row sums the ring rows its vertical taps name. */
typedef struct resample_source {
    hdm__source base;
    hdm__source *up;
    bool premul;
    uint32_t ch, in_w, w;
    axis ax, ay;
    uint32_t cap;           /* ring rows: the vertical tap count */
    float *ring;            /* cap × ch × w */
    int64_t *ring_row;      /* the input row each slot holds, −1 for none */
    float *in;              /* ch × in_w: one input row in f32 */
    float *acc;             /* ch × w: one output row */
    const float **rows;     /* cap row pointers for the vertical pass */
    hdm_image *one;         /* one input row in its own depth */
    uint32_t next_in;
} resample_source;

static float *slot(resample_source *r, uint32_t s, uint32_t c)
{
    return r->ring + ((size_t)s * r->ch + c) * r->w;
}

/* Reads input rows up to and including i into the ring. */
static hdm_status fill_to(resample_source *r, uint32_t i, hdm_error *err)
{
    const hdm__kernel *k = hdm__kern();
    while (r->next_in <= i) {
        hdm_status st = hdm__source_read(r->up, r->one, 1, err);
        if (st)
            return st;
        uint32_t s = r->next_in % r->cap;
        for (uint32_t c = 0; c < r->ch; c++)
            hdm__convert_row(r->in + (size_t)c * r->in_w, HDM_F32, hdm_row(r->one, c, 0),
                             r->one->depth, r->in_w);
        const float *alpha = r->in + (size_t)(r->ch - 1) * r->in_w;
        for (uint32_t c = 0; c < r->ch; c++) {
            float *row = r->in + (size_t)c * r->in_w;
            if (r->premul && c + 1 < r->ch)
                k->mul_f32(row, row, alpha, r->in_w);
            k->resample_row_f32(slot(r, s, c), row, r->ax.start, r->ax.w, r->ax.taps, r->w);
        }
        r->ring_row[s] = r->next_in++;
    }
    return HDM_OK;
}

static hdm_status resample_read(hdm__source *s, hdm_image *strip, uint32_t rows,
                                hdm_error *err)
{
    resample_source *r = (resample_source *)s;
    const hdm__kernel *k = hdm__kern();
    for (uint32_t y = 0; y < rows; y++) {
        uint32_t oy = s->next + y, start = r->ay.start[oy], taps = r->ay.taps;
        hdm_status st = fill_to(r, start + taps - 1, err);
        if (st)
            return st;
        const float *w = r->ay.w + (size_t)oy * taps;
        for (uint32_t c = 0; c < r->ch; c++) {
            for (uint32_t t = 0; t < taps; t++) {
                uint32_t sl = (start + t) % r->cap;
                if (r->ring_row[sl] != (int64_t)(start + t))
                    return hdm__fail(err, HDM_ERR_ARG, s->path, "resample: row %u left the "
                                     "ring", start + t);
                r->rows[t] = slot(r, sl, c);
            }
            k->resample_col_f32(r->acc + (size_t)c * r->w, r->rows, w, taps, r->w);
        }
        const float *alpha = r->acc + (size_t)(r->ch - 1) * r->w;
        for (uint32_t c = 0; c < r->ch; c++) {
            float *acc = r->acc + (size_t)c * r->w;
            if (r->premul && c + 1 < r->ch)
                k->unpremul_f32(acc, acc, alpha, r->w);
            hdm__convert_row(hdm_row(strip, c, y), strip->depth, acc, HDM_F32, r->w);
        }
    }
    return HDM_OK;
}

static void resample_close(hdm__source *s)
{
    resample_source *r = (resample_source *)s;
    hdm__source_close(r->up);
    axis_free(&r->ax);
    axis_free(&r->ay);
    free(r->ring);
    free(r->ring_row);
    free(r->in);
    free(r->acc);
    free(r->rows);
    hdm_image_free(r->one);
    free(r);
}

hdm_status hdm__resample_source(hdm__source *up, uint32_t sw, uint32_t sh, uint32_t x0,
                                uint32_t y0, uint32_t w, uint32_t h, hdm__rfilter f,
                                bool premultiply, const hdm_options *opt, hdm__source **out,
                                hdm_error *err)
{
    *out = NULL;
    resample_source *r = calloc(1, sizeof *r);
    if (!r) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    const hdm_info *ui = &up->info;
    r->up = up;
    r->ch = ui->channels;
    r->in_w = ui->width;
    r->w = w;
    r->premul = premultiply && (r->ch == 2 || r->ch == 4);
    r->base.info = *ui;
    r->base.info.width = w;
    r->base.info.height = h;
    r->base.path = up->path;
    r->base.read = resample_read;
    r->base.close = resample_close;
    /* counted before anything is taken, with all that up holds: the taps (at most the widest
     * span each), the ring of rows the vertical taps span, the row buffers */
    uint64_t tx = span_max_of(f, ui->width, sw, x0, w), ty = span_max_of(f, ui->height, sh, y0, h);
    /* in double, which cannot overflow here (every factor is below 2^33) */
    double floats = ((double)ty + 1) * r->ch * w + (double)r->ch * r->in_w;
    double bytes = floats * sizeof(float) + (double)ty * (sizeof(int64_t) + sizeof(void *)) +
                   ((double)tx * w + (double)ty * h) * sizeof(float) +
                   ((double)w + h) * sizeof(uint32_t) + (double)r->in_w * r->ch * ui->depth;
    uint64_t own = bytes >= 1.8e19 ? UINT64_MAX : (uint64_t)bytes;
    r->base.held = own > UINT64_MAX - up->held ? UINT64_MAX : own + up->held;
    hdm_status st = hdm__check_held(r->base.held, opt, up->path, err);
    if (st) {
        resample_close(&r->base);
        return st;
    }
    st = axis_make(&r->ax, f, ui->width, sw, x0, w);
    if (!st)
        st = axis_make(&r->ay, f, ui->height, sh, y0, h);
    if (st) {
        resample_close(&r->base);
        return hdm__fail(err, st, up->path, "out of memory");
    }
    r->cap = r->ay.taps;
    size_t ring;
    bool ok = hdm_size_bytes(w, r->cap, r->ch, HDM_F32, &ring) == HDM_OK &&
              (r->ring = malloc(ring)) &&
              (r->ring_row = malloc((size_t)r->cap * sizeof *r->ring_row)) &&
              (r->in = malloc((size_t)r->ch * r->in_w * sizeof *r->in)) &&
              (r->acc = malloc((size_t)r->ch * w * sizeof *r->acc)) &&
              (r->rows = malloc((size_t)r->cap * sizeof *r->rows)) &&
              hdm_image_new(r->in_w, 1, r->ch, ui->depth, &r->one) == HDM_OK;
    if (!ok) {
        resample_close(&r->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    for (uint32_t i = 0; i < r->cap; i++)
        r->ring_row[i] = -1;
    *out = &r->base;
    return HDM_OK;
}
