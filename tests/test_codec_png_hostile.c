/* SPDX-License-Identifier: MIT */
/* test_codec_png_hostile.c — PNG chunk bombs, the encoder without threads, and memory held by
 * a job (the numbers and names of steps are in test_cli_hostile_steps.c)
 *
 * CLI cases run the built binary in a forked child (stderr captured, alarm() as a watchdog)
 * inside a fresh mkdtemp directory, with resource limits set in the child; the child's peak
 * resident size comes back from wait4. */
#include "cli_assert.h"
#include "hadamard.h"
#include "testutil.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <png.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

/* ---- a scratch directory per test ---- */

static char *dir;

static void make_dir(void)
{
    dir = scratch_new();
    cr_assert(dir, "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void) { scratch_free(dir); }

TestSuite(hpng, .init = make_dir, .fini = remove_dir, .timeout = 300);

/* ---- running the CLI under limits ---- */

/* ASan's shadow memory does not fit under RLIMIT_AS or RLIMIT_DATA: there the limits are left
 * off, and the peak resident sizes the tests also check still see a big allocation. */
#ifdef __SANITIZE_ADDRESS__
#define LIMITS_WORK false
#else
#define LIMITS_WORK true
#endif

/* Runs hadamard ARGS... with limits o (NULL: none) under the watchdog; a child that cannot set
 * its limits fails the test. */
#define RUN(r, o, ...)                                                                         \
    do {                                                                                       \
        CLI_WITH((r), dir, LIMITS_WORK ? (o) : NULL, __VA_ARGS__);                             \
        cr_assert(!cli_skipped(r), "the child could not set its limits");                      \
    } while (0)

/* ---- PNGs written row by row through libpng, so big ones take no memory ---- */

typedef void (*row_fn)(unsigned char *row, uint32_t y, size_t rowbytes);

static void zero_row(unsigned char *row, uint32_t y, size_t n) { (void)y, memset(row, 0, n); }

static void ramp_row(unsigned char *row, uint32_t y, size_t n)
{
    for (size_t x = 0; x < n; x++)
        row[x] = (unsigned char)(x * 7 + y * 3);
}

static void write_png(const char *path, uint32_t w, uint32_t h, int color_type, bool interlace,
                      row_fn fill)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    unsigned ch = color_type == PNG_COLOR_TYPE_RGBA ? 4 : color_type == PNG_COLOR_TYPE_RGB ? 3 : 1;
    size_t rowbytes = (size_t)w * ch;
    unsigned char *row = malloc(rowbytes);
    cr_assert(row);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_compression_level(png, 1);
    png_set_filter(png, 0, PNG_FILTER_NONE);
    png_set_IHDR(png, info, w, h, 8, color_type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int passes = interlace ? png_set_interlace_handling(png) : 1;
    for (int p = 0; p < passes; p++)
        for (uint32_t y = 0; y < h; y++) {
            fill(row, y, rowbytes);
            png_write_row(png, row);
        }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
    cr_assert_eq(fclose(f), 0);
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Signature and a 1×1 gray IHDR: 33 bytes. */
static size_t png_head(unsigned char *b)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(b, sig, 8);
    put_be32(b + 8, 13);
    memcpy(b + 12, "IHDR", 4);
    put_be32(b + 16, 1);
    put_be32(b + 20, 1);
    b[24] = 8, b[25] = 0, b[26] = 0, b[27] = 0, b[28] = 0;
    put_be32(b + 29, (uint32_t)crc32(0, b + 12, 17));
    return 33;
}

/* ---- 1. the encoder without threads ---- */

/* 3000×3000 RGB random: about 26 blocks of ~1 MiB rows. */
static hdm_image *big_random(void)
{
    tu_rng r;
    tu_seed(&r, 3000);
    return tu_image_random(3000, 3000, 3, HDM_U8, &r);
}

static void expect_decodes_to(const void *png, size_t n, const hdm_image *img)
{
    tu_decoded d;
    cr_assert(tu_png_decode(png, n, &d), "libpng cannot decode the output");
    cr_assert(d.width == img->width && d.height == img->height && d.channels == img->channels);
    const uint8_t *pix = d.pix;
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++)
            for (uint32_t c = 0; c < img->channels; c++) {
                uint32_t want = tu_get(img, c, x, y),
                         got = pix[((size_t)y * img->width + x) * img->channels + c];
                if (want != got)
                    cr_assert_fail("pixel (%u, %u) channel %u is %u, not %u", x, y, c, got,
                                   want);
            }
    tu_decoded_free(&d);
}

Test(hpng, threaded_encoder_multi_block_is_exact)
{
    hdm_image *img = big_random();
    void *png;
    size_t n;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &png, &n, NULL), HDM_OK);
    expect_decodes_to(png, n, img);
    free(png);
    hdm_image_free(img);
}

