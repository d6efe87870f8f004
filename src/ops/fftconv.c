/* SPDX-License-Identifier: MIT */
/* fftconv.c — 2-D correlation of bands of rows through the FFT (overlap-save), for filter.c
 *
 * A band of B output rows reads B + kh − 1 padded input rows of w + kw − 1 samples. They are
 * laid in an m × n tile (m ≥ B + kh − 1, n ≥ w + kw − 1, both sizes whose only factors are 2,
 * 3 and 5, n even for the real transform), transformed (KissFFT: real rows, then complex
 * columns), multiplied by the conjugate of the kernel's spectrum (a correlation, not a
 * convolution), and transformed back. Output (x, y) reads tile samples x..x + kw − 1 of rows
 * y..y + kh − 1, none past the tile's edge, so the transform's circular wrap never reaches it:
 * the caller's padding, made by the border rule as for the direct sum, is the whole border. */
#include "ops/fftconv.h"

#include "core/core.h"

#include <kiss_fft.h>
#include <kiss_fftr.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 16 }; /* spectrum columns transformed together (one gather per block) */

/* What one thread works with: KissFFT's real plans keep scratch of their own, so each thread
 * has its own (the complex plans only read theirs, out of place, and are shared). */
typedef struct lane {
    kiss_fftr_cfg rf, ri;
    kiss_fft_cpx *col; /* BLOCK × m gathered columns, and m of scratch */
    float *row;        /* n reals */
} lane;

struct hdm__fftconv {
    uint32_t w, kw, kh, band, m, n, nk; /* nk = n/2 + 1 spectrum columns */
    kiss_fft_cfg cf, ci;
    kiss_fft_cpx *kspec; /* nk × m, column by column: conj(K) / (m·n) */
    kiss_fft_cpx *tile;  /* m × nk, row by row; a row put holds its n reals until run */
    hdm__pool *pool;     /* NULL: one lane, on the caller */
    uint32_t lanes;
    lane *lane;
    uint32_t rows;       /* the band run() is computing: its output rows, and where */
    float *out;
};

uint64_t hdm__fft_fast_size(uint64_t n, bool even)
{
    for (uint64_t s = n;; s++) {
        if (even && s % 2)
            continue;
        uint64_t t = s;
        while (t % 2 == 0)
            t /= 2;
        while (t % 3 == 0)
            t /= 3;
        while (t % 5 == 0)
            t /= 5;
        if (t == 1)
            return s;
    }
}

/* Tile rows for a band: at least 64 output rows, and at least as many as the kernel's halo so
 * that the halo (read, transformed, thrown away) costs at most as much as the band. */
static uint64_t tile_rows(uint32_t kh, uint32_t h, uint32_t *band)
{
    uint64_t halo = (uint64_t)kh - 1, want = halo + (halo > 64 ? halo : 64);
    uint64_t m = hdm__fft_fast_size(want, false);
    if (m - halo >= h) /* the whole image in one band */
        m = hdm__fft_fast_size(halo + h, false);
    uint64_t b = m - halo;
    *band = (uint32_t)(b < h ? b : h);
    return m;
}

uint32_t hdm__fftconv_band(uint32_t kh, uint32_t h)
{
    uint32_t b;
    tile_rows(kh, h, &b);
    return b;
}

uint64_t hdm__fftconv_bytes(uint32_t w, uint32_t h, uint32_t kw, uint32_t kh, uint32_t threads)
{
    uint32_t b;
    uint64_t m = tile_rows(kh, h, &b), n = hdm__fft_fast_size((uint64_t)w + kw - 1, true);
    uint64_t nk = n / 2 + 1;
    if (m > (1u << 30) || n > (1u << 30)) /* KissFFT sizes are ints */
        return UINT64_MAX;
    /* two spectra and the complex plans (twiddles: 1 per sample), and for each thread its
     * gathered columns, a real row and its real plans (twiddles and scratch: under 2 per
     * sample each) */
    uint64_t t = threads ? threads : 1;
    uint64_t lane = ((BLOCK + 1) * m + 4 * n) * sizeof(kiss_fft_cpx) + n * sizeof(float) + 256;
    return (2 * m * nk + 2 * m) * sizeof(kiss_fft_cpx) + t * lane + 4096;
}

