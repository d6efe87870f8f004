/* SPDX-License-Identifier: MIT */
/* stream.c — reading sources, whole-image adapters, encoder bytes, the source-to-sink pump */
#include "stream/stream.h"

#include <stdlib.h>
#include <string.h>

void hdm__source_close(hdm__source *s)
{
    if (!s)
        return;
    hdm_image_free(s->scratch);
    hdm__meta_free(&s->meta);
    s->close(s);
}

hdm_status hdm__source_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    if (rows > s->info.height - s->next)
        return hdm__fail(err, HDM_ERR_ARG, s->path, "read past the last row");
    if (strip->depth == s->info.depth) {
        hdm_status st = s->read(s, strip, rows, err);
        if (!st)
            s->next += rows;
        return st;
    }
    /* Read in the file's own depth into the kept scratch, then convert each row through the
     * kernel. */
    hdm_status st = hdm__strip_reserve(&s->scratch, s->info.width, rows, s->info.channels,
                                       s->info.depth, s->path, err);
    if (!st)
        st = s->read(s, s->scratch, rows, err);
    if (st)
        return st;
    s->next += rows;
    for (uint32_t c = 0; c < s->info.channels; c++)
        for (uint32_t y = 0; y < rows; y++)
            hdm__convert_row(hdm_row(strip, c, y), strip->depth, hdm_row(s->scratch, c, y),
                             s->scratch->depth, s->info.width);
    return HDM_OK;
}

/* ---- a source over an image held whole ---- */

typedef struct whole_source {
    hdm__source base;
    hdm_image *img;
    bool owned;
    char *path;
} whole_source;

static hdm_status whole_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    (void)err;
    hdm__copy_rows(strip, 0, ((whole_source *)s)->img, s->next, rows);
    return HDM_OK;
}

static void whole_close(hdm__source *s)
{
    whole_source *w = (whole_source *)s;
    if (w->owned)
        hdm_image_free(w->img);
    free(w->path);
    free(w);
}

