/* SPDX-License-Identifier: MIT */
/* test_ops_fft.c — the fft step against a direct f64 DFT of the README's definition */
#include "ops_test.h"
#include "testutil.h"

#include <string.h>
#include <zlib.h>

/* ---- the reference: the README's padding, window and spectrum, by direct sums ---- */

static uint32_t ref_margin(uint32_t n) { return (uint32_t)fmax(8, ceil(n / 16.0)); }

static bool smooth235(uint32_t m)
{
    static const uint32_t p[] = {2, 3, 5};
    for (int i = 0; i < 3; i++)
        while (m % p[i] == 0)
            m /= p[i];
    return m == 1;
}

static uint32_t ref_size(uint32_t n, bool even)
{
    uint32_t m = n + 2 * ref_margin(n);
    while (!smooth235(m) || (even && m % 2))
        m++;
    return m;
}

/* Half-sample symmetric extension: index i of the padded line reads sample i − before. */
static uint32_t ref_mirror(long i, uint32_t n)
{
    long p = 2L * n;
    long j = ((i % p) + p) % p;
    return (uint32_t)(j < (long)n ? j : p - 1 - j);
}

typedef struct spec {
    const char *pass, *profile;
    double f1, f2, order;
} spec;

static double ref_low(double r, double f, const spec *s)
{
    if (!strcmp(s->profile, "ideal"))
        return r <= f ? 1 : 0;
    if (!strcmp(s->profile, "gaussian"))
        return exp(-r * r / (2 * f * f));
    return 1 / (1 + pow(r / f, 2 * s->order));
}

static double ref_h(double r, const spec *s)
{
    double l = ref_low(r, s->f1, s);
    if (!strcmp(s->pass, "low"))
        return l;
    if (!strcmp(s->pass, "high"))
        return 1 - l;
    double band = ref_low(r, s->f2, s) * (1 - l);
    return !strcmp(s->pass, "band") ? band : 1 - band;
}

/* numpy's fftfreq times 2: the frequency of bin k of n as a fraction of Nyquist. */
static double nyq(uint32_t k, uint32_t n) { return 2.0 * (k <= n / 2 ? (double)k : (double)k - n) / n; }

/* One line's DFT in place (sign −1 forward, +1 inverse, unscaled), directly: Σ x_j e^{∓2πijk/n}. */
static void dft(double *re, double *im, uint32_t n, size_t stride, int sign, double *tr,
                double *ti)
{
    for (uint32_t k = 0; k < n; k++) {
        double sr = 0, si = 0;
        for (uint32_t j = 0; j < n; j++) {
            double a = sign * 2 * M_PI * (double)((uint64_t)j * k % n) / n;
            double xr = re[j * stride], xi = im[j * stride];
            sr += xr * cos(a) - xi * sin(a);
            si += xr * sin(a) + xi * cos(a);
        }
        tr[k] = sr;
        ti[k] = si;
    }
    for (uint32_t k = 0; k < n; k++) {
        re[k * stride] = tr[k];
        im[k * stride] = ti[k];
    }
}

/* The padded plane c of img's full 2-D DFT: nx × ny complex in re/im (the caller's). */
static void ref_spectrum(const hdm_image *img, uint32_t c, uint32_t nx, uint32_t ny, double **pre,
                         double **pim)
{
    uint32_t w = img->width, h = img->height, l = ref_margin(w), t = ref_margin(h);
    double *re = calloc((size_t)nx * ny, sizeof *re), *im = calloc((size_t)nx * ny, sizeof *im);
    double *tr = malloc((nx > ny ? nx : ny) * sizeof *tr), *ti = malloc((nx > ny ? nx : ny) * sizeof *ti);
    for (uint32_t y = 0; y < ny; y++)
        for (uint32_t x = 0; x < nx; x++)
            re[(size_t)y * nx + x] = val(img, c, ref_mirror((long)x - l, w),
                                         ref_mirror((long)y - t, h));
    for (uint32_t y = 0; y < ny; y++)
        dft(re + (size_t)y * nx, im + (size_t)y * nx, nx, 1, -1, tr, ti);
    for (uint32_t x = 0; x < nx; x++)
        dft(re + x, im + x, ny, nx, -1, tr, ti);
    free(tr);
    free(ti);
    *pre = re;
    *pim = im;
}

