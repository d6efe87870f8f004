/* SPDX-License-Identifier: MIT */
/* test_ops_geometry.c — operands of another size: placement, tiling, outside, fit, and every
 * resampling filter against an f64 evaluation */
#include "kernel/kernel.h"
#include "ops/ops.h"
#include "ops_test.h"
#include "pipeline.h"
#include "resample_ref.h"
#include "testutil.h"

#include <string.h>

TestSuite(geometry, .init = tu_setup, .fini = tu_teardown);

/* Writes img as tu_dir/name (a PNG). */
static void save(const hdm_image *img, const char *name)
{
    hdm_error e = {0};
    cr_assert_eq(hdm_save(img, tu_path(name), NULL, &e), HDM_OK, "%s", e.message);
}

static int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

/* ---- placement: the operand's pixel (x − px, y − py), or outside, by hand ---- */

/* An all-M gray image masked by op placed as step says gives the placed mask itself:
 * round(M·m/M) = m. */
static hdm_image *placed_mask(const hdm_image *img, const char *fields)
{
    char step[256];
    snprintf(step, sizeof step, "mask:%s:%s", tu_path("op.png"), fields);
    return tu_run_step(step, img, 0);
}

static void expect_placed(const hdm_image *out, const hdm_image *op, int64_t px, int64_t py,
                          bool tile, uint32_t outside, const char *what)
{
    for (uint32_t y = 0; y < out->height; y++)
        for (uint32_t x = 0; x < out->width; x++) {
            int64_t sx = (int64_t)x - px, sy = (int64_t)y - py;
            if (tile) {
                sx = floor_mod(sx, op->width);
                sy = floor_mod(sy, op->height);
            }
            bool in = sx >= 0 && sy >= 0 && sx < op->width && sy < op->height;
            uint32_t want = in ? raw(op, 0, (uint32_t)sx, (uint32_t)sy) : outside;
            cr_assert_eq(raw(out, 0, x, y), want, "%s: (%u,%u) is %u, not %u", what, x, y,
                         raw(out, 0, x, y), want);
        }
}

Test(geometry, at_and_every_gravity)
{
    rng_seed(1);
    /* a 13×9 image, a 5×4 mask: gravity puts its corner at x ∈ {0, 4, 8}, y ∈ {0, 2, 5}
     * (centred: floor((13 − 5)/2) = 4, floor((9 − 4)/2) = 2) */
    hdm_image *img = make_image(13, 9, 1, HDM_U8, FILL_MAX);
    hdm_image *op = make_image(5, 4, 1, HDM_U8, FILL_RANDOM);
    save(op, "op.png");
    static const char *const g[9] = {"nw", "n", "ne", "w", "center", "e", "sw", "s", "se"};
    static const int gx[3] = {0, 4, 8}, gy[3] = {0, 2, 5};
    static const int offs[][2] = {{0, 0}, {-2, 3}, {7, -6}, {-9, -9}};
    for (int i = 0; i < 9; i++)
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++)
            for (int outside = 0; outside < 2; outside++) {
                char f[128];
                snprintf(f, sizeof f, "gravity=%s:offset=%d,%d:outside=%d", g[i], offs[k][0],
                         offs[k][1], outside);
                hdm_image *out = placed_mask(img, f);
                expect_placed(out, op, gx[i % 3] + offs[k][0], gy[i / 3] + offs[k][1], false,
                              outside ? 255 : 0, f);
                hdm_image_free(out);
            }
    static const int ats[][2] = {{0, 0}, {3, 2}, {-3, -2}, {10, 7}, {-4, 6}, {13, 0}, {-5, -4}};
    for (size_t k = 0; k < sizeof ats / sizeof ats[0]; k++) {
        char f[64];
        snprintf(f, sizeof f, "at=%d,%d", ats[k][0], ats[k][1]);
        hdm_image *out = placed_mask(img, f);
        expect_placed(out, op, ats[k][0], ats[k][1], false, 255, f); /* default: unmasked */
        hdm_image_free(out);
    }
    /* gravity alone, and offset alone (from the top-left corner) */
    hdm_image *out = placed_mask(img, "gravity=se");
    expect_placed(out, op, 8, 5, false, 255, "gravity=se");
    hdm_image_free(out);
    out = placed_mask(img, "offset=2,1");
    expect_placed(out, op, 2, 1, false, 255, "offset=2,1");
    hdm_image_free(out);
    hdm_image_free(op);
    hdm_image_free(img);
}

