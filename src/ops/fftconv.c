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

#include <kiss_fft.h>
#include <kiss_fftr.h>
#include <stdlib.h>
#include <string.h>

enum { BLOCK = 16 }; /* spectrum columns transformed together (one gather per block) */

struct hdm__fftconv {
    uint32_t w, kw, kh, band, m, n, nk; /* nk = n/2 + 1 spectrum columns */
    kiss_fftr_cfg rf, ri;
    kiss_fft_cfg cf, ci;
    kiss_fft_cpx *kspec; /* nk × m, column by column: conj(K) / (m·n) */
    kiss_fft_cpx *tile;  /* m × nk, row by row */
    kiss_fft_cpx *col;   /* BLOCK × m gathered columns, and m of scratch */
    float *row;          /* n reals */
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

uint64_t hdm__fftconv_bytes(uint32_t w, uint32_t h, uint32_t kw, uint32_t kh)
{
    uint32_t b;
    uint64_t m = tile_rows(kh, h, &b), n = hdm__fft_fast_size((uint64_t)w + kw - 1, true);
    uint64_t nk = n / 2 + 1;
    if (m > (1u << 30) || n > (1u << 30)) /* KissFFT sizes are ints */
        return UINT64_MAX;
    /* two spectra, the gathered columns, a real row, and the plans (twiddles and scratch:
     * under 2 per sample of a real plan, 1 of a complex one) */
    return (2 * m * nk + (BLOCK + 1) * m) * sizeof(kiss_fft_cpx) + n * sizeof(float) +
           (4 * n + 2 * m) * sizeof(kiss_fft_cpx) + 4096;
}

void hdm__fftconv_free(hdm__fftconv *c)
{
    if (!c)
        return;
    kiss_fftr_free(c->rf);
    kiss_fftr_free(c->ri);
    kiss_fft_free(c->cf);
    kiss_fft_free(c->ci);
    free(c->kspec);
    free(c->tile);
    free(c->col);
    free(c->row);
    free(c);
}

/* Columns [k0, k0 + nb) of the tile: gathered, transformed, multiplied by the kernel's (if
 * kmul, else stored as the kernel's own, conjugated and scaled), and for kmul transformed back
 * and scattered into rows 0..rows − 1. */
static void columns(hdm__fftconv *c, uint32_t k0, uint32_t nb, bool kmul, uint32_t rows)
{
    uint32_t m = c->m, nk = c->nk;
    kiss_fft_cpx *tmp = c->col + (size_t)BLOCK * m;
    for (uint32_t y = 0; y < m; y++) {
        const kiss_fft_cpx *t = c->tile + (size_t)y * nk + k0;
        for (uint32_t b = 0; b < nb; b++)
            c->col[(size_t)b * m + y] = t[b];
    }
    for (uint32_t b = 0; b < nb; b++) {
        kiss_fft_cpx *col = c->col + (size_t)b * m, *ks = c->kspec + (size_t)(k0 + b) * m;
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
            t[b] = c->col[(size_t)b * m + y];
    }
}

hdm__fftconv *hdm__fftconv_new(uint32_t w, uint32_t h, const double *k, uint32_t kw,
                               uint32_t kh)
{
    if (hdm__fftconv_bytes(w, h, kw, kh) == UINT64_MAX)
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
    size_t cells = (size_t)c->m * c->nk;
    if (!(c->rf = kiss_fftr_alloc((int)c->n, 0, NULL, NULL)) ||
        !(c->ri = kiss_fftr_alloc((int)c->n, 1, NULL, NULL)) ||
        !(c->cf = kiss_fft_alloc((int)c->m, 0, NULL, NULL)) ||
        !(c->ci = kiss_fft_alloc((int)c->m, 1, NULL, NULL)) ||
        !(c->kspec = malloc(cells * sizeof *c->kspec)) ||
        !(c->tile = malloc(cells * sizeof *c->tile)) ||
        !(c->col = malloc((size_t)(BLOCK + 1) * c->m * sizeof *c->col)) ||
        !(c->row = malloc((size_t)c->n * sizeof *c->row))) {
        hdm__fftconv_free(c);
        return NULL;
    }
    /* the kernel's spectrum: tap (i, j) at tile sample (i, j), the rest zeros */
    for (uint32_t y = 0; y < c->m; y++) {
        memset(c->row, 0, (size_t)c->n * sizeof *c->row);
        for (uint32_t i = 0; y < kh && i < kw; i++)
            c->row[i] = (float)k[(size_t)y * kw + i];
        kiss_fftr(c->rf, c->row, c->tile + (size_t)y * c->nk);
    }
    for (uint32_t k0 = 0; k0 < c->nk; k0 += BLOCK)
        columns(c, k0, c->nk - k0 < BLOCK ? c->nk - k0 : BLOCK, false, 0);
    return c;
}

void hdm__fftconv_put(hdm__fftconv *c, uint32_t t, const float *row)
{
    kiss_fft_cpx *d = c->tile + (size_t)t * c->nk;
    if (!row) {
        memset(d, 0, (size_t)c->nk * sizeof *d);
        return;
    }
    size_t len = (size_t)c->w + c->kw - 1;
    memcpy(c->row, row, len * sizeof *row);
    memset(c->row + len, 0, (c->n - len) * sizeof *c->row);
    kiss_fftr(c->rf, c->row, d);
}

void hdm__fftconv_run(hdm__fftconv *c, uint32_t rows, float *out)
{
    /* rows no output reads: zeros, so that they add nothing but rounding to those that are */
    for (uint32_t t = rows + c->kh - 1; t < c->m; t++)
        hdm__fftconv_put(c, t, NULL);
    for (uint32_t k0 = 0; k0 < c->nk; k0 += BLOCK)
        columns(c, k0, c->nk - k0 < BLOCK ? c->nk - k0 : BLOCK, true, rows);
    for (uint32_t y = 0; y < rows; y++) {
        kiss_fftri(c->ri, c->tile + (size_t)y * c->nk, c->row);
        memcpy(out + (size_t)y * c->w, c->row, (size_t)c->w * sizeof *out);
    }
}
