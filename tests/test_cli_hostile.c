/* SPDX-License-Identifier: MIT */
/* test_cli_hostile.c — bad files and failing disks through the CLI: refused in one line, no crash
 *
 * Every case runs the built hadamard binary in a child (fork/exec, stderr captured) inside a
 * fresh mkdtemp directory, and checks the promise: exit status 1 (2 for usage), one line on
 * stderr starting "hadamard: " that names the file and the cause, no signal, no output or
 * temporary left behind, and an existing output untouched. */
#include "cli_assert.h"
#include "fuzz/seeds.h"
#include "hadamard.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <errno.h>
#include <png.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- a scratch directory per test ---- */

static char *dir;

static void make_dir(void)
{
    dir = scratch_new();
    cr_assert(dir, "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void) { scratch_free(dir); }

TestSuite(hostile, .init = make_dir, .fini = remove_dir, .timeout = 300);

static unsigned char *seed(const char *name, size_t *n)
{
    unsigned char *data;
    cr_assert(hdm_seed_named(name, &data, n), "no seed %s", name);
    return data;
}

/* A refused file or a decoded one, never anything else: the lenient rule for damage a decoder
 * may not see (stb takes data missing from a truncated JPEG, GIF or run-length TGA or PSD as
 * zeros; truncated PNM, HDR and uncompressed BMP, TGA and PSD are refused). */
static void expect_refused_or_whole(const cli_result *r, const char *in, const char *out)
{
    if (WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0) {
        hdm_image *img;
        cr_assert_eq(hdm_load(out, NULL, &img, NULL), HDM_OK, "%s: output unreadable", in);
        hdm_image_free(img);
        remove(out);
        return;
    }
    CLI_REFUSED(r, 1, in);
    cli_expect_no_leftovers(dir, out, NULL);
}

/* ---- damaged files ---- */

static const char *const formats[] = {
    "png-rgb8.png", "png-pal4.png", "png-rgba16.png", "png-rgb8-adam7.png", "png-pal8-trns.png",
    "png-gray8-trns.png", "jpeg-rgb.jpg",
    "bmp-rgb24.bmp", "bmp-pal8.bmp", "gif-transparent.gif", "tga-rle-rgb.tga", "tga-rgb24.tga",
    "psd-rgb8-rle.psd", "hdr-rle.hdr", "pnm-rgb16.ppm",
};

Test(hostile, truncated_files)
{
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        size_t n;
        unsigned char *data = seed(formats[f], &n);
        bool png = strncmp(formats[f], "png", 3) == 0;
        const char *in = at(dir, "cut.img"), *out = at(dir, "out.png");
        for (size_t cut = 1; cut < n; cut += cut < 40 ? 1 : 5) {
            tu_write_file(in, data, cut);
            cli_result r;
            CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
            if (png) { /* libpng reads to IEND and checks every CRC: always refused */
                CLI_REFUSED(&r, 1, in);
                cli_expect_no_leftovers(dir, out, NULL);
            } else {
                expect_refused_or_whole(&r, in, out);
            }
        }
        free(data);
    }
}

Test(hostile, flipped_bytes)
{
    srand(20240611);
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
        size_t n;
        unsigned char *data = seed(formats[f], &n);
        bool png = strncmp(formats[f], "png", 3) == 0;
        const char *in = at(dir, "flip.img"), *out = at(dir, "out.png");
        for (int k = 0; k < 25; k++) {
            unsigned char *bad = malloc(n);
            memcpy(bad, data, n);
            int flips = 1 + rand() % 4;
            for (int i = 0; i < flips; i++)
                bad[(size_t)rand() % n] ^= (unsigned char)(1 + rand() % 255);
            bool same = memcmp(bad, data, n) == 0; /* two flips may cancel */
            tu_write_file(in, bad, n);
            free(bad);
            if (same)
                continue;
            cli_result r;
            CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
            if (png) { /* every PNG byte is under a CRC, ancillary chunks' too */
                CLI_REFUSED(&r, 1, in);
                cli_expect_no_leftovers(dir, out, NULL);
            } else {
                expect_refused_or_whole(&r, in, out);
            }
        }
        free(data);
    }
}

/* libpng by default drops an ancillary chunk with a bad CRC and carries on: a damaged tRNS
 * would lose the alpha channel without a word. */
