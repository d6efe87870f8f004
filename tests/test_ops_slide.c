/* SPDX-License-Identifier: MIT */
/* test_ops_slide.c — gaussian and box kernels by sliding sums: the forms, the kernel primitives
 * on every variant, and the filter against an f64 sum of the kernel's own taps */
#include "border_ref.h"
#include "kernel/kernel.h"
#include "ops/filter.h"
#include "ops/slide.h"
#include "ops_test.h"
#include "pipeline.h"

#include <string.h>

enum { T = HDM__SLIDE_TERMS, L = HDM__SLIDE_LANES, S = 1 + 2 * HDM__SLIDE_TERMS };

/* |form − taps| summed over the window, the form evaluated here from its definition */
static double form_l1(const hdm__slide_form *f, const double *t)
{
    double l1 = 0;
    for (long x = -(long)f->r; x <= (long)f->r; x++) {
        double v = f->a[0];
        for (int m = 1; m <= T; m++)
            v += f->a[m] * cos(3.14159265358979323846 * m * (double)x / f->period);
        l1 += fabs(v - t[x + f->r]);
    }
    return l1;
}

/* Every gaussian from σ = 1.5 up has a form, within its bound of the taps; a box's is exact;
 * taps no form of five cosines can follow (a step) have none. */
Test(slide, forms_within_their_bound)
{
    static const double sigmas[] = {1.5, 2, 2.7, 4, 8.5, 13.1, 20, 60, 150, 700, 1365.7, 5000};
    for (size_t i = 0; i < sizeof sigmas / sizeof *sigmas; i++) {
        hdm__fkernel *k;
        hdm_error e = {0};
        cr_assert_eq(hdm__fkernel_gaussian(sigmas[i], &k, &e), HDM_OK);
        cr_assert_eq(k->slide.r, k->kw / 2, "gaussian:%g has no form", sigmas[i]);
        double l1 = form_l1(&k->slide, k->kx);
        cr_assert(l1 <= HDM__SLIDE_FIT, "gaussian:%g: form %g from its taps", sigmas[i], l1);
        hdm__fkernel_free(k);
    }
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_parse("box:41", &k, &e), HDM_OK);
    cr_assert(k->slide.r == 20 && form_l1(&k->slide, k->kx) < 1e-15);
    hdm__fkernel_free(k);
    double step[41]; /* symmetric, as forms are */
    for (int i = 0; i < 41; i++)
        step[i] = abs(i - 20) < 8 ? 0.04 : 0.01;
    hdm__slide_form f;
    cr_assert(!hdm__slide_fit(step, 20, &f) && f.r == 0, "a step has no close form");
    cr_assert(!hdm__slide_fit(step, 0, &f), "no window, no form");
}

static float rnd(float lo, float hi) { return lo + (hi - lo) * (float)(rng() % 100001) / 1e5f; }

/* Both primitives on every variant the CPU runs give the scalar reference's bits: rows of
 * columns of every length 0..257 from misaligned starts, with and without output; lines of
 * many lengths, windows from 0 to longer than the line. */
