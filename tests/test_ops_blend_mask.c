/* SPDX-License-Identifier: MIT */
/* test_ops_blend_mask.c — blend's mask placed on its own (at, gravity and offset, tile, outside,
 * every fit), by hdm_composite_placed and by a step, against f64 */
#include "ops_test.h"
#include "resample_ref.h"
#include "testutil.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

TestSuite(blend_mask, .init = tu_setup, .fini = tu_teardown);

enum { W = 23, H = 17 };

static void save(const hdm_image *img, const char *name)
{
    hdm_error e = {0};
    cr_assert_eq(hdm_save(img, tu_path(name), NULL, &e), HDM_OK, "%s", e.message);
}

static int64_t floor_mod(int64_t a, int64_t m) { return ((a % m) + m) % m; }

/* One placement of the mask, as step fields and as the library's struct, with where it must
 * land worked out by hand: the (fitted) mask of tw × th with its top-left corner at px, py. */
typedef struct pcase {
    const char *fields;
    int big;                 /* the 40×30 mask, else the 7×5 one (fit: the 9×6 one) */
    hdm_fit fit;
    hdm_resample rs;
    hdm_gravity g;
    int64_t x, y;
    int tile, outside;
    uint32_t tw, th;
    int64_t px, py;
} pcase;

static const pcase cases[] = {
    {"mask-at=5,3", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, 5, 3, 0, 1, 7, 5, 5, 3},
    {"mask-at=-3,-2", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, -3, -2, 0, 1, 7, 5, -3, -2},
    {"mask-at=20,14", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, 20, 14, 0, 1, 7, 5, 20, 14},
    {"mask-at=4,4:mask-outside=0", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, 4, 4, 0, 0, 7, 5, 4, 4},
    {"mask-at=30,30:mask-outside=0", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, 30, 30, 0, 0, 7, 5,
     30, 30},
    /* se: 23 − 7 − 2, 17 − 5 + 1; center: ⌊16/2⌋, ⌊12/2⌋; n: ⌊16/2⌋, then 3 up */
    {"mask-gravity=se:mask-offset=-2,1", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_SE, -2, 1, 0, 1, 7, 5,
     14, 13},
    {"mask-gravity=center", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_CENTER, 0, 0, 0, 1, 7, 5, 8, 6},
    {"mask-gravity=n:mask-offset=0,-3:mask-outside=0", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_N, 0, -3,
     0, 0, 7, 5, 8, -3},
    {"mask-offset=2,1", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_DEFAULT, 2, 1, 0, 1, 7, 5, 2, 1},
    {"mask-tile:mask-at=-3,2", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, -3, 2, 1, 1, 7, 5, -3, 2},
    {"mask-tile:mask-gravity=se", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_SE, 0, 0, 1, 0, 7, 5, 16, 12},
    /* larger than the image: cut by the placement, not refused */
    {"mask-at=-5,-4", 1, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, -5, -4, 0, 1, 40, 30, -5, -4},
    {"mask-gravity=center:mask-outside=0", 1, HDM_FIT_NONE, 0, HDM_GRAVITY_CENTER, 0, 0, 0, 0,
     40, 30, -9, -7},
    /* 9×6 to 23×17: stretch; contain 23 × round(6·23/9) = 15, centred 1 down; cover
     * round(9·17/6) = 26 (25.5 up) × 17, centred ⌊−3/2⌋ = −2 */
    {"mask-fit=stretch", 0, HDM_FIT_STRETCH, 0, 0, 0, 0, 0, 1, 23, 17, 0, 0},
    {"mask-fit=stretch:mask-resample=nearest", 0, HDM_FIT_STRETCH, HDM_RESAMPLE_NEAREST, 0, 0,
     0, 0, 1, 23, 17, 0, 0},
    {"mask-fit=contain", 0, HDM_FIT_CONTAIN, 0, 0, 0, 0, 0, 1, 23, 15, 0, 1},
    {"mask-fit=contain:mask-gravity=s:mask-outside=0", 0, HDM_FIT_CONTAIN, 0, HDM_GRAVITY_S, 0,
     0, 0, 0, 23, 15, 0, 2},
    {"mask-fit=cover", 0, HDM_FIT_COVER, 0, 0, 0, 0, 0, 1, 26, 17, -2, 0},
    {"mask-fit=cover:mask-resample=bilinear:mask-gravity=w:mask-offset=0,1", 0, HDM_FIT_COVER,
     HDM_RESAMPLE_BILINEAR, HDM_GRAVITY_W, 0, 1, 0, 1, 26, 17, 0, 1},
    {"mask-fit=cover:mask-tile:mask-resample=box", 0, HDM_FIT_COVER, HDM_RESAMPLE_BOX, 0, 0, 0,
     1, 1, 26, 17, -2, 0},
};

