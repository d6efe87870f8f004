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

/* Through r/F, so that a cutoff whose square underflows still gives 1 at DC (r = 0). */
static double ref_low(double r, double f, const spec *s)
{
    if (!strcmp(s->profile, "ideal"))
        return r <= f ? 1 : 0;
    if (!strcmp(s->profile, "gaussian"))
        return exp(-(r / f) * (r / f) / 2);
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

/* The padded w × h plane in's full 2-D DFT: nx × ny complex in re/im (the caller's). */
static void ref_spectrum_of(const double *in, uint32_t w, uint32_t h, uint32_t nx, uint32_t ny,
                            double **pre, double **pim)
{
    uint32_t l = ref_margin(w), t = ref_margin(h);
    double *re = calloc((size_t)nx * ny, sizeof *re), *im = calloc((size_t)nx * ny, sizeof *im);
    double *tr = malloc((nx > ny ? nx : ny) * sizeof *tr), *ti = malloc((nx > ny ? nx : ny) * sizeof *ti);
    for (uint32_t y = 0; y < ny; y++)
        for (uint32_t x = 0; x < nx; x++)
            re[(size_t)y * nx + x] =
                in[(size_t)ref_mirror((long)y - t, h) * w + ref_mirror((long)x - l, w)];
    for (uint32_t y = 0; y < ny; y++)
        dft(re + (size_t)y * nx, im + (size_t)y * nx, nx, 1, -1, tr, ti);
    for (uint32_t x = 0; x < nx; x++)
        dft(re + x, im + x, ny, nx, -1, tr, ti);
    free(tr);
    free(ti);
    *pre = re;
    *pim = im;
}

/* Sample (x, y) of plane c normalised to 0..1 (f32 as it is). */
static double ref_val(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y)
{
    return img->depth == HDM_F32 ? tu_getf(img, c, x, y) : val(img, c, x, y);
}

/* Plane c of img as doubles, times plane a (unless a is c). */
static double *ref_plane(const hdm_image *img, uint32_t c, uint32_t a)
{
    double *p = malloc((size_t)img->width * img->height * sizeof *p);
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            p[(size_t)y * img->width + x] =
                ref_val(img, c, x, y) * (a == c ? 1 : ref_val(img, a, x, y));
    return p;
}

static void ref_spectrum(const hdm_image *img, uint32_t c, uint32_t nx, uint32_t ny, double **pre,
                         double **pim)
{
    double *in = ref_plane(img, c, c);
    ref_spectrum_of(in, img->width, img->height, nx, ny, pre, pim);
    free(in);
}

/* The w × h plane in filtered, cropped: w × h reals (the caller's). */
static double *ref_filter_of(const double *in, uint32_t w, uint32_t h, const spec *s)
{
    uint32_t nx = ref_size(w, true), ny = ref_size(h, false), l = ref_margin(w), t = ref_margin(h);
    double *re, *im;
    ref_spectrum_of(in, w, h, nx, ny, &re, &im);
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

static bool ref_opaque(const hdm_image *img, uint32_t a)
{
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            if (ref_val(img, a, x, y) < 1)
                return false;
    return true;
}

/* The filtered colour plane c of img (w × h reals, the caller's), as the README says: with an
 * alpha that is not all opaque, the colour premultiplied by it, and for low and notch (H(0) = 1)
 * divided by the same-filtered alpha (0 where that is at most 2^-16). When falpha is given it
 * gets that filtered alpha (or all 1s where the colour is not divided). */
static double *ref_filter(const hdm_image *img, uint32_t c, const spec *s, double **falpha)
{
    uint32_t w = img->width, h = img->height, ch = img->channels;
    bool alpha = ch == 2 || ch == 4;
    bool premul = alpha && !ref_opaque(img, ch - 1);
    bool divide = premul && (!strcmp(s->pass, "low") || !strcmp(s->pass, "notch"));
    double *in = ref_plane(img, c, premul ? ch - 1 : c);
    double *out = ref_filter_of(in, w, h, s);
    free(in);
    double *fa = NULL;
    if (divide) {
        in = ref_plane(img, ch - 1, ch - 1);
        fa = ref_filter_of(in, w, h, s);
        free(in);
        for (size_t i = 0; i < (size_t)w * h; i++)
            out[i] = fa[i] > 1.0 / 65536 ? out[i] / fa[i] : 0;
    }
    if (falpha) {
        if (!fa) {
            fa = malloc((size_t)w * h * sizeof *fa);
            for (size_t i = 0; i < (size_t)w * h; i++)
                fa[i] = 1;
        }
        *falpha = fa;
    } else {
        free(fa);
    }
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
        double *fa;
        double *ref = ref_filter(in, c, s, &fa);
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double r = ref[(size_t)y * in->width + x];
                /* a quotient by a small filtered alpha magnifies the f32 transforms' rounding */
                if (fa[(size_t)y * in->width + x] < 1.0 / 16)
                    continue;
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%s %ux%ux%u at (%u,%u,%u): got %u want %g", step, in->width,
                          in->height, in->channels, x, y, c, raw(out, c, x, y),
                          quantise(r, out->depth));
            }
        free(ref);
        free(fa);
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
        {"fft:low:0.1:gaussian:extra", "extra"}, {"fft:high:100", "below sqrt 2"},
        {"fft:band:2,3:ideal", "below sqrt 2"}, {"fft:low:0.5px", "above sqrt 2"},
        {"fft:low:1e9", "below sqrt 2"}, {"fft:low:1e30", "below sqrt 2"},
        {"fft:low:1.4143", "below sqrt 2"}, {"fft:notch:0.1,1.5", "below sqrt 2"},
        {"fft:high:1.414px", "above sqrt 2"}, {"fft:low:infpx", "cutoff"}, {"fft:pass=low:pass=high:cutoff=1", "twice"},
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

/* Just inside the range of cutoffs every step takes: below √2, periods above √2 pixels, and
 * cutoffs so small that F² underflows. */
Test(fft, cutoff_range)
{
    const char *good[] = {"fft:low:1.414:ideal", "fft:high:1.415px", "fft:low:1e-200",
                          "fft:high:1e-320:butterworth", "fft:band:1e-300,1.4",
                          "fft:notch:1e300px,2px:ideal"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, good[i], &e), HDM_OK, "%s: %s", good[i], e.message);
        hdm_pipeline_free(p);
    }
}

