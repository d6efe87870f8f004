/* SPDX-License-Identifier: MIT */
/* geometry.c — an operand brought to the image's size: fitted, placed, tiled, never cropped
 * unasked */
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

/* round(a·b/c) for a, b, c > 0 below 2^32: exact in 128 bits. */
static uint64_t muldiv_round(uint64_t a, uint64_t b, uint64_t c)
{
    unsigned __int128 t = (unsigned __int128)a * b * 2 + c;
    return (uint64_t)(t / (2 * (unsigned __int128)c));
}

static int64_t floor_div2(int64_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); }

static int64_t mod(int64_t a, int64_t m)
{
    int64_t r = a % m;
    return r < 0 ? r + m : r;
}

/* A placed operand: rows of the image's width, the operand's samples where it lies, what kind
 * says elsewhere. */
typedef struct place_source {
    hdm__source base;
    hdm__source *inner;    /* the operand, fitted if asked */
    uint32_t W;            /* the image's width */
    uint32_t ch;           /* the operand's planes (base.info.channels may add an alpha) */
    bool tile;
    bool add_alpha;        /* an alpha plane M where the operand lies, 0 outside */
    unsigned outside_value; /* 0 or 1 (× M) for every plane outside; clear: 0 */
    /* not tiled: image rows [ry0, ry0 + nrows) are inner's next rows, of which columns
     * [col0, col0 + ncol) go to image columns [dx, dx + ncol) */
    int64_t ry0;
    uint32_t nrows, col0, ncol, dx;
    /* tiled: inner's pixel (0, 0) lies at image (px, py), repeated every tw × th */
    int64_t px, py;
    uint32_t tw, th;
    hdm_image *rows;       /* inner's rows for one strip, or (tile) all of them */
    bool loaded;           /* tile: rows holds inner whole */
} place_source;

/* Sets n samples of row (depth d) to v·M, v 0 or 1. */
static void fill(void *row, hdm_depth d, unsigned v, size_t n)
{
    if (!v) {
        memset(row, 0, n * (size_t)d);
        return;
    }
    for (size_t i = 0; i < n; i++)
        switch (d) {
        case HDM_U8: ((uint8_t *)row)[i] = 255; break;
        case HDM_U16: ((uint16_t *)row)[i] = 65535; break;
        case HDM_F32: ((float *)row)[i] = 1.0f; break;
        }
}

static hdm_status place_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    place_source *p = (place_source *)s;
    hdm_depth d = strip->depth;
    size_t bytes = d, W = p->W;
    hdm_status st = HDM_OK;
    uint32_t iw = p->inner->info.width;
    if (p->tile && !p->loaded) {
        st = hdm__strip_reserve(&p->rows, iw, p->th, p->ch, d, s->path, err);
        if (!st)
            st = hdm__source_read(p->inner, p->rows, p->th, err);
        if (st)
            return st;
        p->loaded = true;
    }
    /* not tiled: the image rows of this strip the operand covers, [first, last) */
    int64_t y0 = s->next, first = y0, last = y0 + rows;
    if (!p->tile) {
        first = first < p->ry0 ? p->ry0 : first;
        last = last > p->ry0 + p->nrows ? p->ry0 + p->nrows : last;
        if (last > first) {
            uint32_t n = (uint32_t)(last - first);
            st = hdm__strip_reserve(&p->rows, iw, n, p->ch, d, s->path, err);
            if (!st)
                st = hdm__source_read(p->inner, p->rows, n, err);
            if (st)
                return st;
        }
    }
    for (uint32_t r = 0; r < rows; r++) {
        int64_t y = y0 + r;
        bool inside = p->tile || (y >= first && y < last);
        uint32_t sy = (uint32_t)(p->tile ? mod(y - p->py, p->th) : y - first);
        for (uint32_t c = 0; c < p->ch; c++) {
            unsigned char *o = hdm_row(strip, c, r);
            if (!inside) {
                fill(o, d, p->outside_value, W);
                continue;
            }
            const unsigned char *in = hdm_row(p->rows, c, sy);
            if (p->tile) {
                /* runs of the tile's row, from the column image x = 0 falls on */
                uint32_t sx = (uint32_t)mod(-p->px, p->tw);
                for (size_t x = 0; x < W;) {
                    size_t n = p->tw - sx < W - x ? p->tw - sx : W - x;
                    memcpy(o + x * bytes, in + (size_t)sx * bytes, n * bytes);
                    x += n;
                    sx = 0;
                }
                continue;
            }
            fill(o, d, p->outside_value, p->dx);
            memcpy(o + (size_t)p->dx * bytes, in + (size_t)p->col0 * bytes,
                   (size_t)p->ncol * bytes);
            fill(o + ((size_t)p->dx + p->ncol) * bytes, d, p->outside_value,
                 W - p->dx - p->ncol);
        }
        if (p->add_alpha) { /* never with a tile, which covers all */
            unsigned char *o = hdm_row(strip, p->ch, r);
            fill(o, d, 0, W);
            if (inside)
                fill(o + (size_t)p->dx * bytes, d, 1, p->ncol);
        }
    }
    return HDM_OK;
}