/* The filtered plane c of img, cropped: w × h reals (the caller's). */
static double *ref_filter(const hdm_image *img, uint32_t c, const spec *s)
{
    uint32_t w = img->width, h = img->height;
    uint32_t nx = ref_size(w, true), ny = ref_size(h, false), l = ref_margin(w), t = ref_margin(h);
    double *re, *im;
    ref_spectrum(img, c, nx, ny, &re, &im);
    for (uint32_t y = 0; y < ny; y++)
        for (uint32_t x = 0; x < nx; x++) {
            double fx = nyq(x, nx), fy = nyq(y, ny);
            double g = ref_h(sqrt(fx * fx + fy * fy), s);
            re[(size_t)y * nx + x] *= g;
            im[(size_t)y * nx + x] *= g;
        }
    double *tr = malloc((nx > ny ? nx : ny) * sizeof *tr), *ti = malloc((nx > ny ? nx : ny) * sizeof *ti);
    for (uint32_t x = 0; x < nx; x++)
        dft(re + x, im + x, ny, nx, 1, tr, ti);
    for (uint32_t y = 0; y < ny; y++)
        dft(re + (size_t)y * nx, im + (size_t)y * nx, nx, 1, 1, tr, ti);
    double *out = malloc((size_t)w * h * sizeof *out);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            out[(size_t)y * w + x] = re[(size_t)(y + t) * nx + x + l] / ((double)nx * ny);
    free(tr);
    free(ti);
    free(re);
    free(im);
    return out;
}

static char *step_of(const spec *s, char *buf, size_t cap)
{
    char cut[64];
    if (s->f2 > 0)
        snprintf(cut, sizeof cut, "%.17g,%.17g", s->f1, s->f2);
    else
        snprintf(cut, sizeof cut, "%.17g", s->f1);
    if (!strcmp(s->profile, "butterworth"))
        snprintf(buf, cap, "fft:%s:%s:butterworth:%g", s->pass, cut, s->order);
    else
        snprintf(buf, cap, "fft:%s:%s:%s", s->pass, cut, s->profile);
    return buf;
}

/* Runs s over in and checks every colour sample within 1 LSB of the reference, alpha exact. */
static double check_filter(const hdm_image *in, const spec *s)
{
    char step[160];
    step_of(s, step, sizeof step);
    hdm_image *out = tu_run_step(step, in, 0);
    cr_assert_eq(out->width, in->width);
    cr_assert_eq(out->height, in->height);
    cr_assert_eq(out->channels, in->channels);
    cr_assert_eq(out->depth, in->depth);
    bool alpha = in->channels == 2 || in->channels == 4;
    uint32_t colour = alpha ? in->channels - 1 : in->channels;
    double worst = 0;
    for (uint32_t c = 0; c < in->channels; c++) {
        if (c >= colour) {
            for (uint32_t y = 0; y < in->height; y++)
                for (uint32_t x = 0; x < in->width; x++)
                    cr_assert_eq(raw(out, c, x, y), raw(in, c, x, y), "%s: alpha changed", step);
            continue;
        }
        double *ref = ref_filter(in, c, s);
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double r = ref[(size_t)y * in->width + x];
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%s %ux%ux%u at (%u,%u,%u): got %u want %g", step, in->width,
                          in->height, in->channels, x, y, c, raw(out, c, x, y),
                          quantise(r, out->depth));
            }
        free(ref);
    }
    hdm_image_free(out);
    return worst;
}

static void pass_test(const char *pass, double f1, double f2)
{
    static const struct { const char *profile; double order; } prof[] = {
        {"ideal", 0}, {"gaussian", 0}, {"butterworth", 2}, {"butterworth", 5}};
    static const struct { uint32_t w, h, ch; hdm_depth d; } shapes[] = {
        {24, 18, 1, HDM_U8}, {24, 18, 3, HDM_U16}, {13, 7, 2, HDM_U16}, {9, 11, 4, HDM_U8}};
    double worst[2] = {0, 0};
    rng_seed(strlen(pass) * 7 + 1);
    for (size_t p = 0; p < sizeof prof / sizeof prof[0]; p++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            hdm_image *in = make_image(shapes[i].w, shapes[i].h, shapes[i].ch, shapes[i].d,
                                       FILL_RANDOM);
            spec s = {pass, prof[p].profile, f1, f2, prof[p].order};
            int di = shapes[i].d == HDM_U16;
            worst[di] = fmax(worst[di], check_filter(in, &s));
            hdm_image_free(in);
        }
    char what[64];
    snprintf(what, sizeof what, "fft %s 8-bit", pass);
    report_worst(what, worst[0]);
    snprintf(what, sizeof what, "fft %s 16-bit", pass);
    report_worst(what, worst[1]);
}