/* A cutoff whose square underflows (1e-200) keeps DC alone: a low-pass gives every pixel the
 * padded plane's mean, a high-pass removes it, whatever the profile; never NaN (black). */
Test(fft, tiny_cutoffs)
{
    static const char *profiles[] = {"ideal", "gaussian", "butterworth"};
    static const char *passes[] = {"low", "high", "band", "notch"};
    rng_seed(12);
    hdm_image *in = make_image(12, 10, 3, HDM_U16, FILL_RANDOM);
    for (uint32_t c = 0; c < 3; c++) /* a smooth gray ramp plus noise, well above 0 */
        for (uint32_t y = 0; y < 10; y++)
            for (uint32_t x = 0; x < 12; x++)
                set_raw(in, c, x, y, 20000 + 1000 * x + 500 * y + raw(in, c, x, y) / 8);
    for (size_t p = 0; p < 3; p++)
        for (size_t q = 0; q < 4; q++) {
            bool two = q >= 2;
            spec s = {passes[q], profiles[p], 1e-200, two ? 0.5 : 0, 2};
            check_filter(in, &s);
        }
    for (size_t p = 0; p < 3; p++) {
        char step[64];
        snprintf(step, sizeof step, "fft:low:1e-200:%s", profiles[p]);
        hdm_image *out = tu_run_step(step, in, 0);
        for (uint32_t c = 0; c < 3; c++)
            for (uint32_t y = 0; y < 10; y++)
                for (uint32_t x = 0; x < 12; x++) {
                    cr_assert_gt(raw(out, c, x, y), 20000, "%s: (%u,%u) dark", step, x, y);
                    cr_assert_leq(abs((int)raw(out, c, x, y) - (int)raw(out, c, 0, 0)), 1,
                                  "%s: (%u,%u) not the mean", step, x, y);
                }
        hdm_image_free(out);
        snprintf(step, sizeof step, "fft:high:1e-200:%s", profiles[p]);
        hdm_image *mid = make_image(12, 10, 1, HDM_U8, FILL_MID);
        out = tu_run_step(step, mid, 0); /* a constant minus its mean */
        for (uint32_t y = 0; y < 10; y++)
            for (uint32_t x = 0; x < 12; x++)
                cr_assert_eq(raw(out, 0, x, y), 0, "%s: (%u,%u)", step, x, y);
        hdm_image_free(out);
        hdm_image_free(mid);
    }
    hdm_image_free(in);
}

/* Float samples: a high-pass's negative half becomes 0, values above 1 (HDR) are kept. */
Test(fft, float_negatives_clamped)
{
    hdm_image *in = tu_image_random(16, 8, 3, HDM_F32, &ops_rng);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 8; y++)
            for (uint32_t x = 0; x < 16; x++) /* R a ramp 0 → 4, as an HDR might hold */
                tu_setf(in, c, x, y, c == 0 ? 4.0f * x / 15 : 2 * tu_getf(in, c, x, y));
    const spec specs[] = {{"high", "gaussian", 0.3, 0, 2}, {"low", "gaussian", 0.3, 0, 2},
                          {"band", "ideal", 0.2, 0.7, 2}, {"notch", "butterworth", 0.2, 0.5, 3}};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        char step[160];
        step_of(&specs[i], step, sizeof step);
        hdm_image *out = tu_run_step(step, in, 0);
        cr_assert_eq(out->depth, HDM_F32);
        bool above = false;
        for (uint32_t c = 0; c < 3; c++) {
            double *ref = ref_filter(in, c, &specs[i], NULL);
            for (uint32_t y = 0; y < 8; y++)
                for (uint32_t x = 0; x < 16; x++) {
                    double want = fmax(ref[y * 16 + x], 0), got = tu_getf(out, c, x, y);
                    cr_assert_geq(got, 0, "%s: (%u,%u,%u) negative: %g", step, x, y, c, got);
                    cr_assert_leq(fabs(got - want), 1e-5 * (1 + want),
                                  "%s: (%u,%u,%u) %g, want %g", step, x, y, c, got, want);
                    above = above || got > 1;
                }
            free(ref);
        }
        if (!strcmp(specs[i].pass, "low"))
            cr_assert(above, "%s: nothing above 1 kept", step);
        hdm_image_free(out);
    }
    hdm_image_free(in);
}

