/* source.c — opening inputs by content, depth conversion, whole-image sources, sinks */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Opens path for reading only if it is a regular file: opened without blocking (a FIFO's
 * open would wait for a writer forever) and checked before any byte is read. Reads the first
 * bytes and names the format. */
static hdm_status open_input(const char *path, FILE **out, hdm_format *fmt, hdm_error *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return hdm__fail(err, HDM_ERR_IO, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        close(fd);
        return hdm__fail(err, HDM_ERR_IO, path, dir ? "is a directory" : "not a regular file");
    }
    int fl = fcntl(fd, F_GETFL);
    FILE *f = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 ? fdopen(fd, "rb") : NULL;
    if (!f) {
        close(fd);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    unsigned char head[32];
    size_t n = fread(head, 1, sizeof head, f);
    if (n == 0) {
        bool bad = ferror(f);
        fclose(f);
        return bad ? hdm__fail(err, HDM_ERR_IO, path, "read failed: %s", strerror(errno))
                   : hdm__fail(err, HDM_ERR_CORRUPT, path, "file is empty");
    }
    *fmt = hdm__detect(head, n);
    if (*fmt == HDM_FORMAT_UNKNOWN) {
        fclose(f);
        return hdm__fail(err, HDM_ERR_FORMAT, path, "not an image in a format hadamard reads");
    }
    rewind(f);
    *out = f;
    return HDM_OK;
}

hdm_status hdm__source_open(const char *path, const hdm_options *opt, hdm__source **out,
                            hdm_error *err)
{
    *out = NULL;
    FILE *f;
    hdm_format fmt = HDM_FORMAT_UNKNOWN;
    hdm_status st = open_input(path, &f, &fmt, err);
    if (st)
        return st;
    if (fmt == HDM_FORMAT_PNG)
        return hdm__png_source(f, path, opt, out, err); /* takes f */
    fclose(f);
    void *data;
    size_t size;
    st = hdm__read_file(path, opt->max_memory, &data, &size, err);
    if (st)
        return st;
    st = hdm__stb_source(data, size, path, opt, out, err);
    free(data);
    return st;
}

hdm_status hdm__info_open(const char *path, const hdm_options *opt, hdm_info *out,
                          hdm_error *err)
{
    FILE *f;
    hdm_format fmt = HDM_FORMAT_UNKNOWN;
    hdm_status st = open_input(path, &f, &fmt, err);
    if (st)
        return st;
    return fmt == HDM_FORMAT_PNG ? hdm__png_info(f, path, opt, out, err)  /* take f */
                                 : hdm__stb_info(f, path, opt, out, err);
}

hdm_status hdm__source_open_memory(const void *data, size_t size, const char *name,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = NULL;
    if (size == 0)
        return hdm__fail(err, HDM_ERR_CORRUPT, name, "data is empty");
    hdm_format fmt = hdm__detect(data, size);
    if (fmt == HDM_FORMAT_UNKNOWN)
        return hdm__fail(err, HDM_ERR_FORMAT, name, "not an image in a format hadamard reads");
    if (fmt == HDM_FORMAT_PNG)
        return hdm__png_source_memory(data, size, name, opt, out, err);
    return hdm__stb_source(data, size, name, opt, out, err);
}

void hdm__source_close(hdm__source *s)
{
    if (!s)
        return;
    hdm_image_free(s->scratch);
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
                                  hdm__source **out)
{
    whole_source *w = calloc(1, sizeof *w);
    char *p = strdup(path ? path : "(memory)");
    if (!w || !p) {
        free(w);
        free(p);
        if (owned)
            hdm_image_free(img);
        return HDM_ERR_NOMEM;
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

/* ---- sinks ---- */

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

hdm_depth hdm__format_depth(hdm_format fmt, hdm_depth d)
{
    switch (fmt) {
    case HDM_FORMAT_PNG: return d == HDM_U8 ? HDM_U8 : HDM_U16;
    case HDM_FORMAT_HDR: return HDM_F32;
    default: return HDM_U8;
    }
}

hdm_status hdm__sink_open(hdm_format fmt, const hdm_info *in, const hdm_options *opt,
                          hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err)
{
    *out = NULL;
    hdm_info info = *in;
    info.format = fmt;
    info.depth = hdm__format_depth(fmt, in->depth);
    switch (fmt) {
    case HDM_FORMAT_PNG:
        return hdm__png_sink(&info, opt, b, path, out, err);
    case HDM_FORMAT_JPEG: case HDM_FORMAT_BMP: case HDM_FORMAT_TGA: case HDM_FORMAT_HDR:
        return hdm__stb_sink(fmt, &info, opt, b, path, out, err);
    default:
        return hdm__fail(err, HDM_ERR_FORMAT, path,
                         "cannot write this format (use .png, .jpg, .jpeg, .bmp, .tga or .hdr)");
    }
}

void hdm__sink_close(hdm__sink *k)
{
    if (k)
        k->close(k);
}
