/* SPDX-License-Identifier: MIT */
/* test_ops_filter.c — every kernel and border against an f64 correlation; strips; mask feather */
#include "border_ref.h"
#include "ops_test.h"
#include "testutil.h"

#include <string.h>
#include <unistd.h>

/* ---- the reference: out(x,y) = Σ_ij K(i,j)·I(x + i − cx, y + j − cy), in f64 ---- */

typedef struct refk {
    const char *spec;   /* as the step takes it */
    int kw, kh;
    double k[64 * 64];
    bool positive;      /* no negative taps */
    bool zero_sum;      /* taps adding up to 0 (edges): alpha kept, colour not divided back */
} refk;

static void ref_separable(refk *r, const double *v, int n)
{
    r->kw = r->kh = n;
    for (int j = 0; j < n; j++)
        for (int i = 0; i < n; i++)
            r->k[j * n + i] = v[i] * v[j];
    r->positive = true;
}

static void ref_box(refk *r, int n)
{
    double v[64];
    for (int i = 0; i < n; i++)
        v[i] = 1.0 / n;
    ref_separable(r, v, n);
}

static void ref_gauss(refk *r, double sigma)
{
    int rad = (int)ceil(3 * sigma), n = 2 * rad + 1;
    double v[64], sum = 0;
    for (int i = 0; i < n; i++)
        sum += v[i] = exp(-(double)(i - rad) * (i - rad) / (2 * sigma * sigma));
    for (int i = 0; i < n; i++)
        v[i] /= sum;
    ref_separable(r, v, n);
}

static void ref_matrix(refk *r, int kw, int kh, const double *k)
{
    r->kw = kw;
    r->kh = kh;
    r->positive = true;
    double sum = 0;
    for (int i = 0; i < kw * kh; i++) {
        r->k[i] = k[i];
        sum += k[i];
        if (k[i] < 0)
            r->positive = false;
    }
    r->zero_sum = fabs(sum) < 1e-12;
}

enum { N_KERNELS = 14 };

static void kernel_at(int i, refk *r)
{
    memset(r, 0, sizeof *r);
    switch (i) {
    case 0: r->spec = "box:1"; ref_box(r, 1); break;
    case 1: r->spec = "box:3"; ref_box(r, 3); break;
    case 2: r->spec = "box:5"; ref_box(r, 5); break;
    case 3: r->spec = "gaussian:0.6"; ref_gauss(r, 0.6); break;
    case 4: r->spec = "gaussian:1.5"; ref_gauss(r, 1.5); break;
    case 5: r->spec = "sharpen"; ref_matrix(r, 3, 3, (double[]){0, -1, 0, -1, 5, -1, 0, -1, 0}); break;
    case 6: r->spec = "laplacian"; ref_matrix(r, 3, 3, (double[]){0, 1, 0, 1, -4, 1, 0, 1, 0}); break;
    case 7: r->spec = "sobel-x"; ref_matrix(r, 3, 3, (double[]){-1, 0, 1, -2, 0, 2, -1, 0, 1}); break;
    case 8: r->spec = "sobel-y"; ref_matrix(r, 3, 3, (double[]){-1, -2, -1, 0, 0, 0, 1, 2, 1}); break;
    case 9: r->spec = "emboss"; ref_matrix(r, 3, 3, (double[]){-2, -1, 0, -1, 1, 1, 0, 1, 2}); break;
    case 10: r->spec = "0.25,0.5,0.25"; ref_matrix(r, 3, 1, (double[]){0.25, 0.5, 0.25}); break;
    case 11: r->spec = "0.25;0.5;0.25"; ref_matrix(r, 1, 3, (double[]){0.25, 0.5, 0.25}); break;
    case 12: r->spec = "custom:0.1,0.2;0.3,0.4"; ref_matrix(r, 2, 2, (double[]){0.1, 0.2, 0.3, 0.4}); break;
    default: r->spec = "0 0 0 0;0 0 0 1;0 0 0 0"; ref_matrix(r, 4, 3, (double[]){0,0,0,0, 0,0,0,1, 0,0,0,0}); break;
    }
}

