/* SPDX-License-Identifier: MIT */
/* test_codec_png.c — PNG through libpng: decodes identical to libpng's own, exact round trips,
 * corrupt and truncated input */
#include "codec/codec.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <png.h>
#include <stdlib.h>
#include <string.h>

TestSuite(png, .init = tu_setup, .fini = tu_teardown);

static const struct { uint32_t w, h; } sizes[] = {
    {1, 1}, {1, 37}, {37, 1}, {257, 3}, {33, 17}, {8, 8},
};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* ---- decoding against libpng ---- */

/* Samples of a decoded hadamard image against libpng's interleaved decode. */
static void assert_matches_libpng(const hdm_image *img, const tu_decoded *ref, const char *what)
{
    cr_assert(img->width == ref->width && img->height == ref->height &&
              img->channels == ref->channels && img->depth == ref->depth,
              "%s: hadamard %ux%ux%u depth %d, libpng %ux%ux%u depth %d", what, img->width,
              img->height, img->channels, (int)img->depth, ref->width, ref->height,
              ref->channels, (int)ref->depth);
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++) {
                size_t i = ((size_t)y * img->width + x) * img->channels + c;
                uint32_t want = ref->depth == HDM_U16 ? ((const uint16_t *)ref->pix)[i]
                                                      : ((const uint8_t *)ref->pix)[i];
                uint32_t got = tu_get(img, c, x, y);
                if (got != want)
                    cr_assert_fail("%s: channel %u at (%u, %u): hadamard %u, libpng %u", what, c,
                                   x, y, got, want);
            }
}

/* The same samples as the PNG specification's expansion of what was written. */
static void assert_matches_spec(const hdm_image *img, const tu_png *p, const char *what)
{
    cr_assert_eq(img->channels, tu_png_out_channels(p), "%s: channels", what);
    cr_assert_eq(img->depth, tu_png_out_depth(p), "%s: depth", what);
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++) {
                uint32_t want = tu_png_expect(p, x, y, c), got = tu_get(img, c, x, y);
                if (got != want)
                    cr_assert_fail("%s: channel %u at (%u, %u): got %u, want %u", what, c, x, y,
                                   got, want);
            }
}

/* Reads rows through the streaming source in strips of `rows`, as the pipeline does. */
static hdm_image *read_in_strips(const char *path, uint32_t rows)
{
    hdm_options opt;
    hdm_options_init(&opt);
    hdm_error err = {0};
    hdm__source *s;
    cr_assert_eq(hdm__source_open(path, &opt, &s, &err), HDM_OK, "%s", err.message);
    hdm_image *all, *strip;
    cr_assert_eq(hdm_image_new(s->info.width, s->info.height, s->info.channels, s->info.depth,
                               &all), HDM_OK);
    cr_assert_eq(hdm_image_new(s->info.width, rows, s->info.channels, s->info.depth, &strip),
                 HDM_OK);
    for (uint32_t y = 0; y < s->info.height; y += rows) {
        uint32_t n = s->info.height - y < rows ? s->info.height - y : rows;
        cr_assert_eq(hdm__source_read(s, strip, n, &err), HDM_OK, "%s", err.message);
        for (uint32_t c = 0; c < s->info.channels; c++)
            for (uint32_t r = 0; r < n; r++)
                memcpy(hdm_row(all, c, y + r), hdm_row(strip, c, r),
                       (size_t)s->info.width * s->info.depth);
    }
    cr_assert_eq(s->next, s->info.height);
    hdm_image_free(strip);
    hdm__source_close(s);
    return all;
}

/* Writes p, then loads it from memory and from a file and compares both with libpng's decode
 * and with the specification; a file is also read back in strips of 1 and 3 rows. */
