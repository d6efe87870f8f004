/* SPDX-License-Identifier: MIT */
/* png.c — PNG input through libpng, row by row (output: png_write.c) */
#define _POSIX_C_SOURCE 200809L /* fseeko, ftello */
#include "codec/codec.h"
#include "codec/metadata.h"
#include "kernel/kernel.h"

#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* libpng reports errors by longjmp (libpng manual, "Setup": png_jmpbuf). Every function here
 * that calls into libpng sets its own jump point and keeps nothing in locals that it changes
 * after setjmp: state lives in the heap objects below. */

typedef struct png_io {
    FILE *f;                    /* file input, or NULL for memory */
    const unsigned char *mem;
    size_t len, pos;
    char msg[256];              /* libpng's error text, kept for our message */
    /* Chunk headers as they pass (see check_chunks) */
    uint64_t size;              /* the input's length, UINT64_MAX if unknown */
    uint64_t done;              /* bytes handed to libpng so far */
    uint64_t next_chunk;        /* offset of the next chunk's length field */
    unsigned char head[8];      /* the length and type being gathered */
    unsigned have;
    unsigned seen;              /* SEEN_* bits: the colour chunks the file has before IDAT */
    bool image;                 /* the first IDAT has passed */
} png_io;

/* libpng reports gAMA and cHRM for an sRGB chunk alone, and sRGB for an iCCP holding an sRGB
 * profile (libpng manual, "The colorspace"): what the file itself has is noted here, so that
 * only its own chunks are carried. */
enum { SEEN_SRGB = 1, SEEN_GAMA = 2, SEEN_CHRM = 4 };