static double ref_filter_at(const hdm_image *in, const refk *k, int b, bool premul, uint32_t c,
                            uint32_t x, uint32_t y, double *alpha_out)
{
    uint32_t a = in->channels - 1;
    int cx = k->kw / 2, cy = k->kh / 2;
    double sum = 0, asum = 0;
    for (int j = 0; j < k->kh; j++)
        for (int i = 0; i < k->kw; i++) {
            long xx = ref_index((long)x + i - cx, in->width, b);
            long yy = ref_index((long)y + j - cy, in->height, b);
            if (xx < 0 || yy < 0)
                continue;
            double t = k->k[j * k->kw + i], v = val(in, c, xx, yy);
            if (premul) {
                double al = val(in, a, xx, yy);
                sum += t * v * al;
                asum += t * al;
            } else {
                sum += t * v;
            }
        }
    if (!premul)
        return sum;
    if (k->zero_sum) { /* the premultiplied colour's response; alpha as it is */
        *alpha_out = val(in, a, x, y);
        return sum;
    }
    *alpha_out = asum;
    return asum > 0 ? sum / asum : 0;
}

static double check_filter(const hdm_image *in, const hdm_image *out, const refk *k, int b)
{
    double worst = 0;
    bool alpha = in->channels == 2 || in->channels == 4;
    for (uint32_t y = 0; y < in->height; y++)
        for (uint32_t x = 0; x < in->width; x++)
            for (uint32_t c = 0; c < in->channels; c++) {
                double al = 0, r;
                if (alpha && c == in->channels - 1)
                    ref_filter_at(in, k, b, true, 0, x, y, &r);
                else
                    r = ref_filter_at(in, k, b, alpha, c, x, y, &al);
                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                          "%s border %s %ux%ux%u %d-bit at (%u,%u,%u): got %u want %g (%.9g)",
                          k->spec, ref_borders[b], in->width, in->height, in->channels,
                          in->depth * 8, x, y, c, raw(out, c, x, y), quantise(r, out->depth), r);
            }
    return worst;
}

static void kernel_test(int ki)
{
    refk *k = malloc(sizeof *k);
    kernel_at(ki, k);
    static const uint32_t chans[] = {1, 3, 4, 2};
    static const uint32_t strips[] = {1, 2, 7, 0};
    double worst[2] = {0, 0};
    rng_seed(1000 + ki);
    for (int di = 0; di < 2; di++)
        for (int s = 0; s <= N_SIZES; s++)
            for (int ci = 0; ci < 4; ci++)
                for (int f = 0; f < FILL_COUNT; f++) {
                    uint32_t w = s < N_SIZES ? sizes[s][0] : 23, h = s < N_SIZES ? sizes[s][1] : 17;
                    hdm_image *in = make_image(w, h, chans[ci], di ? HDM_U16 : HDM_U8, f);
                    if (!k->positive && (chans[ci] == 2 || chans[ci] == 4)) {
                        /* Signed kernels sum alpha with cancellation, where dividing by a
                         * near-zero sum is ill-conditioned in any precision: give them opaque
                         * or fully transparent pixels, whose sums are exact. */
                        for (uint32_t y = 0; y < h; y++)
                            for (uint32_t x = 0; x < w; x++)
                                set_raw(in, chans[ci] - 1, x, y,
                                        rng() % 4 ? (uint32_t)maxval(in->depth) : 0);
                    }
                    for (int b = 0; b < 4; b++) {
                        char step[128];
                        snprintf(step, sizeof step, "filter:%s:border=%s", k->spec, ref_borders[b]);
                        hdm_image *out = tu_run_step(step, in, 0);
                        worst[di] = fmax(worst[di], check_filter(in, out, k, b));
                        /* strips of 1, 2, 7 rows and automatic: the same bits (halo handling) */
                        for (int st = 0; st < 3 && f == FILL_RANDOM; st++) {
                            hdm_image *o2 = tu_run_step(step, in, strips[st]);
                            cr_assert(tu_same(out, o2), "%s: strips of %u rows differ", step,
                                      strips[st]);
                            hdm_image_free(o2);
                        }
                        hdm_image_free(out);
                    }
                    hdm_image_free(in);
                }
    char what[96];
    snprintf(what, sizeof what, "filter %s 8-bit", k->spec);
    report_worst(what, worst[0]);
    snprintf(what, sizeof what, "filter %s 16-bit", k->spec);
    report_worst(what, worst[1]);
    free(k);
}

