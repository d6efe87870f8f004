/* SPDX-License-Identifier: MIT */
/* testutil.c — temp dirs, seeded randomness, image comparison and libpng-made PNGs for tests */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <ftw.h>
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- randomness ---- */

void tu_seed(tu_rng *r, uint64_t seed) { r->s = seed; }

uint64_t tu_next(tu_rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

uint32_t tu_below(tu_rng *r, uint32_t n) { return (uint32_t)((tu_next(r) >> 32) % n); }

/* ---- temporary directory ---- */

char *tu_dir;

void tu_setup(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/hdm-test-XXXXXX", base && *base ? base : "/tmp");
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d, "mkdtemp(%s) failed", tmpl);
    tu_dir = strdup(d);
    cr_assert_not_null(tu_dir);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

void tu_teardown(void)
{
    if (!tu_dir)
        return;
    nftw(tu_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    free(tu_dir);
    tu_dir = NULL;
}

const char *tu_path(const char *name)
{
    static char buf[8][4096];
    static unsigned turn;
    char *b = buf[turn++ % 8];
    snprintf(b, sizeof buf[0], "%s/%s", tu_dir, name);
    return b;
}

/* ---- files ---- */

void tu_write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, f), n, "cannot write %s", path);
    cr_assert_eq(fclose(f), 0, "cannot close %s", path);
}

void *tu_read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t cap = 1 << 16, len = 0;
    unsigned char *buf = malloc(cap);
    cr_assert_not_null(buf);
    size_t got;
    while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            cap *= 2;
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
    }
    fclose(f);
    *n = len;
    return buf;
}

bool tu_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

int tu_dir_entries(void)
{
    DIR *d = opendir(tu_dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* ---- images ---- */

uint32_t tu_get(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y)
{
    const void *row = hdm_row(img, c, y);
    switch (img->depth) {
    case HDM_U8: return ((const uint8_t *)row)[x];
    case HDM_U16: return ((const uint16_t *)row)[x];
    case HDM_F32: {
        uint32_t bits;
        memcpy(&bits, (const float *)row + x, 4);
        return bits;
    }
    }
    return 0;
}

void tu_set(hdm_image *img, uint32_t c, uint32_t x, uint32_t y, uint32_t v)
{
    void *row = hdm_row(img, c, y);
    switch (img->depth) {
    case HDM_U8: ((uint8_t *)row)[x] = (uint8_t)v; break;
    case HDM_U16: ((uint16_t *)row)[x] = (uint16_t)v; break;
    case HDM_F32: memcpy((float *)row + x, &v, 4); break;
    }
}

float tu_getf(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y)
{
    return ((const float *)hdm_row(img, c, y))[x];
}

void tu_setf(hdm_image *img, uint32_t c, uint32_t x, uint32_t y, float v)
{
    ((float *)hdm_row(img, c, y))[x] = v;
}

hdm_image *tu_image_random(uint32_t w, uint32_t h, uint32_t c, hdm_depth d, tu_rng *r)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, c, d, &img), HDM_OK, "hdm_image_new(%u, %u, %u, %d)", w,
                 h, c, (int)d);
    for (uint32_t p = 0; p < c; p++)
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                uint64_t v = tu_next(r);
                if (d == HDM_F32)
                    tu_setf(img, p, x, y, (float)(v >> 40) / (float)(1 << 24));
                else
                    tu_set(img, p, x, y, (uint32_t)v);
            }
    return img;
}

void tu_assert_same(const hdm_image *a, const hdm_image *b, const char *what)
{
    cr_assert_not_null(a, "%s: first image is NULL", what);
    cr_assert_not_null(b, "%s: second image is NULL", what);
    cr_assert(a->width == b->width && a->height == b->height && a->channels == b->channels,
              "%s: shape %ux%ux%u vs %ux%ux%u", what, a->width, a->height, a->channels,
              b->width, b->height, b->channels);
    cr_assert_eq(a->depth, b->depth, "%s: depth %d vs %d", what, (int)a->depth, (int)b->depth);
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            for (uint32_t x = 0; x < a->width; x++) {
                uint32_t va = tu_get(a, c, x, y), vb = tu_get(b, c, x, y);
                if (va != vb)
                    cr_assert_fail("%s: channel %u at (%u, %u): %u vs %u", what, c, x, y, va,
                                   vb);
            }
}

/* ---- PNGs ---- */

static uint32_t png_channels(int color_type)
{
    switch (color_type) {
    case PNG_COLOR_TYPE_GRAY: return 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB: return 3;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return 1; /* palette: one index */
    }
}

