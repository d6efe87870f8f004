/* SPDX-License-Identifier: MIT */
/* fftconv.h — 2-D correlation of a band of padded rows through the FFT, for the filter source */
#ifndef HDM_FFTCONV_H
#define HDM_FFTCONV_H

#include <stdbool.h>
#include <stdint.h>

/* One plan: a kernel of kw × kh taps over rows of w samples, padded to w + kw − 1 by the
 * caller, in bands of hdm__fftconv_band() output rows. */
typedef struct hdm__fftconv hdm__fftconv;

/* Output rows in one band for a kernel kh rows tall over an image h rows tall. */
uint32_t hdm__fftconv_band(uint32_t kh, uint32_t h);
/* Bytes a plan on threads threads holds (its spectra, tile, and each thread's scratch and
 * plans; not the threads' stacks); UINT64_MAX if that overflows. */
uint64_t hdm__fftconv_bytes(uint32_t w, uint32_t h, uint32_t kw, uint32_t kh, uint32_t threads);
/* A plan for kernel k (kh rows of kw taps, row-major, in f64) whose runs share their rows and
 * columns out between up to threads threads (fewer when the system starts fewer; the sums are
 * the same bits for any number); NULL when out of memory. */
hdm__fftconv *hdm__fftconv_new(uint32_t w, uint32_t h, const double *k, uint32_t kw,
                               uint32_t kh, uint32_t threads);
void hdm__fftconv_free(hdm__fftconv *c);
/* Puts padded row t (0 ≤ t < band + kh − 1) of the band being built: w + kw − 1 samples, or
 * NULL for a row of zeros. Every row the band's outputs read must be put. */
void hdm__fftconv_put(hdm__fftconv *c, uint32_t t, const float *row);
/* Correlates the rows put with the kernel: out row y (0 ≤ y < rows ≤ band, w samples apart) is
 * Σ_ij k(i,j)·row_{y+j}[x + i]. Rows t ≥ rows + kh − 1 need not have been put. */
void hdm__fftconv_run(hdm__fftconv *c, uint32_t rows, float *out);

/* The smallest size ≥ n whose prime factors are 2, 3 and 5 only (and even if asked): the sizes
 * KissFFT transforms fastest. */
uint64_t hdm__fft_fast_size(uint64_t n, bool even);

#endif