static void check_decode(const tu_png *p, const char *what)
{
    size_t size;
    unsigned char *data = tu_png_encode(p, -1, 0, &size);
    tu_decoded ref;
    cr_assert(tu_png_decode(data, size, &ref), "%s: libpng cannot decode its own PNG", what);

    hdm_error err = {0};
    hdm_image *img;
    cr_assert_eq(hdm_load_memory(data, size, NULL, &img, &err), HDM_OK, "%s: %s", what,
                 err.message);
    assert_matches_libpng(img, &ref, what);
    assert_matches_spec(img, p, what);

    const char *path = tu_path("in.png");
    tu_write_file(path, data, size);
    hdm_image *fimg;
    cr_assert_eq(hdm_load(path, NULL, &fimg, &err), HDM_OK, "%s: %s", what, err.message);
    tu_assert_same(fimg, img, what);
    hdm_info info;
    cr_assert_eq(hdm_info_read(path, NULL, &info, &err), HDM_OK, "%s: %s", what, err.message);
    cr_assert(info.width == p->width && info.height == p->height &&
              info.channels == img->channels && info.depth == img->depth &&
              info.format == HDM_FORMAT_PNG, "%s: hdm_info_read disagrees", what);
    for (uint32_t rows = 1; rows <= 3; rows += 2) {
        hdm_image *s = read_in_strips(path, rows);
        tu_assert_same(s, img, what);
        hdm_image_free(s);
    }
    hdm_image_free(fimg);
    hdm_image_free(img);
    tu_decoded_free(&ref);
    free(data);
}

static void check_family(int color_type, const int *depths, size_t ndepths, bool trns,
                         uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    for (size_t d = 0; d < ndepths; d++)
        for (size_t s = 0; s < NSIZES; s++)
            for (int il = 0; il <= 1; il++) {
                tu_png p;
                tu_png_random(&p, sizes[s].w, sizes[s].h, depths[d], color_type,
                              il ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, trns, &r);
                char what[128];
                snprintf(what, sizeof what, "color type %d, %d-bit, %ux%u%s%s", color_type,
                         depths[d], sizes[s].w, sizes[s].h, trns ? ", tRNS" : "",
                         il ? ", Adam7" : "");
                check_decode(&p, what);
                tu_png_free(&p);
            }
}

static const int all_gray_depths[] = {1, 2, 4, 8, 16};
static const int palette_depths[] = {1, 2, 4, 8};
static const int full_depths[] = {8, 16};

Test(png, gray_1_2_4_8_16)
{
    check_family(PNG_COLOR_TYPE_GRAY, all_gray_depths, 5, false, 1);
}

Test(png, gray_alpha_8_16)
{
    check_family(PNG_COLOR_TYPE_GRAY_ALPHA, full_depths, 2, false, 2);
}

Test(png, rgb_8_16)
{
    check_family(PNG_COLOR_TYPE_RGB, full_depths, 2, false, 3);
}

Test(png, rgba_8_16)
{
    check_family(PNG_COLOR_TYPE_RGB_ALPHA, full_depths, 2, false, 4);
}

Test(png, palette_1_2_4_8)
{
    check_family(PNG_COLOR_TYPE_PALETTE, palette_depths, 4, false, 5);
}

Test(png, palette_with_trns_becomes_rgba)
{
    check_family(PNG_COLOR_TYPE_PALETTE, palette_depths, 4, true, 6);
}

Test(png, gray_with_trns_gains_alpha)
{
    check_family(PNG_COLOR_TYPE_GRAY, all_gray_depths, 5, true, 7);
}

Test(png, rgb_with_trns_gains_alpha)
{
    check_family(PNG_COLOR_TYPE_RGB, full_depths, 2, true, 8);
}

Test(png, sixteen_bit_stays_sixteen_bit)
{
    tu_rng r;
    tu_seed(&r, 9);
    tu_png p;
    tu_png_random(&p, 5, 4, 16, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, false, &r);
    /* values a conversion to 8 bits and back could not keep */
    for (uint32_t x = 0; x < 5; x++) {
        p.rows[2 * x] = 0x12;
        p.rows[2 * x + 1] = (uint8_t)(0x34 + x);
    }
    size_t size;
    unsigned char *data = tu_png_encode(&p, -1, 0, &size);
    hdm_image *img;
    cr_assert_eq(hdm_load_memory(data, size, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(img->depth, HDM_U16);
    for (uint32_t x = 0; x < 5; x++)
        cr_assert_eq(tu_get(img, 0, x, 0), 0x1234u + x);
    /* and is written as 16-bit */
    void *out;
    size_t outn;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &out, &outn, NULL), HDM_OK);
    cr_assert_eq(((unsigned char *)out)[24], 16, "IHDR bit depth");
    hdm_image_free(img);
    free(out);
    free(data);
    tu_png_free(&p);
}