Test(fft, low) { pass_test("low", 0.3, 0); }
Test(fft, high) { pass_test("high", 0.25, 0); }
Test(fft, band) { pass_test("band", 0.15, 0.6); }
Test(fft, notch) { pass_test("notch", 0.2, 0.5); }

/* A cutoff in pixels is a period: 8px is the frequency 1/8 cycles a pixel, 2/8 of Nyquist. */
Test(fft, pixel_cutoffs)
{
    rng_seed(5);
    hdm_image *in = make_image(24, 18, 3, HDM_U16, FILL_RANDOM);
    const char *pairs[][2] = {{"fft:low:8px:ideal", "fft:low:0.25:ideal"},
                              {"fft:band:10px,4px:gaussian", "fft:band:0.2,0.5:gaussian"},
                              {"fft:high:5px:butterworth:3", "fft:high:0.4:butterworth:3"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        hdm_image *a = tu_run_step(pairs[i][0], in, 0), *b = tu_run_step(pairs[i][1], in, 0);
        tu_assert_same(a, b, pairs[i][0]);
        hdm_image_free(a);
        hdm_image_free(b);
    }
    hdm_image_free(in);
}

/* Without a cutoff: 0.5 of Nyquist, and 0.25..0.5 for band and notch. */
Test(fft, default_cutoffs)
{
    rng_seed(6);
    hdm_image *in = make_image(20, 14, 1, HDM_U8, FILL_RANDOM);
    const char *pairs[][2] = {{"fft:low", "fft:low:0.5:gaussian"},
                              {"fft:high:profile=ideal", "fft:high:0.5:ideal"},
                              {"fft:band", "fft:band:0.25,0.5:gaussian"},
                              {"fft:notch", "fft:notch:0.25,0.5"}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        hdm_image *a = tu_run_step(pairs[i][0], in, 0), *b = tu_run_step(pairs[i][1], in, 0);
        tu_assert_same(a, b, pairs[i][0]);
        hdm_image_free(a);
        hdm_image_free(b);
    }
    hdm_image_free(in);
}

/* A constant image's spectrum is its DC term alone, which every low-pass keeps whole. */
Test(fft, constant_stays)
{
    const char *steps[] = {"fft:low:0.05:ideal", "fft:low:0.01:gaussian",
                           "fft:low:0.1:butterworth:4", "fft:notch:0.1,0.3:gaussian",
                           "fft:band:0,0.3:ideal"};
    for (int d = 0; d < 2; d++) {
        hdm_image *in = make_image(37, 21, 3, d ? HDM_U16 : HDM_U8, FILL_MID);
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            hdm_pipeline *p;
            hdm_error e = {0};
            cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
            if (hdm_pipeline_add(p, steps[i], &e) != HDM_OK) { /* band from 0 is refused */
                cr_assert(strstr(e.message, "fft"), "%s", e.message);
                hdm_pipeline_free(p);
                continue;
            }
            hdm_pipeline_free(p);
            hdm_image *out = tu_run_step(steps[i], in, 0);
            tu_assert_same(out, in, steps[i]);
            hdm_image_free(out);
        }
        hdm_image_free(in);
    }
}

/* The spectrum: the padded size, DC at (nx/2, ny/2) and brightest for a positive image, each
 * sample within 1 LSB of log(1 + |F|) / max, alpha opaque. */