static void place_close(hdm__source *s)
{
    place_source *p = (place_source *)s;
    hdm__source_close(p->inner);
    hdm_image_free(p->rows);
    free(p);
}

/* Reads and drops the first n rows of s (an operand placed above the image's top). */
static hdm_status skip_rows(hdm__source *s, uint32_t n, hdm_error *err)
{
    hdm_image *one = NULL;
    hdm_status st = hdm__strip_reserve(&one, s->info.width, 1, s->info.channels, s->info.depth,
                                       s->path, err);
    for (uint32_t i = 0; !st && i < n; i++)
        st = hdm__source_read(s, one, 1, err);
    hdm_image_free(one);
    return st;
}

/* The size fit gives an operand of w × h for an image of W × H; false when cover would scale
 * a thin operand beyond 2^32 − 1 pixels along its length. */
static bool fit_size(hdm__fit fit, uint64_t w, uint64_t h, uint64_t W, uint64_t H,
                     uint32_t *tw, uint32_t *th)
{
    *tw = (uint32_t)w;
    *th = (uint32_t)h;
    if (fit == HDM__FIT_STRETCH) {
        *tw = (uint32_t)W;
        *th = (uint32_t)H;
        return true;
    }
    if (fit == HDM__FIT_NONE)
        return true;
    /* W/w ≤ H/h: the width binds for contain, the height for cover */
    bool width_binds = (W * h <= H * w) == (fit == HDM__FIT_CONTAIN);
    uint64_t t = width_binds ? muldiv_round(h, W, w) : muldiv_round(w, H, h);
    t = t < 1 ? 1 : t;
    if (t > UINT32_MAX)
        return false;
    *tw = width_binds ? (uint32_t)W : (uint32_t)t;
    *th = width_binds ? (uint32_t)t : (uint32_t)H;
    return true;
}