Test(geometry, tile)
{
    rng_seed(2);
    hdm_image *img = make_image(23, 17, 1, HDM_U16, FILL_MAX);
    hdm_image *op = make_image(5, 4, 1, HDM_U16, FILL_RANDOM);
    save(op, "op.png");
    static const char *const f[] = {"tile", "tile:at=-3,2", "tile:at=7,-9", "tile:gravity=se",
                                    "tile:gravity=center:offset=1,1"};
    static const int pos[][2] = {{0, 0}, {-3, 2}, {7, -9}, {18, 13}, {10, 7}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        hdm_image *out = placed_mask(img, f[i]);
        expect_placed(out, op, pos[i][0], pos[i][1], true, 0, f[i]);
        hdm_image_free(out);
    }
    /* a tile larger than the image is only placed */
    hdm_image *big = make_image(40, 30, 1, HDM_U16, FILL_RANDOM);
    save(big, "op.png");
    hdm_image *out = placed_mask(img, "tile:at=-31,-5");
    expect_placed(out, big, -31, -5, true, 0, "big tile");
    hdm_image_free(out);
    hdm_image_free(big);
    hdm_image_free(op);
    hdm_image_free(img);
}

/* Outside a placed mask: 1 keeps the image, 0 clears it; with invert the default follows
 * the complement, so the image is still kept outside. mul's outside is 1 too, the identity. */