void hdm__fftconv_free(hdm__fftconv *c)
{
    if (!c)
        return;
    hdm__pool_free(c->pool);
    for (uint32_t i = 0; c->lane && i < c->lanes; i++) {
        kiss_fftr_free(c->lane[i].rf);
        kiss_fftr_free(c->lane[i].ri);
        free(c->lane[i].col);
        free(c->lane[i].row);
    }
    free(c->lane);
    kiss_fft_free(c->cf);
    kiss_fft_free(c->ci);
    free(c->kspec);
    free(c->tile);
    free(c);
}

/* Columns [k0, k0 + nb) of the tile: gathered, transformed, multiplied by the kernel's (if
 * kmul, else stored as the kernel's own, conjugated and scaled), and for kmul transformed back
 * and scattered into rows 0..rows − 1. */
static void columns(hdm__fftconv *c, lane *l, uint32_t k0, uint32_t nb, bool kmul,
                    uint32_t rows)
{
    uint32_t m = c->m, nk = c->nk;
    kiss_fft_cpx *tmp = l->col + (size_t)BLOCK * m;
    for (uint32_t y = 0; y < m; y++) {
        const kiss_fft_cpx *t = c->tile + (size_t)y * nk + k0;
        for (uint32_t b = 0; b < nb; b++)
            l->col[(size_t)b * m + y] = t[b];
    }
    for (uint32_t b = 0; b < nb; b++) {
        kiss_fft_cpx *col = l->col + (size_t)b * m, *ks = c->kspec + (size_t)(k0 + b) * m;
        kiss_fft(c->cf, col, tmp);
        if (!kmul) {
            float s = 1.0f / ((float)m * (float)c->n);
            for (uint32_t y = 0; y < m; y++)
                ks[y] = (kiss_fft_cpx){tmp[y].r * s, -tmp[y].i * s};
            continue;
        }
        for (uint32_t y = 0; y < m; y++) {
            float re = tmp[y].r * ks[y].r - tmp[y].i * ks[y].i;
            float im = tmp[y].r * ks[y].i + tmp[y].i * ks[y].r;
            tmp[y] = (kiss_fft_cpx){re, im};
        }
        kiss_fft(c->ci, tmp, col);
    }
    if (!kmul)
        return;
    for (uint32_t y = 0; y < rows; y++) {
        kiss_fft_cpx *t = c->tile + (size_t)y * nk + k0;
        for (uint32_t b = 0; b < nb; b++)
            t[b] = l->col[(size_t)b * m + y];
    }
}

hdm__fftconv *hdm__fftconv_new(uint32_t w, uint32_t h, const double *k, uint32_t kw,
                               uint32_t kh, uint32_t threads)
{
    if (hdm__fftconv_bytes(w, h, kw, kh, threads) == UINT64_MAX)
        return NULL;
    hdm__fftconv *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->w = w;
    c->kw = kw;
    c->kh = kh;
    c->m = (uint32_t)tile_rows(kh, h, &c->band);
    c->n = (uint32_t)hdm__fft_fast_size((uint64_t)w + kw - 1, true);
    c->nk = c->n / 2 + 1;
    /* short of threads, fewer lanes: each lane is one part of a task, on one thread at a time */
    if (threads > 1 && hdm__pool_new(threads, &c->pool) == HDM_OK && c->pool)
        threads = hdm__pool_threads(c->pool);
    else
        threads = 1;
    c->lanes = threads;
    size_t cells = (size_t)c->m * c->nk;
    bool ok = (c->lane = calloc(c->lanes, sizeof *c->lane)) &&
              (c->cf = kiss_fft_alloc((int)c->m, 0, NULL, NULL)) &&
              (c->ci = kiss_fft_alloc((int)c->m, 1, NULL, NULL)) &&
              (c->kspec = malloc(cells * sizeof *c->kspec)) &&
              (c->tile = malloc(cells * sizeof *c->tile));
    for (uint32_t i = 0; ok && i < c->lanes; i++) {
        lane *l = &c->lane[i];
        ok = (l->rf = kiss_fftr_alloc((int)c->n, 0, NULL, NULL)) &&
             (l->ri = kiss_fftr_alloc((int)c->n, 1, NULL, NULL)) &&
             (l->col = malloc((size_t)(BLOCK + 1) * c->m * sizeof *l->col)) &&
             (l->row = malloc((size_t)c->n * sizeof *l->row));
    }
    if (!ok) {
        hdm__fftconv_free(c);
        return NULL;
    }
    /* the kernel's spectrum: tap (i, j) at tile sample (i, j), the rest zeros */
    lane *l = &c->lane[0];
    for (uint32_t y = 0; y < c->m; y++) {
        memset(l->row, 0, (size_t)c->n * sizeof *l->row);
        for (uint32_t i = 0; y < kh && i < kw; i++)
            l->row[i] = (float)k[(size_t)y * kw + i];
        kiss_fftr(l->rf, l->row, c->tile + (size_t)y * c->nk);
    }
    for (uint32_t k0 = 0; k0 < c->nk; k0 += BLOCK)
        columns(c, l, k0, c->nk - k0 < BLOCK ? c->nk - k0 : BLOCK, false, 0);
    return c;
}