static void png_alloc_rows(tu_png *p)
{
    size_t bits = (size_t)p->width * png_channels(p->color_type) * (size_t)p->bit_depth;
    p->rowbytes = (bits + 7) / 8;
    p->rows = calloc(p->height, p->rowbytes);
    cr_assert_not_null(p->rows);
}

uint32_t tu_png_raw(const tu_png *p, uint32_t x, uint32_t y, uint32_t c)
{
    const uint8_t *row = p->rows + (size_t)y * p->rowbytes;
    size_t i = (size_t)x * png_channels(p->color_type) + c;
    switch (p->bit_depth) {
    case 16: return (uint32_t)row[2 * i] << 8 | row[2 * i + 1];
    case 8: return row[i];
    default: {
        size_t bit = i * (size_t)p->bit_depth; /* samples fill bytes from the top bit down */
        unsigned shift = 8 - p->bit_depth - (unsigned)(bit % 8);
        return (row[bit / 8] >> shift) & ((1u << p->bit_depth) - 1);
    }
    }
}

static void png_put(tu_png *p, uint32_t x, uint32_t y, uint32_t c, uint32_t v)
{
    uint8_t *row = p->rows + (size_t)y * p->rowbytes;
    size_t i = (size_t)x * png_channels(p->color_type) + c;
    switch (p->bit_depth) {
    case 16:
        row[2 * i] = (uint8_t)(v >> 8);
        row[2 * i + 1] = (uint8_t)v;
        break;
    case 8: row[i] = (uint8_t)v; break;
    default: {
        size_t bit = i * (size_t)p->bit_depth;
        unsigned shift = 8 - p->bit_depth - (unsigned)(bit % 8);
        unsigned mask = ((1u << p->bit_depth) - 1) << shift;
        row[bit / 8] = (uint8_t)((row[bit / 8] & ~mask) | ((v << shift) & mask));
    }
    }
}

void tu_png_random(tu_png *p, uint32_t w, uint32_t h, int bit_depth, int color_type,
                   int interlace, bool with_trns, tu_rng *r)
{
    memset(p, 0, sizeof *p);
    p->width = w;
    p->height = h;
    p->bit_depth = bit_depth;
    p->color_type = color_type;
    p->interlace = interlace;
    png_alloc_rows(p);
    uint32_t ch = png_channels(color_type), max = (1u << bit_depth) - 1;
    if (color_type == PNG_COLOR_TYPE_PALETTE) {
        /* A palette smaller than the index range, every index in the image valid. */
        p->npalette = 1 + (int)tu_below(r, max + 1);
        for (int i = 0; i < p->npalette; i++)
            for (int c = 0; c < 3; c++)
                p->palette[i][c] = (uint8_t)tu_next(r);
        if (with_trns) {
            p->ntrans = 1 + (int)tu_below(r, (uint32_t)p->npalette);
            for (int i = 0; i < p->ntrans; i++)
                p->trans[i] = (uint8_t)tu_next(r);
            p->trans[0] = 0; /* at least one fully transparent entry */
        }
        max = (uint32_t)p->npalette - 1;
    } else if (with_trns) {
        p->ntrans = 1;
        for (uint32_t c = 0; c < ch; c++)
            p->trans_color[c] = (uint16_t)(tu_next(r) & max);
    }
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            bool key = p->ntrans == 1 && color_type != PNG_COLOR_TYPE_PALETTE &&
                       tu_below(r, 4) == 0;
            for (uint32_t c = 0; c < ch; c++)
                png_put(p, x, y, c,
                        key ? p->trans_color[c] : (uint32_t)(tu_next(r) % (max + 1)));
        }
}

void tu_png_from_image(tu_png *p, const hdm_image *img)
{
    static const int types[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    cr_assert(img->depth != HDM_F32, "PNG holds no f32");
    memset(p, 0, sizeof *p);
    p->width = img->width;
    p->height = img->height;
    p->bit_depth = img->depth == HDM_U16 ? 16 : 8;
    p->color_type = types[img->channels];
    p->interlace = PNG_INTERLACE_NONE;
    png_alloc_rows(p);
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++)
                png_put(p, x, y, c, tu_get(img, c, x, y));
}

void tu_png_free(tu_png *p)
{
    free(p->rows);
    p->rows = NULL;
}

uint32_t tu_png_out_channels(const tu_png *p)
{
    if (p->color_type == PNG_COLOR_TYPE_PALETTE)
        return p->ntrans ? 4 : 3;
    return png_channels(p->color_type) + (p->ntrans ? 1 : 0);
}

hdm_depth tu_png_out_depth(const tu_png *p) { return p->bit_depth == 16 ? HDM_U16 : HDM_U8; }