static void *no_op(void *arg) { return arg; }

/* Encodes img in a child that may run at most nproc threads (RLIMIT_NPROC as an unused uid),
 * returning the PNG through a pipe. */
static unsigned char *encode_limited(const hdm_image *img, rlim_t nproc, size_t *size)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t pid = cli_fork(NULL, &(cli_opts){.nproc = nproc, .uid = 54321});
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        if (nproc == 1) { /* the limit really stops threads: otherwise the test proves nothing */
            pthread_t t;
            if (pthread_create(&t, NULL, no_op, NULL) == 0)
                _exit(3);
        }
        void *png;
        size_t n;
        if (hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &png, &n, NULL) != HDM_OK)
            _exit(4);
        for (size_t off = 0; off < n;) {
            ssize_t k = write(p[1], (char *)png + off, n - off);
            if (k <= 0)
                _exit(5);
            off += (size_t)k;
        }
        _exit(0);
    }
    close(p[1]);
    size_t cap = 1 << 20, len = 0;
    unsigned char *buf = malloc(cap);
    for (ssize_t k; (k = read(p[0], buf + len, cap - len)) > 0;) {
        len += (size_t)k;
        if (len == cap)
            cr_assert(buf = realloc(buf, cap *= 2));
    }
    close(p[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "encoder child killed by signal %d", WTERMSIG(status));
    cr_assert_neq(WEXITSTATUS(status), CLI_SKIP, "cannot set RLIMIT_NPROC or change uid");
    cr_assert_neq(WEXITSTATUS(status), 3, "RLIMIT_NPROC did not stop pthread_create");
    cr_assert_eq(WEXITSTATUS(status), 0, "encoding failed in the child (%d)",
                 WEXITSTATUS(status));
    *size = len;
    return buf;
}

Test(hpng, encoder_without_threads_is_exact_and_identical)
{
    if (cli_cannot_here(&(cli_opts){.nproc = 1, .uid = 54321}))
        CLI_CANNOT(true, "encoder_without_threads: changing uid needs root with CAP_SETUID and "
                   "CAP_SETGID");
    hdm_image *img = big_random();
    void *threaded;
    size_t tn;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_PNG, NULL, &threaded, &tn, NULL), HDM_OK);
    /* no thread at all, then one of the wanted workers */
    for (rlim_t nproc = 1; nproc <= 2; nproc++) {
        size_t n;
        unsigned char *png = encode_limited(img, nproc, &n);
        expect_decodes_to(png, n, img);
        cr_assert(n == tn && memcmp(png, threaded, n) == 0,
                  "with RLIMIT_NPROC %d the output differs from the threaded one", (int)nproc);
        free(png);
    }
    free(threaded);
    hdm_image_free(img);
}

/* ---- 2. chunk bombs ---- */

/* signature, IHDR, and a chunk header claiming len bytes with only 3 behind it: 44 bytes */
static void write_bomb(const char *path, const char *type, uint32_t len)
{
    unsigned char b[44] = {0};
    size_t n = png_head(b);
    put_be32(b + n, len);
    memcpy(b + n + 4, type, 4);
    tu_write_file(path, b, sizeof b);
}

Test(hpng, chunk_claiming_2gib_is_refused_before_allocating)
{
    static const char *const types[] = {"tEXt", "zTXt", "iTXt", "iCCP", "sPLT", "abCd"};
    static const cli_opts low = {.as = 256u << 20};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        const char *in = at(dir, "bomb.png"), *out = at(dir, "out.png");
        write_bomb(in, types[i], 0x7fffffff);
        cli_result r;
        RUN(&r, &low, "info", in);
        CLI_REFUSED(&r, 1, in, "corrupt PNG", types[i], "claims");
        RUN(&r, &low, "filter", in, "-o", out, "--kernel", "box:3");
        CLI_REFUSED(&r, 1, in, "corrupt PNG", types[i]);
        cr_assert(access(out, F_OK) != 0, "an output was written");
        /* and without a memory limit nothing near 2 GiB was touched */
        RUN(&r, NULL, "info", in);
        CLI_REFUSED(&r, 1, in, "corrupt PNG");
        cr_assert_lt(r.maxrss_kb, 64 << 10, "peak resident size %ld KiB", r.maxrss_kb);
    }
}

