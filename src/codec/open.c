/* SPDX-License-Identifier: MIT */
/* open.c — inputs opened by their content, outputs by their format */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include "codec/codec.h"
#include "codec/metadata.h"

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

/* What every opened source goes through: the pixels turned upright for the EXIF Orientation
 * tag, which is then written as 1 (unless opt->no_rotate: stored pixels, stored tag). Every
 * Orientation entry is rewritten, so a reader that takes a duplicate sees what was applied; an
 * entry not applied (of another type or count than EXIF's SHORT of 1, or out of range) is
 * written as 1 too, as the pixels are, with a notice; with no_rotate, duplicates are made to
 * say what info reports. */
static hdm_status upright(hdm_status st, const hdm_options *opt, hdm__source **out,
                          hdm_error *err)
{
    if (st)
        return st;
    hdm__meta *m = &(*out)->meta;
    uint32_t o = m->orientation;
    if (opt->no_rotate) {
        if (o >= 1 && o <= 8)
            hdm__exif_set_orientation(m->exif, m->exif_size, o);
        return HDM_OK;
    }
    bool understood = hdm__exif_orientation(m->exif, m->exif_size) != 0;
    if (o >= 2 && o <= 8) {
        hdm__source *up = *out;
        st = hdm__source_orient(up, o, opt, out, err); /* takes up */
        if (st)
            return st;
        m = &(*out)->meta;
    }
    if (hdm__exif_set_orientation(m->exif, m->exif_size, 1) && !understood)
        hdm__notice(opt, (*out)->path,
                    "EXIF Orientation not applied and written as 1 (not one SHORT of 1..8, "
                    "as EXIF 2.32 has it)");
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
    const hdm__codec *c = hdm__codec_of(fmt);
    if (c->source)
        return upright(c->source(c, f, path, opt, out, err), opt, out, err); /* takes f */
    /* a decoder of whole files only: read the file, bounded by the memory limit */
    fclose(f);
    void *data;
    size_t size;
    st = hdm__read_file(path, opt->max_memory, &data, &size, err);
    if (st)
        return st;
    st = c->source_memory(c, data, size, path, opt, out, err);
    free(data);
    return upright(st, opt, out, err);
}

/* What every header reader leaves to the table: the decoded form in detail, a still's one page,
 * and the size an upright image has when the Orientation tag turns it by 90°. */
static hdm_status info_done(hdm_status st, const hdm_options *opt, hdm_info *out,
                            hdm_file_info *d)
{
    if (st)
        return st;
    if (!d->stored_width)
        d->stored_width = out->width, d->stored_height = out->height;
    if (!d->pages)
        d->pages = 1;
    if (!opt->no_rotate && d->orientation >= 5) {
        uint32_t w = out->width;
        out->width = out->height;
        out->height = w;
    }
    d->image = *out;
    return HDM_OK;
}

hdm_status hdm__info_open(const char *path, const hdm_options *opt, hdm_info *out,
                          hdm_file_info *detail, hdm_error *err)
{
    FILE *f;
    hdm_format fmt = HDM_FORMAT_UNKNOWN;
    hdm_status st = open_input(path, &f, &fmt, err);
    if (st)
        return st;
    const hdm__codec *c = hdm__codec_of(fmt);
    hdm_file_info local;
    hdm_file_info *d = detail ? detail : &local;
    memset(d, 0, sizeof *d);
    st = c->info(c, f, path, opt, out, d, err); /* takes f */
    return info_done(st, opt, out, d);
}

hdm_status hdm__info_open_memory(const void *data, size_t size, const char *name,
                                 const hdm_options *opt, hdm_info *out, hdm_file_info *detail,
                                 hdm_error *err)
{
    if (size == 0)
        return hdm__fail(err, HDM_ERR_CORRUPT, name, "data is empty");
    const hdm__codec *c = hdm__codec_of(hdm__detect(data, size));
    if (!c)
        return hdm__fail(err, HDM_ERR_FORMAT, name, "not an image in a format hadamard reads");
    /* the header readers take a stream, as for a file */
    FILE *f = fmemopen((void *)data, size, "rb");
    if (!f)
        return hdm__fail(err, HDM_ERR_NOMEM, name, "out of memory");
    hdm_file_info local;
    hdm_file_info *d = detail ? detail : &local;
    memset(d, 0, sizeof *d);
    hdm_status st = c->info(c, f, name, opt, out, d, err); /* takes f */
    return info_done(st, opt, out, d);
}

hdm_status hdm__source_open_memory(const void *data, size_t size, const char *name,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = NULL;
    if (size == 0)
        return hdm__fail(err, HDM_ERR_CORRUPT, name, "data is empty");
    const hdm__codec *c = hdm__codec_of(hdm__detect(data, size));
    if (!c)
        return hdm__fail(err, HDM_ERR_FORMAT, name, "not an image in a format hadamard reads");
    return upright(c->source_memory(c, data, size, name, opt, out, err), opt, out, err);
}

/* ---- sinks ---- */

hdm_depth hdm__format_depth(hdm_format fmt, hdm_depth d)
{
    const hdm__codec *c = hdm__codec_of(fmt);
    unsigned has = c ? c->pub.depths : HDM_U8;
    if (has & d)
        return d;
    /* the depths are the bits 1, 2, 4 in order of size */
    for (unsigned deeper = (unsigned)d << 1; deeper <= HDM_F32; deeper <<= 1)
        if (has & deeper)
            return (hdm_depth)deeper;
    unsigned deepest = HDM_U8;
    for (unsigned k = HDM_U8; k <= HDM_F32; k <<= 1)
        if (has & k)
            deepest = k;
    return (hdm_depth)deepest;
}

hdm_status hdm__sink_open(hdm_format fmt, const hdm_info *in, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err)
{
    *out = NULL;
    const hdm__codec *c = hdm__codec_of(fmt);
    if (!c || !c->sink) {
        char list[256];
        hdm__output_extensions(list, sizeof list);
        return hdm__fail(err, HDM_ERR_FORMAT, path, "cannot write this format (use %s)", list);
    }
    hdm_info info = *in;
    info.format = fmt;
    info.depth = hdm__format_depth(fmt, in->depth);
    hdm__meta keep = {0};
    if (meta)
        keep = hdm__meta_filtered(meta, opt->strip_meta);
    return c->sink(c, &info, opt, &keep, b, path, out, err);
}

bool hdm__format_writable(hdm_format fmt)
{
    const hdm__codec *c = hdm__codec_of(fmt);
    return c && c->sink;
}
