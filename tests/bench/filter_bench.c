/* SPDX-License-Identifier: MIT */
/* filter_bench.c — the filter's direct sum against its FFT bands and its sliding sums, to set
 * the crossovers */

/* Usage: filter_bench [SIDE...]   (default 7 11 15 21 31 63)
 *        filter_bench gaussian SIGMA [W H]   (default 6000 4000)
 *        filter_bench slide [SIGMA...]   (default 1 2 3 3.5 4 5 6 8)
 *
 * For each SIDE it correlates a 2000×2000 u8 plane (seeded random samples, clamp border) with a
 * SIDE×SIDE kernel of random positive taps (none zero, so the direct sum does all SIDE² of
 * them) once through the direct path and once through the FFT, forcing each, and prints the
 * seconds (the best of 3 runs; the thread's CPU time, CLOCK_THREAD_CPUTIME_ID, as everything
 * runs on the calling thread and a shared machine's wall clock counts its neighbours too) and
 * direct/FFT. The crossover,
 * HDM__FILTER_FFT_TAPS in src/ops/filter.h, is the first side where the ratio is above 1.
 *
 * With "gaussian" it times gaussian:SIGMA on a W×H u8 plane: the direct separable passes (the
 * path small box and gaussian kernels take) against the 2-D FFT of their outer product and the
 * sliding sums (the path large ones take over 8-bit samples).
 *
 * With "slide" it times gaussian:SIGMA on the 2000×2000 plane by the direct sum and by sliding
 * sums, and prints direct/slide: HDM__FILTER_SLIDE_TAPS is the first kernel side (2·⌈3σ⌉ + 1)
 * where the ratio is above 1. */
#include "ops/filter.h"
#include "pipeline.h"

#include "hadamard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t state = 42;
static uint32_t next(void)
{
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(state >> 33);
}

static double run(hdm_image *in, const hdm__fkernel *k, hdm__filter_path path, int reps)
{
    hdm_options o;
    hdm_options_init(&o);
    hdm_error e = {0};
    double best = 1e30;
    for (int rep = 0; rep < reps; rep++) {
        hdm__source *src, *f;
        hdm_image *out = NULL;
        double t0 = now();
        if (hdm__source_from_image(in, false, "(bench)", HDM_FORMAT_UNKNOWN, &src, &e) ||
            hdm__filter_source_path(src, k, HDM__BORDER_CLAMP, true, path, &o, &f, &e) ||
            hdm__run_to_image(f, &o, &out, &e)) {
            fprintf(stderr, "filter_bench: %s\n", e.message);
            exit(1);
        }
        double t = now() - t0;
        hdm_image_free(out);
        if (t < best)
            best = t;
    }
    return best;
}

static hdm_image *plane(uint32_t w, uint32_t h)
{
    hdm_image *in;
    if (hdm_image_new(w, h, 1, HDM_U8, &in))
        exit(1);
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *r = hdm_row(in, 0, y);
        for (uint32_t x = 0; x < w; x++)
            r[x] = (uint8_t)next();
    }
    return in;
}

static int gaussian(int argc, char **argv)
{
    double sigma = argc > 2 ? atof(argv[2]) : 60;
    uint32_t w = argc > 4 ? (uint32_t)atoi(argv[3]) : 6000;
    uint32_t h = argc > 4 ? (uint32_t)atoi(argv[4]) : 4000;
    hdm__fkernel *k;
    hdm_error e = {0};
    if (!(w && h && w <= 20000 && h <= 20000) || hdm__fkernel_gaussian(sigma, &k, &e)) {
        fprintf(stderr, "filter_bench: usage: filter_bench gaussian SIGMA [W H] %s\n", e.message);
        return 2;
    }
    hdm_image *in = plane(w, h);
    double d = run(in, k, HDM__FILTER_DIRECT, 1), f = run(in, k, HDM__FILTER_FFT, 1);
    double sl = run(in, k, HDM__FILTER_SLIDE, 1);
    printf("gaussian:%g (%u taps a pass) on %ux%u u8, 1 plane, clamp: direct separable %.3f s, "
           "2-D FFT %.3f s, sliding sums %.3f s (CPU), direct/fft %.2f, direct/slide %.2f\n",
           sigma, k->kw, w, h, d, f, sl, d / f, d / sl);
    hdm__fkernel_free(k);
    hdm_image_free(in);
    return 0;
}