Test(filter, box1) { kernel_test(0); }
Test(filter, box3) { kernel_test(1); }
Test(filter, box5) { kernel_test(2); }
Test(filter, gaussian_small) { kernel_test(3); }
Test(filter, gaussian) { kernel_test(4); }
Test(filter, sharpen) { kernel_test(5); }
Test(filter, laplacian) { kernel_test(6); }
Test(filter, sobel_x) { kernel_test(7); }
Test(filter, sobel_y) { kernel_test(8); }
Test(filter, emboss) { kernel_test(9); }
Test(filter, row_matrix) { kernel_test(10); }
Test(filter, column_matrix) { kernel_test(11); }
Test(filter, even_matrix) { kernel_test(12); }
Test(filter, shift_matrix) { kernel_test(13); }

/* A tall image through a wide gaussian in strips of every size: the ring never loses a row. */
Test(filter, tall_image_strips)
{
    rng_seed(5);
    hdm_image *in = make_image(7, 200, 4, HDM_U8, FILL_RANDOM);
    for (int b = 0; b < 4; b++) {
        char step[64];
        snprintf(step, sizeof step, "filter:gaussian:4:border=%s", ref_borders[b]);
        hdm_image *ref = tu_run_step(step, in, 200);
        for (uint32_t rows = 1; rows < 40; rows += 3) {
            hdm_image *out = tu_run_step(step, in, rows);
            cr_assert(tu_same(ref, out), "%s in strips of %u", step, rows);
            hdm_image_free(out);
        }
        hdm_image_free(ref);
    }
    hdm_image_free(in);
}

Test(filter, kernel_file_and_forms)
{
    char dir[] = "/tmp/hdm-filter-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[96], step[160];
    snprintf(path, sizeof path, "%s/k.txt", dir);
    FILE *f = fopen(path, "w");
    fputs("0 -1 0\n-1, 5, -1\r\n0 -1 0\n\n", f);
    fclose(f);
    rng_seed(8);
    hdm_image *in = make_image(13, 11, 3, HDM_U8, FILL_RANDOM);
    hdm_image *a = tu_run_step("filter:sharpen", in, 0);
    snprintf(step, sizeof step, "filter:@%s", path);
    hdm_image *b = tu_run_step(step, in, 0);
    hdm_image *c = tu_run_step("filter:kernel=0,-1,0;-1,5,-1;0,-1,0:border=clamp", in, 0);
    hdm_image *d = tu_run_step("filter:sharpen:mirror", in, 0);
    cr_assert(tu_same(a, b) && tu_same(a, c));
    hdm_image *e = tu_run_step("filter:sharpen:border=mirror", in, 0);
    cr_assert(tu_same(d, e));
    hdm_image *imgs[] = {in, a, b, c, d, e};
    for (size_t i = 0; i < 6; i++)
        hdm_image_free(imgs[i]);
    remove(path);
    rmdir(dir);
}

Test(filter, bad_steps)
{
    const char *bad[] = {"filter", "filter:nope", "filter:box:4", "filter:box:0", "filter:box",
                         "filter:box:x", "filter:gaussian:0", "filter:gaussian:-2",
                         "filter:gaussian:abc", "filter:1,2;3", "filter:1,x,3", "filter:;;",
                         "filter:sharpen:2", "filter:box:3:border=tile", "filter:box:3:extra=1",
                         "filter:gaussian:1e9", "filter:box:2097155", "filter:sobel-x:signed=bogus",
                         "filter:sobel-x:signed=abs:signed=abs"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i], &e), HDM_ERR_ARG, "%s accepted", bad[i]);
        cr_assert(strstr(e.message, "filter"), "%s: %s", bad[i], e.message);
        hdm_pipeline_free(p);
    }
    /* a sigma just past the largest is told from it: the bound as precise as the value */
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:gaussian:349525.4", &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "at most 349525.33") && strstr(e.message, "not 349525.4"), "%s",
              e.message);
    cr_assert_eq(hdm_pipeline_add(p, "filter:gaussian:349525.3", &e), HDM_OK, "%s", e.message);
    hdm_pipeline_free(p);
}