Test(hostile, png_ancillary_crc)
{
    size_t n;
    unsigned char *data = seed("png-pal8-trns.png", &n);
    unsigned char *t = memmem(data, n, "tRNS", 4);
    cr_assert(t);
    t[5] ^= 0x40;
    const char *in = at(dir, "trns.png"), *out = at(dir, "out.png");
    tu_write_file(in, data, n);
    free(data);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "CRC");
    cli_expect_no_leftovers(dir, out, NULL);
}

Test(hostile, empty_file)
{
    const char *in = at(dir, "empty.png"), *out = at(dir, "out.png");
    tu_write_file(in, "", 0);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "empty");
    cli_expect_no_leftovers(dir, out, NULL);
    CLI_WITH(&r, dir, NULL, "info", in);
    CLI_REFUSED(&r, 1, in, "empty");
}

Test(hostile, directory_as_input)
{
    const char *in = at(dir, "adir"), *out = at(dir, "out.png");
    cr_assert_eq(mkdir(in, 0755), 0);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "is a directory");
    cli_expect_no_leftovers(dir, out, NULL);
}


Test(hostile, directory_as_output)
{
    size_t n;
    unsigned char *data = seed("png-rgb8.png", &n);
    const char *in = at(dir, "in.png"), *out = at(dir, "outdir.png");
    tu_write_file(in, data, n);
    free(data);
    cr_assert_eq(mkdir(out, 0755), 0);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, out, "directory");
}

Test(hostile, unsupported_format)
{
    const char *in = at(dir, "notes.png"), *out = at(dir, "out.png");
    tu_write_file(in, "just some text, not a picture\n", 30);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "not an image");
    cli_expect_no_leftovers(dir, out, NULL);
    /* an output format nobody writes is a usage error, found before any work */
    const char *gif = at(dir, "out.gif");
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", gif);
    CLI_REFUSED(&r, 2, gif, "output format");
    cli_expect_no_leftovers(dir, gif, NULL);
}

/* ---- absurd sizes: refused from the header, before any pixel memory ---- */

static uint32_t crc_png(const unsigned char *p, size_t n) /* PNG spec, annex D */
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static void be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

static void le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16), p[3] = (unsigned char)(v >> 24);
}

/* A seed with its header's size fields set to w × h (the format's own limit where smaller). */
static unsigned char *huge(const char *name, uint32_t w, uint32_t h, size_t *n)
{
    unsigned char *d = seed(name, n);
    if (strncmp(name, "png", 3) == 0) {
        be32(d + 16, w);
        be32(d + 20, h);
        be32(d + 29, crc_png(d + 12, 17)); /* a valid IHDR: only the size is absurd */
    } else if (strncmp(name, "bmp", 3) == 0) {
        le32(d + 18, w);
        le32(d + 22, h);
    } else if (strncmp(name, "gif", 3) == 0) {
        d[6] = d[7] = d[8] = d[9] = 0xFF;
    } else if (strncmp(name, "tga", 3) == 0) {
        d[12] = d[13] = d[14] = d[15] = 0xFF;
    } else if (strncmp(name, "psd", 3) == 0) {
        be32(d + 14, h);
        be32(d + 18, w);
    } else if (strncmp(name, "jpeg", 4) == 0) {
        for (size_t i = 2; i + 9 < *n; i++)
            if (d[i] == 0xFF && d[i + 1] == 0xC0) { /* SOF0: P, Y, X (ITU-T T.81, B.2.2) */
                d[i + 5] = d[i + 6] = d[i + 7] = d[i + 8] = 0xFF;
                break;
            }
    }
    return d;
}

#define TEXT(s) s, sizeof s - 1
static const struct { const char *name, *text; size_t len; } huge_text[] = {
    {"pnm.ppm", TEXT("P6\n100000 100000\n255\n\1\2\3\4\5\6")},
    {"hdr.hdr", TEXT("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 100000 +X 100000\n\2\2\0\1")},
};
#undef TEXT