Test(slide, kernel_variants_match_scalar)
{
    rng_seed(91);
    const hdm__kernel *ref = hdm__kernel_get("scalar");
    enum { N = 260, NL = 70 };
    static float st0[S * N], ui[N], uo[N], u[(NL + 2 * 40) * L], e[(NL + 2 * 40) * 2 * T],
        pl[NL * S];
    float ei[2 * T], eo[2 * T], p[S];
    for (size_t i = 0; i < S * N; i++)
        st0[i] = rnd(-20, 20);
    for (size_t i = 0; i < N; i++)
        ui[i] = rnd(0, 1), uo[i] = rnd(0, 1);
    for (size_t i = 0; i < 2 * T; i++)
        ei[i] = rnd(-1, 1), eo[i] = rnd(-1, 1);
    for (size_t i = 0; i < S; i++)
        p[i] = rnd(-0.1f, 0.1f);
    for (size_t i = 0; i < sizeof u / sizeof *u; i++)
        u[i] = rnd(0, 1);
    for (size_t i = 0; i < sizeof e / sizeof *e; i++)
        e[i] = rnd(-1, 1);
    for (size_t i = 0; i < sizeof pl / sizeof *pl; i++)
        pl[i] = rnd(-0.1f, 0.1f);
    for (size_t v = 0; hdm__kernel_names(v); v++) {
        const hdm__kernel *kv = hdm__kernel_get(hdm__kernel_names(v));
        if (!kv)
            continue;
        for (size_t n = 0; n <= 257; n++)
            for (int out = 0; out < 2; out++) {
                static float sa[S * N], sb[S * N], ya[N], yb[N];
                size_t off = (n + (size_t)out) % 3; /* a start off the vectors' alignment */
                memcpy(sa, st0, sizeof sa);
                memcpy(sb, st0, sizeof sb);
                ref->slide_cols_f32(sa + off, N, out ? ya + off : NULL, ui + off, uo + off, ei,
                                    eo, p, n);
                kv->slide_cols_f32(sb + off, N, out ? yb + off : NULL, ui + off, uo + off, ei,
                                   eo, p, n);
                cr_assert(memcmp(sa, sb, sizeof sa) == 0, "%s cols state, n %zu", kv->name, n);
                cr_assert(!out || memcmp(ya + off, yb + off, n * sizeof *ya) == 0,
                          "%s cols, n %zu", kv->name, n);
            }
        static const size_t rs[] = {0, 1, 3, 9, 40};
        for (size_t ri = 0; ri < sizeof rs / sizeof *rs; ri++)
            for (size_t n = 1; n <= NL; n += 1 + n / 4) {
                float ya[NL * L], yb[NL * L];
                ref->slide_lines_f32(ya, u, e, pl, rs[ri], n);
                kv->slide_lines_f32(yb, u, e, pl, rs[ri], n);
                cr_assert(memcmp(ya, yb, n * L * sizeof *ya) == 0, "%s lines, r %zu n %zu",
                          kv->name, rs[ri], n);
            }
    }
}

/* The f64 correlation of plane c with the separable kernel t (n taps a side) under border b,
 * colour premultiplied by the last plane when alpha (then divided back), into ref (w × h). */
static void ref_plane(const hdm_image *in, const double *t, int n, int b, bool alpha, uint32_t c,
                      double *ref)
{
    uint32_t w = in->width, h = in->height, a = in->channels - 1;
    bool colour = alpha && c != a; /* premultiplied, then divided by alpha's sum */
    double *src = malloc(sizeof(double) * w * h);
    double *asum = colour ? malloc(sizeof(double) * w * h) : NULL;
    for (int pass = 0; pass < (colour ? 2 : 1); pass++) {
        /* pass 0: the (premultiplied) plane; pass 1: alpha, to divide by */
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                src[y * w + x] = pass ? val(in, a, x, y)
                                      : val(in, c, x, y) * (colour ? val(in, a, x, y) : 1);
        ref_sep_sum(src, w, h, t, n, b, pass ? asum : ref);
    }
    for (size_t i = 0; colour && i < (size_t)w * h; i++)
        ref[i] = asum[i] > 0 ? ref[i] / asum[i] : 0;
    free(src);
    free(asum);
}

static hdm_image *run(const hdm_image *in, const hdm__fkernel *k, int b, hdm__filter_path path,
                      uint32_t strip_rows, uint32_t threads, hdm__filter_path *used)
{
    hdm_options o;
    hdm_options_init(&o);
    o.strip_rows = strip_rows;
    o.threads = threads;
    hdm_error e = {0};
    hdm__source *src, *f;
    cr_assert_eq(hdm__source_from_image((hdm_image *)in, false, "(image)", HDM_FORMAT_UNKNOWN,
                                        &src, &e), HDM_OK);
    cr_assert_eq(hdm__filter_source_path(src, k, (hdm__border)b, true, path, &o, &f, &e), HDM_OK,
                 "%s", e.message);
    if (used)
        *used = hdm__filter_used(f);
    hdm_image *out;
    cr_assert_eq(hdm__run_to_image(f, &o, &out, &e), HDM_OK, "%s", e.message);
    return out;
}