Test(geometry, outside)
{
    rng_seed(3);
    hdm_image *img = make_image(9, 7, 3, HDM_U8, FILL_RANDOM);
    hdm_image *op = make_image(3, 2, 1, HDM_U8, FILL_RANDOM);
    save(op, "op.png");
    struct { const char *step; bool kept; } c[] = {
        {"mask:%s:at=4,4", true}, {"mask:%s:at=4,4:outside=1", true},
        {"mask:%s:at=4,4:outside=0", false}, {"mask:%s:at=4,4:invert", true},
        {"mask:%s:at=4,4:invert:outside=1", false}, {"mask:%s:at=4,4:invert:outside=0", true},
        {"mul:%s:at=4,4", true}, {"mul:%s:at=4,4:outside=0", false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char step[256];
        snprintf(step, sizeof step, c[i].step, tu_path("op.png"));
        hdm_image *out = tu_run_step(step, img, 0);
        for (uint32_t ch = 0; ch < 3; ch++)
            for (uint32_t y = 0; y < 7; y++)
                for (uint32_t x = 0; x < 9; x++) {
                    bool in = x >= 4 && x < 7 && y >= 4 && y < 6;
                    uint32_t a = raw(img, ch, x, y), got = raw(out, ch, x, y);
                    if (in) {
                        uint32_t m = raw(op, 0, x - 4, y - 4);
                        if (strstr(step, "invert"))
                            m = 255 - m;
                        cr_assert_eq(got, (a * m + 127) / 255, "%s (%u,%u)", step, x, y);
                    } else {
                        cr_assert_eq(got, c[i].kept ? a : 0, "%s outside (%u,%u)", step, x, y);
                    }
                }
        hdm_image_free(out);
    }
    hdm_image_free(op);
    hdm_image_free(img);
}

/* A placed blend top is transparent where it does not reach: the output gains an alpha plane
 * (opaque over an opaque base) and shows the base there; where it lies, normal mode shows it. */
Test(geometry, blend_top_transparent_outside)
{
    rng_seed(4);
    hdm_image *base = make_image(11, 8, 3, HDM_U8, FILL_RANDOM);
    hdm_image *top = make_image(4, 3, 3, HDM_U8, FILL_RANDOM);
    save(top, "top.png");
    char step[256];
    snprintf(step, sizeof step, "blend:normal:%s:gravity=se:offset=-1,-2", tu_path("top.png"));
    hdm_image *out = tu_run_step(step, base, 0);
    cr_assert_eq(out->channels, 4);
    for (uint32_t y = 0; y < 8; y++)
        for (uint32_t x = 0; x < 11; x++) {
            bool in = x >= 6 && x < 10 && y >= 3 && y < 6;
            for (uint32_t c = 0; c < 3; c++)
                cr_assert_eq(raw(out, c, x, y), in ? raw(top, c, x - 6, y - 3) : raw(base, c, x, y),
                             "(%u,%u) plane %u", x, y, c);
            cr_assert_eq(raw(out, 3, x, y), 255);
        }
    hdm_image_free(out);
    /* a top with its own alpha keeps it inside and is clear outside */
    hdm_image *ta = make_image(4, 3, 4, HDM_U8, FILL_RANDOM);
    save(ta, "top.png");
    snprintf(step, sizeof step, "blend:normal:%s:at=-2,6", tu_path("top.png"));
    out = tu_run_step(step, base, 0);
    cr_assert_eq(out->channels, 4);
    for (uint32_t y = 0; y < 8; y++)
        for (uint32_t x = 0; x < 11; x++)
            if (!(x < 2 && y >= 6))
                for (uint32_t c = 0; c < 3; c++)
                    cr_assert_eq(raw(out, c, x, y), raw(base, c, x, y), "(%u,%u)", x, y);
    hdm_image_free(out);
    hdm_image_free(ta);
    hdm_image_free(top);
    hdm_image_free(base);
}

/* ---- fit: the geometry of each mode, on a flat operand (any filter keeps it flat) ---- */

Test(geometry, fit_modes)
{
    hdm_image *img = make_image(30, 30, 1, HDM_U8, FILL_MAX);
    hdm_image *op = make_image(10, 5, 1, HDM_U8, FILL_ZERO);
    for (uint32_t y = 0; y < 5; y++)
        for (uint32_t x = 0; x < 10; x++)
            set_raw(op, 0, x, y, 200);
    save(op, "op.png");
    struct { const char *f; uint32_t x0, y0, x1, y1; } c[] = {
        {"fit=stretch", 0, 0, 30, 30},
        {"fit=cover", 0, 0, 30, 30},             /* 60×30, centred: x from −15 */
        {"fit=contain", 0, 7, 30, 22},           /* 30×15 centred: floor(15/2) = 7 */
        {"fit=contain:gravity=n", 0, 0, 30, 15},
        {"fit=contain:gravity=s", 0, 15, 30, 30},
        {"fit=contain:at=5,-3", 5, 0, 30, 12},
        {"fit=contain:offset=0,20", 0, 27, 30, 30},
        {"fit=contain:resample=nearest", 0, 7, 30, 22},
        {"fit=contain:resample=box", 0, 7, 30, 22},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        char f[128];
        snprintf(f, sizeof f, "%s:outside=0", c[i].f);
        hdm_image *out = placed_mask(img, f);
        cr_assert_eq(out->width, 30);
        cr_assert_eq(out->height, 30);
        for (uint32_t y = 0; y < 30; y++)
            for (uint32_t x = 0; x < 30; x++) {
                bool in = x >= c[i].x0 && x < c[i].x1 && y >= c[i].y0 && y < c[i].y1;
                cr_assert_eq(raw(out, 0, x, y), in ? 200u : 0u, "%s: (%u,%u) is %u", f, x, y,
                             raw(out, 0, x, y));
            }
        hdm_image_free(out);
    }
    /* cover crops the middle of what it scaled: a left and right half of the operand that
     * differ show up at x < 15 and x ≥ 15 of the 60-wide scaling, so the image, from x = −15,
     * meets their border at x = 15 */
    for (uint32_t y = 0; y < 5; y++)
        for (uint32_t x = 5; x < 10; x++)
            set_raw(op, 0, x, y, 50);
    save(op, "op.png");
    hdm_image *out = placed_mask(img, "fit=cover:resample=nearest");
    for (uint32_t y = 0; y < 30; y++)
        for (uint32_t x = 0; x < 30; x++)
            cr_assert_eq(raw(out, 0, x, y), x < 15 ? 200u : 50u, "cover (%u,%u)", x, y);
    hdm_image_free(out);
    out = placed_mask(img, "fit=cover:gravity=w:resample=nearest"); /* x from 0: all left half */
    for (uint32_t x = 0; x < 30; x++)
        cr_assert_eq(raw(out, 0, x, 10), 200u, "cover west x=%u", x);
    hdm_image_free(out);
    hdm_image_free(op);
    hdm_image_free(img);
}

/* ---- resampling against f64 ---- */

static hdm_image *resample(const hdm_image *in, uint32_t sw, uint32_t sh, uint32_t x0,
                           uint32_t y0, uint32_t w, uint32_t h, hdm__rfilter f, bool premul,
                           const hdm_options *opt_in)
{
    hdm_options opt;
    hdm_options_init(&opt);
    if (opt_in)
        opt = *opt_in;
    hdm_error e = {0};
    hdm__source *src, *rs;
    cr_assert_eq(hdm__source_from_image((hdm_image *)in, false, "in", HDM_FORMAT_UNKNOWN, &src,
                                        &e), HDM_OK);
    cr_assert_eq(hdm__resample_source(src, sw, sh, x0, y0, w, h, f, premul, &opt, &rs, &e),
                 HDM_OK, "%s", e.message);
    hdm_image *out;
    cr_assert_eq(hdm__run_to_image(rs, &opt, &out, &e), HDM_OK, "%s", e.message);
    return out;
}

static const char *const filter_names[] = {"lanczos3", "bicubic", "bilinear", "nearest", "box"};

static void filter_test(hdm__rfilter f)
{
    rng_seed(10 + f);
    static const uint32_t shapes[][4] = {
        {17, 13, 40, 29}, /* enlarge */
        {40, 29, 9, 7},   /* shrink */
        {30, 10, 12, 25}, /* shrink one way, enlarge the other */
        {8, 8, 8, 8},     /* the same size: a copy */
        {1, 5, 7, 2},     /* a single column */
        {64, 3, 8, 3},    /* 8× */
    };
    struct { uint32_t ch; hdm_depth d; bool premul; } kinds[] = {
        {1, HDM_U8, false}, {3, HDM_U16, false}, {1, HDM_U16, false}, {4, HDM_U8, true},
        {2, HDM_U16, true},
    };
    double worst = 0;
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            uint32_t w = shapes[s][0], h = shapes[s][1], sw = shapes[s][2], sh = shapes[s][3];
            hdm_image *in = make_image(w, h, kinds[k].ch, kinds[k].d, FILL_RANDOM);
            if (kinds[k].premul) /* transparent pixels among the others: tiny alphas too */
                for (uint32_t y = 0; y < h; y++)
                    for (uint32_t x = 0; x < w; x++)
                        if (rng() % 3 == 0)
                            set_raw(in, kinds[k].ch - 1, x, y, 0);
            hdm_image *out = resample(in, sw, sh, 0, 0, sw, sh, f, kinds[k].premul, NULL);
            cr_assert_eq(out->width, sw);
            cr_assert_eq(out->height, sh);
            double *ref = reference(in, sw, sh, f, kinds[k].premul);
            for (uint32_t c = 0; c < kinds[k].ch; c++)
                for (uint32_t y = 0; y < sh; y++)
                    for (uint32_t x = 0; x < sw; x++) {
                        double r = ref[((size_t)c * sh + y) * sw + x];
                        double e = lsb_off(out, c, x, y, r, &worst);
                        cr_assert_leq(e, 1, "%s %ux%u→%ux%u ch %u: (%u,%u) plane %u: %u, f64 %f",
                                      filter_names[f], w, h, sw, sh, kinds[k].ch, x, y, c,
                                      raw(out, c, x, y), r * maxval(out->depth));
                    }
            /* a window of the scaling is the same pixels as the whole one's */
            if (sw > 2 && sh > 2) {
                hdm_image *win = resample(in, sw, sh, 1, 2, sw - 2, sh - 2, f, kinds[k].premul,
                                          NULL);
                for (uint32_t c = 0; c < kinds[k].ch; c++)
                    for (uint32_t y = 0; y + 2 < sh; y++)
                        for (uint32_t x = 0; x + 2 < sw; x++)
                            cr_assert_eq(raw(win, c, x, y), raw(out, c, x + 1, y + 2),
                                         "%s window (%u,%u)", filter_names[f], x, y);
                hdm_image_free(win);
            }
            free(ref);
            hdm_image_free(out);
            hdm_image_free(in);
        }
    report_worst(filter_names[f], worst);
}