static hdm_placement placement_of(const pcase *c)
{
    hdm_placement p;
    hdm_placement_init(&p);
    p.fit = c->fit;
    p.resample = c->rs;
    p.gravity = c->g;
    p.x = c->x;
    p.y = c->y;
    p.tile = c->tile;
    p.outside = c->outside;
    return p;
}

/* The placed mask in f64, W × H: the mask's (fitted, by the f64 evaluation) sample where it
 * lies, outside elsewhere. */
static double *placed_ref(const hdm_image *mask, const pcase *c)
{
    double *fitted = NULL;
    hdm__rfilter f = (hdm__rfilter)c->rs;
    if (c->fit != HDM_FIT_NONE)
        fitted = reference(mask, c->tw, c->th, f, false);
    double *m = malloc(sizeof *m * W * H);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            int64_t sx = (int64_t)x - c->px, sy = (int64_t)y - c->py;
            if (c->tile) {
                sx = floor_mod(sx, c->tw);
                sy = floor_mod(sy, c->th);
            }
            bool in = sx >= 0 && sy >= 0 && sx < c->tw && sy < c->th;
            m[y * W + x] = !in ? c->outside
                         : fitted ? fitted[(size_t)sy * c->tw + (size_t)sx]
                                  : val(mask, 0, (uint32_t)sx, (uint32_t)sy);
        }
    free(fitted);
    return m;
}

/* The f64 answer for an opaque base and a top (placed at tx, ty, transparent where it does not
 * reach), multiply, source-over (W3C 9.1 with αb = 1): αs = αt·opacity·m,
 * C = Cb + αs·(Cb·Cs − Cb). */
static void check_blend(const hdm_image *base, const hdm_image *top, int64_t tx, int64_t ty,
                        const double *m, double opacity, const hdm_image *out, const char *what,
                        double *worst)
{
    cr_assert_eq(out->width, W);
    cr_assert_eq(out->height, H);
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            int64_t sx = (int64_t)x - tx, sy = (int64_t)y - ty;
            bool in = sx >= 0 && sy >= 0 && sx < top->width && sy < top->height;
            uint32_t ux = (uint32_t)sx, uy = (uint32_t)sy;
            double at = !in ? 0 : top->channels == 4 ? val(top, 3, ux, uy) : 1;
            double as = at * opacity * m[y * W + x];
            for (uint32_t c = 0; c < 3; c++) {
                double cb = val(base, c, x, y), cs = in ? val(top, c, ux, uy) : 0;
                double r = cb + as * (cb * cs - cb);
                cr_assert_leq(lsb_off(out, c, x, y, r, worst), 1, "%s: (%u,%u) plane %u: %u, "
                              "f64 %f (mask %f)", what, x, y, c, raw(out, c, x, y),
                              r * maxval(out->depth), m[y * W + x]);
            }
            if (out->channels == 4)
                cr_assert_eq(raw(out, 3, x, y), (uint32_t)maxval(out->depth), "%s: alpha", what);
        }
}

static hdm_image *composite(const hdm_image *base, const hdm_image *top,
                            const hdm_placement *tp, const hdm_image *mask,
                            const hdm_placement *mp, hdm_blend_mode mode, double opacity)
{
    hdm_image *out = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_composite_placed(base, top, tp, mask, mp, mode, HDM_OP_SOURCE_OVER,
                                      opacity, 0, NULL, &out, &e), HDM_OK, "%s", e.message);
    return out;
}

/* Every placement, 8- and 16-bit: (1) white over black shows the mask the blend sees, the
 * placed mask itself — exactly, or within 1 LSB of the f64 resampling when fitted; (2) a
 * random multiply blend through it is within 1 LSB of f64; (3) the step with the same
 * fields, read strip by strip, gives the same pixels. */