/* Every sample of out within 1 LSB of the f64 sum of k's taps; the worst seen, in LSB. */
static double check(const hdm_image *in, const hdm_image *out, const hdm__fkernel *k, int b,
                    const char *what)
{
    bool alpha = in->channels == 2 || in->channels == 4;
    double worst = 0, *ref = malloc(sizeof(double) * in->width * in->height);
    for (uint32_t c = 0; c < in->channels; c++) {
        ref_plane(in, k->kx, (int)k->kw, b, alpha, c, ref);
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double r = ref[(size_t)y * in->width + x];
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%s, border %s, %ux%ux%u %d-bit at (%u,%u,%u): got %u want %g (%.9g)",
                          what, ref_borders[b], in->width, in->height, in->channels,
                          in->depth * 8, x, y, c, raw(out, c, x, y), quantise(r, out->depth), r);
            }
    }
    free(ref);
    return worst;
}

/* Whether a window of 2r + 1 fits a side of n under border b, so the kernel is not folded
 * (filter.c's fold_plan): within the image, or one period of a mirror or wrap. */
static bool unfolded(uint32_t r, uint32_t n, int b)
{
    return b == 1 ? 2 * r + 1 <= 2 * (n - 1) : b == 2 ? 2 * r + 1 <= n : r < n;
}

/* Gaussians and boxes by sliding sums, every border, gray, gray + alpha, RGB and RGBA, 8 and
 * 16 bits (16-bit forced: AUTO keeps it off them), images narrower than a vector, shorter
 * than a band, and as large as the window allows before the kernel is folded: within 1 LSB of
 * the f64 sum, the same bits for any strips and any threads. */
Test(slide, against_f64_every_border)
{
    static const char *const kernels[] = {"gaussian:4", "gaussian:9.3", "box:25", "box:9",
                                          "gaussian:30"};
    static const uint32_t is[][2] = {{37, 29}, {150, 90}, {13, 61}, {200, 17}, {91, 91}};
    static const uint32_t chans[] = {1, 3, 4, 2};
    double worst[2] = {0, 0};
    rng_seed(78);
    for (size_t ki = 0; ki < sizeof kernels / sizeof *kernels; ki++)
        for (size_t ii = 0; ii < sizeof is / sizeof is[0]; ii++)
            for (int di = 0; di < 2; di++) {
                hdm__fkernel *k;
                hdm_error e = {0};
                cr_assert_eq(hdm__fkernel_parse(kernels[ki], &k, &e), HDM_OK);
                uint32_t ch = chans[(ki + ii + di) % 4];
                hdm_image *in = make_image(is[ii][0], is[ii][1], ch, di ? HDM_U16 : HDM_U8,
                                           FILL_RANDOM);
                for (int b = 0; b < 4; b++) {
                    hdm__filter_path used;
                    hdm_image *out = run(in, k, b, HDM__FILTER_SLIDE, 0, 1, &used);
                    /* folded (reaching past the image) kernels have no form */
                    bool fits = unfolded(k->slide.r, is[ii][0], b) &&
                                unfolded(k->slide.r, is[ii][1], b);
                    cr_assert(!fits || used == HDM__FILTER_SLIDE, "%s on %ux%u took %d",
                              kernels[ki], is[ii][0], is[ii][1], used);
                    double wst = check(in, out, k, b, kernels[ki]);
                    if (used == HDM__FILTER_SLIDE)
                        worst[di] = fmax(worst[di], wst);
                    for (uint32_t t = 1; t <= 3; t++) {
                        hdm_image *o2 = run(in, k, b, HDM__FILTER_SLIDE, t == 1 ? 3 : 0, t, NULL);
                        cr_assert(tu_same(out, o2), "%s: %u threads (strips of %u) differ",
                                  kernels[ki], t, t == 1 ? 3 : 0);
                        hdm_image_free(o2);
                    }
                    hdm_image_free(out);
                }
                hdm_image_free(in);
                hdm__fkernel_free(k);
            }
    report_worst("sliding sums 8-bit", worst[0]);
    report_worst("sliding sums 16-bit", worst[1]);
    cr_assert(worst[0] <= 1 && worst[1] <= 1);
}