/* The expansions as the PNG specification defines them (sections 12.5 and 13.12): low-bit gray
 * scaled by 255 / (2^depth − 1), which the bit replication libpng uses gives exactly; a tRNS
 * colour compared with the raw samples before scaling. */
uint32_t tu_png_expect(const tu_png *p, uint32_t x, uint32_t y, uint32_t c)
{
    uint32_t max = p->bit_depth == 16 ? 65535 : 255;
    if (p->color_type == PNG_COLOR_TYPE_PALETTE) {
        uint32_t i = tu_png_raw(p, x, y, 0);
        if (c < 3)
            return p->palette[i][c];
        return (int)i < p->ntrans ? p->trans[i] : 255;
    }
    uint32_t ch = png_channels(p->color_type);
    if (c < ch) {
        uint32_t v = tu_png_raw(p, x, y, c);
        return p->bit_depth < 8 ? v * 255 / ((1u << p->bit_depth) - 1) : v;
    }
    /* the alpha made from tRNS */
    for (uint32_t k = 0; k < ch; k++)
        if (tu_png_raw(p, x, y, k) != p->trans_color[k])
            return max;
    return 0;
}

typedef struct mem_io {
    unsigned char *buf;
    size_t len, cap;
    const unsigned char *in;
    size_t in_len, pos;
} mem_io;

static void tu_png_error(png_structp png, png_const_charp msg)
{
    (void)msg;
    png_longjmp(png, 1);
}

static void tu_png_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void mem_write(png_structp png, png_bytep data, size_t n)
{
    mem_io *io = png_get_io_ptr(png);
    if (io->len + n > io->cap) {
        while (io->len + n > io->cap)
            io->cap = io->cap ? io->cap * 2 : 4096;
        io->buf = realloc(io->buf, io->cap);
        if (!io->buf)
            png_error(png, "out of memory");
    }
    memcpy(io->buf + io->len, data, n);
    io->len += n;
}

static void mem_flush(png_structp png) { (void)png; }

static void mem_read(png_structp png, png_bytep data, size_t n)
{
    mem_io *io = png_get_io_ptr(png);
    if (n > io->in_len - io->pos)
        png_error(png, "truncated");
    memcpy(data, io->in + io->pos, n);
    io->pos += n;
}

unsigned char *tu_png_encode(const tu_png *p, int level, int filters, size_t *size)
{
    mem_io io = {0};
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, tu_png_error,
                                              tu_png_warning);
    cr_assert_not_null(png);
    png_infop info = png_create_info_struct(png);
    cr_assert_not_null(info);
    png_bytep *rows = malloc(sizeof *rows * p->height);
    cr_assert_not_null(rows);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        cr_assert_fail("libpng could not write the test PNG");
    }
    png_set_write_fn(png, &io, mem_write, mem_flush);
    png_set_IHDR(png, info, p->width, p->height, p->bit_depth, p->color_type, p->interlace,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (p->color_type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < p->npalette; i++)
            pal[i] = (png_color){p->palette[i][0], p->palette[i][1], p->palette[i][2]};
        png_set_PLTE(png, info, pal, p->npalette);
        if (p->ntrans)
            png_set_tRNS(png, info, p->trans, p->ntrans, NULL);
    } else if (p->ntrans) {
        png_color_16 tc = {0};
        tc.gray = p->trans_color[0];
        tc.red = p->trans_color[0];
        tc.green = p->trans_color[1];
        tc.blue = p->trans_color[2];
        png_set_tRNS(png, info, NULL, 0, &tc);
    }
    if (level >= 0)
        png_set_compression_level(png, level);
    if (filters)
        png_set_filter(png, PNG_FILTER_TYPE_BASE, filters);
    for (uint32_t y = 0; y < p->height; y++)
        rows[y] = p->rows + (size_t)y * p->rowbytes;
    png_write_info(png, info);
    png_write_image(png, rows); /* handles the Adam7 passes itself */
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(rows);
    *size = io.len;
    return io.buf;
}

/* State a longjmp must not lose lives here, not in the function's locals. */
typedef struct decode_state {
    png_structp png;
    png_infop info;
    png_bytep *rows;
    tu_decoded *out;
} decode_state;