Test(hpng, chunk_length_beyond_png_is_refused)
{
    const char *in = at(dir, "bad.png");
    write_bomb(in, "tEXt", 0x80000000u);
    cli_result r;
    RUN(&r, NULL, "info", in);
    CLI_REFUSED(&r, 1, in, "corrupt PNG");
}

/* A real 128 MiB tEXt chunk (a sparse file) before a valid 1×1 image is skipped unread: the
 * image loads and nothing near the chunk's size is held. */
Test(hpng, big_unused_chunk_is_skipped_without_allocating)
{
    const uint32_t len = 128u << 20;
    const char *in = at(dir, "text.png"), *out = at(dir, "out.png");
    unsigned char head[33 + 8];
    size_t n = png_head(head);
    put_be32(head + n, len);
    memcpy(head + n + 4, "tEXt", 4);
    uLong crc = crc32(0, head + n + 4, 4);
    static unsigned char zeros[1 << 16];
    for (uint32_t done = 0; done < len; done += sizeof zeros)
        crc = crc32(crc, zeros, sizeof zeros);
    FILE *f = fopen(in, "wb");
    cr_assert(f);
    cr_assert_eq(fwrite(head, 1, n + 8, f), n + 8);
    cr_assert_eq(fseeko(f, (off_t)len, SEEK_CUR), 0); /* a hole of zeros */
    unsigned char tail[4];
    put_be32(tail, (uint32_t)crc);
    cr_assert_eq(fwrite(tail, 1, 4, f), 4);
    /* the 1×1 gray image: IDAT of zlib(filter 0, sample 0x80), then IEND */
    unsigned char raw[2] = {0, 0x80}, z[64];
    uLongf zl = sizeof z;
    cr_assert_eq(compress(z, &zl, raw, 2), Z_OK);
    unsigned char c[12 + 64];
    put_be32(c, (uint32_t)zl);
    memcpy(c + 4, "IDAT", 4);
    memcpy(c + 8, z, zl);
    put_be32(c + 8 + zl, (uint32_t)crc32(0, c + 4, 4 + (uInt)zl));
    cr_assert_eq(fwrite(c, 1, 12 + zl, f), 12 + zl);
    static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82};
    cr_assert_eq(fwrite(iend, 1, 12, f), 12);
    cr_assert_eq(fclose(f), 0);

    cli_result r;
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1");
    cli_expect_ok(&r);
    cr_assert_lt(r.maxrss_kb, 64 << 10, "peak resident size %ld KiB", r.maxrss_kb);
    hdm_image *img;
    cr_assert_eq(hdm_load(out, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(tu_get(img, 0, 0, 0), 0x80);
    hdm_image_free(img);
}

/* ---- 3. info reads headers only ---- */

Test(hpng, info_of_big_interlaced_png_reads_headers_only)
{
    const char *in = at(dir, "big-adam7.png");
    write_png(in, 8000, 8000, PNG_COLOR_TYPE_RGB, true, zero_row);
    static const cli_opts low = {.data = 32u << 20}; /* the image is 192 MB */
    cli_result r;
    RUN(&r, &low, "info", in);
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "8000x8000") && strstr(r.out, "3 channels"), "info says: %s",
              r.out);
    /* and its pixels are more than that limit lets a decode hold */
    RUN(&r, &low, "filter", in, "-o", at(dir, "out.png"), "--kernel", "box:1");
    if (LIMITS_WORK)
        cr_assert(!(WIFEXITED(r.wstatus) && WEXITSTATUS(r.wstatus) == 0), "decoded in 32 MB");
    RUN(&r, NULL, "info", in);
    cli_expect_ok(&r);
    cr_assert_lt(r.maxrss_kb, 64 << 10, "peak resident size %ld KiB", r.maxrss_kb);
}

/* ---- 4. max_memory counts what a job holds ---- */