/* The bound behind the 1 LSB: the sums' own error before any rounding, through f32 samples
 * (8-bit levels and random ones, one plane, mirror border), against the f64 sum of the
 * kernel's taps: below a hundredth of an 8-bit level for small, middling and large σ. */
Test(slide, raw_error_below_a_hundredth_of_8_bits)
{
    static const double sigmas[] = {4.5, 20, 60};
    enum { W = 800, H = 400 };
    rng_seed(321);
    hdm_image *in;
    cr_assert_eq(hdm_image_new(W, H, 1, HDM_F32, &in), HDM_OK);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++)
            ((float *)hdm_row(in, 0, y))[x] =
                x < W / 2 ? (float)(rng() % 256) / 255.0f : (float)(rng() % 100001) / 1e5f;
    for (size_t si = 0; si < sizeof sigmas / sizeof *sigmas; si++) {
        hdm__fkernel *k;
        hdm_error e = {0};
        cr_assert_eq(hdm__fkernel_gaussian(sigmas[si], &k, &e), HDM_OK);
        hdm__filter_path used;
        hdm_image *out = run(in, k, 1, HDM__FILTER_SLIDE, 0, 2, &used);
        cr_assert_eq(used, HDM__FILTER_SLIDE);
        /* the f64 reference of f32 samples (val() reads integer ones) */
        double *src = malloc(sizeof(double) * W * H), *ref = malloc(sizeof(double) * W * H);
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                src[y * W + x] = ((const float *)hdm_row(in, 0, y))[x];
        ref_sep_sum(src, W, H, k->kx, (int)k->kw, 1, ref);
        double worst = 0;
        for (uint32_t y = 0; y < H; y++)
            for (uint32_t x = 0; x < W; x++)
                worst = fmax(worst,
                             fabs(((const float *)hdm_row(out, 0, y))[x] - ref[y * W + x]));
        fprintf(stderr, "sliding sums, gaussian:%g: raw error %.5f of an 8-bit level (%.3f of "
                "a 16-bit one)\n", sigmas[si], worst * 255, worst * 65535);
        cr_assert_lt(worst * 255, 0.01, "gaussian:%g", sigmas[si]);
        free(src);
        free(ref);
        hdm_image_free(out);
        hdm__fkernel_free(k);
    }
    hdm_image_free(in);
}

/* Beyond 8 bits the sums start afresh every 4096 outputs, so a line far longer than that
 * gathers no more rounding than one of 4096: over 16-bit levels (through f32 samples, which
 * restart as 16-bit ones do), rows of 30000 and columns of 12000, at 3000 points against the
 * f64 sum, below a quarter of a 16-bit level before rounding; the same bits on any threads. */