bool tu_png_decode(const void *data, size_t size, tu_decoded *out)
{
    memset(out, 0, sizeof *out);
    mem_io io = {.in = data, .in_len = size};
    decode_state *s = calloc(1, sizeof *s);
    cr_assert_not_null(s);
    s->out = out;
    s->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, tu_png_error, tu_png_warning);
    cr_assert_not_null(s->png);
    s->info = png_create_info_struct(s->png);
    cr_assert_not_null(s->info);
    if (setjmp(png_jmpbuf(s->png))) {
        png_destroy_read_struct(&s->png, &s->info, NULL);
        free(s->rows);
        free(s->out->pix);
        s->out->pix = NULL;
        free(s);
        return false;
    }
    png_set_read_fn(s->png, &io, mem_read);
    png_read_info(s->png, s->info);
    int bd = png_get_bit_depth(s->png, s->info), ct = png_get_color_type(s->png, s->info);
    /* the expansions hadamard documents (libpng manual, "Input transformations") */
    if (ct == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(s->png);
    if (ct == PNG_COLOR_TYPE_GRAY && bd < 8)
        png_set_expand_gray_1_2_4_to_8(s->png);
    if (png_get_valid(s->png, s->info, PNG_INFO_tRNS))
        png_set_tRNS_to_alpha(s->png);
    if (bd == 16) {
        const uint16_t one = 1;
        if (*(const unsigned char *)&one == 1)
            png_set_swap(s->png);
    }
    png_set_interlace_handling(s->png);
    png_read_update_info(s->png, s->info);
    out->width = png_get_image_width(s->png, s->info);
    out->height = png_get_image_height(s->png, s->info);
    out->channels = png_get_channels(s->png, s->info);
    out->depth = png_get_bit_depth(s->png, s->info) == 16 ? HDM_U16 : HDM_U8;
    size_t rowbytes = png_get_rowbytes(s->png, s->info);
    out->pix = malloc(rowbytes * out->height);
    s->rows = malloc(sizeof *s->rows * out->height);
    cr_assert(out->pix && s->rows);
    for (uint32_t y = 0; y < out->height; y++)
        s->rows[y] = (unsigned char *)out->pix + (size_t)y * rowbytes;
    png_read_image(s->png, s->rows);
    png_read_end(s->png, NULL);
    png_destroy_read_struct(&s->png, &s->info, NULL);
    free(s->rows);
    free(s);
    return true;
}

void tu_decoded_free(tu_decoded *d)
{
    free(d->pix);
    d->pix = NULL;
}

long tu_png_chunk(const unsigned char *data, size_t size, const char type[4])
{
    size_t off = 8;
    while (off + 12 <= size) {
        uint32_t len = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
                       (uint32_t)data[off + 2] << 8 | data[off + 3];
        if (memcmp(data + off + 4, type, 4) == 0)
            return (long)off;
        off += 12 + (size_t)len;
    }
    return -1;
}

uint32_t tu_crc32(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

void tu_png_fix_crc(unsigned char *png, long off)
{
    uint32_t len = (uint32_t)png[off] << 24 | (uint32_t)png[off + 1] << 16 |
                   (uint32_t)png[off + 2] << 8 | png[off + 3];
    uint32_t crc = tu_crc32(png + off + 4, len + 4);
    unsigned char *p = png + off + 8 + len;
    p[0] = (unsigned char)(crc >> 24), p[1] = (unsigned char)(crc >> 16);
    p[2] = (unsigned char)(crc >> 8), p[3] = (unsigned char)crc;
}

bool tu_same(const hdm_image *a, const hdm_image *b)
{
    if (a->width != b->width || a->height != b->height || a->channels != b->channels ||
        a->depth != b->depth)
        return false;
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            if (memcmp(hdm_row(a, c, y), hdm_row(b, c, y), (size_t)a->width * a->depth))
                return false;
    return true;
}

hdm_image *tu_run_step_with(const char *step, const hdm_image *in, const hdm_options *o)
{
    hdm_pipeline *p;
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, step, &e), HDM_OK, "%s: %s", step, e.message);
    hdm_image *out;
    cr_assert_eq(hdm_pipeline_run_image(p, in, o, &out, &e), HDM_OK, "%s", e.message);
    hdm_pipeline_free(p);
    return out;
}

hdm_image *tu_run_step(const char *step, const hdm_image *in, uint32_t strip_rows)
{
    hdm_options o;
    hdm_options_init(&o);
    o.strip_rows = strip_rows;
    return tu_run_step_with(step, in, &o);
}

char *tu_command_output(const char *cmd)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p, "cannot run %s", cmd);
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    cr_assert_not_null(out);
    for (size_t got; (got = fread(out + n, 1, cap - 1 - n, p)) > 0;) {
        n += got;
        if (cap - 1 - n == 0)
            cr_assert_not_null(out = realloc(out, cap *= 2));
    }
    out[n] = '\0';
    pclose(p);
    return out;
}