static void check_huge(const char *in, const char *out)
{
    cli_result r;
    CLI_WITH(&r, dir, NULL, "info", in);
    CLI_REFUSED(&r, 1, in, "limit");
    cr_assert(strstr(r.err, "--max-"), "does not say how to raise the limit: %s", r.err);
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "limit");
    cli_expect_no_leftovers(dir, out, NULL);
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow memory does not fit under RLIMIT_DATA */
    /* With every limit raised the decoder may try, but must fail cleanly: 1 GiB of data
     * segment is far below what 10^10 pixels would take. */
    cli_opts o = {.data = (rlim_t)1 << 30};
    CLI_WITH(&r, dir, &o, "mul", in, in, "-o", out, "--max-pixels", "100000000000", "--max-width",
        "4000000000", "--max-height", "4000000000", "--max-memory", "1000000000000000");
    if (cli_skipped(&r)) { /* the rest of the test still runs: warn, or fail where it can't be */
        cr_assert(cli_cannot_here(&o) || !cli_under_ci(),
                  "%s: cannot set RLIMIT_DATA to 1 GiB, under CI=true", in);
        cr_log_warn("%s: cannot set RLIMIT_DATA to 1 GiB: the run with limits raised left out", in);
    } else {
        CLI_REFUSED(&r, 1, in);
        cli_expect_no_leftovers(dir, out, NULL);
    }
#endif
}

Test(hostile, header_claims_huge_size)
{
    static const char *const seeds[] = {"png-rgb8.png", "png-pal8.png", "png-rgb8-adam7.png",
                                        "bmp-rgb24.bmp", "gif-still.gif", "tga-rle-rgb.tga",
                                        "psd-rgb8.psd", "jpeg-rgb.jpg"};
    char out[300];
    snprintf(out, sizeof out, "%s", at(dir, "out.png"));
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        size_t n;
        unsigned char *d = huge(seeds[i], 100000, 100000, &n);
        const char *in = at(dir, seeds[i]);
        tu_write_file(in, d, n);
        free(d);
        check_huge(in, out);
    }
    for (size_t i = 0; i < sizeof huge_text / sizeof huge_text[0]; i++) {
        const char *in = at(dir, huge_text[i].name);
        tu_write_file(in, huge_text[i].text, huge_text[i].len);
        check_huge(in, out);
    }
}

/* Each limit, lowered below a small file of each kind, is the one the refusal names. */
Test(hostile, each_limit_named)
{
    static const char *const names[] = {"png-rgb8.png", "png-rgb8-adam7.png", "jpeg-rgb.jpg",
                                        "gif-still.gif", "bmp-rgb24.bmp", "tga-rle-rgb.tga",
                                        "psd-rgb16.psd", "hdr-rle.hdr", "pnm-rgb8.ppm"};
    static const char *const limits[][2] = {{"--max-width", "2"}, {"--max-height", "2"},
                                            {"--max-pixels", "10"}, {"--max-memory", "50"}};
    char out[300];
    snprintf(out, sizeof out, "%s", at(dir, "out.png"));
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        size_t n;
        unsigned char *d = seed(names[i], &n);
        const char *in = at(dir, names[i]);
        tu_write_file(in, d, n);
        free(d);
        for (size_t k = 0; k < 4; k++) {
            cli_result r;
            CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out, limits[k][0], limits[k][1]);
            CLI_REFUSED(&r, 1, in, limits[k][0]);
            cli_expect_no_leftovers(dir, out, NULL);
        }
    }
}

/* A PNG of w × h zero samples at the given gray bit depth, written with libpng. */
static void write_zero_png(const char *path, unsigned w, unsigned h, int depth)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    unsigned char *row = calloc(1, ((size_t)w * (size_t)depth + 7) / 8);
    cr_assert(png && info && row);
    if (setjmp(png_jmpbuf(png)))
        cr_assert_fail("libpng failed writing %s", path);
    png_init_io(png, f);
    png_set_compression_level(png, 9);
    png_set_IHDR(png, info, w, h, depth, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (unsigned y = 0; y < h; y++)
        png_write_row(png, row);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(row);
    cr_assert_eq(fclose(f), 0);
}

/* A small PNG that inflates to 20000 × 20000 = 4·10^8 pixels (1-bit gray: a few tens of KB
 * of deflated zero rows), above the default limit of 2^28 pixels. */