/* ---- round trips through hadamard's writer ---- */

static void round_trip(const hdm_image *img, const hdm_options *opt, const char *what)
{
    hdm_error err = {0};
    const char *path = tu_path("rt.png");
    cr_assert_eq(hdm_save(img, path, opt, &err), HDM_OK, "%s: %s", what, err.message);
    hdm_image *back;
    cr_assert_eq(hdm_load(path, NULL, &back, &err), HDM_OK, "%s: %s", what, err.message);
    tu_assert_same(back, img, what);
    hdm_image_free(back);

    void *data;
    size_t size;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, opt, &data, &size, &err), HDM_OK,
                 "%s: %s", what, err.message);
    cr_assert_eq(hdm_load_memory(data, size, NULL, &back, &err), HDM_OK, "%s: %s", what,
                 err.message);
    tu_assert_same(back, img, what);
    hdm_image_free(back);
    /* the file and the memory encodings are the same bytes */
    size_t fsize;
    void *fdata = tu_read_file(path, &fsize);
    cr_assert(fsize == size && memcmp(fdata, data, size) == 0, "%s: file and memory differ",
              what);
    /* and libpng reads what was written to the same samples */
    tu_decoded ref;
    cr_assert(tu_png_decode(data, size, &ref), "%s: libpng rejects the output", what);
    assert_matches_libpng(img, &ref, what);
    tu_decoded_free(&ref);
    free(fdata);
    free(data);
}

Test(png, round_trip_u8_u16_every_channel_count)
{
    tu_rng r;
    tu_seed(&r, 10);
    for (int d = 0; d < 2; d++)
        for (uint32_t c = 1; c <= 4; c++)
            for (size_t s = 0; s < NSIZES; s++) {
                hdm_image *img = tu_image_random(sizes[s].w, sizes[s].h, c,
                                                 d ? HDM_U16 : HDM_U8, &r);
                char what[96];
                snprintf(what, sizeof what, "%ux%u, %u channels, %s", sizes[s].w, sizes[s].h, c,
                         d ? "u16" : "u8");
                round_trip(img, NULL, what);
                hdm_image_free(img);
            }
}

Test(png, round_trip_edge_values)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(4, 2, 4, HDM_U16, &img), HDM_OK);
    static const uint32_t v[] = {0, 1, 255, 256, 32767, 32768, 65534, 65535};
    for (uint32_t c = 0; c < 4; c++)
        for (uint32_t i = 0; i < 8; i++)
            tu_set(img, c, i % 4, i / 4, v[(i + c) % 8]);
    round_trip(img, NULL, "u16 edge values");
    hdm_image_free(img);
}

/* The filter type byte of every row, read from an IDAT stream written at zlib level 0 (stored
 * deflate blocks, RFC 1951 section 3.2.4, so the filtered rows sit in the file as they are). */
static void filter_bytes(const unsigned char *png, size_t size, size_t rowbytes, uint32_t rows,
                         unsigned char *out)
{
    unsigned char *z = malloc(size), *raw = malloc(size);
    size_t zn = 0, rn = 0;
    cr_assert(z && raw);
    for (size_t off = 8; off + 12 <= size;) {
        uint32_t len = (uint32_t)png[off] << 24 | (uint32_t)png[off + 1] << 16 |
                       (uint32_t)png[off + 2] << 8 | png[off + 3];
        if (memcmp(png + off + 4, "IDAT", 4) == 0) {
            memcpy(z + zn, png + off + 8, len);
            zn += len;
        }
        off += 12 + (size_t)len;
    }
    size_t i = 2; /* after the zlib header */
    for (;;) {
        cr_assert_leq(i + 5, zn, "stored block header beyond the data");
        unsigned head = z[i];
        cr_assert_eq((head >> 1) & 3, 0, "level 0 wrote a compressed block");
        size_t len = z[i + 1] | (size_t)z[i + 2] << 8;
        memcpy(raw + rn, z + i + 5, len);
        rn += len;
        i += 5 + len;
        if (head & 1)
            break;
    }
    cr_assert_eq(rn, (size_t)rows * (rowbytes + 1));
    for (uint32_t y = 0; y < rows; y++)
        out[y] = raw[(size_t)y * (rowbytes + 1)];
    free(z);
    free(raw);
}