Test(slide, long_lines_restart_below_a_quarter_of_16_bits)
{
    static const uint32_t is[][2] = {{30000, 130}, {130, 12000}};
    rng_seed(99);
    for (size_t ii = 0; ii < 2; ii++) {
        uint32_t w = is[ii][0], h = is[ii][1];
        hdm_image *in;
        cr_assert_eq(hdm_image_new(w, h, 1, HDM_F32, &in), HDM_OK);
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                ((float *)hdm_row(in, 0, y))[x] = (float)(rng() % 65536) / 65535.0f;
        hdm__fkernel *k;
        hdm_error e = {0};
        cr_assert_eq(hdm__fkernel_gaussian(20, &k, &e), HDM_OK);
        hdm__filter_path used;
        hdm_image *out = run(in, k, 0, HDM__FILTER_SLIDE, 0, 2, &used);
        cr_assert_eq(used, HDM__FILTER_SLIDE);
        hdm_image *one = run(in, k, 0, HDM__FILTER_SLIDE, 7, 1, NULL);
        cr_assert(tu_same(out, one), "%ux%u: one thread, strips of 7, differ from two", w, h);
        hdm_image_free(one);
        int n = (int)k->kw, r = n / 2;
        double worst = 0;
        for (int s = 0; s < 3000; s++) {
            uint32_t x = rng() % w, y = rng() % h;
            if (s < 8) /* near the ends, where the last restart's segment is */
                x = s & 1 ? w - 1 - (uint32_t)s : x, y = s & 2 ? h - 1 - (uint32_t)s : y;
            double sum = 0;
            for (int j = 0; j < n; j++) {
                long yy = ref_index((long)y + j - r, h, 0);
                const float *row = hdm_row(in, 0, (uint32_t)yy);
                double rs = 0;
                for (int i = 0; i < n; i++)
                    rs += k->kx[i] * row[ref_index((long)x + i - r, w, 0)];
                sum += k->ky[j] * rs;
            }
            worst = fmax(worst, fabs(((const float *)hdm_row(out, 0, y))[x] - sum) * 65535);
        }
        fprintf(stderr, "sliding sums over %ux%u: raw error %.3f of a 16-bit level\n", w, h,
                worst);
        cr_assert_lt(worst, 0.25, "%ux%u", w, h);
        hdm_image_free(out);
        hdm_image_free(in);
        hdm__fkernel_free(k);
    }
}

/* With alpha the sums do not slide (filter.c says why): beside and inside a transparent region
 * alpha and colour are within 1 LSB of the f64 sum, and exactly 0 where the window holds
 * nothing but transparency (colour under no alpha is 0). Gray + alpha and RGBA, 8 and 16
 * bits, every border: opaque noise in a corner, the rest transparent with a loud colour
 * (which premultiplying must not let through). Without alpha the same kernels slide. */
Test(slide, transparent_windows_exactly_zero)
{
    static const char *const kernels[] = {"box:53", "gaussian:8.5", "gaussian:20"};
    rng_seed(7);
    double worst = 0;
    for (int di = 0; di < 2; di++)
        for (uint32_t ch = 2; ch <= 4; ch += 2) {
            hdm_image *in = make_image(200, 150, ch, di ? HDM_U16 : HDM_U8, FILL_RANDOM);
            uint32_t m = (uint32_t)maxval(in->depth);
            for (uint32_t y = 0; y < 150; y++)
                for (uint32_t x = 0; x < 200; x++)
                    if (x >= 60 || y >= 120) {
                        set_raw(in, ch - 1, x, y, 0);
                        for (uint32_t c = 0; c + 1 < ch; c++)
                            set_raw(in, c, x, y, m);
                    }
            double *ref = malloc(sizeof(double) * 200 * 150);
            for (size_t ki = 0; ki < sizeof kernels / sizeof *kernels; ki++) {
                hdm__fkernel *k;
                hdm_error e = {0};
                cr_assert_eq(hdm__fkernel_parse(kernels[ki], &k, &e), HDM_OK);
                for (int b = 0; b < 4; b++) {
                    hdm__filter_path used;
                    hdm_image *out = run(in, k, b, HDM__FILTER_AUTO, 0, 2, &used);
                    cr_assert_neq(used, HDM__FILTER_SLIDE, "%s over alpha slid", kernels[ki]);
                    uint32_t zeros = 0;
                    for (uint32_t c = 0; c < ch; c++) {
                        ref_plane(in, k->kx, (int)k->kw, b, true, c, ref);
                        for (uint32_t y = 0; y < 150; y++)
                            for (uint32_t x = 0; x < 200; x++) {
                                double want = ref[y * 200 + x];
                                zeros += want == 0 && c == 0;
                                cr_assert(want != 0 || raw(out, c, x, y) == 0,
                                          "%s %s %u-channel %d-bit (%u,%u,%u): %u, not 0",
                                          kernels[ki], ref_borders[b], ch, in->depth * 8, x, y,
                                          c, raw(out, c, x, y));
                                cr_assert(lsb_off(out, c, x, y, want, &worst) <= 1,
                                          "%s %s at (%u,%u,%u)", kernels[ki], ref_borders[b],
                                          x, y, c);
                            }
                    }
                    cr_assert(b == 2 || zeros > 1000, "%s %s: only %u transparent windows",
                              kernels[ki], ref_borders[b], zeros);
                    hdm_image_free(out);
                }
                hdm__fkernel_free(k);
            }
            free(ref);
            hdm_image_free(in);
        }
    report_worst("large kernels beside transparency", worst);
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_gaussian(20, &k, &e), HDM_OK);
    for (uint32_t ch = 1; ch <= 3; ch += 2) {
        hdm_image *in = make_image(200, 150, ch, HDM_U8, FILL_RANDOM), *out;
        hdm__filter_path used;
        out = run(in, k, 0, HDM__FILTER_AUTO, 0, 1, &used);
        cr_assert_eq(used, HDM__FILTER_SLIDE, "%u channels", ch);
        hdm_image_free(out);
        hdm_image_free(in);
    }
    hdm__fkernel_free(k);
}