/* The normalised gaussian of radius ceil(3σ), as the filter makes it; *n taps. */
static double *gauss_taps(double sigma, int *n)
{
    int rad = (int)ceil(3 * sigma);
    *n = 2 * rad + 1;
    double *t = malloc((size_t)*n * sizeof *t), sum = 0;
    for (int i = 0; i < *n; i++)
        sum += t[i] = exp(-0.5 * ((i - rad) / sigma) * ((i - rad) / sigma));
    for (int i = 0; i < *n; i++)
        t[i] /= sum;
    return t;
}

/* out (made by step from in's first three channels, border b) within 1 LSB of the f64
 * separable sum of the n taps t: the row pass of every row, then the column pass over it. */
static void check_separable(const hdm_image *in, const hdm_image *out, const double *t, int n,
                            int b, const char *step)
{
    double worst = 0;
    size_t wh = (size_t)in->width * in->height;
    double *src = malloc(wh * sizeof *src), *ref = malloc(wh * sizeof *ref);
    for (uint32_t c = 0; c < 3; c++) {
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++)
                src[(size_t)y * in->width + x] = val(in, c, x, y);
        ref_sep_sum(src, in->width, in->height, t, n, b, ref);
        for (uint32_t y = 0; y < in->height; y++)
            for (uint32_t x = 0; x < in->width; x++) {
                double acc = ref[(size_t)y * in->width + x];
                cr_assert(lsb_off(out, c, x, y, acc, &worst) <= 1,
                          "%s %d-bit at (%u,%u,%u): got %u want %g", step, in->depth * 8, x, y,
                          c, raw(out, c, x, y), quantise(acc, out->depth));
            }
    }
    free(src);
    free(ref);
}

/* Kernels far wider than the image (σ = 60: 361 taps over a 45-pixel image) against an f64
 * separable sum, every border: the old cap of σ ≤ 40 is gone. */
Test(filter, large_kernels_every_border)
{
    rng_seed(4242);
    static const double sigmas[] = {60, 45.5};
    for (int si = 0; si < 2; si++)
        for (int di = 0; di < 2; di++) {
            hdm_image *in = make_image(45, 31, 3, di ? HDM_U16 : HDM_U8, FILL_RANDOM);
            double sigma = sigmas[si];
            int n;
            double *t = gauss_taps(sigma, &n);
            for (int b = 0; b < 4; b++) {
                char step[96];
                snprintf(step, sizeof step, "filter:gaussian:%g:border=%s", sigma, ref_borders[b]);
                hdm_image *out = tu_run_step(step, in, 0);
                check_separable(in, out, t, n, b, step);
                hdm_image_free(out);
            }
            free(t);
            hdm_image_free(in);
        }
}

/* Kernels reaching far past the image (their taps folded by the border rule before the sum):
 * a random 37 × 29 matrix and one tap at a far corner, over images from 1 × 1 up, every border,
 * gray and RGBA, 8 and 16 bits, against the f64 sum over the unfolded taps. And a wrap box of
 * 1,500,015 (100,001 times the 5 × 3 image's 15) gives every pixel the image's mean. */
Test(filter, kernels_past_the_image)
{
    rng_seed(777);
    static const uint32_t sizes_past[][2] = {{1, 1}, {2, 3}, {5, 4}, {9, 7}, {16, 1}, {1, 12}};
    refk *k = malloc(sizeof *k);
    char *spec = malloc(37 * 29 * 20 + 64);
    for (int kind = 0; kind < 2; kind++) {
        double t[37 * 29], sum = 0;
        for (int i = 0; i < 37 * 29; i++)
            sum += t[i] = kind ? 0 : 0.05 + (rng() % 1000) / 1000.0;
        if (kind)
            t[2 * 37 + 35] = sum = 1; /* row 2, column 35: 12 rows up, 17 columns right */
        size_t at = 0;
        for (int i = 0; i < 37 * 29; i++)
            at += (size_t)sprintf(spec + at, "%.9g%s", t[i] /= sum,
                                  i % 37 < 36 ? "," : i < 37 * 29 - 1 ? ";" : "");
        memset(k, 0, sizeof *k);
        k->spec = spec;
        ref_matrix(k, 37, 29, t);
        for (size_t z = 0; z < sizeof sizes_past / sizeof sizes_past[0]; z++)
            for (int di = 0; di < 2; di++)
                for (uint32_t ch = 1; ch <= 4; ch += 3) {
                    hdm_image *in = make_image(sizes_past[z][0], sizes_past[z][1], ch,
                                               di ? HDM_U16 : HDM_U8, FILL_RANDOM);
                    for (int b = 0; b < 4; b++) {
                        char *step = malloc(strlen(spec) + 64);
                        sprintf(step, "filter:%s:border=%s", spec, ref_borders[b]);
                        hdm_image *out = tu_run_step(step, in, 0);
                        check_filter(in, out, k, b);
                        hdm_image_free(out);
                        free(step);
                    }
                    hdm_image_free(in);
                }
    }
    free(spec);
    free(k);

    hdm_image *in = make_image(5, 3, 3, HDM_U16, FILL_RANDOM);
    hdm_image *out = tu_run_step("filter:box:1500015:border=wrap", in, 0);
    for (uint32_t c = 0; c < 3; c++) {
        double mean = 0, worst = 0;
        for (uint32_t y = 0; y < 3; y++)
            for (uint32_t x = 0; x < 5; x++)
                mean += val(in, c, x, y) / 15;
        for (uint32_t y = 0; y < 3; y++)
            for (uint32_t x = 0; x < 5; x++)
                cr_assert(lsb_off(out, c, x, y, mean, &worst) <= 1, "(%u,%u,%u): %u, mean %g",
                          x, y, c, raw(out, c, x, y), mean * 65535);
    }
    hdm_image_free(out);
    hdm_image_free(in);
}