Test(png, every_filter_and_level_round_trips)
{
    tu_rng r;
    tu_seed(&r, 11);
    hdm_image *imgs[2] = {tu_image_random(29, 13, 3, HDM_U8, &r),
                          tu_image_random(29, 13, 2, HDM_U16, &r)};
    for (int i = 0; i < 2; i++)
        for (int f = HDM_PNG_FILTER_DEFAULT; f <= HDM_PNG_FILTER_ADAPTIVE; f++)
            for (int level = -1; level <= 9; level++) {
                hdm_options opt;
                hdm_options_init(&opt);
                opt.png_filter = (hdm_png_filter)f;
                opt.png_level = level;
                char what[96];
                snprintf(what, sizeof what, "image %d, filter %d, level %d", i, f, level);
                round_trip(imgs[i], &opt, what);
            }
    hdm_image_free(imgs[0]);
    hdm_image_free(imgs[1]);
}

Test(png, each_filter_choice_is_the_filter_written)
{
    tu_rng r;
    tu_seed(&r, 12);
    hdm_image *img = tu_image_random(31, 9, 3, HDM_U8, &r);
    size_t rowbytes = 31 * 3;
    for (int f = HDM_PNG_FILTER_DEFAULT; f <= HDM_PNG_FILTER_ADAPTIVE; f++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.png_filter = (hdm_png_filter)f;
        opt.png_level = 0;
        void *data;
        size_t size;
        cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, &opt, &data, &size, NULL), HDM_OK);
        unsigned char types[9];
        filter_bytes(data, size, rowbytes, 9, types);
        for (uint32_t y = 0; y < 9; y++) {
            cr_assert_leq(types[y], 4, "filter %d: row %u has filter type %u", f, y, types[y]);
            int want = f - HDM_PNG_FILTER_NONE; /* NONE..PAETH are PNG filter types 0..4 */
            if (f == HDM_PNG_FILTER_DEFAULT || f == HDM_PNG_FILTER_ADAPTIVE)
                continue;
            /* the first row has no row above: libpng may write UP, AVG or PAETH there as the
             * filter they reduce to */
            if (y == 0 && want >= 2)
                continue;
            cr_assert_eq(types[y], want, "filter %d: row %u has filter type %u", f, y, types[y]);
        }
        free(data);
    }
    hdm_image_free(img);
}

Test(png, level_changes_the_size_not_the_pixels)
{
    /* a smooth gradient compresses: level 9 must be smaller than the stored level 0 */
    hdm_image *img;
    cr_assert_eq(hdm_image_new(64, 64, 1, HDM_U8, &img), HDM_OK);
    for (uint32_t y = 0; y < 64; y++)
        for (uint32_t x = 0; x < 64; x++)
            tu_set(img, 0, x, y, x + y);
    size_t sizes_by_level[2];
    for (int i = 0; i < 2; i++) {
        hdm_options opt;
        hdm_options_init(&opt);
        opt.png_level = i ? 9 : 0;
        void *data;
        cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, &opt, &data, &sizes_by_level[i], NULL),
                     HDM_OK);
        free(data);
    }
    cr_assert_lt(sizes_by_level[1], sizes_by_level[0] / 2);
    hdm_image_free(img);
}