hdm_status hdm__source_from_image(hdm_image *img, bool owned, const char *path, hdm_format fmt,
                                  hdm__source **out, hdm_error *err)
{
    whole_source *w = calloc(1, sizeof *w);
    char *p = strdup(path ? path : "(memory)");
    if (!w || !p) {
        free(w);
        free(p);
        if (owned)
            hdm_image_free(img);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    w->img = img;
    w->owned = owned;
    w->path = p;
    w->base.path = p;
    w->base.info = (hdm_info){img->width, img->height, img->channels, img->depth, fmt};
    size_t bytes; /* a caller's image is the caller's; one decoded for the job counts */
    if (owned && hdm_size_bytes(img->width, img->height, img->channels, img->depth, &bytes) == 0)
        w->base.held = bytes;
    w->base.read = whole_read;
    w->base.close = whole_close;
    *out = &w->base;
    return HDM_OK;
}

bool hdm__source_is_whole(const hdm__source *s) { return s->read == whole_read; }

void hdm__bytes_put(hdm__bytes *b, const void *data, size_t n)
{
    if (b->failed || n == 0)
        return;
    if (b->out) {
        hdm__out_write(b->out, data, n);
        b->failed = b->out->failed;
        return;
    }
    if (n > b->cap - b->len) {
        size_t cap = b->cap ? b->cap : 1 << 16;
        while (cap - b->len < n) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        unsigned char *m = realloc(b->mem, cap);
        if (!m) {
            b->failed = true;
            return;
        }
        b->mem = m;
        b->cap = cap;
    }
    memcpy(b->mem + b->len, data, n);
    b->len += n;
}

const char *hdm__bytes_error(const hdm__bytes *b)
{
    return b->out && b->out->err_no ? strerror(b->out->err_no) : "out of memory";
}

void hdm__sink_close(hdm__sink *k)
{
    if (k)
        k->close(k);
}

/* Rows per strip: enough to amortise per-call overhead, few enough that a strip of every plane
 * stays in L2 (the whole pipeline then holds a few strips, never the image). With threads, a
 * strip's rows are shared out between them, so it is that many times taller (up to 8): each
 * core's share then stays in its own L2. */
static uint32_t strip_rows(const hdm_info *info, const hdm_options *opt)
{
    if (opt->strip_rows)
        return opt->strip_rows;
    size_t row = (size_t)info->width * HDM_MAX_CHANNELS * sizeof(float);
    size_t rows = ((size_t)256 << 10) / (row ? row : 1);
    rows = rows < 1 ? 1 : rows > 64 ? 64 : rows;
    uint32_t t = opt->threads < 1 ? 1 : opt->threads > 8 ? 8 : opt->threads;
    if (t > 1) { /* threads beyond the cores share nothing out: no taller strips for them */
        uint32_t cores = hdm__cores_available();
        t = t > cores ? (cores < 1 ? 1 : cores) : t;
    }
    return (uint32_t)rows * t;
}

/* ---- pulling a source into a sink ---- */

hdm_status hdm__stream_run(hdm__source *src, hdm__sink *sink, const hdm_options *opt,
                             hdm_error *err)
{
    const hdm_info *in = &src->info;
    if (in->width != sink->info.width || in->height != sink->info.height ||
        in->channels != sink->info.channels)
        return hdm__fail(err, HDM_ERR_ARG, sink->path, "sink does not match its source");
    uint32_t rows = strip_rows(in, opt);
    if (rows > in->height)
        rows = in->height;
    /* Everything the job holds, counted before its strips are taken */
    size_t a = 0, b = 0;
    hdm_size_bytes(in->width, rows, in->channels, in->depth, &a);
    if (sink->info.depth != in->depth)
        hdm_size_bytes(in->width, rows, in->channels, sink->info.depth, &b);
    /* named after the job's input: what is held is for its sake, whatever the output */
    hdm_status st = hdm__check_held(src->held + sink->held + a + b, opt, src->path, err);
    if (st)
        return st;
    /* The source fills a strip in its own depth; the sink's depth, if other, is made here. */
    hdm_image *strip = NULL, *conv = NULL;
    st = hdm_image_new(in->width, rows, in->channels, in->depth, &strip);
    if (!st && sink->info.depth != in->depth)
        st = hdm_image_new(in->width, rows, in->channels, sink->info.depth, &conv);
    if (st) {
        hdm_image_free(strip);
        return hdm__fail(err, st, sink->path, "cannot allocate strips: %s", hdm_strerror(st));
    }
    for (uint32_t y = 0; y < in->height && !st; y += rows) {
        uint32_t n = in->height - y < rows ? in->height - y : rows;
        if (hdm__cancelled(opt->cancel)) {
            st = hdm__fail(err, HDM_ERR_INTERRUPTED, sink->path, "interrupted");
            break;
        }
        st = hdm__source_read(src, strip, n, err);
        if (st)
            break;
        const hdm_image *out = strip;
        if (conv) {
            for (uint32_t c = 0; c < in->channels; c++)
                for (uint32_t r = 0; r < n; r++)
                    hdm__convert_row(hdm_row(conv, c, r), conv->depth, hdm_row(strip, c, r),
                                     strip->depth, in->width);
            out = conv;
        }
        st = sink->write(sink, out, n, err);
    }
    if (!st)
        st = sink->finish(sink, err);
    hdm_image_free(strip);
    hdm_image_free(conv);
    return st;
}

/* ---- a sink that collects rows into an image in memory ---- */

typedef struct image_sink {
    hdm__sink base;
    hdm_image *img;
    uint32_t y;
} image_sink;

static hdm_status image_write(hdm__sink *k, const hdm_image *strip, uint32_t rows,
                              hdm_error *err)
{
    (void)err;
    image_sink *s = (image_sink *)k;
    hdm__copy_rows(s->img, s->y, strip, 0, rows);
    s->y += rows;
    return HDM_OK;
}

static hdm_status image_finish(hdm__sink *k, hdm_error *err)
{
    (void)k;
    (void)err;
    return HDM_OK;
}

static void image_close(hdm__sink *k)
{
    image_sink *s = (image_sink *)k;
    hdm_image_free(s->img);
    free(s);
}

hdm_status hdm__image_sink(const hdm_info *info, const char *path, hdm__sink **out,
                           hdm_error *err)
{
    *out = NULL;
    image_sink *s = calloc(1, sizeof *s);
    if (!s)
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    hdm_status st = hdm__image_new(info->width, info->height, info->channels, info->depth,
                                   &s->img, path, err);
    if (st) {
        free(s);
        return st;
    }
    s->base = (hdm__sink){.info = *info, .write = image_write, .finish = image_finish,
                          .close = image_close, .path = path};
    *out = &s->base;
    return HDM_OK;
}

hdm_image *hdm__image_sink_take(hdm__sink *k)
{
    image_sink *s = (image_sink *)k;
    hdm_image *img = s->img;
    s->img = NULL;
    return img;
}

