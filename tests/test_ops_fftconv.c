/* SPDX-License-Identifier: MIT */
/* test_ops_fftconv.c — large kernels through the FFT against an f64 sum; image kernels (@FILE) */
#include "border_ref.h"
#include "pipeline.h"
#include "ops/fftconv.h"
#include "ops/filter.h"
#include "ops_test.h"
#include "cli_run.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>

/* The f64 correlation at (x, y) of plane c, premultiplied by the last plane when alpha. */
static double ref_at(const hdm_image *in, const double *k, int kw, int kh, int b, bool alpha,
                     uint32_t c, uint32_t x, uint32_t y)
{
    uint32_t a = in->channels - 1;
    double sum = 0, asum = 0;
    for (int j = 0; j < kh; j++) {
        long yy = ref_index((long)y + j - kh / 2, in->height, b);
        for (int i = 0; i < kw && yy >= 0; i++) {
            long xx = ref_index((long)x + i - kw / 2, in->width, b);
            if (xx < 0)
                continue;
            double t = k[j * kw + i], v = val(in, c, xx, yy);
            if (alpha) {
                double al = val(in, a, xx, yy);
                sum += t * v * al;
                asum += t * al;
            } else {
                sum += t * v;
            }
        }
    }
    if (!alpha)
        return sum;
    if (c == a)
        return asum;
    return asum > 0 ? sum / asum : 0;
}

static hdm_image *run_path(const hdm_image *in, const hdm__fkernel *k, int b,
                           hdm__filter_path path, uint32_t strip_rows)
{
    hdm_options o;
    hdm_options_init(&o);
    o.strip_rows = strip_rows;
    hdm_error e = {0};
    hdm__source *src, *f;
    cr_assert_eq(hdm__source_from_image((hdm_image *)in, false, "(image)", HDM_FORMAT_UNKNOWN,
                                        &src, &e), HDM_OK);
    cr_assert_eq(hdm__filter_source_path(src, k, (hdm__border)b, true, path, &o, &f, &e), HDM_OK,
                 "%s", e.message);
    hdm_image *out;
    cr_assert_eq(hdm__run_to_image(f, &o, &out, &e), HDM_OK, "%s", e.message);
    return out;
}

static hdm__fkernel *random_kernel(uint32_t kw, uint32_t kh)
{
    char spec[32];
    snprintf(spec, sizeof spec, "%s", "1");
    hdm__fkernel *k;
    hdm_error e = {0};
    cr_assert_eq(hdm__fkernel_parse(spec, &k, &e), HDM_OK);
    free(k->k);
    k->kw = kw;
    k->kh = kh;
    k->cx = kw / 2;
    k->cy = kh / 2;
    k->k = malloc((size_t)kw * kh * sizeof *k->k);
    double sum = 0;
    for (size_t i = 0; i < (size_t)kw * kh; i++)
        sum += k->k[i] = (rng() % 1000) / 1000.0;
    for (size_t i = 0; i < (size_t)kw * kh; i++)
        k->k[i] /= sum;
    return k;
}

/* Every sample of out within 1 LSB of the f64 sum; the worst seen, in LSB. */
static double check(const hdm_image *in, const hdm_image *out, const hdm__fkernel *k, int b)
{
    bool alpha = in->channels == 2 || in->channels == 4;
    double worst = 0;
    for (uint32_t c = 0; c < in->channels; c++)
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double r = ref_at(in, k->k, (int)k->kw, (int)k->kh, b, alpha, c, x, y);
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%ux%u kernel, border %s, %ux%ux%u %d-bit at (%u,%u,%u): got %u "
                          "want %g (%.9g)", k->kw, k->kh, ref_borders[b], in->width, in->height,
                          in->channels, in->depth * 8, x, y, c, raw(out, c, x, y),
                          quantise(r, out->depth), r);
            }
    return worst;
}

/* Odd and even kernels, one row or one column of taps, kernels wider and taller than the image,
 * a 1-row, a 1-column and a 1×1 image, every border, u8 and u16, gray, gray + alpha, RGB and
 * RGBA: the FFT within 1 LSB of the f64 sum, and the same bits whatever the strips. */