Test(blend_mask, every_placement)
{
    double worst_fit = 0, worst = 0;
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        rng_seed(90 + di);
        hdm_image *base = make_image(W, H, 3, d, FILL_RANDOM);
        hdm_image *top = make_image(W, H, 3, d, FILL_RANDOM);
        hdm_image *black = make_image(W, H, 3, d, FILL_ZERO);
        hdm_image *white = make_image(W, H, 3, d, FILL_MAX);
        hdm_image *small = make_image(7, 5, 1, d, FILL_RANDOM);
        hdm_image *fitm = make_image(9, 6, 1, d, FILL_RANDOM);
        hdm_image *big = make_image(40, 30, 1, d, FILL_RANDOM);
        save(top, "top.png");
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            const pcase *c = &cases[i];
            hdm_image *mask = c->fit != HDM_FIT_NONE ? fitm : c->big ? big : small;
            hdm_placement mp = placement_of(c);
            char what[160];
            snprintf(what, sizeof what, "%s %d-bit", c->fields, di ? 16 : 8);
            double *ref = placed_ref(mask, c);
            hdm_image *seen = composite(black, white, NULL, mask, &mp, HDM_BLEND_NORMAL, 1);
            cr_assert_eq(seen->channels, 3, "%s", what);
            double *m = malloc(sizeof *m * W * H);
            for (uint32_t y = 0; y < H; y++)
                for (uint32_t x = 0; x < W; x++) {
                    double r = ref[y * W + x];
                    double e = lsb_off(seen, 0, x, y, r, &worst_fit);
                    cr_assert_leq(e, c->fit != HDM_FIT_NONE ? 1 : 0, "%s: mask at (%u,%u) is "
                                  "%u, f64 %f", what, x, y, raw(seen, 0, x, y),
                                  r * maxval(d));
                    m[y * W + x] = val(seen, 0, x, y);
                }
            hdm_image *out = composite(base, top, NULL, mask, &mp, HDM_BLEND_MULTIPLY, 0.7);
            cr_assert_eq(out->channels, 3, "%s", what);
            check_blend(base, top, 0, 0, m, 0.7, out, what, &worst);
            /* the step: the mask a PNG of its own, the fields as written */
            save(mask, "m.png");
            char step[512];
            snprintf(step, sizeof step, "blend:multiply:%s:0.7:mask=%s:%s", tu_path("top.png"),
                     tu_path("m.png"), c->fields);
            hdm_image *via = tu_run_step(step, base, 3);
            tu_assert_same(via, out, what);
            hdm_image_free(via);
            hdm_image_free(out);
            hdm_image_free(seen);
            free(m);
            free(ref);
        }
        hdm_image *imgs[] = {base, top, black, white, small, fitm, big};
        for (size_t i = 0; i < sizeof imgs / sizeof imgs[0]; i++)
            hdm_image_free(imgs[i]);
    }
    report_worst("placed mask, fitted, against f64 resampling", worst_fit);
    report_worst("blend through a placed mask", worst);
}

/* The top and the mask are placed independently: a small top with alpha at one place, a small
 * mask at another; the top is transparent beyond its reach, the mask outside counts as 1. */