static int slide(int argc, char **argv)
{
    static const double sigmas[] = {1, 2, 3, 3.5, 4, 5, 6, 8};
    int n = argc > 2 ? argc - 2 : (int)(sizeof sigmas / sizeof sigmas[0]);
    hdm_image *in = plane(2000, 2000);
    printf("2000x2000 u8, 1 plane, clamp border: CPU seconds (best of 3)\n");
    printf("%8s %6s %10s %10s %12s\n", "sigma", "side", "direct", "slide", "direct/slide");
    for (int i = 0; i < n; i++) {
        double sigma = argc > 2 ? atof(argv[i + 2]) : sigmas[i];
        hdm__fkernel *k;
        hdm_error e = {0};
        if (!(sigma > 0 && sigma <= 300) || hdm__fkernel_gaussian(sigma, &k, &e)) {
            fprintf(stderr, "filter_bench: sigma %g is not above 0 and at most 300\n", sigma);
            return 2;
        }
        if (!k->slide.r) {
            printf("%8g %6u  (no sliding form within its bound)\n", sigma, k->kw);
        } else {
            double d = run(in, k, HDM__FILTER_DIRECT, 3), sl = run(in, k, HDM__FILTER_SLIDE, 3);
            printf("%8g %6u %10.3f %10.3f %12.2f\n", sigma, k->kw, d, sl, d / sl);
        }
        fflush(stdout);
        hdm__fkernel_free(k);
    }
    hdm_image_free(in);
    return 0;
}

int main(int argc, char **argv)
{
    static const int sides[] = {7, 11, 15, 21, 31, 63};
    if (argc > 1 && strcmp(argv[1], "gaussian") == 0)
        return gaussian(argc, argv);
    if (argc > 1 && strcmp(argv[1], "slide") == 0)
        return slide(argc, argv);
    int n = argc > 1 ? argc - 1 : (int)(sizeof sides / sizeof sides[0]);
    hdm_image *in = plane(2000, 2000);
    printf("2000x2000 u8, 1 plane, clamp border: CPU seconds (best of 3)\n");
    printf("%6s %10s %10s %12s\n", "side", "direct", "fft", "direct/fft");
    for (int i = 0; i < n; i++) {
        int side = argc > 1 ? atoi(argv[i + 1]) : sides[i];
        if (side < 1 || side > 1000) {
            fprintf(stderr, "filter_bench: side %s is not from 1 to 1000\n", argv[i + 1]);
            return 2;
        }
        hdm__fkernel *k;
        hdm_error e = {0};
        if (hdm__fkernel_parse("1", &k, &e))
            return 1;
        free(k->k);
        k->kw = k->kh = (uint32_t)side;
        k->cx = k->cy = (uint32_t)side / 2;
        size_t taps = (size_t)side * side;
        k->k = malloc(taps * sizeof *k->k);
        double sum = 0;
        for (size_t t = 0; t < taps; t++)
            sum += k->k[t] = 1 + next() % 100;
        for (size_t t = 0; t < taps; t++)
            k->k[t] /= sum;
        double d = run(in, k, HDM__FILTER_DIRECT, 3), f = run(in, k, HDM__FILTER_FFT, 3);
        printf("%6d %10.3f %10.3f %12.2f\n", side, d, f, d / f);
        fflush(stdout);
        hdm__fkernel_free(k);
    }
    hdm_image_free(in);
    return 0;
}