void hdm__fftconv_put(hdm__fftconv *c, uint32_t t, const float *row)
{
    /* kept as reals in the row's own spectrum cells (n + 2 floats), transformed by run() */
    float *d = (float *)(c->tile + (size_t)t * c->nk);
    size_t len = row ? (size_t)c->w + c->kw - 1 : 0;
    if (row)
        memcpy(d, row, len * sizeof *row);
    memset(d + len, 0, (c->n - len) * sizeof *d);
}

/* Part i of lanes: [a, b) of n things. */
static void part_range(uint32_t n, uint32_t i, uint32_t parts, uint32_t *a, uint32_t *b)
{
    *a = (uint32_t)((uint64_t)n * i / parts);
    *b = (uint32_t)((uint64_t)n * (i + 1) / parts);
}

/* The rows put, each into its spectrum in place; the rows no output reads, zeros, so that they
 * add nothing but rounding to those that are. */
static void rows_forward(void *ctx, uint32_t i)
{
    hdm__fftconv *c = ctx;
    lane *l = &c->lane[i];
    uint32_t a, b, used = c->rows + c->kh - 1;
    part_range(c->m, i, c->lanes, &a, &b);
    for (uint32_t t = a; t < b; t++) {
        kiss_fft_cpx *d = c->tile + (size_t)t * c->nk;
        if (t >= used) {
            memset(d, 0, (size_t)c->nk * sizeof *d);
            continue;
        }
        memcpy(l->row, d, (size_t)c->n * sizeof *l->row);
        kiss_fftr(l->rf, l->row, d);
    }
}

static void columns_part(void *ctx, uint32_t i)
{
    hdm__fftconv *c = ctx;
    uint32_t blocks = (c->nk + BLOCK - 1) / BLOCK, a, b;
    part_range(blocks, i, c->lanes, &a, &b);
    for (uint32_t k = a; k < b; k++) {
        uint32_t k0 = k * BLOCK;
        columns(c, &c->lane[i], k0, c->nk - k0 < BLOCK ? c->nk - k0 : BLOCK, true, c->rows);
    }
}

static void rows_back(void *ctx, uint32_t i)
{
    hdm__fftconv *c = ctx;
    lane *l = &c->lane[i];
    uint32_t a, b;
    part_range(c->rows, i, c->lanes, &a, &b);
    for (uint32_t y = a; y < b; y++) {
        kiss_fftri(l->ri, c->tile + (size_t)y * c->nk, l->row);
        memcpy(c->out + (size_t)y * c->w, l->row, (size_t)c->w * sizeof *c->out);
    }
}

/* Each row, column and row back is transformed by the same code from the same samples on
 * whichever thread, so the sums are the same bits for any number of lanes. */
void hdm__fftconv_run(hdm__fftconv *c, uint32_t rows, float *out)
{
    c->rows = rows;
    c->out = out;
    hdm__pool_run(c->pool, c->lanes, rows_forward, c);
    hdm__pool_run(c->pool, c->lanes, columns_part, c);
    hdm__pool_run(c->pool, c->lanes, rows_back, c);
}