Test(png, f32_is_written_as_sixteen_bit)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(4, 1, 1, HDM_F32, &img), HDM_OK);
    static const float v[] = {0.0f, 0.5f, 1.0f, 2.0f};
    for (uint32_t x = 0; x < 4; x++)
        tu_setf(img, 0, x, 0, v[x]);
    void *data;
    size_t size;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &data, &size, NULL), HDM_OK);
    hdm_image *back;
    cr_assert_eq(hdm_load_memory(data, size, NULL, &back, NULL), HDM_OK);
    cr_assert_eq(back->depth, HDM_U16);
    cr_assert_eq(tu_get(back, 0, 0, 0), 0);
    cr_assert_eq(tu_get(back, 0, 1, 0), 32768); /* floor(0.5 · 65535 + 0.5) */
    cr_assert_eq(tu_get(back, 0, 2, 0), 65535);
    cr_assert_eq(tu_get(back, 0, 3, 0), 65535); /* clamped */
    hdm_image_free(back);
    hdm_image_free(img);
    free(data);
}

/* ---- corrupt and truncated input ---- */

static unsigned char *sample_png(size_t *size, bool interlaced)
{
    tu_rng r;
    tu_seed(&r, 13);
    tu_png p;
    tu_png_random(&p, 40, 30, 8, PNG_COLOR_TYPE_RGB,
                  interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, false, &r);
    unsigned char *data = tu_png_encode(&p, -1, 0, size);
    tu_png_free(&p);
    return data;
}

/* Loads bytes from a file and from memory: both must fail with want (or any error if want is
 * HDM_OK), the file's message naming its path. */
static void expect_failure(const unsigned char *data, size_t size, hdm_status want,
                           const char *what)
{
    const char *path = tu_path("bad.png");
    tu_write_file(path, data, size);
    hdm_error err = {0};
    hdm_image *img = (hdm_image *)&img;
    hdm_status st = hdm_load(path, NULL, &img, &err);
    cr_assert_neq(st, HDM_OK, "%s: loaded", what);
    if (want)
        cr_assert_eq(st, want, "%s: status %d (%s), want %d", what, (int)st, err.message,
                     (int)want);
    cr_assert_null(img, "%s: *out set on failure", what);
    cr_assert_eq(err.status, st, "%s: err.status", what);
    cr_assert_eq(strncmp(err.message, path, strlen(path)), 0, "%s: message \"%s\" lacks the path",
                 what, err.message);
    /* the streaming path fails too, in strips of one row */
    hdm__source *s;
    hdm_options opt;
    hdm_options_init(&opt);
    st = hdm__source_open(path, &opt, &s, &err);
    if (!st) {
        hdm_image *strip;
        cr_assert_eq(hdm_image_new(s->info.width, 1, s->info.channels, s->info.depth, &strip),
                     HDM_OK);
        for (uint32_t y = 0; !st && y < s->info.height; y++)
            st = hdm__source_read(s, strip, 1, &err);
        hdm_image_free(strip);
        hdm__source_close(s);
    }
    cr_assert_neq(st, HDM_OK, "%s: streamed without error", what);
    if (want)
        cr_assert_eq(st, want, "%s: streaming status %d (%s)", what, (int)st, err.message);

    st = hdm_load_memory(data, size, NULL, &img, &err);
    cr_assert_neq(st, HDM_OK, "%s: loaded from memory", what);
    if (want)
        cr_assert_eq(st, want, "%s: memory status %d (%s)", what, (int)st, err.message);
}

Test(png, bad_crc_in_ihdr)
{
    for (int il = 0; il <= 1; il++) {
        size_t size;
        unsigned char *data = sample_png(&size, il);
        long off = tu_png_chunk(data, size, "IHDR");
        cr_assert_eq(off, 8);
        data[off + 8 + 13 + 3] ^= 0x01; /* last CRC byte */
        expect_failure(data, size, HDM_ERR_CORRUPT, "IHDR CRC");
        free(data);
    }
}

Test(png, bad_crc_in_idat)
{
    for (int il = 0; il <= 1; il++) {
        size_t size;
        unsigned char *data = sample_png(&size, il);
        long off = tu_png_chunk(data, size, "IDAT");
        cr_assert_gt(off, 0);
        uint32_t len = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
                       (uint32_t)data[off + 2] << 8 | data[off + 3];
        data[off + 8 + len] ^= 0x80;
        expect_failure(data, size, HDM_ERR_CORRUPT, "IDAT CRC");
        free(data);
    }
}