Test(fft, spectrum)
{
    rng_seed(9);
    hdm_image *in = make_image(24, 18, 4, HDM_U16, FILL_RANDOM);
    for (uint32_t c = 0; c < 3; c++) /* positive: at least a quarter of full scale */
        for (uint32_t y = 0; y < 18; y++)
            for (uint32_t x = 0; x < 24; x++)
                set_raw(in, c, x, y, 16384 + raw(in, c, x, y) / 2);
    hdm_image *out = tu_run_step("fft:spectrum", in, 0);
    uint32_t nx = ref_size(24, true), ny = ref_size(18, false);
    cr_assert_eq(nx, 40);
    cr_assert_eq(ny, 36);
    cr_assert_eq(out->width, nx);
    cr_assert_eq(out->height, ny);
    cr_assert_eq(out->channels, 4);
    double worst = 0;
    for (uint32_t c = 0; c < 3; c++) {
        double *re, *im;
        ref_spectrum(in, c, nx, ny, &re, &im);
        double top = 0;
        for (size_t i = 0; i < (size_t)nx * ny; i++)
            top = fmax(top, log1p(hypot(re[i], im[i])));
        for (uint32_t y = 0; y < ny; y++)
            for (uint32_t x = 0; x < nx; x++) {
                uint32_t kx = (x + nx - nx / 2) % nx, ky = (y + ny - ny / 2) % ny;
                size_t i = (size_t)ky * nx + kx;
                double r = log1p(hypot(re[i], im[i])) / top;
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1, "spectrum (%u,%u,%u)", x, y, c);
                if (x != nx / 2 || y != ny / 2)
                    cr_assert_lt(raw(out, c, x, y), raw(out, c, nx / 2, ny / 2),
                                 "(%u,%u) as bright as DC", x, y);
            }
        cr_assert_eq(raw(out, c, nx / 2, ny / 2), 65535);
        free(re);
        free(im);
    }
    for (uint32_t y = 0; y < ny; y++)
        for (uint32_t x = 0; x < nx; x++)
            cr_assert_eq(raw(out, 3, x, y), 65535, "alpha not opaque");
    report_worst("fft spectrum 16-bit", worst);
    hdm_image_free(out);
    hdm_image_free(in);
}

Test(fft, strips_agree_and_fuses)
{
    rng_seed(3);
    hdm_image *in = make_image(31, 23, 4, HDM_U16, FILL_RANDOM);
    hdm_image *ref = tu_run_step("fft:low:0.2:gaussian", in, 0);
    for (uint32_t rows = 1; rows < 6; rows++) {
        hdm_image *out = tu_run_step("fft:low:0.2:gaussian", in, rows);
        tu_assert_same(out, ref, "strips");
        hdm_image_free(out);
    }
    /* after another step and before one: the same as running them one by one */
    hdm_image *w = tu_run_step("window:hann", in, 0);
    hdm_image *wf = tu_run_step("fft:low:0.2:gaussian", w, 0);
    hdm_image *wfw = tu_run_step("window:hann", wf, 0);
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "window:hann", &e), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "fft:low:0.2:gaussian", &e), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "window:hann", &e), HDM_OK);
    hdm_image *chain;
    cr_assert_eq(hdm_pipeline_run_image(p, in, NULL, &chain, &e), HDM_OK, "%s", e.message);
    tu_assert_same(chain, wfw, "chain");
    hdm_pipeline_free(p);
    hdm_image_free(chain);
    hdm_image_free(w);
    hdm_image_free(wf);
    hdm_image_free(wfw);
    hdm_image_free(ref);
    hdm_image_free(in);
}

static void put_chunk(unsigned char *buf, size_t *n, const char *type, const unsigned char *d,
                      uint32_t len)
{
    unsigned char *p = buf + *n;
    p[0] = len >> 24, p[1] = len >> 16, p[2] = len >> 8, p[3] = (unsigned char)len;
    memcpy(p + 4, type, 4);
    if (len)
        memcpy(p + 8, d, len);
    uint32_t crc = (uint32_t)crc32(crc32(0, NULL, 0), p + 4, len + 4);
    p[8 + len] = crc >> 24, p[9 + len] = crc >> 16, p[10 + len] = crc >> 8;
    p[11 + len] = (unsigned char)crc;
    *n += 12 + len;
}

/* The step counts what it holds against max_memory before it takes any of it: a 60000×60000
 * gray PNG header (3.6 GB held, 14 GB of spectrum) is refused before a row is read. */