/* The choice: gaussian and box from HDM__FILTER_SLIDE_TAPS taps over 8 and 16 bits slide (the
 * same bits as forcing it), smaller ones, other kernels and f32 samples do not. */
Test(slide, automatic_choice)
{
    static const struct {
        const char *k;
        hdm_depth d;
        hdm__filter_path want;
    } cases[] = {
        {"gaussian:20", HDM_U8, HDM__FILTER_SLIDE},  {"gaussian:8.5", HDM_U8, HDM__FILTER_SLIDE},
        {"box:53", HDM_U8, HDM__FILTER_SLIDE},       {"box:51", HDM_U8, HDM__FILTER_DIRECT},
        {"gaussian:2", HDM_U8, HDM__FILTER_DIRECT},  {"gaussian:20", HDM_U16, HDM__FILTER_SLIDE},
        {"gaussian:20", HDM_F32, HDM__FILTER_DIRECT}, {"sharpen", HDM_U8, HDM__FILTER_DIRECT},
    };
    rng_seed(5);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        hdm__fkernel *k;
        hdm_error e = {0};
        cr_assert_eq(hdm__fkernel_parse(cases[i].k, &k, &e), HDM_OK);
        hdm_image *in;
        if (cases[i].d == HDM_F32) {
            cr_assert_eq(hdm_image_new(300, 200, 3, HDM_F32, &in), HDM_OK);
            for (uint32_t c = 0; c < 3; c++)
                for (uint32_t y = 0; y < 200; y++)
                    for (uint32_t x = 0; x < 300; x++)
                        ((float *)hdm_row(in, c, y))[x] = (float)(rng() % 1001) / 1000.0f;
        } else {
            in = make_image(300, 200, 3, cases[i].d, FILL_RANDOM);
        }
        hdm__filter_path used;
        hdm_image *a = run(in, k, 0, HDM__FILTER_AUTO, 0, 2, &used);
        cr_assert_eq(used, cases[i].want, "%s %d-bit took path %d", cases[i].k, cases[i].d * 8,
                     used);
        hdm_image *f = run(in, k, 0, cases[i].want, 0, 1, NULL);
        cr_assert(tu_same(a, f), "%s: automatic differs from forced", cases[i].k);
        hdm_image_free(a);
        hdm_image_free(f);
        hdm_image_free(in);
        hdm__fkernel_free(k);
    }
}

/* Running sums over long lines gather rounding: rows and columns far longer than the window,
 * of constant white (every sum at its largest) and of stripes, stay within 1 LSB of f64. */