Test(png, bad_crc_in_idat_data_byte)
{
    /* a flipped sample byte: the CRC catches it before the pixels are trusted */
    size_t size;
    unsigned char *data = sample_png(&size, false);
    long off = tu_png_chunk(data, size, "IDAT");
    data[off + 8 + 40] ^= 0x04;
    expect_failure(data, size, HDM_ERR_CORRUPT, "IDAT data");
    free(data);
}

Test(png, bad_crc_in_iend)
{
    size_t size;
    unsigned char *data = sample_png(&size, false);
    data[size - 1] ^= 0xFF;
    expect_failure(data, size, HDM_ERR_CORRUPT, "IEND CRC");
    free(data);
}

Test(png, short_image_data)
{
    /* IDAT cut in half with a valid CRC: the zlib stream ends early */
    for (int il = 0; il <= 1; il++) {
        size_t size;
        unsigned char *data = sample_png(&size, il);
        long off = tu_png_chunk(data, size, "IDAT");
        uint32_t len = (uint32_t)data[off] << 24 | (uint32_t)data[off + 1] << 16 |
                       (uint32_t)data[off + 2] << 8 | data[off + 3];
        uint32_t half = len / 2;
        unsigned char *cut = malloc(size);
        memcpy(cut, data, (size_t)off);
        cut[off] = (unsigned char)(half >> 24), cut[off + 1] = (unsigned char)(half >> 16);
        cut[off + 2] = (unsigned char)(half >> 8), cut[off + 3] = (unsigned char)half;
        memcpy(cut + off + 4, data + off + 4, 4 + half);
        tu_png_fix_crc(cut, off);
        size_t rest = (size_t)off + 12 + len;
        memcpy(cut + off + 12 + half, data + rest, size - rest);
        size_t cutsize = (size_t)off + 12 + half + (size - rest);
        expect_failure(cut, cutsize, HDM_ERR_CORRUPT, "short IDAT");
        free(cut);
        free(data);
    }
}

Test(png, truncated_at_many_offsets)
{
    for (int il = 0; il <= 1; il++) {
        size_t size;
        unsigned char *data = sample_png(&size, il);
        long idat = tu_png_chunk(data, size, "IDAT");
        size_t offsets[] = {1, 7, 8, 12, 16, 20, 32, 33, (size_t)idat, (size_t)idat + 8,
                            (size_t)idat + 9, (size_t)idat + 100, size / 2, size - 12, size - 5,
                            size - 1};
        for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; i++) {
            char what[64];
            snprintf(what, sizeof what, "%s truncated at %zu of %zu", il ? "Adam7" : "plain",
                     offsets[i], size);
            expect_failure(data, offsets[i], HDM_OK, what);
        }
        free(data);
    }
}

Test(png, random_damage_never_crashes)
{
    /* Seeded byte damage with the CRCs made good again, so libpng parses what it finds:
     * whatever the outcome, no crash, and a failure leaves *out NULL. */
    tu_rng r;
    tu_seed(&r, 14);
    for (int il = 0; il <= 1; il++) {
        size_t size;
        unsigned char *data = sample_png(&size, il);
        unsigned char *bad = malloc(size);
        for (int round = 0; round < 150; round++) {
            memcpy(bad, data, size);
            int hits = 1 + (int)tu_below(&r, 4);
            for (int k = 0; k < hits; k++)
                bad[8 + tu_below(&r, (uint32_t)size - 8)] ^= (unsigned char)(1 + tu_below(&r, 255));
            for (size_t off = 8; off + 12 <= size;) {
                uint32_t len = (uint32_t)bad[off] << 24 | (uint32_t)bad[off + 1] << 16 |
                               (uint32_t)bad[off + 2] << 8 | bad[off + 3];
                if (len > size - off - 12)
                    break;
                tu_png_fix_crc(bad, (long)off);
                off += 12 + (size_t)len;
            }
            hdm_image *img = NULL;
            hdm_error err = {0};
            hdm_status st = hdm_load_memory(bad, size, NULL, &img, &err);
            if (st)
                cr_assert_null(img);
            hdm_image_free(img);
        }
        free(bad);
        free(data);
    }
}