static void on_error(png_structp png, png_const_charp msg)
{
    png_io *io = png_get_error_ptr(png);
    snprintf(io->msg, sizeof io->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg; /* the library prints nothing; recoverable oddities are not the caller's concern */
}

/* libpng takes a chunk's length on trust: it allocates (and zeroes) that much for a known
 * ancillary chunk before reading it, and its own cap (png_set_chunk_malloc_max) is only a
 * warning ("chunk data is too large", a benign error). So every chunk header is checked here as
 * it passes, whatever sizes libpng reads in: a length PNG does not allow, or a chunk running past
 * the end of the input, is refused before libpng sees it. IDAT is left to libpng, which reads it
 * in small pieces: a truncated image stays an error where the data runs out. */
static void check_chunks(png_structp png, png_io *io, const unsigned char *data, size_t n)
{
    uint64_t at = io->done, end = io->done + n;
    io->done = end;
    while (io->next_chunk + io->have < end) {
        uint64_t from = io->next_chunk + io->have;
        if (from < at)
            break; /* cannot happen: reads are sequential */
        io->head[io->have++] = data[from - at];
        if (io->have < 8)
            continue;
        io->have = 0;
        uint32_t len = (uint32_t)io->head[0] << 24 | (uint32_t)io->head[1] << 16 |
                       (uint32_t)io->head[2] << 8 | io->head[3];
        char type[5] = {0};
        for (int i = 0; i < 4; i++) {
            unsigned char c = io->head[4 + i];
            type[i] = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ? (char)c : '?';
        }
        uint64_t left = io->size - (io->next_chunk + 8);
        if (len > 0x7fffffffu) {
            snprintf(io->msg, sizeof io->msg, "chunk %s has an invalid length %lu", type,
                     (unsigned long)len);
            png_longjmp(png, 1);
        }
        if (io->size != UINT64_MAX && strcmp(type, "IDAT") != 0 && (uint64_t)len + 4 > left) {
            snprintf(io->msg, sizeof io->msg,
                     "chunk %s claims %lu bytes, more than the %llu left in the file "
                     "(truncated?)", type, (unsigned long)len,
                     (unsigned long long)(left < 4 ? 0 : left - 4));
            png_longjmp(png, 1);
        }
        io->next_chunk += 12 + (uint64_t)len;
        if (!strcmp(type, "IDAT"))
            io->image = true;
        else if (!io->image)
            io->seen |= !strcmp(type, "sRGB") ? SEEN_SRGB : !strcmp(type, "gAMA") ? SEEN_GAMA
                      : !strcmp(type, "cHRM") ? SEEN_CHRM : 0;
    }
}

static void on_read(png_structp png, png_bytep data, size_t n)
{
    png_io *io = png_get_io_ptr(png);
    if (io->f) {
        if (fread(data, 1, n, io->f) != n)
            png_error(png, ferror(io->f) ? "read error" : "file is truncated");
    } else {
        if (n > io->len - io->pos)
            png_error(png, "data is truncated");
        memcpy(data, io->mem + io->pos, n);
        io->pos += n;
    }
    check_chunks(png, io, data, n);
}

/* Starts the chunk check at the first chunk, after the 8-byte signature. A stream that is no
 * regular file (the header reader's view of memory) gives its length by a seek to its end. */
static void io_init(png_io *io)
{
    struct stat st;
    off_t at, end;
    io->size = !io->f ? io->len
             : fstat(fileno(io->f), &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size
             : (at = ftello(io->f)) >= 0 && fseeko(io->f, 0, SEEK_END) == 0 &&
               (end = ftello(io->f)) >= 0 && fseeko(io->f, at, SEEK_SET) == 0 ? (uint64_t)end
             : UINT64_MAX;
    io->next_chunk = 8;
}

/* ---- reading ---- */

typedef struct png_source {
    hdm__source base;
    png_structp png;
    png_infop info;
    png_io io;
    unsigned char *row;         /* one interleaved row as libpng gives it */
    char *path;
    unsigned char *whole;       /* interlaced: every row, interleaved (Adam7 needs them all) */
    size_t rowbytes;            /* of whole's rows */
} png_source;

static void png_source_close(hdm__source *s)
{
    png_source *p = (png_source *)s;
    png_destroy_read_struct(&p->png, &p->info, NULL);
    if (p->io.f)
        fclose(p->io.f);
    free(p->row);
    free(p->path);
    free(p->whole);
    /* hdm__source_close has freed it already; a header read (codec_info) or a failed open
     * closes here directly, with the metadata read */
    hdm__meta_free(&p->base.meta);
    free(p);
}

static hdm_status stream_rows(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    png_source *p = (png_source *)s;
    if (setjmp(png_jmpbuf(p->png)))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt PNG: %s", p->io.msg);
    for (uint32_t y = 0; y < rows; y++) {
        png_read_row(p->png, p->row, NULL);
        hdm__row_to_planes(strip, y, p->row);
    }
    if (s->next + rows == s->info.height)
        png_read_end(p->png, NULL); /* checks the trailing chunks' CRCs up to IEND */
    return HDM_OK;
}

/* Serves rows of an interlaced image from the one buffer every Adam7 pass was decoded into. */
static hdm_status interlaced_rows(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    (void)err;
    png_source *p = (png_source *)s;
    for (uint32_t y = 0; y < rows; y++)
        hdm__row_to_planes(strip, y, p->whole + (size_t)(s->next + y) * p->rowbytes);
    return HDM_OK;
}

/* Decodes every Adam7 pass into one interleaved buffer (Adam7 needs every row before the first
 * is complete); rows are split into planes as they are read, so the image is held once. */
static hdm_status read_interlaced(png_source *p, int passes, hdm_error *err)
{
    const hdm_info *in = &p->base.info;
    p->rowbytes = png_get_rowbytes(p->png, p->info);
    size_t total;
    if (hdm_size_bytes(in->width, in->height, in->channels, in->depth, &total) ||
        total / in->height != p->rowbytes)
        return hdm__fail(err, HDM_ERR_LIMIT, p->path, "%s", hdm_strerror(HDM_ERR_LIMIT));
    if (!(p->whole = malloc(total)))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->base.held = total;
    if (setjmp(png_jmpbuf(p->png)))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt PNG: %s", p->io.msg);
    for (int pass = 0; pass < passes; pass++)
        for (uint32_t y = 0; y < in->height; y++)
            png_read_row(p->png, p->whole + (size_t)y * p->rowbytes, NULL);
    png_read_end(p->png, NULL);
    p->base.read = interlaced_rows;
    return HDM_OK;
}

/* ---- metadata after the image data ---- */

enum { ANCILLARY_MAX = 8u << 20 }; /* the cap libpng gets for an ancillary chunk's memory */

static uint32_t be32_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* n bytes at offset at of the input, wherever libpng's reading stands; false when they are not
 * all there. */
static bool read_at(png_io *io, uint64_t at, void *buf, size_t n)
{
    if (at > io->size || n > io->size - at)
        return false;
    if (!io->f) {
        memcpy(buf, io->mem + at, n);
        return true;
    }
    return fseeko(io->f, (off_t)at, SEEK_SET) == 0 && fread(buf, 1, n, io->f) == n;
}

/* The zlib stream z (n bytes) inflated into *dst (set as a metadata part), within the
 * ancillary cap: left unset when damaged or over the cap; false only when out of memory. */
static bool inflate_part(unsigned char **dst, size_t *dst_size, const unsigned char *z, size_t n)
{
    unsigned char *out = malloc(ANCILLARY_MAX);
    if (!out)
        return false;
    z_stream zs = {0};
    bool ok = true;
    if (inflateInit(&zs) == Z_OK) {
        zs.next_in = (unsigned char *)z;
        zs.avail_in = (uInt)n;
        zs.next_out = out;
        zs.avail_out = ANCILLARY_MAX;
        if (inflate(&zs, Z_FINISH) == Z_STREAM_END) /* else damaged or over the cap: left */
            ok = hdm__meta_set(dst, dst_size, out, zs.total_out);
        inflateEnd(&zs);
    }
    free(out);
    return ok;
}

/* The XMP packet of an iTXt chunk's data (PNG 11.3.4.5: keyword, NUL, compression flag and
 * method, language tag, NUL, translated keyword, NUL, text), inflated when it is compressed,
 * within the ancillary cap; false only when out of memory. */
static bool itxt_xmp(hdm__meta *m, const unsigned char *d, size_t n)
{
    static const char key[] = "XML:com.adobe.xmp";
    if (n < sizeof key + 2 || memcmp(d, key, sizeof key))
        return true;
    bool packed = d[sizeof key] != 0;
    const unsigned char *t = d + sizeof key + 2, *end = d + n;
    int nul = 0;
    while (nul < 2 && t < end)
        nul += *t++ == 0;
    if (nul < 2)
        return true; /* the language tag or translated keyword is not ended */
    if (!packed)
        return hdm__meta_set(&m->xmp, &m->xmp_size, t, (size_t)(end - t));
    return inflate_part(&m->xmp, &m->xmp_size, t, (size_t)(end - t));
}

/* The profile of an iCCP chunk's data (PNG 11.3.3.3: name, NUL, compression method 0, zlib
 * stream); false only when out of memory. */
static bool iccp_profile(hdm__meta *m, const unsigned char *d, size_t n)
{
    const unsigned char *nul = memchr(d, 0, n < 80 ? n : 80);
    if (!nul || (size_t)(nul - d) + 2 > n || nul[1] != 0)
        return true;
    return inflate_part(&m->icc, &m->icc_size, nul + 2, n - (size_t)(nul - d) - 2);
}

/* PNG lets eXIf and the iTXt of XMP come after the image data (PNG 5.6), where libpng reads them
 * only at png_read_end, once the rows have gone to the output and its header with them. And
 * libpng drops an iCCP whose profile it judges wrong for the image (a gray profile on RGB, a
 * tag table past the end) without a word; that profile is read here too, so that the output
 * leaves it out the way it leaves out any profile that does not fit, said. The
 * input is a regular file or memory, so the chunk headers are walked here before decoding (each
 * chunk's length is a seek past its data, IDAT's too), and such a late EXIF or XMP is read in
 * with its CRC checked: carried as an early one is, its Orientation applied the same way. One
 * that comes before the image data wins; a damaged chunk is left to libpng, which refuses it at
 * the end. False only when out of memory. */
static bool read_late_meta(png_source *p)
{
    png_io *io = &p->io;
    hdm__meta *m = &p->base.meta;
    off_t back = io->f ? ftello(io->f) : 0;
    if (io->size == UINT64_MAX || back < 0)
        return true;
    bool image = false, ok = true;
    for (uint64_t at = 8; ok;) {
        unsigned char head[8];
        if (!read_at(io, at, head, 8))
            break;
        uint32_t len = be32_at(head);
        const unsigned char *type = head + 4;
        if (len > 0x7fffffffu || !memcmp(type, "IEND", 4))
            break;
        bool iccp = !image && !memcmp(type, "iCCP", 4) && !m->icc;
        if (!memcmp(type, "IDAT", 4))
            image = true;
        else if (len <= ANCILLARY_MAX &&
                 (iccp || (image && ((!memcmp(type, "eXIf", 4) && !m->exif) ||
                                     (!memcmp(type, "iTXt", 4) && !m->xmp))))) {
            unsigned char *d = malloc((size_t)len + 8);
            if (!d) {
                ok = false;
                break;
            }
            if (read_at(io, at + 4, d, (size_t)len + 8) &&
                crc32(crc32(0, NULL, 0), d, len + 4) == be32_at(d + 4 + len))
                ok = iccp ? iccp_profile(m, d + 4, len)
                     : type[0] == 'e' ? hdm__meta_set(&m->exif, &m->exif_size, d + 4, len)
                                      : itxt_xmp(m, d + 4, len);
            free(d);
        }
        at += 12 + (uint64_t)len;
    }
    if (io->f && fseeko(io->f, back, SEEK_SET) != 0)
        clearerr(io->f); /* libpng's next read then fails, and says so */
    return ok;
}

/* The metadata read with the header (chunks before the first IDAT), and a late EXIF or XMP,
 * into p->base.meta. */
static hdm_status read_meta(png_source *p, hdm_error *err)
{
    hdm__meta *m = &p->base.meta;
    bool ok = true;
    png_charp name;
    int compression;
    png_bytep profile;
    png_uint_32 len;
    if (png_get_iCCP(p->png, p->info, &name, &compression, &profile, &len))
        ok = hdm__meta_set(&m->icc, &m->icc_size, profile, len);
    png_bytep exif;
    png_uint_32 exif_len;
    if (ok && png_get_eXIf_1(p->png, p->info, &exif_len, &exif))
        ok = hdm__meta_set(&m->exif, &m->exif_size, exif, exif_len);
    png_textp text;
    int ntext = 0;
    png_get_text(p->png, p->info, &text, &ntext);
    for (int i = 0; ok && i < ntext; i++)
        if (text[i].compression >= PNG_ITXT_COMPRESSION_NONE &&
            strcmp(text[i].key, "XML:com.adobe.xmp") == 0 && !m->xmp)
            ok = hdm__meta_set(&m->xmp, &m->xmp_size, text[i].text, text[i].itxt_length);
    if (!ok || !read_late_meta(p))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    int intent;
    if ((p->io.seen & SEEN_SRGB) && png_get_sRGB(p->png, p->info, &intent))
        m->srgb_intent = 1 + intent;
    png_fixed_point g;
    if ((p->io.seen & SEEN_GAMA) && png_get_gAMA_fixed(p->png, p->info, &g) && g > 0)
        m->gamma = (uint32_t)g;
    png_fixed_point c[8];
    if ((p->io.seen & SEEN_CHRM) &&
        png_get_cHRM_fixed(p->png, p->info, &c[0], &c[1], &c[2], &c[3], &c[4], &c[5], &c[6],
                           &c[7])) {
        m->has_chrm = true;
        for (int i = 0; i < 8; i++)
            m->chrm[i] = c[i] > 0 ? (uint32_t)c[i] : 0;
    }
    png_uint_32 rx, ry;
    int unit;
    if (png_get_pHYs(p->png, p->info, &rx, &ry, &unit) && rx && ry) {
        m->res_x = rx, m->res_y = ry;
        m->res_unit = unit == PNG_RESOLUTION_METER ? 2 : 0;
        if (m->res_unit == 2) /* per metre, kept as per centimetre */
            m->res_x /= 100, m->res_y /= 100;
    }
    m->orientation = hdm__exif_orientation(m->exif, m->exif_size);
    return HDM_OK;
}

/* Creates libpng's structs over p->io and reads every chunk up to the first IDAT, filling
 * p->base.info and checking it against the limits (nothing of the pixels is read). */
static hdm_status png_header(png_source *p, const hdm_options *opt, hdm_error *err)
{
    p->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &p->io, on_error, on_warning);
    if (!p->png || !(p->info = png_create_info_struct(p->png)))
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    png_set_read_fn(p->png, &p->io, on_read);
    if (setjmp(png_jmpbuf(p->png)))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt PNG: %s", p->io.msg);
    /* libpng's own limits only refuse what no PNG may hold (2^31 - 1); ours are checked below
     * straight from IHDR, before png_read_update_info allocates row buffers, so the refusal
     * can name the limit and how to raise it. Ancillary chunks get a fixed memory cap. */
    png_set_user_limits(p->png, 0x7fffffffL, 0x7fffffffL);
    png_set_chunk_malloc_max(p->png, ANCILLARY_MAX);
    /* A bad CRC in an ancillary chunk is an error too, not a silent discard: a damaged tRNS
     * would otherwise drop the alpha channel and decode "successfully" (libpng manual,
     * png_set_crc_action). */
    png_set_crc_action(p->png, PNG_CRC_DEFAULT, PNG_CRC_ERROR_QUIT);
    /* Of the ancillary chunks only tRNS changes the pixels, and the metadata carried to the
     * output is read (iCCP, eXIf, iTXt for XMP, sRGB, gAMA, cHRM, pHYs), each within the cap
     * above; libpng would read every other one it knows into memory (text, palettes of
     * suggestions), inflating the compressed ones. They are skipped unread instead, CRC still
     * checked (libpng manual, png_set_keep_unknown_chunks: NEVER also applies to known
     * chunks), as unknown chunks are by default: nothing of theirs is allocated. */
    static const png_byte unused[] = "bKGD\0hIST\0oFFs\0pCAL\0sBIT\0sCAL\0sPLT\0tEXt\0"
                                     "tIME\0zTXt";
    png_set_keep_unknown_chunks(p->png, PNG_HANDLE_CHUNK_NEVER, unused, (int)(sizeof unused / 5));
    png_read_info(p->png, p->info);

    png_uint_32 w, h;
    int bit_depth, color_type;
    png_get_IHDR(p->png, p->info, &w, &h, &bit_depth, &color_type, NULL, NULL, NULL);
    bool trns = png_get_valid(p->png, p->info, PNG_INFO_tRNS);
    p->base.info.width = w;
    p->base.info.height = h;
    p->base.info.channels = color_type == PNG_COLOR_TYPE_GRAY ? 1u + trns
                          : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2u
                          : color_type == PNG_COLOR_TYPE_RGB_ALPHA ? 4u : 3u + trns;
    p->base.info.depth = bit_depth == 16 ? HDM_U16 : HDM_U8;
    p->base.info.format = HDM_FORMAT_PNG;
    hdm_status st = hdm__check_limits(&p->base.info, opt, p->path, err);
    return st ? st : read_meta(p, err);
}

static hdm_status png_open(png_source *p, const hdm_options *opt, hdm_error *err)
{
    hdm_status st = png_header(p, opt, err);
    if (st)
        return st;
    if (setjmp(png_jmpbuf(p->png)))
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "corrupt PNG: %s", p->io.msg);
    int bit_depth = png_get_bit_depth(p->png, p->info);
    int color_type = png_get_color_type(p->png, p->info);
    /* Transformations (libpng manual, "Input transformations"): palette and low-bit gray
     * expand to 8 bits, tRNS becomes an alpha channel, 16-bit samples arrive in host order. */
    if (color_type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(p->png);
    if (color_type == PNG_COLOR_TYPE_GRAY && bit_depth < 8)
        png_set_expand_gray_1_2_4_to_8(p->png);
    if (png_get_valid(p->png, p->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(p->png);
    if (bit_depth == 16) {
        const uint16_t one = 1;
        if (*(const unsigned char *)&one == 1)
            png_set_swap(p->png);
    }
    int passes = png_set_interlace_handling(p->png);
    png_read_update_info(p->png, p->info);
    if (png_get_channels(p->png, p->info) != p->base.info.channels)
        return hdm__fail(err, HDM_ERR_CORRUPT, p->path, "unexpected channel count");
    size_t rowbytes = png_get_rowbytes(p->png, p->info);
    if (passes > 1)
        return read_interlaced(p, passes, err);
    p->row = malloc(rowbytes);
    if (!p->row)
        return hdm__fail(err, HDM_ERR_NOMEM, p->path, "out of memory");
    p->base.held = 3 * (uint64_t)rowbytes; /* ours, and libpng's current and previous rows */
    p->base.read = stream_rows;
    return HDM_OK;
}

static hdm_status png_source_new(FILE *f, const void *data, size_t size, const char *path,
                                 const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    png_source *p = calloc(1, sizeof *p);
    char *name = strdup(path ? path : "(memory)");
    if (!p || !name) {
        free(p);
        free(name);
        if (f)
            fclose(f);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    p->io.f = f;
    p->io.mem = data;
    p->io.len = size;
    p->path = name;
    p->base.path = name;
    p->base.close = png_source_close;
    io_init(&p->io);
    hdm_status st = png_open(p, opt, err);
    if (st) {
        hdm__source_close(&p->base); /* its metadata too */
        return st;
    }
    *out = &p->base;
    return HDM_OK;
}

static hdm_status codec_info(const hdm__codec *c, FILE *f, const char *path,
                             const hdm_options *opt, hdm_info *out,
                             hdm_file_info *detail, hdm_error *err)
{
    (void)c;
    png_source *p = calloc(1, sizeof *p);
    if (!p) {
        fclose(f);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    p->io.f = f;
    io_init(&p->io);
    p->base.close = png_source_close;
    p->path = strdup(path);
    hdm_status st = p->path ? png_header(p, opt, err)
                            : hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    if (!st) {
        *out = p->base.info;
        int depth, type, interlace;
        png_get_IHDR(p->png, p->info, NULL, NULL, &depth, &type, &interlace, NULL, NULL);
        detail->bits = (uint32_t)depth;
        snprintf(detail->color, sizeof detail->color, "%s",
                 type == PNG_COLOR_TYPE_GRAY ? "gray" : type == PNG_COLOR_TYPE_GRAY_ALPHA
                 ? "gray+alpha" : type == PNG_COLOR_TYPE_PALETTE ? "palette"
                 : type == PNG_COLOR_TYPE_RGB ? "rgb" : "rgba");
        detail->interlaced = interlace != PNG_INTERLACE_NONE;
        hdm__meta_describe(&p->base.meta, detail);
    }
    hdm__source_close(&p->base); /* its metadata too */
    return st;
}

static hdm_status codec_source(const hdm__codec *c, FILE *f, const char *path,
                               const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    (void)c;
    return png_source_new(f, NULL, 0, path, opt, out, err);
}

static hdm_status codec_source_memory(const hdm__codec *c, const void *data, size_t size,
                                      const char *name, const hdm_options *opt,
                                      hdm__source **out, hdm_error *err)
{
    (void)c;
    return png_source_new(NULL, data, size, name, opt, out, err);
}

/* ---- the table's entry ---- */

/* The signature (PNG specification, 5.2). */
static bool codec_sniff(const unsigned char *h, size_t n)
{
    return n >= 8 && memcmp(h, "\x89PNG\r\n\x1a\n", 8) == 0;
}

const hdm__codec hdm__codec_png = {
    .pub = {.format = HDM_FORMAT_PNG, .name = "png",
            .extensions = (const char *const[]){"png", NULL},
            .read_extensions = (const char *const[]){"png", NULL},
            .writable = 1, .depths = HDM_U8 | HDM_U16, .layouts = 0xf /* 1 to 4 channels */},
    .sniff = codec_sniff,
    .info = codec_info,
    .source = codec_source,
    .source_memory = codec_source_memory,
    .sink = hdm__png_sink,
};