/* With alpha, colour is filtered premultiplied: no colour under α = 0 reaches an opaque pixel.
 * Left half red under α = 0, right half blue and opaque. */
Test(fft, transparent_colour_stays_out)
{
    static const char *steps[] = {"fft:low:0.1", "fft:low:0.1:ideal", "fft:low:0.05:butterworth",
                                  "fft:high:0.2", "fft:band:0.05,0.5:gaussian",
                                  "fft:notch:0.1,0.4:ideal"};
    for (int d = 0; d < 2; d++) {
        hdm_image *in = make_image(40, 30, 4, d ? HDM_U16 : HDM_U8, FILL_ZERO);
        uint32_t m = (uint32_t)maxval(in->depth);
        for (uint32_t y = 0; y < 30; y++)
            for (uint32_t x = 0; x < 40; x++) {
                set_raw(in, x < 20 ? 0 : 2, x, y, m);
                set_raw(in, 3, x, y, x < 20 ? 0 : m);
            }
        for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
            hdm_image *out = tu_run_step(steps[i], in, 0);
            for (uint32_t y = 0; y < 30; y++)
                for (uint32_t x = 20; x < 40; x++) {
                    cr_assert_leq(raw(out, 0, x, y), 1, "%s %u-bit: red %u at (%u,%u)",
                                  steps[i], d ? 16 : 8, raw(out, 0, x, y), x, y);
                    cr_assert_eq(raw(out, 3, x, y), m, "%s: alpha changed", steps[i]);
                }
            if (!strncmp(steps[i], "fft:low:0.1", 11)) /* and blue stays blue */
                for (uint32_t y = 0; y < 30; y++)
                    for (uint32_t x = 20; x < 40; x++)
                        cr_assert_geq(raw(out, 2, x, y), m - 1, "%s: blue %u at (%u,%u)",
                                      steps[i], raw(out, 2, x, y), x, y);
            hdm_image_free(out);
        }
        hdm_image_free(in);
    }
}

/* An all-opaque RGBA has exactly the colour of the same RGB; a constant alpha below 1 divides
 * back out of a low-pass and a notch (within rounding). */
Test(fft, opaque_alpha_as_without)
{
    static const char *steps[] = {"fft:low:0.2", "fft:high:0.3:ideal", "fft:band:0.1,0.6",
                                  "fft:notch:0.2,0.5:butterworth:3"};
    rng_seed(21);
    hdm_image *rgb = make_image(23, 17, 3, HDM_U16, FILL_RANDOM);
    hdm_image *rgba = make_image(23, 17, 4, HDM_U16, FILL_MAX);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 17; y++)
            for (uint32_t x = 0; x < 23; x++)
                set_raw(rgba, c, x, y, raw(rgb, c, x, y));
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        hdm_image *a = tu_run_step(steps[i], rgb, 0);
        for (int half = 0; half < 2; half++) {
            for (uint32_t y = 0; y < 17; y++)
                for (uint32_t x = 0; x < 23; x++)
                    set_raw(rgba, 3, x, y, half ? 32768 : 65535);
            if (half && (strstr(steps[i], "high") || strstr(steps[i], "band")))
                continue; /* the premultiplied colour's response: checked against the reference */
            hdm_image *b = tu_run_step(steps[i], rgba, 0);
            for (uint32_t c = 0; c < 3; c++)
                for (uint32_t y = 0; y < 17; y++)
                    for (uint32_t x = 0; x < 23; x++) {
                        int e = abs((int)raw(a, c, x, y) - (int)raw(b, c, x, y));
                        cr_assert_leq(e, half ? 1 : 0, "%s alpha %s: (%u,%u,%u) %u vs %u",
                                      steps[i], half ? "0.5" : "1", x, y, c, raw(b, c, x, y),
                                      raw(a, c, x, y));
                    }
            hdm_image_free(b);
        }
        hdm_image_free(a);
    }
    hdm_image_free(rgb);
    hdm_image_free(rgba);
}