Test(hpng, two_wide_box_filters_are_refused_under_the_limit)
{
    const char *in = at(dir, "wide.png"), *out = at(dir, "out.png");
    write_png(in, 100000, 300, PNG_COLOR_TYPE_RGBA, false, zero_row);
    cli_result r;
    RUN(&r, NULL, "run", in, "-o", out, "--max-memory", "120000001", "filter:box:255",
        "filter:box:255");
    CLI_REFUSED(&r, 1, in, "held at once", "120000001", "raise it with --max-memory");
    cr_assert(access(out, F_OK) != 0, "an output was written");
    cr_assert_lt(r.maxrss_kb, 100 << 10, "peak resident size %ld KiB before refusing",
                 r.maxrss_kb);
    /* small kernels fit the same limit */
    RUN(&r, NULL, "run", in, "-o", out, "--max-memory", "120000001", "filter:box:3",
        "filter:box:3");
    cli_expect_ok(&r);
    cr_assert_lt(r.maxrss_kb, 120000001 / 1024, "peak resident size %ld KiB", r.maxrss_kb);
}

Test(hpng, wide_box_filters_run_under_a_generous_limit)
{
    const char *in = at(dir, "w.png"), *out = at(dir, "out.png");
    write_png(in, 1000, 300, PNG_COLOR_TYPE_RGBA, false, ramp_row);
    cli_result r;
    /* each step slides: its window's 2·127 + 18 rows × 4 planes × 1000 bytes ≈ 1.1 MB, and
     * its sums' rows and scratch about as much again; two do not fit 3 MB */
    RUN(&r, NULL, "run", in, "-o", out, "--max-memory", "3000000", "filter:box:255",
        "filter:box:255");
    CLI_REFUSED(&r, 1, in, "raise it with --max-memory");
    RUN(&r, NULL, "run", in, "-o", out, "--max-memory", "30000000", "filter:box:255",
        "filter:box:255");
    cli_expect_ok(&r);
}

/* A PNG streams, but its decoded size is still held to the limit (so a small file cannot cause
 * unbounded work); the refusal says how many bytes and why. */
Test(hpng, decoded_size_refusal_gives_the_figure)
{
    const char *in = at(dir, "s.png"), *out = at(dir, "out.png");
    write_png(in, 300, 200, PNG_COLOR_TYPE_RGB, false, ramp_row);
    cli_result r;
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1", "--max-memory", "100000");
    CLI_REFUSED(&r, 1, in, "decoded image needs 180000 bytes (300x200, 3 channels of 8 bits)",
                "above the memory limit of 100000", "raise it with --max-memory");
    cr_assert(access(out, F_OK) != 0, "an output was written");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1", "--max-memory", "2000000");
    cli_expect_ok(&r);
}

Test(hpng, whole_image_hdr_output_is_counted)
{
    const char *in = at(dir, "rgb.png"), *out = at(dir, "out.hdr");
    write_png(in, 3000, 3000, PNG_COLOR_TYPE_RGB, false, ramp_row);
    cli_result r;
    /* the PNG streams (27 MB of pixels never held), but the .hdr encoder holds 108 MB of f32 */
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1", "--max-memory", "100000000");
    CLI_REFUSED(&r, 1, in, "held at once", "raise it with --max-memory");
    cr_assert(access(out, F_OK) != 0, "an output was written");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1", "--max-memory", "200000000");
    cli_expect_ok(&r);
}

Test(hpng, interlaced_png_is_held_once)
{
    const char *in = at(dir, "adam7.png"), *out = at(dir, "out.png");
    write_png(in, 4000, 4000, PNG_COLOR_TYPE_RGB, true, ramp_row); /* 48 MB of pixels */
    cli_result r;
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1", "--max-memory", "40000000");
    CLI_REFUSED(&r, 1, in, "memory limit");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:1");
    cli_expect_ok(&r);
    /* one copy of 48 MB and the encoder's blocks; two copies would be 96 MB (Release peaks
     * near 64 MB; AddressSanitizer's redzones and quarantine add some 25, still under two) */
    cr_assert_lt(r.maxrss_kb, (UNDER_ASAN ? 94 : 85) << 10, "peak resident size %ld KiB",
                 r.maxrss_kb);
    hdm_image *a, *b;
    cr_assert_eq(hdm_load(in, NULL, &a, NULL), HDM_OK);
    cr_assert_eq(hdm_load(out, NULL, &b, NULL), HDM_OK);
    tu_assert_same(a, b, "interlaced input and its box:1 output");
    for (uint32_t y = 0; y < 4000; y += 997)
        for (uint32_t x = 0; x < 4000; x += 1009)
            cr_assert_eq(tu_get(a, 1, x, y), (uint8_t)((x * 3 + 1) * 7 + y * 3));
    hdm_image_free(a);
    hdm_image_free(b);
}