Test(fftconv, against_f64_every_border)
{
    static const uint32_t ks[][2] = {{7, 7}, {8, 6}, {17, 17}, {31, 4}, {40, 41}, {9, 1},
                                     {1, 9}};
    static const uint32_t is[][2] = {{37, 29}, {1, 23}, {23, 1}, {150, 90}, {9, 5}, {1, 1}};
    static const uint32_t chans[] = {1, 3, 4, 2};
    double worst[2] = {0, 0};
    rng_seed(77);
    for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
        for (size_t ii = 0; ii < sizeof is / sizeof is[0]; ii++)
            for (int di = 0; di < 2; di++) {
                hdm__fkernel *k = random_kernel(ks[ki][0], ks[ki][1]);
                uint32_t ch = chans[(ki + ii + di) % 4];
                hdm_image *in = make_image(is[ii][0], is[ii][1], ch, di ? HDM_U16 : HDM_U8,
                                           FILL_RANDOM);
                for (int b = 0; b < 4; b++) {
                    hdm_image *out = run_path(in, k, b, HDM__FILTER_FFT, 0);
                    worst[di] = fmax(worst[di], check(in, out, k, b));
                    hdm_image *o2 = run_path(in, k, b, HDM__FILTER_FFT, 3);
                    cr_assert(tu_same(out, o2), "strips of 3 rows differ");
                    hdm_image_free(o2);
                    hdm_image_free(out);
                }
                hdm_image_free(in);
                hdm__fkernel_free(k);
            }
    report_worst("fftconv 8-bit", worst[0]);
    report_worst("fftconv 16-bit", worst[1]);
}

/* Where a kernel's window holds nothing but transparent pixels the exact alpha is 0, and so is
 * colour under it; the FFT's sums there are its rounding alone, which divided by would be any
 * colour: they come out exactly 0, alpha and colour. Gray + alpha and RGBA, 8 and 16 bits,
 * every border: opaque noise in a corner, the rest transparent with a loud colour. Where the
 * alpha is plain (above 1%), within 1 LSB. */
Test(fftconv, transparent_windows_exactly_zero)
{
    rng_seed(8);
    hdm__fkernel *k = random_kernel(27, 25);
    double worst = 0;
    for (int di = 0; di < 2; di++)
        for (uint32_t ch = 2; ch <= 4; ch += 2) {
            hdm_image *in = make_image(120, 90, ch, di ? HDM_U16 : HDM_U8, FILL_RANDOM);
            uint32_t m = (uint32_t)maxval(in->depth);
            for (uint32_t y = 0; y < 90; y++)
                for (uint32_t x = 0; x < 120; x++)
                    if (x >= 40 || y >= 50) {
                        set_raw(in, ch - 1, x, y, 0);
                        for (uint32_t c = 0; c + 1 < ch; c++)
                            set_raw(in, c, x, y, m);
                    }
            for (int b = 0; b < 4; b++) {
                hdm_image *out = run_path(in, k, b, HDM__FILTER_FFT, 0);
                uint32_t zeros = 0;
                for (uint32_t y = 0; y < 90; y++)
                    for (uint32_t x = 0; x < 120; x++) {
                        double a = ref_at(in, k->k, 27, 25, b, true, ch - 1, x, y);
                        zeros += a == 0;
                        for (uint32_t c = 0; c < ch; c++) {
                            double want = ref_at(in, k->k, 27, 25, b, true, c, x, y);
                            cr_assert(a != 0 || raw(out, c, x, y) == 0,
                                      "%u-channel %d-bit, border %s, (%u,%u,%u): %u, not 0", ch,
                                      in->depth * 8, ref_borders[b], x, y, c, raw(out, c, x, y));
                            cr_assert(a < 0.01 || lsb_off(out, c, x, y, want, &worst) <= 1,
                                      "border %s at (%u,%u,%u)", ref_borders[b], x, y, c);
                        }
                    }
                cr_assert(b == 2 || zeros > 3000, "border %s: only %u transparent windows",
                          ref_borders[b], zeros);
                hdm_image_free(out);
            }
            hdm_image_free(in);
        }
    hdm__fkernel_free(k);
    report_worst("fftconv beside transparency", worst);
}