Test(geometry, lanczos3) { filter_test(HDM__RS_LANCZOS3); }
Test(geometry, bicubic) { filter_test(HDM__RS_BICUBIC); }
Test(geometry, bilinear) { filter_test(HDM__RS_BILINEAR); }
Test(geometry, nearest) { filter_test(HDM__RS_NEAREST); }
Test(geometry, box) { filter_test(HDM__RS_BOX); }

/* The step's fit=stretch is that resampler, with every filter name. */
Test(geometry, fit_step_uses_the_filter)
{
    rng_seed(20);
    hdm_image *img = make_image(23, 11, 1, HDM_U8, FILL_MAX);
    hdm_image *op = make_image(9, 14, 1, HDM_U8, FILL_RANDOM);
    save(op, "op.png");
    for (int f = 0; f < HDM__RS_COUNT; f++) {
        char fields[64];
        snprintf(fields, sizeof fields, "fit=stretch:resample=%s", filter_names[f]);
        hdm_image *out = placed_mask(img, fields);
        hdm_image *want = resample(op, 23, 11, 0, 0, 23, 11, (hdm__rfilter)f, false, NULL);
        tu_assert_same(out, want, fields);
        hdm_image_free(out);
        hdm_image_free(want);
    }
    /* the same fields through hdm_pipeline_add_fields, unsplit */
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    const char *fields[] = {tu_path("op.png"), "fit=stretch", "resample=box"};
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_add_fields(p, "mask", fields, 3, &e), HDM_OK, "%s", e.message);
    hdm_image *viaf;
    cr_assert_eq(hdm_pipeline_run_image(p, img, NULL, &viaf, &e), HDM_OK, "%s", e.message);
    hdm_image *boxed = resample(op, 23, 11, 0, 0, 23, 11, HDM__RS_BOX, false, NULL);
    tu_assert_same(viaf, boxed, "hdm_pipeline_add_fields");
    hdm_image_free(viaf);
    hdm_image_free(boxed);
    hdm_pipeline_free(p);
    /* lanczos3 is the default */
    hdm_image *out = placed_mask(img, "fit=stretch");
    hdm_image *want = resample(op, 23, 11, 0, 0, 23, 11, HDM__RS_LANCZOS3, false, NULL);
    tu_assert_same(out, want, "default filter");
    hdm_image_free(out);
    hdm_image_free(want);
    hdm_image_free(op);
    hdm_image_free(img);
}

