/* SPDX-License-Identifier: MIT */
/* orient.c — a source turning its upstream's pixels upright for an EXIF Orientation value */
#include "stream/stream.h"

#include <stdlib.h>
#include <string.h>

/* EXIF 2.32 §4.6.4 (TIFF 6.0, tag 274): where the stored 0th row and 0th column lie when the
 * image is displayed.
 *   1 top, left    2 top, right    3 bottom, right    4 bottom, left
 *   5 left, top    6 right, top    7 right, bottom    8 left, bottom
 * So the displayed pixel (X, Y) of an image stored W × H is the stored pixel
 *   1 (X, Y)        2 (W-1-X, Y)        3 (W-1-X, H-1-Y)      4 (X, H-1-Y)
 *   5 (Y, X)        6 (Y, H-1-X)        7 (W-1-Y, H-1-X)      8 (W-1-Y, X)
 * and 5..8 display H × W. Only 2 keeps each row a row in order: it streams. The others need a
 * row from the bottom first or a column as a row, so the upstream is read whole, once. */

typedef struct orient_source {
    hdm__source base;
    hdm__source *up;
    uint32_t o;
    hdm_image *hold;            /* the upstream as stored (o ≠ 2), read on the first read */
    const volatile int *cancel; /* the caller's flag, looked at between the rows read */
} orient_source;

/* Rows read from upstream between two looks at cancel. */
enum { READ_ROWS = 32, BLOCK = 32 };

/* Reverses n samples of s bytes in place. */
static void reverse_row(void *row, size_t n, size_t s)
{
    if (n < 2)
        return;
    switch (s) {
#define REVERSE(T)                                                                             \
    {                                                                                          \
        T *p = row;                                                                            \
        for (size_t i = 0, j = n - 1; i < j; i++, j--) {                                       \
            T t = p[i];                                                                        \
            p[i] = p[j];                                                                       \
            p[j] = t;                                                                          \
        }                                                                                      \
    } break;
    case 1: REVERSE(uint8_t)
    case 2: REVERSE(uint16_t)
    case 4: REVERSE(uint32_t)
#undef REVERSE
    }
}

/* Output rows [y0, y0 + n) of plane c for o in 5..8: each is a stored column, x = y0 + k
 * (5, 6) or W-1-(y0 + k) (7, 8); its sample X is the stored row X (5, 8) or H-1-X (6, 7). */
static void columns_to_rows(const orient_source *r, hdm_image *strip, uint32_t c, uint32_t y0,
                            uint32_t n)
{
    const hdm_image *h = r->hold;
    uint32_t W = h->width, H = h->height;
    bool left = r->o == 5 || r->o == 6; /* output row k is stored column y0 + k */
    bool down = r->o == 5 || r->o == 8; /* output column X is stored row X */
    for (uint32_t k0 = 0; k0 < n; k0 += BLOCK) {
        uint32_t m = n - k0 < BLOCK ? n - k0 : BLOCK;
        /* stored columns x0 .. x0 + m - 1, ascending in memory; out row k takes column
         * x0 + k (left) or x0 + m - 1 - k */
        uint32_t x0 = left ? y0 + k0 : W - (y0 + k0) - m;
        void *out[BLOCK];
        for (uint32_t k = 0; k < m; k++)
            out[k] = hdm_row(strip, c, k0 + k);
        switch (h->depth) {
#define GATHER(T)                                                                              \
    for (uint32_t y = 0; y < H; y++) {                                                         \
        const T *src = (const T *)hdm_row(h, c, y) + x0;                                       \
        uint32_t X = down ? y : H - 1 - y;                                                     \
        if (left)                                                                              \
            for (uint32_t k = 0; k < m; k++)                                                   \
                ((T *)out[k])[X] = src[k];                                                     \
        else                                                                                   \
            for (uint32_t k = 0; k < m; k++)                                                   \
                ((T *)out[k])[X] = src[m - 1 - k];                                             \
    }                                                                                          \
    break;
        case HDM_U8: GATHER(uint8_t)
        case HDM_U16: GATHER(uint16_t)
        case HDM_F32: GATHER(uint32_t) /* moved bit for bit */
#undef GATHER
        }
    }
}