/* The automatic choice: a kernel above the crossover takes the FFT (the same bits as forcing
 * it), one below it the direct sum, and the two agree within 1 LSB (both are within rounding of
 * the same f64 sum). */
Test(fftconv, automatic_choice)
{
    rng_seed(5);
    hdm_image *in = make_image(300, 140, 3, HDM_U16, FILL_RANDOM);
    for (int big = 0; big < 2; big++) {
        hdm__fkernel *k = random_kernel(big ? 25 : 19, big ? 23 : 19); /* 575 or 361 taps */
        for (int b = 0; b < 4; b++) {
            hdm_image *a = run_path(in, k, b, HDM__FILTER_AUTO, 0);
            hdm_image *d = run_path(in, k, b, HDM__FILTER_DIRECT, 0);
            hdm_image *f = run_path(in, k, b, HDM__FILTER_FFT, 0);
            cr_assert(tu_same(a, big ? f : d), "%s kernel: not the %s path", big ? "large" :
                      "small", big ? "FFT" : "direct");
            for (uint32_t c = 0; c < 3; c++)
                for (uint32_t y = 0; y < in->height; y++)
                    for (uint32_t x = 0; x < in->width; x++)
                        cr_assert_leq(abs((int)raw(f, c, x, y) - (int)raw(d, c, x, y)), 1);
            hdm_image_free(a);
            hdm_image_free(d);
            hdm_image_free(f);
        }
        hdm__fkernel_free(k);
    }
    hdm_image_free(in);
}

/* ---- images as kernels (@FILE) ---- */

/* A w×h gray disc of radius r about (w/2, h/2), white inside; channels 1 or 3. */
static hdm_image *disc(uint32_t w, uint32_t h, double r, uint32_t ch)
{
    hdm_image *d;
    cr_assert_eq(hdm_image_new(w, h, ch, HDM_U8, &d), HDM_OK);
    for (uint32_t c = 0; c < ch; c++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                double dx = (double)x - w / 2, dy = (double)y - h / 2;
                set_raw(d, c, x, y, dx * dx + dy * dy <= r * r ? 255 : 0);
            }
    return d;
}

/* The kernel an image makes: its first plane's samples over their sum. */
static hdm__fkernel *kernel_of(const hdm_image *img)
{
    hdm__fkernel *k = random_kernel(img->width, img->height);
    double sum = 0;
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            sum += k->k[(size_t)y * img->width + x] = raw(img, 0, x, y);
    for (size_t i = 0; i < (size_t)img->width * img->height; i++)
        k->k[i] /= sum;
    return k;
}

static void save(const hdm_image *img, const char *path)
{
    hdm_error e = {0};
    cr_assert_eq(hdm_save(img, path, NULL, &e), HDM_OK, "%s", e.message);
}