/* Shrinking averages: a one-pixel checkerboard shrunk 8× is a flat mid-gray with every filter
 * but nearest, which samples points and so keeps only black or white. */
Test(geometry, shrink_antialiased)
{
    hdm_image *in = make_image(256, 256, 1, HDM_U8, FILL_ZERO);
    for (uint32_t y = 0; y < 256; y++)
        for (uint32_t x = 0; x < 256; x++)
            set_raw(in, 0, x, y, (x + y) % 2 ? 255 : 0);
    for (int f = 0; f < HDM__RS_COUNT; f++) {
        hdm_image *out = resample(in, 32, 32, 0, 0, 32, 32, (hdm__rfilter)f, false, NULL);
        for (uint32_t y = 0; y < 32; y++)
            for (uint32_t x = 0; x < 32; x++) {
                uint32_t v = raw(out, 0, x, y);
                if (f == HDM__RS_NEAREST)
                    cr_assert(v == 0 || v == 255, "nearest (%u,%u) is %u", x, y, v);
                else if (x > 0 && y > 0 && x < 31 && y < 31)
                    cr_assert(v >= 126 && v <= 129, "%s (%u,%u) is %u, not mid-gray",
                              filter_names[f], x, y, v);
                else /* the edge reads the edge sample again: a little weight to one side */
                    cr_assert(v >= 112 && v <= 143, "%s edge (%u,%u) is %u, not near gray",
                              filter_names[f], x, y, v);
            }
        hdm_image_free(out);
    }
    hdm_image_free(in);
}

/* ---- streamed: a large operand resampled within a max_memory far below its size ---- */

/* A 12000 × 12000 gray source (137 MiB decoded) made row by row: a vertical ramp, each row
 * flat. */
typedef struct ramp_source {
    hdm__source base;
} ramp_source;

static double ramp(uint32_t y, uint32_t h) { return (double)(y * 255ull / (h - 1)) / 255; }

static hdm_status ramp_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    (void)err;
    for (uint32_t r = 0; r < rows; r++)
        memset(hdm_row(strip, 0, r), (int)(255 * ramp(s->next + r, s->info.height) + 0.5),
               s->info.width);
    return HDM_OK;
}

static void ramp_close(hdm__source *s) { free(s); }

Test(geometry, streamed_within_max_memory, .timeout = 120)
{
    const uint32_t W = 12000, H = 12000, OW = 150, OH = 100;
    ramp_source *r = calloc(1, sizeof *r);
    r->base.info = (hdm_info){W, H, 1, HDM_U8, HDM_FORMAT_UNKNOWN};
    r->base.path = "ramp";
    r->base.read = ramp_read;
    r->base.close = ramp_close;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_memory = 4u << 20; /* 4 MiB, against 137 MiB decoded */
    hdm_error e = {0};
    hdm__source *rs;
    cr_assert_eq(hdm__resample_source(&r->base, OW, OH, 0, 0, OW, OH, HDM__RS_LANCZOS3, false,
                                      &opt, &rs, &e), HDM_OK, "%s", e.message);
    cr_assert_lt(rs->held, opt.max_memory, "holds %llu", (unsigned long long)rs->held);
    hdm_image *out;
    cr_assert_eq(hdm__run_to_image(rs, &opt, &out, &e), HDM_OK, "%s", e.message);
    double *wy = malloc(sizeof(double) * H), worst = 0;
    for (uint32_t y = 0; y < OH; y++) {
        ref_taps(HDM__RS_LANCZOS3, H, OH, y, wy);
        double ref = 0;
        for (uint32_t j = 0; j < H; j++)
            ref += wy[j] * ramp(j, H);
        for (uint32_t x = 0; x < OW; x += 37)
            cr_assert_leq(lsb_off(out, 0, x, y, ref, &worst), 1, "row %u", y);
    }
    free(wy);
    hdm_image_free(out);
    /* and a limit below what the rows need is refused before anything is read */
    r = calloc(1, sizeof *r);
    r->base.info = (hdm_info){W, H, 1, HDM_U8, HDM_FORMAT_UNKNOWN};
    r->base.read = ramp_read;
    r->base.close = ramp_close;
    r->base.path = "ramp";
    opt.max_memory = 64u << 10;
    cr_assert_eq(hdm__resample_source(&r->base, OW, OH, 0, 0, OW, OH, HDM__RS_LANCZOS3, false,
                                      &opt, &rs, &e), HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "max_memory"), "%s", e.message);
}