hdm_status hdm__place_open(const hdm__place *pl, hdm__outside_kind kind, bool premultiply,
                           const hdm_info *in, const char *in_path, hdm__source *operand,
                           const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = operand;
    if (!pl || !pl->any)
        return HDM_OK;
    const hdm_info *oi = &operand->info;
    int64_t W = in->width, H = in->height;
    uint32_t tw, th;
    if (!fit_size(pl->fit, oi->width, oi->height, in->width, in->height, &tw, &th)) {
        hdm_status st = hdm__fail(err, HDM_ERR_LIMIT, operand->path, "%ux%u would cover %s "
                                  "(%ux%u) only scaled beyond 4294967295 pixels along its "
                                  "length", oi->width, oi->height, in_path, in->width,
                                  in->height);
        hdm__source_close(operand);
        *out = NULL;
        return st;
    }
    int64_t px = pl->x, py = pl->y;
    if (!pl->at_set) {
        int g = pl->gravity >= 0 ? pl->gravity : pl->fit != HDM__FIT_NONE ? 4 : 0;
        int gx = g % 3, gy = g / 3;
        px = (gx == 0 ? 0 : gx == 1 ? floor_div2(W - tw) : W - tw) + pl->x;
        py = (gy == 0 ? 0 : gy == 1 ? floor_div2(H - th) : H - th) + pl->y;
    }
    /* what of the (fitted) operand the image shows: all of it when tiled */
    int64_t x0 = 0, y0 = 0, x1 = tw, y1 = th;
    if (!pl->tile) {
        x0 = px < 0 ? -px : 0;
        y0 = py < 0 ? -py : 0;
        x1 = W - px < (int64_t)tw ? W - px : tw;
        y1 = H - py < (int64_t)th ? H - py : th;
    }
    bool covers = pl->tile || (px <= 0 && py <= 0 && px + tw >= W && py + th >= H);
    bool has_alpha = oi->channels == 2 || oi->channels == 4;
    bool add_alpha = kind == HDM__OUTSIDE_CLEAR && !covers && !has_alpha;
    /* not tiled, only the shown part of a fitted operand is resampled: [x0, x1) × [y0, y1) */
    bool fitted = pl->fit != HDM__FIT_NONE && (tw != oi->width || th != oi->height);
    if (!fitted && px == 0 && py == 0 && tw == W && th == H && !pl->tile)
        return HDM_OK; /* already in place */
    bool shown = x1 > x0 && y1 > y0;
    hdm_status st = HDM_OK;
    hdm__source *inner = operand;
    if (fitted && shown) {
        uint32_t sx = pl->tile ? 0 : (uint32_t)x0, sy = pl->tile ? 0 : (uint32_t)y0;
        st = hdm__resample_source(operand, tw, th, sx, sy, (uint32_t)(x1 - x0),
                                  (uint32_t)(y1 - y0), pl->resample, premultiply, opt, &inner,
                                  err);
        if (st)
            return st; /* it took the operand */
    }
    place_source *p = calloc(1, sizeof *p);
    if (!p) {
        hdm__source_close(inner);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    p->inner = inner;
    p->W = (uint32_t)W;
    p->ch = oi->channels;
    p->tile = pl->tile;
    p->add_alpha = add_alpha;
    p->outside_value = kind == HDM__OUTSIDE_VALUE && pl->outside != 0 ? 1 : 0;
    p->px = px;
    p->py = py;
    p->tw = tw;
    p->th = th;
    if (shown && !pl->tile) {
        p->ry0 = py + y0;
        p->nrows = (uint32_t)(y1 - y0);
        p->col0 = inner == operand ? (uint32_t)x0 : 0; /* a resampler gave only the window */
        p->ncol = (uint32_t)(x1 - x0);
        p->dx = (uint32_t)(px + x0);
    }
    p->base.info = *in;
    p->base.info.channels = oi->channels + add_alpha;
    p->base.info.depth = oi->depth;
    p->base.info.format = oi->format;
    p->base.path = inner->path;
    p->base.read = place_read;
    p->base.close = place_close;
    /* what it holds besides inner: a strip of inner's rows, or (tile) inner whole */
    size_t hold = 0;
    if (hdm_size_bytes(inner->info.width, pl->tile ? th : 64, oi->channels, HDM_F32, &hold))
        hold = SIZE_MAX;
    p->base.held = inner->held > UINT64_MAX - hold ? UINT64_MAX : inner->held + hold;
    st = hdm__check_held(p->base.held, opt, p->base.path, err);
    if (!st && inner == operand && shown && !pl->tile && y0 > 0)
        st = skip_rows(operand, (uint32_t)y0, err); /* placed above the top: rows not shown */
    if (st) {
        place_close(&p->base);
        return st;
    }
    *out = &p->base;
    return HDM_OK;
}
