/* SPDX-License-Identifier: MIT */
/* testutil.h — what the image and codec tests share: temp dirs, seeded randomness, image
 * comparison, and PNGs written and decoded through libpng's own API */
#ifndef HDM_TESTUTIL_H
#define HDM_TESTUTIL_H

#include "hadamard.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* UNDER_ASAN is 1 in a build under AddressSanitizer, whose shadow takes address space and whose
 * redzones and quarantine take resident memory: tests that bound the process's own figures
 * (RLIMIT_AS, peak RSS) keep their other checks there and leave out only those bounds, which the
 * plain build checks. */
#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

/* ---- seeded randomness (splitmix64: small, and the same sequence everywhere) ---- */

typedef struct tu_rng {
    uint64_t s;
} tu_rng;

void tu_seed(tu_rng *r, uint64_t seed);
uint64_t tu_next(tu_rng *r);
/* Uniform in [0, n), n > 0. */
uint32_t tu_below(tu_rng *r, uint32_t n);

/* ---- a temporary directory per test (Criterion .init / .fini) ---- */

/* The current test's directory, made by tu_setup under $TMPDIR (or /tmp) with mkdtemp. */
extern char *tu_dir;
void tu_setup(void);
/* Removes tu_dir and everything in it. */
void tu_teardown(void);
/* tu_dir/name in one of 8 static buffers used in turn (so a few can be alive at once). */
const char *tu_path(const char *name);

/* ---- files ---- */

void tu_write_file(const char *path, const void *data, size_t n);
/* The whole file, malloc'd (the caller frees); fails the test if it cannot be read. */
void *tu_read_file(const char *path, size_t *n);
bool tu_exists(const char *path);
/* Number of entries in tu_dir (to see that nothing, not even a temporary, was left). */
int tu_dir_entries(void);

/* ---- images ---- */

/* A new image with every sample random (f32 in [0, 1]). */
hdm_image *tu_image_random(uint32_t w, uint32_t h, uint32_t c, hdm_depth d, tu_rng *r);
/* Sample (x, y) of plane c, as an integer (u8, u16) or its bit pattern (f32). */
uint32_t tu_get(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y);
void tu_set(hdm_image *img, uint32_t c, uint32_t x, uint32_t y, uint32_t v);
float tu_getf(const hdm_image *img, uint32_t c, uint32_t x, uint32_t y);
void tu_setf(hdm_image *img, uint32_t c, uint32_t x, uint32_t y, float v);
/* Fails the test, naming the first differing sample, unless a and b have the same shape,
 * depth and every sample bit-identical. what names the comparison in the message. */
void tu_assert_same(const hdm_image *a, const hdm_image *b, const char *what);
/* True when a and b have the same shape and depth and every sample bit-identical. */
bool tu_same(const hdm_image *a, const hdm_image *b);
/* Runs one step (as "filter:box:3") over in through a pipeline with strips of strip_rows rows
 * (0: automatic), failing the test on any error; the result is the caller's. */
hdm_image *tu_run_step(const char *step, const hdm_image *in, uint32_t strip_rows);
/* The same with options of the caller's (threads, limits). */
hdm_image *tu_run_step_with(const char *step, const hdm_image *in, const hdm_options *o);
/* What a shell command (popen) writes on its standard output, whole and NUL-terminated; the
 * caller frees it. Fails the test when the command cannot be started. */
char *tu_command_output(const char *cmd);

/* ---- PNGs built sample by sample and encoded with libpng's write API ---- */

typedef struct tu_png {
    uint32_t width, height;
    int bit_depth, color_type, interlace;   /* PNG_COLOR_TYPE_*, PNG_INTERLACE_* */
    int npalette;
    uint8_t palette[256][3];
    int ntrans;                             /* palette: entries of trans; others: 0 or 1 */
    uint8_t trans[256];                     /* palette alpha */
    uint16_t trans_color[3];                /* gray or RGB tRNS value, when ntrans == 1 */
    size_t rowbytes;
    uint8_t *rows;                          /* PNG row bytes: packed, 16-bit big-endian */
} tu_png;

/* Random samples for the given IHDR. with_trns adds a tRNS chunk (palette: some alpha entries;
 * gray/RGB: a colour that also appears in the image, about one pixel in four). */
void tu_png_random(tu_png *p, uint32_t w, uint32_t h, int bit_depth, int color_type,
                   int interlace, bool with_trns, tu_rng *r);
/* An image's own samples as a PNG (gray, gray+alpha, RGB, RGBA; u8 or u16). */
void tu_png_from_image(tu_png *p, const hdm_image *img);
void tu_png_free(tu_png *p);
/* Raw sample c of pixel (x, y) as stored (a palette index for palette images). */
uint32_t tu_png_raw(const tu_png *p, uint32_t x, uint32_t y, uint32_t c);
/* What hadamard documents a load gives: palette and low-bit gray expanded to 8 bits, tRNS to
 * alpha, 16-bit kept. Channels and depth after expansion, and one expected sample. */
uint32_t tu_png_out_channels(const tu_png *p);
hdm_depth tu_png_out_depth(const tu_png *p);
uint32_t tu_png_expect(const tu_png *p, uint32_t x, uint32_t y, uint32_t c);

/* Encodes with libpng at zlib level (-1 = libpng's default) and filter mask (0 = default). */
unsigned char *tu_png_encode(const tu_png *p, int level, int filters, size_t *size);

/* libpng's own decode of a PNG with hadamard's documented expansions (palette → RGB, gray
 * 1/2/4 → 8, tRNS → alpha, 16-bit in host order), every Adam7 pass combined. The samples are
 * interleaved: pix[(y·width + x)·channels + c], u8 or u16. Returns false if libpng fails. */
typedef struct tu_decoded {
    uint32_t width, height, channels;
    hdm_depth depth;
    void *pix;
} tu_decoded;
bool tu_png_decode(const void *data, size_t size, tu_decoded *out);
void tu_decoded_free(tu_decoded *d);

/* Offset of the chunk of this type (at its length field), or -1. */
long tu_png_chunk(const unsigned char *data, size_t size, const char type[4]);
/* The PNG (zlib) CRC-32 of n bytes. */
uint32_t tu_crc32(const unsigned char *p, size_t n);
/* Rewrites the CRC of the chunk at off, so only what a test broke on purpose is wrong. */
void tu_png_fix_crc(unsigned char *png, long off);

#endif