Test(blend_mask, top_and_mask_placed_apart)
{
    for (int di = 0; di < 2; di++) {
        hdm_depth d = di ? HDM_U16 : HDM_U8;
        rng_seed(95 + di);
        hdm_image *base = make_image(W, H, 3, d, FILL_RANDOM);
        hdm_image *top = make_image(10, 8, 4, d, FILL_RANDOM);
        hdm_image *mask = make_image(7, 5, 1, d, FILL_RANDOM);
        hdm_placement tp, mp;
        hdm_placement_init(&tp);
        hdm_placement_init(&mp);
        tp.gravity = HDM_GRAVITY_NW;
        tp.x = 2;
        tp.y = 3;
        mp.gravity = HDM_GRAVITY_SE;
        mp.x = -9;
        mp.y = -6;
        const pcase mc = {"", 0, HDM_FIT_NONE, 0, HDM_GRAVITY_SE, -9, -6, 0, 1, 7, 5, 7, 6};
        double *m = placed_ref(mask, &mc), worst = 0;
        hdm_image *out = composite(base, top, &tp, mask, &mp, HDM_BLEND_MULTIPLY, 0.9);
        cr_assert_eq(out->channels, 4); /* the placed top's alpha */
        check_blend(base, top, 2, 3, m, 0.9, out, di ? "16-bit" : "8-bit", &worst);
        save(top, "t.png");
        save(mask, "m.png");
        char step[512];
        snprintf(step, sizeof step, "blend:multiply:%s:0.9:at=2,3:mask=%s:mask-gravity=se:"
                 "mask-offset=-9,-6", tu_path("t.png"), tu_path("m.png"));
        hdm_image *via = tu_run_step(step, base, 0);
        tu_assert_same(via, out, "the step");
        hdm_image_free(via);
        hdm_image_free(out);
        free(m);
        hdm_image_free(base);
        hdm_image_free(top);
        hdm_image_free(mask);
    }
}

/* A 16-bit mask placed under an 8-bit image promotes the result, as an unplaced one does. */
Test(blend_mask, deeper_mask_promotes)
{
    rng_seed(97);
    hdm_image *base = make_image(W, H, 3, HDM_U8, FILL_RANDOM);
    hdm_image *top = make_image(W, H, 3, HDM_U8, FILL_RANDOM);
    hdm_image *mask = make_image(7, 5, 1, HDM_U16, FILL_RANDOM);
    hdm_placement mp;
    hdm_placement_init(&mp);
    mp.tile = 1;
    hdm_image *out = composite(base, top, NULL, mask, &mp, HDM_BLEND_MULTIPLY, 1);
    cr_assert_eq(out->depth, HDM_U16);
    const pcase mc = {"", 0, HDM_FIT_NONE, 0, 0, 0, 0, 1, 1, 7, 5, 0, 0};
    double *m = placed_ref(mask, &mc), worst = 0;
    check_blend(base, top, 0, 0, m, 1, out, "16-bit mask", &worst);
    free(m);
    hdm_image_free(out);
    hdm_image_free(base);
    hdm_image_free(top);
    hdm_image_free(mask);
}

Test(blend_mask, errors)
{
    rng_seed(98);
    hdm_image *base = make_image(W, H, 3, HDM_U8, FILL_RANDOM);
    hdm_image *top = make_image(W, H, 3, HDM_U8, FILL_RANDOM);
    hdm_image *mask = make_image(7, 5, 1, HDM_U8, FILL_RANDOM);
    hdm_image *out = (hdm_image *)1;
    hdm_error e = {0};
    hdm_placement p;
    /* unplaced, another size is refused, the mask's own fields named */
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, NULL, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_SHAPE);
    cr_assert_null(out);
    cr_assert(strstr(e.message, "7x5") && strstr(e.message, "mask-fit"), "%s", e.message);
    memset(&p, 0, sizeof p);
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "mask_place->size is 0"), "%s", e.message);
    hdm_placement_init(&p);
    p.gravity = (hdm_gravity)10;
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "gravity 10"), "%s", e.message);
    hdm_placement_init(&p);
    p.fit = (hdm_fit)4;
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    hdm_placement_init(&p);
    p.outside = 2;
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "outside must be 0 or 1"), "%s", e.message);
    hdm_placement_init(&p);
    p.x = ((int64_t)1 << 31) + 1;
    cr_assert_eq(hdm_composite_placed(base, top, NULL, mask, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "beyond 2^31"), "%s", e.message);
    /* a top's outside is transparent, never 0 or 1 */
    hdm_placement_init(&p);
    p.outside = 0;
    cr_assert_eq(hdm_composite_placed(base, top, &p, mask, NULL, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "top_place->outside must be 1"), "%s", e.message);
    /* a mask placement without a mask */
    hdm_placement_init(&p);
    cr_assert_eq(hdm_composite_placed(base, top, NULL, NULL, &p, HDM_BLEND_NORMAL,
                                      HDM_OP_SOURCE_OVER, 1, 0, NULL, &out, &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "without a mask"), "%s", e.message);
    cr_assert_null(out);
    /* an older, smaller struct: what it holds is read, the rest is the defaults */
    hdm_placement_init(&p);
    p.gravity = HDM_GRAVITY_SE;
    p.outside = 0; /* beyond the size given: not read, so 1 */
    p.size = offsetof(hdm_placement, tile);
    hdm_image *got = composite(base, top, NULL, mask, &p, HDM_BLEND_NORMAL, 1);
    hdm_placement q;
    hdm_placement_init(&q);
    q.gravity = HDM_GRAVITY_SE;
    hdm_image *want = composite(base, top, NULL, mask, &q, HDM_BLEND_NORMAL, 1);
    tu_assert_same(got, want, "a smaller struct");
    hdm_image_free(got);
    hdm_image_free(want);
    hdm_image_free(base);
    hdm_image_free(top);
    hdm_image_free(mask);
}