/* A gaussian wide enough that its column pass goes block by block and its rows eight at a
 * time, with a row count that leaves a part group: every border within 1 LSB of the f64 sum,
 * and the same bits for 1, 2 and 3 threads (the rows shared out in groups). */
Test(filter, wide_rows_blocks_and_threads)
{
    rng_seed(777);
    const double sigma = 40;
    int n;
    double *t = gauss_taps(sigma, &n);
    hdm_image *in = make_image(1203, 21, 3, HDM_U8, FILL_RANDOM);
    for (int b = 0; b < 4; b++) {
        char step[96];
        snprintf(step, sizeof step, "filter:gaussian:%g:border=%s", sigma, ref_borders[b]);
        hdm_image *out[3];
        for (int th = 0; th < 3; th++) {
            hdm_options o;
            hdm_options_init(&o);
            o.threads = (uint32_t)th + 1;
            out[th] = tu_run_step_with(step, in, &o);
            if (th)
                cr_assert(tu_same(out[0], out[th]), "%s: %d threads differ from 1", step,
                          th + 1);
        }
        check_separable(in, out[0], t, n, b, step);
        for (int th = 0; th < 3; th++)
            hdm_image_free(out[th]);
    }
    free(t);
    hdm_image_free(in);
}

/* signed=abs gives a sum's magnitude, signed=offset adds mid-grey; colour only, alpha as it is */
Test(filter, signed_modes)
{
    static const char *const modes[] = {"clamp", "abs", "offset"};
    static const uint32_t chans[] = {1, 3, 4};
    rng_seed(77);
    for (int ki = 6; ki <= 8; ki++) { /* laplacian, sobel-x, sobel-y */
        refk *k = malloc(sizeof *k);
        kernel_at(ki, k);
        for (int di = 0; di < 2; di++)
            for (int ci = 0; ci < 3; ci++) {
                hdm_image *in = make_image(19, 13, chans[ci], di ? HDM_U16 : HDM_U8,
                                           FILL_RANDOM);
                if (chans[ci] == 4) /* opaque: a signed kernel's alpha sum stays exact */
                    for (uint32_t y = 0; y < 13; y++)
                        for (uint32_t x = 0; x < 19; x++)
                            set_raw(in, 3, x, y, (uint32_t)maxval(in->depth));
                for (int m = 0; m < 3; m++) {
                    char step[128];
                    snprintf(step, sizeof step, "filter:%s:border=mirror:signed=%s", k->spec,
                             modes[m]);
                    hdm_image *out = tu_run_step(step, in, 0);
                    double worst = 0;
                    int negative = 0;
                    for (uint32_t y = 0; y < 13; y++)
                        for (uint32_t x = 0; x < 19; x++)
                            for (uint32_t c = 0; c < in->channels; c++) {
                                double al = 0, r;
                                bool alpha = chans[ci] == 4 && c == 3;
                                if (alpha)
                                    ref_filter_at(in, k, 1, true, 0, x, y, &r);
                                else
                                    r = ref_filter_at(in, k, 1, chans[ci] == 4, c, x, y, &al);
                                negative += !alpha && r < -0.01;
                                if (!alpha && m == 1)
                                    r = fabs(r);
                                else if (!alpha && m == 2)
                                    r += 0.5;
                                cr_assert(lsb_off(out, c, x, y, r, &worst) <= 1,
                                          "%s %ux%ux%u %d-bit at (%u,%u,%u): got %u want %g",
                                          step, 19, 13, chans[ci], in->depth * 8, x, y, c,
                                          raw(out, c, x, y), quantise(r, out->depth));
                            }
                    cr_assert_gt(negative, 10, "%s: the kernel gave negative sums", step);
                    hdm_image_free(out);
                }
                hdm_image_free(in);
            }
        free(k);
    }
}

