/* SPDX-License-Identifier: MIT */
/* filter.h — convolution kernels and the filter source that mask's feather reuses */
#ifndef HDM_FILTER_H
#define HDM_FILTER_H

#include "ops/slide.h"
#include "stream/stream.h"

/* What lies beyond the image's edges. */
typedef enum hdm__border {
    HDM__BORDER_CLAMP,  /* replicate the edge sample: aaa|abcd|ddd */
    HDM__BORDER_MIRROR, /* reflect without repeating the edge (reflect-101): cb|abcd|cb */
    HDM__BORDER_WRAP,   /* the opposite edge: cd|abcd|ab */
    HDM__BORDER_ZERO,   /* zeros */
    HDM__BORDER_COUNT
} hdm__border;

/* A correlation kernel: out(x,y) = Σ_ij k(i,j)·in(x + i − cx, y + j − cy). A separable kernel
 * is kx (kw taps) times ky (kh taps); any other is k, kh rows of kw taps. */
typedef struct hdm__fkernel {
    uint32_t kw, kh, cx, cy;
    bool separable;
    double *kx, *ky; /* separable taps */
    double *k;       /* kh × kw, row-major; NULL when separable */
    /* gaussian and box: kx and ky (both 2·slide.r + 1 taps) as a box and cosines, within
     * HDM__SLIDE_FIT of them; slide.r = 0 for any other kernel */
    hdm__slide_form slide;
} hdm__fkernel;

/* Parses "box:5", "gaussian:1.5", "sharpen", "laplacian", "sobel-x", "sobel-y", "emboss" or
 * a matrix "a,b,c;d,e,f;g,h,i" (optionally after "custom:"). Bad names and values are
 * HDM_ERR_ARG naming them. "@FILE" is refused here: the pipeline reads the file when the step
 * is added and hands its text, or the image it holds, to the filter step (ops never read
 * files). */
hdm_status hdm__fkernel_parse(const char *spec, hdm__fkernel **out, hdm_error *err);
/* The normalised gaussian of radius ceil(3σ), separable; σ > 0. */
hdm_status hdm__fkernel_gaussian(double sigma, hdm__fkernel **out, hdm_error *err);
void hdm__fkernel_free(hdm__fkernel *k);

/* Border mode by name ("clamp", "mirror", "wrap", "zero"); -1 if none. */
int hdm__border_find(const char *name);
/* The row or column of a size-n image that index i (possibly outside) reads; -1 for zero. */
int64_t hdm__border_index(int64_t i, int64_t n, hdm__border b);

/* A source giving up's rows filtered by k (copied). It holds only the rows the kernel spans
 * (a wrap border excepted: the top rows need the bottom ones, so it holds up whole). With
 * premultiply and an alpha plane, colour is filtered premultiplied and divided back after.
 * Refuses (HDM_ERR_LIMIT) before taking any memory when what it would hold, with all that up
 * holds, is above opt->max_memory. Takes up (closes it on failure too). */
hdm_status hdm__filter_source(hdm__source *up, const hdm__fkernel *k, hdm__border border,
                              bool premultiply, const hdm_options *opt, hdm__source **out,
                              hdm_error *err);

/* How the filter source sums: chosen by kernel size (AUTO), or forced (tests, benches). */
typedef enum hdm__filter_path {
    HDM__FILTER_AUTO,
    HDM__FILTER_DIRECT,
    HDM__FILTER_FFT,
    HDM__FILTER_SLIDE
} hdm__filter_path;
/* Where the FFT is faster than the direct sum (tests/bench/filter_bench.c, 2000×2000 u8, CPU
 * time): a non-separable kernel with at least 23 × 23 = 529 non-zero taps (direct/FFT 0.86 at
 * 21 × 21, 1.01 at 23 × 23, 1.2 at 25 × 25, 1.5 at 31 × 31), or a separable one whose two
 * passes take at least 601 taps a sample together (gaussian σ > 49.8: on 6000×4000
 * direct/FFT 0.46 at σ = 30, 0.73 at 45, 1.12 at 60, 2.5 at 100). */
enum { HDM__FILTER_FFT_TAPS = 529, HDM__FILTER_FFT_SEP_TAPS = 601 };
/* Where the sliding sums (slide.h) are faster than the direct sum: a gaussian or box kernel of
 * at least this many taps a side (tests/bench/filter_bench.c slide, 2000×2000 u8, CPU time:
 * direct/slide 0.88 at 43 taps (σ = 7), 0.97 at 49, 1.03 at 53, 1.19 at 61, 1.37 at 73; the
 * sliding sums cost the same for every size), over 8- or 16-bit samples without alpha
 * premultiplied (filter.c says why): their running sums are in f32, within a thousandth of
 * an 8-bit level and a quarter of a 16-bit one before rounding (test_ops_slide.c). f32
 * samples, whose only bound is f32's own, keep the direct sum and the FFT. */
enum { HDM__FILTER_SLIDE_TAPS = 53 };
/* hdm__filter_source with the path chosen: AUTO sends gaussian and box kernels of at least
 * HDM__FILTER_SLIDE_TAPS taps over 8- and 16-bit samples, alpha not premultiplied, through
 * sliding sums, and other large kernels through 2-D FFTs over bands of rows (fftconv.c; a
 * separable one as its outer product) when that takes at most a quarter of what max_memory
 * leaves (or the direct sum does not fit either); FFT forces the FFT for any kernel, DIRECT
 * the sum tap by tap, SLIDE the sliding sums for a kernel with a form, at any depth (any
 * other kernel takes the direct sum). */
hdm_status hdm__filter_source_path(hdm__source *up, const hdm__fkernel *k, hdm__border border,
                                   bool premultiply, hdm__filter_path path,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err);
/* The path a filter source made by the two above sums by (AUTO for another source). */
hdm__filter_path hdm__filter_used(const hdm__source *s);

#endif