/* Step fields: each mask-... field wants a mask, and is checked as the top's are. */
Test(blend_mask, step_fields)
{
    struct { const char *step, *says; } bad[] = {
        {"blend:t.png:mask-fit=cover", "mask-fit=cover places a mask, but no mask"},
        {"blend:t.png:mask=m.png:mask-fit=cver", "unknown mask-fit 'cver'"},
        {"blend:t.png:mask=m.png:mask-fit=cover:mask-resample=lanczos",
         "did you mean 'lanczos3'?"},
        {"blend:t.png:mask=m.png:mask-resample=box", "mask-resample needs mask-fit"},
        {"blend:t.png:mask=m.png:mask-at=1,1:mask-gravity=se", "either mask-at, or"},
        {"blend:t.png:mask=m.png:mask-at=1", "mask-at must be two whole numbers"},
        {"blend:t.png:mask=m.png:mask-gravity=middle", "unknown mask-gravity 'middle'"},
        {"blend:t.png:mask=m.png:mask-outside=2", "mask-outside must be 0 or 1"},
        {"blend:t.png:mask=m.png:mask-tile:mask-tile", "mask-tile given twice"},
        {"blend:t.png:mask=m.png:mask-offset=1,1:mask-offset=2,2", "mask-offset given twice"},
        {"blend:t.png:mask=m.png:mask-gravty=se", "did you mean 'mask-gravity'?"},
        {"blend:t.png:outside=0", "unexpected field 'outside=0'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        hdm_pipeline *p;
        hdm_error e = {0};
        cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
        cr_assert_eq(hdm_pipeline_add(p, bad[i].step, &e), HDM_ERR_ARG, "%s", bad[i].step);
        cr_assert(strstr(e.message, bad[i].says), "%s: %s", bad[i].step, e.message);
        hdm_pipeline_free(p);
    }
    /* the top's fields and the mask's are apart: one of each kind given once each is fine */
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "blend:t.png:mask=m.png:at=1,2:mask-at=3,4:tile:mask-tile:"
                                  "fit=cover:mask-fit=contain", &e), HDM_OK, "%s", e.message);
    hdm_pipeline_free(p);
}

/* A corrupt mask file is refused, named, and nothing comes out. */
Test(blend_mask, corrupt_mask_named)
{
    rng_seed(99);
    hdm_image *base = make_image(W, H, 3, HDM_U8, FILL_RANDOM);
    hdm_image *mask = make_image(40, 30, 1, HDM_U8, FILL_RANDOM);
    save(base, "top.png");
    save(mask, "m.png");
    /* the PNG cut in its image data */
    FILE *f = fopen(tu_path("m.png"), "r+b");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    cr_assert_eq(ftruncate(fileno(f), n / 2), 0);
    fclose(f);
    char step[512];
    snprintf(step, sizeof step, "blend:%s:mask=%s:mask-at=-5,-4", tu_path("top.png"),
             tu_path("m.png"));
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s", e.message);
    hdm_image *out = (hdm_image *)1;
    hdm_status st = hdm_pipeline_run_image(p, base, NULL, &out, &e);
    cr_assert(st == HDM_ERR_CORRUPT, "status %d: %s", st, e.message);
    cr_assert_null(out);
    cr_assert(strstr(e.message, tu_path("m.png")), "%s", e.message);
    hdm_pipeline_free(p);
    hdm_image_free(base);
    hdm_image_free(mask);
}