/* ---- mask --feather and --threshold ---- */

static hdm_image *mask_step(const char *fmt, const hdm_image *img, const hdm_image *mask)
{
    char dir[] = "/tmp/hdm-mask-XXXXXX", path[64], step[160];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/m.png", dir);
    cr_assert_eq(hdm_save(mask, path, NULL, NULL), HDM_OK);
    snprintf(step, sizeof step, fmt, path);
    hdm_image *out = tu_run_step(step, img, 3);
    remove(path);
    rmdir(dir);
    return out;
}

Test(mask, feather)
{
    rng_seed(11);
    double worst = 0;
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        hdm_image *img = make_image(19, 14, 3, d, FILL_RANDOM);
        hdm_image *m = make_image(19, 14, 1, d, FILL_RANDOM);
        hdm_image *out = mask_step("mask:%s:feather=1.2", img, m);
        refk *k = malloc(sizeof *k);
        ref_gauss(k, 1.2);
        for (uint32_t y = 0; y < 14; y++)
            for (uint32_t x = 0; x < 19; x++) {
                double mv = ref_filter_at(m, k, 0, false, 0, x, y, NULL);
                double mq = quantise(mv, d) / maxval(d);
                for (uint32_t c = 0; c < 3; c++)
                    cr_assert(lsb_off(out, c, x, y, val(img, c, x, y) * mq, &worst) <= 1);
            }
        free(k);
        hdm_image_free(img);
        hdm_image_free(m);
        hdm_image_free(out);
    }
    report_worst("mask feather", worst);
}

Test(mask, threshold)
{
    rng_seed(12);
    static const double ts[] = {0, 0.2, 0.5, 1};
    for (int di = 0; di < 2; di++)
        for (int ti = 0; ti < 4; ti++) {
            hdm_depth d = di ? HDM_U16 : HDM_U8;
            double M = maxval(d);
            hdm_image *img = make_image(23, 9, 4, d, FILL_RANDOM);
            hdm_image *m = make_image(23, 9, 1, d, FILL_RANDOM);
            set_raw(m, 0, 0, 0, (uint32_t)(0.2 * M + 0.5)); /* on the 0.2 boundary: passes */
            char fmt[64];
            snprintf(fmt, sizeof fmt, "mask:%%s:threshold=%g:invert", ts[ti]);
            hdm_image *out = mask_step(fmt, img, m);
            for (uint32_t y = 0; y < 9; y++)
                for (uint32_t x = 0; x < 23; x++) {
                    /* m ≥ T·M → M, else 0; inverted; the sample rounds 0.2·M to its nearest */
                    bool pass = raw(m, 0, x, y) >= ceil(ts[ti] * M - 1e-6);
                    for (uint32_t c = 0; c < 4; c++)
                        cr_assert_eq(raw(out, c, x, y), pass ? 0 : raw(img, c, x, y),
                                     "T %g m %u", ts[ti], raw(m, 0, x, y));
                }
            hdm_image_free(img);
            hdm_image_free(m);
            hdm_image_free(out);
        }
}

Test(mask, bad_steps)
{
    const char *bad[] = {"mask:m.png:feather=0", "mask:m.png:feather=-1", "mask:m.png:feather=x",
                         "mask:m.png:threshold=1.5", "mask:m.png:threshold=-0.1",
                         "mask:m.png:threshold=abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i], &e), HDM_ERR_ARG, "%s accepted", bad[i]);
        cr_assert(strstr(e.message, "mask"), "%s: %s", bad[i], e.message);
        hdm_pipeline_free(p);
    }
}