/* ---- the fields: values, repeats and conflicts refused with the field named ---- */

Test(geometry, bad_fields)
{
    struct { const char *step, *says; } c[] = {
        {"mask:m.png:fit=strech", "did you mean 'stretch'?"},
        {"mask:m.png:fit=cover:resample=lanczos", "did you mean 'lanczos3'?"},
        {"mask:m.png:gravity=centre", "did you mean 'center'?"},
        {"mask:m.png:gravity=up", "unknown gravity 'up'"},
        {"mask:m.png:at=1", "at must be two whole numbers"},
        {"mask:m.png:at=1,2,3", "at must be two whole numbers"},
        {"mask:m.png:at=1.5,2", "at must be two whole numbers"},
        {"mask:m.png:offset=,", "offset must be two whole numbers"},
        {"mask:m.png:at=99999999999,0", "at must be two whole numbers"},
        {"mask:m.png:outside=2", "outside must be 0 or 1"},
        {"mask:m.png:at=1,2:gravity=se", "either at, or gravity and offset"},
        {"mask:m.png:at=1,2:offset=1,1", "either at, or gravity and offset"},
        {"mask:m.png:resample=box", "resample needs fit"},
        {"mask:m.png:fit=cover:fit=contain", "fit given twice"},
        {"mask:m.png:tile:tile", "tile given twice"},
        {"mul:m.png:fit=nope", "mul: unknown fit 'nope'"},
        {"mul:m.png:gravity=se:gravity=nw", "gravity given twice"},
        {"blend:m.png:outside=1", "unexpected field 'outside=1'"},
        {"blend:m.png:fit=covr", "did you mean 'cover'?"},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        hdm_pipeline *p;
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_add(p, c[i].step, &e), HDM_ERR_ARG, "%s accepted", c[i].step);
        cr_assert(strstr(e.message, c[i].says), "%s: '%s' lacks '%s'", c[i].step, e.message,
                  c[i].says);
        hdm_pipeline_free(p);
    }
}

/* Without any placement field an operand of another size is still refused, with the way
 * out named. */
Test(geometry, other_size_unasked_is_refused)
{
    hdm_image *img = make_image(8, 8, 1, HDM_U8, FILL_MAX);
    hdm_image *op = make_image(4, 4, 1, HDM_U8, FILL_MAX);
    save(op, "op.png");
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    hdm_error e = {0};
    char step[256];
    snprintf(step, sizeof step, "mask:%s", tu_path("op.png"));
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK);
    hdm_image *out;
    cr_assert_eq(hdm_pipeline_run_image(p, img, NULL, &out, &e), HDM_ERR_SHAPE);
    cr_assert(strstr(e.message, "4x4 does not match") && strstr(e.message, "fit"), "%s",
              e.message);
    hdm_pipeline_free(p);
    hdm_image_free(op);
    hdm_image_free(img);
}

/* Strips of any height give the same pixels: a placed, tiled or fitted operand is read in step
 * with the image whatever the strip. */