Test(slide, long_lines_stay_within_1_lsb)
{
    static const uint32_t is[][2] = {{20000, 30}, {30, 20000}};
    for (size_t ii = 0; ii < 2; ii++)
        for (int fill = 0; fill < 2; fill++) {
            hdm_image *in = make_image(is[ii][0], is[ii][1], 1, HDM_U8, FILL_MAX);
            for (uint32_t y = 0; fill && y < in->height; y++)
                for (uint32_t x = 0; x < in->width; x++)
                    set_raw(in, 0, x, y, ((x + y) / 7) % 2 ? 255 : 0);
            hdm__fkernel *k;
            hdm_error e = {0};
            cr_assert_eq(hdm__fkernel_gaussian(4.5, &k, &e), HDM_OK);
            hdm__filter_path used;
            hdm_image *out = run(in, k, 1, HDM__FILTER_SLIDE, 0, 1, &used);
            cr_assert_eq(used, HDM__FILTER_SLIDE);
            double worst = check(in, out, k, 1, fill ? "stripes" : "white");
            report_worst(fill ? "long lines, stripes" : "long lines, white", worst);
            hdm_image_free(out);
            hdm_image_free(in);
            hdm__fkernel_free(k);
        }
}

/* A band takes long on a wide image, so the flag is asked before each: raised after the first
 * rows, the next band stops at once, threaded or not. */
Test(slide, cancel_between_bands)
{
    rng_seed(17);
    hdm_image *in = make_image(64, 200, 3, HDM_U8, FILL_RANDOM);
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_gaussian(10, &k, &e), HDM_OK);
    for (uint32_t threads = 1; threads <= 2; threads++) {
        volatile int flag = 0;
        hdm_options o;
        hdm_options_init(&o);
        o.cancel = &flag;
        o.threads = threads;
        hdm__source *src, *f;
        cr_assert_eq(hdm__source_from_image(in, false, "(image)", HDM_FORMAT_UNKNOWN, &src, &e),
                     HDM_OK);
        cr_assert_eq(hdm__filter_source_path(src, k, HDM__BORDER_CLAMP, false, HDM__FILTER_AUTO,
                                             &o, &f, &e), HDM_OK, "%s", e.message);
        cr_assert_eq(hdm__filter_used(f), HDM__FILTER_SLIDE);
        hdm_image *strip;
        cr_assert_eq(hdm_image_new(64, L, 3, HDM_U8, &strip), HDM_OK);
        cr_assert_eq(hdm__source_read(f, strip, L, &e), HDM_OK, "%s", e.message);
        flag = 1;
        cr_assert_eq(hdm__source_read(f, strip, L, &e), HDM_ERR_INTERRUPTED, "%u threads",
                     threads);
        cr_assert(strstr(e.message, "interrupted"), "%s", e.message);
        hdm_image_free(strip);
        hdm__source_close(f);
    }
    hdm__fkernel_free(k);
    hdm_image_free(in);
}

/* What the sliding sums hold does not grow with the kernel but by its window's upstream rows
 * (kept as they are, 8-bit), far below the direct sum's f32 rows and the FFT's bands; and a
 * limit below it refuses before anything is read. */
Test(slide, memory_by_the_window)
{
    hdm_image *in = make_image(2000, 1200, 3, HDM_U8, FILL_MID);
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_gaussian(60, &k, &e), HDM_OK);
    uint64_t held[3];
    static const hdm__filter_path paths[] = {HDM__FILTER_SLIDE, HDM__FILTER_DIRECT,
                                             HDM__FILTER_FFT};
    for (int p = 0; p < 3; p++) {
        hdm_options o;
        hdm_options_init(&o);
        hdm__source *src, *f;
        cr_assert_eq(hdm__source_from_image(in, false, "(image)", HDM_FORMAT_UNKNOWN, &src, &e),
                     HDM_OK);
        cr_assert_eq(hdm__filter_source_path(src, k, HDM__BORDER_CLAMP, true, paths[p], &o, &f,
                                             &e), HDM_OK, "%s", e.message);
        held[p] = f->held - src->held;
        hdm__source_close(f);
    }
    /* 2·180 + 18 rows of 2000 × 3 bytes, and about 60 f32 rows of sums and scratch */
    uint64_t rows = (uint64_t)(2 * 180 + L + 2) * 2000 * 3;
    cr_assert(held[0] >= rows && held[0] < rows + 80ull * 2000 * 3 * 4,
              "sliding sums hold %llu bytes", (unsigned long long)held[0]);
    cr_assert(held[0] * 2 < held[1] && held[0] * 10 < held[2], "slide %llu direct %llu fft %llu",
              (unsigned long long)held[0], (unsigned long long)held[1],
              (unsigned long long)held[2]);
    for (int over = 0; over < 2; over++) {
        hdm_options o;
        hdm_options_init(&o);
        hdm__source *src, *f;
        cr_assert_eq(hdm__source_from_image(in, false, "(image)", HDM_FORMAT_UNKNOWN, &src, &e),
                     HDM_OK);
        o.max_memory = src->held + held[0] - (uint64_t)over;
        hdm_status st = hdm__filter_source_path(src, k, HDM__BORDER_CLAMP, true,
                                                HDM__FILTER_SLIDE, &o, &f, &e);
        cr_assert_eq(st, over ? HDM_ERR_LIMIT : HDM_OK, "a limit %s what it holds: %s",
                     over ? "a byte below" : "at", e.message);
        if (!st)
            hdm__source_close(f);
    }
    hdm__fkernel_free(k);
    hdm_image_free(in);
}