Test(fft, limits_refuse_first)
{
    unsigned char png[128];
    size_t n = 8;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    unsigned char ihdr[13] = {0, 0, 0xea, 0x60, 0, 0, 0xea, 0x60, 8, 0, 0, 0, 0};
    put_chunk(png, &n, "IHDR", ihdr, 13);
    unsigned char idat[2] = {0x78, 0x9c}; /* a stream begun, never finished */
    put_chunk(png, &n, "IDAT", idat, 2);
    put_chunk(png, &n, "IEND", NULL, 0);
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_pixels = 1ull << 32;
    opt.max_memory = 8ull << 30; /* the image alone would fit */
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "fft:low:0.1", &e), HDM_OK);
    void *out = NULL;
    size_t size = 0;
    hdm_status st = hdm_pipeline_run_memory(p, png, n, HDM_FORMAT_PNG, &opt, &out, &size, &e);
    cr_assert_eq(st, HDM_ERR_LIMIT, "%s: %s", hdm_strerror(st), e.message);
    cr_assert(strstr(e.message, "max_memory"), "%s", e.message);
    cr_assert_null(out);
    hdm_pipeline_free(p);

    /* in memory too: a small image, a limit between its size and what the step holds */
    rng_seed(4);
    hdm_image *in = make_image(200, 100, 3, HDM_U8, FILL_RANDOM);
    opt.max_memory = 200 * 100 * 3 * 2;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "fft:spectrum", &e), HDM_OK);
    hdm_image *img = NULL;
    st = hdm_pipeline_run_image(p, in, &opt, &img, &e);
    cr_assert_eq(st, HDM_ERR_LIMIT, "%s: %s", hdm_strerror(st), e.message);
    cr_assert(strstr(e.message, "max_memory"), "%s", e.message);
    cr_assert_null(img);
    hdm_pipeline_free(p);

    /* the spectrum is larger than its image: the size limits count it too */
    opt.max_memory = 1ull << 30;
    opt.max_width = 200;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "fft:low:0.2", &e), HDM_OK);
    cr_assert_eq(hdm_pipeline_run_image(p, in, &opt, &img, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    img = NULL;
    hdm_pipeline_free(p);
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "fft:spectrum", &e), HDM_OK);
    st = hdm_pipeline_run_image(p, in, &opt, &img, &e);
    cr_assert_eq(st, HDM_ERR_LIMIT, "%s: %s", hdm_strerror(st), e.message);
    cr_assert(strstr(e.message, "max_width"), "%s", e.message);
    cr_assert_null(img);
    hdm_pipeline_free(p);
    hdm_image_free(in);
}

Test(fft, bad_steps)
{
    struct { const char *step, *mentions; } bad[] = {
        {"fft", "needs a pass"}, {"fft:cutoff=0.1", "needs a pass"},
        {"fft:lowe:0.1", "did you mean 'low'"}, {"fft:low:0", "cutoff"},
        {"fft:low:-0.1", "cutoff"}, {"fft:low:x", "cutoff"}, {"fft:low:0px", "cutoff"},
        {"fft:low:0.1,0.2", "one cutoff"}, {"fft:band:0.1", "two cutoffs"},
        {"fft:band:0.5,0.2", "below"}, {"fft:low:0.1:gausian", "did you mean 'gaussian'"},
        {"fft:low:0.1:ideal:3", "'3'"}, {"fft:low:0.1:butterworth:0", "order"},
        {"fft:low:0.1:butterworth:x", "order"}, {"fft:spectrum:low:0.1", "spectrum"},
        {"fft:low:0.1:gaussian:extra", "extra"}, {"fft:pass=low:pass=high:cutoff=1", "twice"},
        {"fft:low:0.1:colour=1", "colour"}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i].step, &e), HDM_ERR_ARG, "%s accepted",
                     bad[i].step);
        cr_assert(strstr(e.message, "fft"), "%s: %s", bad[i].step, e.message);
        cr_assert(strstr(e.message, bad[i].mentions), "%s: '%s' lacks '%s'", bad[i].step,
                  e.message, bad[i].mentions);
        hdm_pipeline_free(p);
    }
}