/* Reads the whole upstream into hold, a band at a time, stopping when cancel is raised. */
static hdm_status hold_upstream(orient_source *r, hdm_error *err)
{
    const hdm_info *ui = &r->up->info;
    hdm_status st = hdm__image_new(ui->width, ui->height, ui->channels, ui->depth, &r->hold,
                                   r->base.path, err);
    for (uint32_t y = 0; !st && y < ui->height; y += READ_ROWS) {
        if (hdm__cancelled(r->cancel))
            return hdm__fail(err, HDM_ERR_INTERRUPTED, r->base.path, "interrupted");
        uint32_t n = ui->height - y < READ_ROWS ? ui->height - y : READ_ROWS;
        hdm_image band = *r->hold; /* a view of rows y .. y + n - 1 */
        band.height = n;
        band.owned_ = NULL;
        for (uint32_t c = 0; c < ui->channels; c++)
            band.plane[c] = hdm_row(r->hold, c, y);
        st = hdm__source_read(r->up, &band, n, err);
    }
    return st;
}

static hdm_status orient_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    orient_source *r = (orient_source *)s;
    uint32_t W = s->info.width, ch = s->info.channels;
    size_t bytes = s->info.depth;
    if (r->o == 2) {
        hdm_status st = hdm__source_read(r->up, strip, rows, err);
        for (uint32_t c = 0; !st && c < ch; c++)
            for (uint32_t y = 0; y < rows; y++)
                reverse_row(hdm_row(strip, c, y), W, bytes);
        return st;
    }
    if (!r->hold) {
        hdm_status st = hold_upstream(r, err);
        if (st)
            return st;
    }
    const hdm_image *h = r->hold;
    for (uint32_t c = 0; c < ch; c++) {
        if (r->o >= 5) {
            columns_to_rows(r, strip, c, s->next, rows);
            continue;
        }
        for (uint32_t y = 0; y < rows; y++) { /* 3 and 4: rows from the bottom up */
            void *out = hdm_row(strip, c, y);
            memcpy(out, hdm_row(h, c, h->height - 1 - (s->next + y)), W * bytes);
            if (r->o == 3)
                reverse_row(out, W, bytes);
        }
    }
    if (s->next + rows == s->info.height) { /* the last rows served: nothing more to hold */
        hdm_image_free(r->hold);
        r->hold = NULL;
    }
    return HDM_OK;
}

static void orient_close(hdm__source *s)
{
    orient_source *r = (orient_source *)s;
    hdm__source_close(r->up);
    hdm_image_free(r->hold);
    free(r);
}

hdm_status hdm__source_orient(hdm__source *up, uint32_t o, const hdm_options *opt,
                              hdm__source **out, hdm_error *err)
{
    *out = NULL;
    if (o < 2 || o > 8) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_ARG, NULL, "orientation %u is not 2..8", o);
    }
    const hdm_info *ui = &up->info;
    uint64_t held = up->held;
    if (o != 2) { /* counted, and refused, before anything is taken */
        size_t bytes;
        if (hdm_size_bytes(ui->width, ui->height, ui->channels, ui->depth, &bytes))
            held = UINT64_MAX;
        else
            held = bytes > UINT64_MAX - held ? UINT64_MAX : held + bytes;
        hdm_status st = hdm__check_held(held, opt, up->path, err);
        if (st) {
            hdm__source_close(up);
            return st;
        }
    }
    orient_source *r = calloc(1, sizeof *r);
    if (!r) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    r->up = up;
    r->o = o;
    r->cancel = opt->cancel;
    r->base.info = *ui;
    if (o >= 5) {
        r->base.info.width = ui->height;
        r->base.info.height = ui->width;
    }
    r->base.path = up->path;
    r->base.held = held;
    r->base.read = orient_read;
    r->base.close = orient_close;
    hdm__meta_move(&r->base.meta, &up->meta);
    r->base.meta.orientation = 1; /* the EXIF blob's tag is the caller's to rewrite */
    *out = &r->base;
    return HDM_OK;
}