/* Through the public pipeline, as the command runs it: a gaussian step over RGB on one and two
 * threads (signed=offset adds mid-grey), and a mask feathered by σ = 10, both sliding, both
 * within 1 LSB of f64. */
Test(slide, through_the_pipeline, .init = tu_setup, .fini = tu_teardown)
{
    rng_seed(64);
    hdm_image *in = make_image(300, 120, 3, HDM_U8, FILL_RANDOM);
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_gaussian(12, &k, &e), HDM_OK);
    double *ref = malloc(sizeof(double) * 300 * 120), worst = 0;
    hdm_image *out[2];
    for (int t = 0; t < 2; t++) {
        hdm_options o;
        hdm_options_init(&o);
        o.threads = (uint32_t)t + 1;
        out[t] = tu_run_step_with("filter:gaussian:12:border=mirror:signed=offset", in, &o);
    }
    cr_assert(tu_same(out[0], out[1]), "2 threads differ from 1");
    for (uint32_t c = 0; c < 3; c++) {
        ref_plane(in, k->kx, (int)k->kw, 1, false, c, ref);
        for (uint32_t y = 0; y < 120; y++)
            for (uint32_t x = 0; x < 300; x++)
                cr_assert(lsb_off(out[0], c, x, y, ref[y * 300 + x] + 0.5, &worst) <= 1,
                          "(%u,%u,%u)", x, y, c);
    }
    hdm_image_free(out[0]);
    hdm_image_free(out[1]);
    hdm_image_free(in);
    hdm__fkernel_free(k);

    in = make_image(200, 150, 3, HDM_U8, FILL_RANDOM);
    hdm_image *m = make_image(200, 150, 1, HDM_U8, FILL_RANDOM);
    const char *path = tu_path("m.png");
    char step[4200];
    cr_assert_eq(hdm_save(m, path, NULL, NULL), HDM_OK);
    snprintf(step, sizeof step, "mask:%s:feather=10", path);
    hdm_image *o = tu_run_step(step, in, 5);
    cr_assert_eq(hdm__fkernel_gaussian(10, &k, &e), HDM_OK);
    ref_plane(m, k->kx, (int)k->kw, 0, false, 0, ref);
    for (uint32_t y = 0; y < 150; y++)
        for (uint32_t x = 0; x < 200; x++) {
            double mq = quantise(ref[y * 200 + x], HDM_U8) / 255;
            for (uint32_t c = 0; c < 3; c++)
                cr_assert(lsb_off(o, c, x, y, val(in, c, x, y) * mq, &worst) <= 1,
                          "feather at (%u,%u,%u)", x, y, c);
        }
    report_worst("sliding sums through the pipeline", worst);
    free(ref);
    hdm__fkernel_free(k);
    hdm_image_free(o);
    hdm_image_free(m);
    hdm_image_free(in);
}