Test(hostile, decompression_bomb_png)
{
    const char *in = at(dir, "bomb.png"), *out = at(dir, "out.png");
    write_zero_png(in, 20000, 20000, 1);
    struct stat st;
    cr_assert_eq(stat(in, &st), 0);
    cr_log_info("bomb.png: %lld bytes for 4e8 pixels", (long long)st.st_size);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "--max-pixels");
    cli_expect_no_leftovers(dir, out, NULL);
    /* pixels allowed, memory not: still refused from the header */
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out, "--max-pixels", "1000000000", "--max-memory",
        "100000000");
    CLI_REFUSED(&r, 1, in, "--max-memory");
    cli_expect_no_leftovers(dir, out, NULL);
}

/* ---- permissions and read-only places ---- */

static void chmod_for_nobody(void)
{
    cr_assert_eq(chmod(dir, 0755), 0);
}

Test(hostile, unreadable_input)
{
    size_t n;
    unsigned char *data = seed("png-rgb8.png", &n);
    const char *in = at(dir, "secret.png"), *out = at(dir, "out.png");
    tu_write_file(in, data, n);
    free(data);
    cr_assert_eq(chmod(in, 0), 0);
    cli_opts o = {0};
    if (geteuid() == 0) { /* root reads anything: run as nobody instead */
        chmod_for_nobody();
        o.uid = CLI_NOBODY;
    }
    cli_result r;
    CLI_WITH(&r, dir, &o, "mul", in, in, "-o", out);
    if (cli_skipped(&r))
        CLI_CANNOT(cli_cannot_here(&o), "unreadable_input: running as root and cannot become "
                   "nobody");
    CLI_REFUSED(&r, 1, in, "Permission denied");
    cli_expect_no_leftovers(dir, out, NULL);
}

static const char *good_input(const char *name)
{
    size_t n;
    unsigned char *data = seed("png-rgb8.png", &n);
    const char *in = at(dir, name);
    tu_write_file(in, data, n);
    free(data);
    return in;
}

Test(hostile, output_directory_missing)
{
    const char *in = good_input("in.png"), *out = at(dir, "no/such/dir/out.png");
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, out, "No such file or directory");
}

Test(hostile, output_directory_read_only)
{
    const char *in = good_input("in.png");
    const char *ro = at(dir, "ro");
    cr_assert_eq(mkdir(ro, 0755), 0);
    char out[300];
    snprintf(out, sizeof out, "%s/out.png", ro);
    /* a read-only bind mount in the child's own mount namespace: read-only even for root */
    cli_opts o = {.ro_bind = ro};
    cli_result r;
    CLI_WITH(&r, dir, &o, "mul", in, in, "-o", out);
    if (cli_skipped(&r)) {
        /* without CAP_SYS_ADMIN (README, "When a test may skip") a read-only directory as
         * nobody stands in; with it, under CI=true, the bind mount must have worked */
        cr_assert(cli_cannot_here(&o) || !cli_under_ci(),
                  "the read-only bind mount failed with CAP_SYS_ADMIN held, under CI=true");
        cr_log_warn("read-only bind mount unavailable; trying as nobody");
        cr_assert_eq(chmod(ro, 0555), 0);
        chmod_for_nobody();
        cli_opts nobody = {.uid = CLI_NOBODY};
        CLI_WITH(&r, dir, &nobody, "mul", in, in, "-o", out);
        if (cli_skipped(&r))
            CLI_CANNOT(cli_cannot_here(&nobody), "output_directory_read_only: no bind mount and "
                       "cannot become nobody");
        CLI_REFUSED(&r, 1, out, "Permission denied");
    } else {
        CLI_REFUSED(&r, 1, out, "Read-only file system");
    }
    cr_assert(access(out, F_OK) != 0);
}

/* ---- failing and interrupted writes ---- */

/* An image whose PNG is large: noise does not compress. */
static const char *noise_input(const char *name, unsigned w, unsigned h)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(w, h, 3, HDM_U8, &img), HDM_OK);
    uint32_t x = 12345;
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < h; y++) {
            uint8_t *row = hdm_row(img, c, y);
            for (uint32_t i = 0; i < w; i++) {
                x = x * 1664525u + 1013904223u;
                row[i] = (uint8_t)(x >> 24);
            }
        }
    hdm_options o;
    hdm_options_init(&o);
    o.png_level = 1;
    const char *in = at(dir, name);
    cr_assert_eq(hdm_save(img, in, &o, NULL), HDM_OK);
    hdm_image_free(img);
    return in;
}