Test(geometry, strips)
{
    rng_seed(30);
    hdm_image *img = make_image(19, 23, 3, HDM_U8, FILL_RANDOM);
    hdm_image *op = make_image(7, 5, 1, HDM_U8, FILL_RANDOM);
    save(op, "op.png");
    static const char *const f[] = {"at=-2,9", "gravity=s:offset=3,-1:outside=0", "tile:at=1,-3",
                                    "fit=cover", "fit=contain:gravity=se:outside=0",
                                    "fit=stretch:resample=bicubic:feather=1.5"};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char step[256];
        snprintf(step, sizeof step, "mask:%s:%s", tu_path("op.png"), f[i]);
        hdm_image *ref = tu_run_step(step, img, 0);
        static const uint32_t rows[] = {1, 2, 5, 23};
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            hdm_image *out = tu_run_step(step, img, rows[r]);
            cr_assert(tu_same(ref, out), "%s in strips of %u", step, rows[r]);
            hdm_image_free(out);
        }
        hdm_image_free(ref);
    }
    hdm_image_free(op);
    hdm_image_free(img);
}

/* A feather blurs the placed mask, outside value included: the same as feathering a mask the
 * image's size with the operand put in by hand. */
Test(geometry, feather_after_placement)
{
    rng_seed(31);
    hdm_image *img = make_image(16, 12, 1, HDM_U16, FILL_RANDOM);
    hdm_image *op = make_image(6, 4, 1, HDM_U8, FILL_RANDOM);
    save(op, "op.png");
    for (int outside = 0; outside < 2; outside++) {
        hdm_image *full = make_image(16, 12, 1, HDM_U8, outside ? FILL_MAX : FILL_ZERO);
        for (uint32_t y = 0; y < 4; y++)
            for (uint32_t x = 0; x < 6; x++)
                if (x + 12 < 16 && y + 3 < 12)
                    set_raw(full, 0, x + 12, y + 3, raw(op, 0, x, y));
        save(full, "full.png");
        char a[256], b[256];
        snprintf(a, sizeof a, "mask:%s:at=12,3:outside=%d:feather=1.2:threshold=0.4",
                 tu_path("op.png"), outside);
        snprintf(b, sizeof b, "mask:%s:feather=1.2:threshold=0.4", tu_path("full.png"));
        hdm_image *oa = tu_run_step(a, img, 0), *ob = tu_run_step(b, img, 0);
        tu_assert_same(oa, ob, a);
        hdm_image_free(oa);
        hdm_image_free(ob);
        hdm_image_free(full);
    }
    hdm_image_free(op);
    hdm_image_free(img);
}

/* Every combination at random: fit (with its own size rule), at or gravity and offset, tile,
 * outside, against the whole scaled operand placed by hand. */
Test(geometry, random_combinations, .timeout = 120)
{
    rng_seed(40);
    static const char *const fits[] = {"", "stretch", "contain", "cover"};
    static const char *const g[9] = {"nw", "n", "ne", "w", "center", "e", "sw", "s", "se"};
    for (int n = 0; n < 150; n++) {
        uint32_t W = 1 + rng() % 30, H = 1 + rng() % 30, w = 1 + rng() % 25, h = 1 + rng() % 25;
        int fit = (int)(rng() % 4), filt = (int)(rng() % HDM__RS_COUNT), how = (int)(rng() % 3);
        int gravity = (int)(rng() % 9), ox = (int)(rng() % 41) - 20, oy = (int)(rng() % 41) - 20;
        bool tile = rng() % 3 == 0;
        unsigned outside = rng() % 2;
        hdm_image *img = make_image(W, H, 1, HDM_U8, FILL_MAX);
        hdm_image *op = make_image(w, h, 1, HDM_U8, FILL_RANDOM);
        save(op, "op.png");
        char f[256] = "";
        size_t k = 0;
        if (fit)
            k += (size_t)snprintf(f + k, sizeof f - k, "fit=%s:resample=%s:", fits[fit],
                                  filter_names[filt]);
        if (how == 1)
            k += (size_t)snprintf(f + k, sizeof f - k, "at=%d,%d:", ox, oy);
        if (how == 2)
            k += (size_t)snprintf(f + k, sizeof f - k, "gravity=%s:offset=%d,%d:", g[gravity],
                                  ox, oy);
        if (tile)
            k += (size_t)snprintf(f + k, sizeof f - k, "tile:");
        snprintf(f + k, sizeof f - k, "outside=%u", outside);
        /* the size: stretch W × H; contain and cover scale by the smaller or larger of W/w,
         * H/h, the other side rounded half up (and at least 1) */
        uint64_t tw = w, th = h;
        if (fit == 1) {
            tw = W;
            th = H;
        } else if (fit) {
            bool width = ((uint64_t)W * h <= (uint64_t)H * w) == (fit == 2);
            tw = width ? W : ((uint64_t)2 * w * H + h) / (2 * h);
            th = width ? ((uint64_t)2 * h * W + w) / (2 * w) : H;
            tw = tw ? tw : 1;
            th = th ? th : 1;
        }
        hdm_image *scaled = fit && (tw != w || th != h)
                                ? resample(op, (uint32_t)tw, (uint32_t)th, 0, 0, (uint32_t)tw,
                                           (uint32_t)th, (hdm__rfilter)filt, false, NULL)
                                : NULL;
        /* the place: at as given; else gravity (nw without one, unless fitted: centre) and
         * offset, centring at floor((W − tw)/2) */
        int gg = how == 2 ? gravity : fit ? 4 : 0;
        int64_t cx[3] = {0, (int64_t)floor(((double)W - tw) / 2), (int64_t)W - (int64_t)tw};
        int64_t cy[3] = {0, (int64_t)floor(((double)H - th) / 2), (int64_t)H - (int64_t)th};
        int64_t px = how == 1 ? ox : cx[gg % 3] + (how == 2 ? ox : 0);
        int64_t py = how == 1 ? oy : cy[gg / 3] + (how == 2 ? oy : 0);
        hdm_image *out = placed_mask(img, f);
        expect_placed(out, scaled ? scaled : op, px, py, tile, outside ? 255 : 0, f);
        hdm_image_free(out);
        hdm_image_free(scaled);
        hdm_image_free(op);
        hdm_image_free(img);
    }
}