Test(png, errors_name_no_path_for_memory_but_say_memory)
{
    size_t size;
    unsigned char *data = sample_png(&size, false);
    data[8 + 8 + 13] ^= 1;
    hdm_error err = {0};
    hdm_image *img;
    cr_assert_eq(hdm_load_memory(data, size, NULL, &img, &err), HDM_ERR_CORRUPT);
    cr_assert(strstr(err.message, "(memory)") == err.message, "message: %s", err.message);
    free(data);
}

/* ---- metadata chunks written by the sink ---- */

/* The chunk types of a PNG in order, as "IHDR gAMA iCCP ... IEND " into buf. */
static void chunk_types(const unsigned char *p, size_t n, char *buf, size_t cap)
{
    size_t at = 8, len = 0;
    buf[0] = '\0';
    while (at + 12 <= n && len + 6 < cap) {
        uint32_t l = (uint32_t)p[at] << 24 | (uint32_t)p[at + 1] << 16 | p[at + 2] << 8 | p[at + 3];
        memcpy(buf + len, p + at + 4, 4);
        buf[len + 4] = ' ';
        len += 5;
        buf[len] = '\0';
        at += 12 + (size_t)l;
    }
}

static void png_sink_with(const hdm__meta *m, const hdm_options *o, char *types, size_t cap)
{
    tu_rng g;
    tu_seed(&g, 7);
    hdm_image *img = tu_image_random(9, 5, 3, HDM_U8, &g);
    hdm_info info = {9, 5, 3, HDM_U8, HDM_FORMAT_PNG};
    hdm__bytes b = {0};
    hdm__sink *k = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm__sink_open(HDM_FORMAT_PNG, &info, o, m, &b, "m.png", &k, &e), HDM_OK, "%s",
                 e.message);
    cr_assert_eq(k->write(k, img, 5, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(k->finish(k, &e), HDM_OK, "%s", e.message);
    hdm__sink_close(k);
    chunk_types(b.mem, b.len, types, cap);
    /* and libpng reads it whole, metadata checked */
    hdm_image *back = NULL;
    cr_assert_eq(hdm_load_memory(b.mem, b.len, NULL, &back, &e), HDM_OK, "%s", e.message);
    tu_assert_same(img, back, "metadata PNG");
    hdm_image_free(back);
    hdm_image_free(img);
    free(b.mem);
}

/* Every metadata chunk comes before IDAT, in the order PNG 5.6 allows; sRGB and iCCP are never
 * both written (PNG 11.3.3.5), the profile being kept. */
Test(png, metadata_chunks_before_idat_and_no_srgb_beside_iccp)
{
    unsigned char icc[200] = {0};
    icc[3] = 200;
    memcpy(icc + 16, "RGB ", 4);
    memcpy(icc + 20, "XYZ ", 4);
    memcpy(icc + 36, "acsp", 4);
    unsigned char exif[] = "MM\0*\0\0\0\x08\0\0\0\0\0\0";
    char xmp[] = "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"/>";
    hdm__meta m = {.icc = icc, .icc_size = sizeof icc, .exif = exif, .exif_size = 14,
                   .xmp = (unsigned char *)xmp, .xmp_size = strlen(xmp), .srgb_intent = 1,
                   .gamma = 45455, .has_chrm = true, .chrm = {31270, 32900, 64000, 33000, 30000,
                   60000, 15000, 6000}, .res_x = 300, .res_y = 300, .res_unit = 1};
    hdm_options o;
    hdm_options_init(&o);
    char types[512];
    png_sink_with(&m, &o, types, sizeof types);
    cr_assert_str_eq(types, "IHDR gAMA cHRM iCCP pHYs eXIf iTXt IDAT IEND ", "%s", types);
    m.icc = NULL, m.icc_size = 0;
    png_sink_with(&m, &o, types, sizeof types);
    cr_assert_str_eq(types, "IHDR sRGB gAMA cHRM pHYs eXIf iTXt IDAT IEND ", "%s", types);
    png_sink_with(&(hdm__meta){0}, &o, types, sizeof types);
    cr_assert_str_eq(types, "IHDR IDAT IEND ", "%s", types);
}