static hdm_image *load(const char *path)
{
    hdm_image *img;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(path, NULL, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

/* A disc PNG as the kernel, through the command (filter --kernel and a run step), gray and RGB
 * (luminance: a white disc is the same kernel), odd and even, and larger than the image. */
Test(fftconv, image_kernel_cli, .init = tu_setup, .fini = tu_teardown)
{
    static const struct { uint32_t kw, kh, ch, iw, ih; int border; } cases[] = {
        {25, 25, 1, 60, 45, 0}, {25, 25, 3, 60, 45, 1}, {24, 20, 1, 15, 10, 2},
        {31, 31, 3, 9, 1, 3}};
    rng_seed(31);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hdm_image *d = disc(cases[i].kw, cases[i].kh, cases[i].kw / 2.0 - 0.5, cases[i].ch);
        hdm__fkernel *k = kernel_of(d);
        hdm_image *in = make_image(cases[i].iw, cases[i].ih, 3, HDM_U8, FILL_RANDOM);
        save(d, tu_path("disc.png"));
        save(in, tu_path("in.png"));
        cli_result *r = malloc(sizeof *r);
        const char *b = ref_borders[cases[i].border];
        CLI(r, tu_dir, "filter", "in.png", "-o", "out.png", "--kernel", "@disc.png", "--border",
            b);
        cr_assert_eq(r->status, 0, "%s", r->err);
        hdm_image *out = load(tu_path("out.png"));
        check(in, out, k, cases[i].border);
        char step[64];
        snprintf(step, sizeof step, "filter:@disc.png:border=%s", b);
        CLI(r, tu_dir, "run", "in.png", "-o", "run.png", step);
        cr_assert_eq(r->status, 0, "%s", r->err);
        hdm_image *out2 = load(tu_path("run.png"));
        cr_assert(tu_same(out, out2), "the run step differs from the command");
        hdm_image *imgs[] = {d, in, out, out2};
        for (size_t j = 0; j < 4; j++)
            hdm_image_free(imgs[j]);
        hdm__fkernel_free(k);
        free(r);
    }
}

/* An all-black image kernel (its samples sum to 0), a truncated PNG and a kernel above
 * --max-memory are refused, naming the file, with no output. */
Test(fftconv, image_kernel_refused, .init = tu_setup, .fini = tu_teardown)
{
    rng_seed(3);
    hdm_image *in = make_image(20, 10, 1, HDM_U8, FILL_RANDOM);
    hdm_image *black = make_image(9, 9, 1, HDM_U8, FILL_ZERO);
    save(in, tu_path("in.png"));
    save(black, tu_path("black.png"));
    hdm_image *d = disc(21, 21, 10, 1);
    save(d, tu_path("disc.png"));
    hdm_image_free(d);
    size_t n;
    unsigned char *png = tu_read_file(tu_path("disc.png"), &n);
    tu_write_file(tu_path("corrupt.png"), png, n / 2);
    free(png);
    cli_result *r = malloc(sizeof *r);
    CLI(r, tu_dir, "filter", "in.png", "-o", "out.png", "--kernel", "@black.png");
    cr_assert_neq(r->status, 0);
    cr_assert(strstr(r->err, "black.png") && strstr(r->err, "sum to 0"), "%s", r->err);
    /* a float kernel whose samples sum below 0, or to 0 without being black, says so */
    for (int neg = 0; neg < 2; neg++) {
        hdm_image *f;
        cr_assert_eq(hdm_image_new(3, 3, 1, HDM_F32, &f), HDM_OK);
        for (int i = 0; i < 9; i++)
            ((float *)hdm_row(f, 0, (uint32_t)i / 3))[i % 3] = neg ? -1.5f : i == 4 ? 8 : -1;
        save(f, tu_path("k.tif"));
        hdm_image_free(f);
        CLI(r, tu_dir, "filter", "in.png", "-o", "out.png", "--kernel", "@k.tif");
        cr_assert_neq(r->status, 0);
        cr_assert(strstr(r->err, "k.tif") && strstr(r->err, neg ? "summing to -13.5, below 0"
                                                                : "summing to 0") &&
                  !strstr(r->err, "black"), "%s", r->err);
        cr_assert(!tu_exists(tu_path("out.png")));
    }
    CLI(r, tu_dir, "filter", "in.png", "-o", "out.png", "--kernel", "@corrupt.png");
    cr_assert_neq(r->status, 0);
    cr_assert(strstr(r->err, "corrupt.png"), "%s", r->err);
    cr_assert_eq(strchr(r->err, '\n'), strrchr(r->err, '\n'), "one line: %s", r->err);
    cr_assert(!tu_exists(tu_path("out.png")));
    /* a 600×600 kernel's taps alone (1.4 MB of f32) are above a 1 MB limit, over an image it
     * does not reach past (past it, its taps would fold into fewer) */
    hdm_image *big = make_image(600, 600, 1, HDM_U8, FILL_MID);
    save(big, tu_path("big.png"));
    hdm_image_free(big);
    hdm_image *wide = make_image(640, 620, 1, HDM_U8, FILL_RANDOM);
    save(wide, tu_path("wide.png"));
    hdm_image_free(wide);
    CLI(r, tu_dir, "filter", "wide.png", "-o", "out.png", "--kernel", "@big.png", "--max-memory",
        "1000000");
    cr_assert_neq(r->status, 0);
    cr_assert(strstr(r->err, "600×600 kernel of big.png") && strstr(r->err, "--max-memory"),
              "%s", r->err);
    cr_assert(!tu_exists(tu_path("out.png")));
    free(r);
    hdm_image_free(in);
    hdm_image_free(black);
}

/* An image kernel is not held to a written matrix's 255 × 255: 301 × 3 works (against f64, its
 * taps folded over a 40-pixel row), and one whose taps alone are above max_memory (600 × 600
 * f32 is 1.4 MB) over an image it does not reach past is HDM_ERR_LIMIT before the filter takes
 * anything. */
Test(fftconv, image_kernel_size_and_limit, .init = tu_setup, .fini = tu_teardown)
{
    rng_seed(9);
    hdm_image *d = make_image(301, 3, 1, HDM_U8, FILL_RANDOM);
    hdm__fkernel *k = kernel_of(d);
    save(d, tu_path("wide.png"));
    hdm_image *in = make_image(40, 30, 2, HDM_U16, FILL_RANDOM);
    char step[4200];
    snprintf(step, sizeof step, "filter:@%s:border=mirror", tu_path("wide.png"));
    hdm_image *out = tu_run_step(step, in, 0);
    check(in, out, k, 1);
    hdm_image_free(out);

    hdm_image *big = make_image(600, 600, 1, HDM_U8, FILL_MID);
    save(big, tu_path("big.png"));
    hdm_image_free(big);
    snprintf(step, sizeof step, "filter:@%s", tu_path("big.png"));
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    hdm_options o;
    hdm_options_init(&o);
    o.max_memory = 1 << 20;
    hdm_image *wide = make_image(640, 620, 1, HDM_U8, FILL_RANDOM); /* not reached past */
    cr_assert_eq(hdm_pipeline_run_image(p, wide, &o, &out, &e), HDM_ERR_LIMIT);
    hdm_image_free(wide);
    cr_assert(strstr(e.message, "max_memory") && strstr(e.message, "600×600 kernel of"),
              "%s", e.message);
    cr_assert_null(out);
    hdm_pipeline_free(p);
    hdm_image_free(in);
    hdm_image_free(d);
    hdm__fkernel_free(k);
}

/* The bound behind the 1 LSB: the f32 transform's own error, before any rounding, on wide rows
 * (2048-point rows, a 128-row tile), for a positive kernel and a signed one (taps' magnitudes
 * summing to about 7), against the f64 sum at 4000 random outputs. Below a quarter of a 16-bit
 * LSB, so the rounded result is within 1 LSB of the exact one's rounding, as the direct sum's. */
Test(fftconv, raw_error_below_quarter_lsb)
{
    const uint32_t w = 1990, kw = 59, kh = 63, pad = w + kw - 1, h = 4000;
    rng_seed(123);
    for (int signed_k = 0; signed_k < 2; signed_k++) {
        double *k = malloc((size_t)kw * kh * sizeof *k), sum = 0, mag = 0;
        for (size_t i = 0; i < (size_t)kw * kh; i++)
            sum += k[i] = (rng() % 1000) / 1000.0 - (signed_k ? 0.45 : 0);
        for (size_t i = 0; i < (size_t)kw * kh; i++)
            mag += fabs(k[i] /= sum);
        uint32_t band = hdm__fftconv_band(kh, h), rows_in = band + kh - 1;
        float *in = malloc((size_t)rows_in * pad * sizeof *in);
        float *out = malloc((size_t)band * w * sizeof *out);
        for (size_t i = 0; i < (size_t)rows_in * pad; i++)
            in[i] = (float)((rng() % 65536) / 65535.0);
        hdm__fftconv *c = hdm__fftconv_new(w, h, k, kw, kh, 1);
        cr_assert_not_null(c);
        for (uint32_t t = 0; t < rows_in; t++)
            hdm__fftconv_put(c, t, in + (size_t)t * pad);
        hdm__fftconv_run(c, band, out);
        /* the same band on three threads, and a shorter one after it on the same plan (rows
         * not put count as zeros): the same bits */
        hdm__fftconv *c3 = hdm__fftconv_new(w, h, k, kw, kh, 3);
        float *out3 = malloc((size_t)band * w * sizeof *out3);
        cr_assert(c3 && out3);
        for (int pass = 0; pass < 2; pass++) {
            uint32_t rows = pass ? band / 3 : band;
            for (uint32_t t = 0; t < rows + kh - 1; t++)
                hdm__fftconv_put(c3, t, in + (size_t)t * pad);
            hdm__fftconv_run(c3, rows, out3);
            if (pass)
                for (uint32_t t = 0; t < rows + kh - 1; t++)
                    hdm__fftconv_put(c, t, in + (size_t)t * pad);
            if (pass)
                hdm__fftconv_run(c, rows, out);
            cr_assert(!memcmp(out, out3, (size_t)rows * w * sizeof *out),
                      "3 threads differ from 1 (%u rows)", rows);
        }
        hdm__fftconv_free(c3);
        free(out3);
        for (uint32_t t = 0; t < rows_in; t++)
            hdm__fftconv_put(c, t, in + (size_t)t * pad);
        hdm__fftconv_run(c, band, out);
        double worst = 0;
        for (int s = 0; s < 4000; s++) {
            uint32_t x = rng() % w, y = rng() % band;
            double r = 0;
            for (uint32_t j = 0; j < kh; j++)
                for (uint32_t i = 0; i < kw; i++)
                    r += k[(size_t)j * kw + i] * in[(size_t)(y + j) * pad + x + i];
            worst = fmax(worst, fabs(out[(size_t)y * w + x] - r) * 65535);
        }
        fprintf(stderr, "fftconv %s kernel (magnitudes %.2f): raw error %.4f LSB of 16 bits\n",
                signed_k ? "signed" : "positive", mag, worst);
        cr_assert_lt(worst, 0.25);
        hdm__fftconv_free(c);
        free(k);
        free(in);
        free(out);
    }
}

/* A large kernel's rows take long, so the filter asks the caller's flag for each row (and each
 * plane of an FFT band) itself: raised after the first rows, the next read stops at once with
 * HDM_ERR_INTERRUPTED, by either path, threaded or not. */
Test(fftconv, cancel_between_rows)
{
    rng_seed(17);
    hdm_image *in = make_image(64, 200, 3, HDM_U8, FILL_RANDOM);
    hdm__fkernel *k = random_kernel(25, 25);
    static const hdm__filter_path paths[] = {HDM__FILTER_DIRECT, HDM__FILTER_FFT};
    for (int p = 0; p < 2; p++)
        for (uint32_t threads = 1; threads <= 2; threads++) {
            volatile int flag = 0;
            hdm_options o;
            hdm_options_init(&o);
            o.cancel = &flag;
            o.threads = threads;
            hdm_error e = {0};
            hdm__source *src, *f;
            cr_assert_eq(hdm__source_from_image(in, false, "(image)", HDM_FORMAT_UNKNOWN, &src,
                                                &e), HDM_OK);
            cr_assert_eq(hdm__filter_source_path(src, k, HDM__BORDER_CLAMP, false, paths[p], &o,
                                                 &f, &e), HDM_OK, "%s", e.message);
            hdm_image *strip;
            cr_assert_eq(hdm_image_new(64, 8, 3, HDM_U8, &strip), HDM_OK);
            cr_assert_eq(hdm__source_read(f, strip, 8, &e), HDM_OK, "%s", e.message);
            flag = 1;
            cr_assert_eq(hdm__source_read(f, strip, 8, &e), HDM_ERR_INTERRUPTED,
                         "path %d, %u threads", p, threads);
            cr_assert(strstr(e.message, "interrupted"), "%s", e.message);
            hdm_image_free(strip);
            hdm__source_close(f);
        }
    hdm__fkernel_free(k);
    hdm_image_free(in);
}
