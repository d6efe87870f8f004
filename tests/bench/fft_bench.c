/* SPDX-License-Identifier: MIT */
/* fft_bench.c — which FFT for the fft op: KissFFT or FFTW, a 2-D real transform there and back */
#define _POSIX_C_SOURCE 200809L
/* One W×H plane of random reals (default 6000×4000, as a 24 MP image), forward to its half
 * spectrum and back, single thread, best of RUNS. KissFFT the way the op runs it (real rows, then
 * blocks of complex columns), and through its own kiss_fftndr; FFTW (when built with it) with
 * FFTW_ESTIMATE and FFTW_MEASURE plans, the planning timed apart. Prints seconds and the largest
 * round-trip error, so a fast wrong answer shows. */
#include <kiss_fft.h>
#include <kiss_fftndr.h>
#include <kiss_fftr.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#ifdef HDM_BENCH_FFTW
#include <fftw3.h>
#endif

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static int w = 6000, h = 4000, runs = 3;

static double max_err(const float *a, const float *b, size_t n, double scale)
{
    double e = 0;
    for (size_t i = 0; i < n; i++)
        e = fmax(e, fabs(b[i] * scale - a[i]));
    return e;
}

enum { BLOCK = 16 };

/* Rows then blocks of columns, as src/ops/fft.c does it. */
static void kiss_rows_cols(const float *in, float *out, kiss_fft_cpx *spec, float *row,
                           kiss_fft_cpx *col, kiss_fft_cpx *col2, kiss_fftr_cfg rf,
                           kiss_fftr_cfg ri, kiss_fft_cfg cf, kiss_fft_cfg ci)
{
    int kx = w / 2 + 1;
    for (int y = 0; y < h; y++)
        kiss_fftr(rf, in + (size_t)y * w, spec + (size_t)y * kx);
    for (int k0 = 0; k0 < kx; k0 += BLOCK) {
        int nb = kx - k0 < BLOCK ? kx - k0 : BLOCK;
        for (int y = 0; y < h; y++)
            for (int b = 0; b < nb; b++)
                col[(size_t)b * h + y] = spec[(size_t)y * kx + k0 + b];
        for (int b = 0; b < nb; b++) {
            kiss_fft(cf, col + (size_t)b * h, col2 + (size_t)b * h);
            kiss_fft(ci, col2 + (size_t)b * h, col + (size_t)b * h);
        }
        for (int y = 0; y < h; y++)
            for (int b = 0; b < nb; b++)
                spec[(size_t)y * kx + k0 + b] = col[(size_t)b * h + y];
    }
    for (int y = 0; y < h; y++) {
        kiss_fftri(ri, spec + (size_t)y * kx, row);
        memcpy(out + (size_t)y * w, row, w * sizeof *row);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1 && (w = atoi(argv[1])) < 2)
        w = 6000;
    if (argc > 2 && (h = atoi(argv[2])) < 2)
        h = 4000;
    if (argc > 3 && (runs = atoi(argv[3])) < 1)
        runs = 3;
    w += w % 2;
    size_t n = (size_t)w * h, kx = (size_t)w / 2 + 1;
    float *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    kiss_fft_cpx *spec = malloc(kx * h * sizeof *spec);
    float *row = malloc(w * sizeof *row);
    kiss_fft_cpx *col = malloc((size_t)BLOCK * h * sizeof *col);
    kiss_fft_cpx *col2 = malloc((size_t)BLOCK * h * sizeof *col2);
    if (!in || !out || !spec || !row || !col || !col2)
        return 1;
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        in[i] = (float)(s >> 40) / (float)(1 << 24);
    }
    double scale = 1.0 / (double)n;
    printf("2-D real transform of %dx%d, forward and inverse, one thread, best of %d\n", w, h,
           runs);

    kiss_fftr_cfg rf = kiss_fftr_alloc(w, 0, NULL, NULL), ri = kiss_fftr_alloc(w, 1, NULL, NULL);
    kiss_fft_cfg cf = kiss_fft_alloc(h, 0, NULL, NULL), ci = kiss_fft_alloc(h, 1, NULL, NULL);
    double best = 1e9;
    for (int r = 0; r < runs; r++) {
        double t = now();
        kiss_rows_cols(in, out, spec, row, col, col2, rf, ri, cf, ci);
        best = fmin(best, now() - t);
    }
    printf("kissfft rows+columns     %7.3f s   max error %.2e\n", best,
           max_err(in, out, n, scale));
    kiss_fftr_free(rf);
    kiss_fftr_free(ri);
    kiss_fft_free(cf);
    kiss_fft_free(ci);

    memset(out, 0, n * sizeof *out);
    int dims[2] = {h, w};
    kiss_fftndr_cfg nf = kiss_fftndr_alloc(dims, 2, 0, NULL, NULL);
    kiss_fftndr_cfg ni = kiss_fftndr_alloc(dims, 2, 1, NULL, NULL);
    best = 1e9;
    for (int r = 0; r < runs && nf && ni; r++) {
        double t = now();
        kiss_fftndr(nf, in, spec);
        kiss_fftndri(ni, spec, out);
        best = fmin(best, now() - t);
    }
    if (nf && ni)
        printf("kissfft kiss_fftndr      %7.3f s   max error %.2e\n", best,
               max_err(in, out, n, scale));
    else /* its plan's size is counted in int: it overflows on large planes */
        printf("kissfft kiss_fftndr      refuses this size (its allocation fails)\n");
    free(nf);
    free(ni);

#ifdef HDM_BENCH_FFTW
    fftwf_complex *fs = fftwf_malloc(kx * h * sizeof *fs);
    float *fin = fftwf_malloc(n * sizeof *fin), *fout = fftwf_malloc(n * sizeof *fout);
    static const struct { unsigned flags; const char *name; } plans[] = {
        {FFTW_ESTIMATE, "estimate"}, {FFTW_MEASURE, "measure "}};
    for (int p = 0; p < 2; p++) {
        double t0 = now();
        fftwf_plan pf = fftwf_plan_dft_r2c_2d(h, w, fin, fs, plans[p].flags);
        fftwf_plan pi = fftwf_plan_dft_c2r_2d(h, w, fs, fout, plans[p].flags);
        double plan = now() - t0;
        memcpy(fin, in, n * sizeof *in); /* MEASURE overwrites the arrays while planning */
        best = 1e9;
        for (int r = 0; r < runs; r++) {
            double t = now();
            fftwf_execute(pf);
            fftwf_execute(pi);
            best = fmin(best, now() - t);
        }
        printf("fftw3f %s          %7.3f s   max error %.2e   (planning %.2f s)\n",
               plans[p].name, best, max_err(in, fout, n, scale), plan);
        fftwf_destroy_plan(pf);
        fftwf_destroy_plan(pi);
    }
    fftwf_free(fs);
    fftwf_free(fin);
    fftwf_free(fout);
#endif
    free(in);
    free(out);
    free(spec);
    free(row);
    free(col);
    free(col2);
    return 0;
}