Test(hostile, disk_full_mid_write)
{
    const char *in = noise_input("noise.png", 300, 300), *out = at(dir, "out.png");
    tu_write_file(out, "OLD", 3);
    static const char *const exts[] = {"out.png", "out.bmp", "out.tga", "out.hdr", "out.jpg"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        out = at(dir, exts[i]);
        tu_write_file(out, "OLD", 3);
        cli_opts o = {.fsize = 64 << 10}; /* every output here is larger than 64 KiB */
        cli_result r;
        if (strstr(exts[i], ".jpg")) /* --quality elsewhere would add a note of no effect */
            CLI_WITH(&r, dir, &o, "mul", in, in, "-o", out, "--quality", "100");
        else
            CLI_WITH(&r, dir, &o, "mul", in, in, "-o", out);
        CLI_REFUSED(&r, 1, out, "File too large");
        cli_expect_no_leftovers(dir, out, "OLD");
    }
}

Test(hostile, killed_mid_write)
{
    const char *in = noise_input("big.png", 3000, 3000), *out = at(dir, "out.png");
    tu_write_file(out, "OLD", 3);
    int killed = 0;
    for (int delay_ms = 150; delay_ms <= 1200 && !killed; delay_ms *= 2) {
        cli_child c;
        CLI_START(&c, dir, NULL, "mul", in, in, "-o", out);
        struct timespec t = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
        nanosleep(&t, NULL);
        kill(c.pid, SIGKILL);
        cli_result r;
        cli_finish(&c, &r);
        if (WIFSIGNALED(r.wstatus) && WTERMSIG(r.wstatus) == SIGKILL)
            killed = 1;
        else
            cr_log_warn("the job ended before SIGKILL at %d ms (status %d)", delay_ms, r.wstatus);
        cli_expect_no_leftovers(dir, out, killed ? "OLD" : NULL);
        if (!killed) /* it finished: put the old output back and try sooner next time */
            tu_write_file(out, "OLD", 3);
    }
    cr_assert(killed, "could not kill the job mid-write");
}

/* ---- never overwrite an input ---- */

Test(hostile, output_is_an_input)
{
    const char *a = good_input("a.png"), *b = good_input("b.png");
    size_t n0;
    unsigned char *before = slurp(a, &n0);
    char dot[300], hard[300];
    snprintf(dot, sizeof dot, "%s/./a.png", dir);
    snprintf(hard, sizeof hard, "%s/hard.png", dir);
    cr_assert_eq(link(a, hard), 0);
    char sym[300];
    snprintf(sym, sizeof sym, "%s/sym.png", dir);
    cr_assert_eq(symlink("a.png", sym), 0);
    const char *outs[] = {a, dot, hard, sym, b};
    for (size_t i = 0; i < sizeof outs / sizeof outs[0]; i++) {
        cli_result r;
        CLI_WITH(&r, dir, NULL, "mul", a, b, "-o", outs[i]);
        CLI_REFUSED(&r, 1, outs[i], "same file");
    }
    size_t n1;
    unsigned char *after = slurp(a, &n1);
    cr_assert(n0 == n1 && memcmp(before, after, n0) == 0, "input changed");
    free(before);
    free(after);
}

/* A FIFO never gets a writer here: opening it as an input, a mask or a kernel file must not
 * wait for one (the run is under the watchdog: a hang fails). */
Test(hostile, fifo_as_input_mask_or_kernel)
{
    const char *fifo = at(dir, "pipe.png"), *img = good_input("img.png"), *out = at(dir, "out.png");
    cr_assert_eq(mkfifo(fifo, 0644), 0);
    char kernel[4200];
    snprintf(kernel, sizeof kernel, "@%s", fifo);
    cli_result r;
    CLI_WITH(&r, dir, NULL, "mask", fifo, img, "-o", out);
    CLI_REFUSED(&r, 1, fifo, "not a regular file");
    CLI_WITH(&r, dir, NULL, "mask", img, fifo, "-o", out);
    CLI_REFUSED(&r, 1, fifo, "not a regular file");
    CLI_WITH(&r, dir, NULL, "filter", img, "-o", out, "--kernel", kernel);
    CLI_REFUSED(&r, 1, fifo, "not a regular file");
    CLI_WITH(&r, dir, NULL, "info", fifo);
    CLI_REFUSED(&r, 1, fifo, "not a regular file");
    cli_expect_no_leftovers(dir, out, NULL);
}