/* ---- the kernel's resampling passes: every variant bit-identical to the scalar reference ---- */

Test(geometry, kernel_variants_match_scalar)
{
    rng_seed(50);
    const hdm__kernel *ref = hdm__kernel_get("scalar");
    enum { N = 300, TAPS = 9 };
    float src[N + 64], bufs[TAPS][N + 8], w[N * TAPS], wv[TAPS];
    uint32_t start[N];
    for (size_t i = 0; i < sizeof src / sizeof *src; i++)
        src[i] = (float)(rng() % 100001) / 50000.0f - 0.5f;
    for (size_t k = 0; k < TAPS; k++) {
        for (size_t i = 0; i < N + 8; i++)
            bufs[k][i] = (float)(rng() % 100001) / 100000.0f;
        wv[k] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    }
    for (size_t i = 0; i < N; i++) {
        start[i] = rng() % 60;
        for (size_t k = 0; k < TAPS; k++)
            w[i * TAPS + k] = (float)(rng() % 2001) / 1000.0f - 1.0f;
    }
    for (size_t v = 0; hdm__kernel_names(v); v++) {
        const hdm__kernel *kv = hdm__kernel_get(hdm__kernel_names(v));
        if (!kv)
            continue; /* this CPU does not run it */
        for (size_t n = 0; n <= 257; n++)
            for (size_t off = 0; off < 3; off++) {
                float a[N], b[N];
                const float *rows[TAPS];
                for (size_t k = 0; k < TAPS; k++)
                    rows[k] = bufs[k] + off + k % 2;
                size_t taps = 1 + (n + off) % TAPS;
                ref->resample_col_f32(a, rows, wv, taps, n);
                kv->resample_col_f32(b, rows, wv, taps, n);
                cr_assert(memcmp(a, b, n * sizeof *a) == 0, "%s col: n %zu taps %zu",
                          kv->name, n, taps);
                /* the filter's several rows at once: rows[r + k] for output row r */
                size_t m = 1 + (n * 7 + off) % 9, ft = 1 + n % (TAPS + 1 - (m + 1) / 2);
                float fa[9][N], fb[9][N];
                float *da[9], *db[9];
                const float *frows[TAPS + 9];
                for (size_t q = 0; q < ft + m - 1; q++)
                    frows[q] = bufs[q % TAPS] + (q + off) % 8;
                for (size_t r = 0; r < m; r++)
                    da[r] = fa[r], db[r] = fb[r];
                ref->filter_cols_f32(da, frows, wv, ft, m, n);
                kv->filter_cols_f32(db, frows, wv, ft, m, n);
                for (size_t r = 0; r < m; r++) {
                    ref->resample_col_f32(a, frows + r, wv, ft, n);
                    cr_assert(memcmp(a, fa[r], n * sizeof *a) == 0 &&
                              memcmp(a, fb[r], n * sizeof *a) == 0,
                              "%s cols: n %zu taps %zu rows %zu, row %zu", kv->name, n, ft, m, r);
                }
                ref->resample_row_f32(a, src + off, start, w, taps, n);
                kv->resample_row_f32(b, src + off, start, w, taps, n);
                cr_assert(memcmp(a, b, n * sizeof *a) == 0, "%s row: n %zu taps %zu",
                          kv->name, n, taps);
            }
    }
}
