/* SPDX-License-Identifier: MIT */
/* test_codec_stb_hostile.c — the formats decoded by stb_image: hangs, unfilled memory, PNM maxval,
 * output sizes, out of memory and header-only info, through the CLI and the public API
 *
 * Every CLI case runs the built hadamard in a child (fork/exec, stderr captured, alarm as a
 * watchdog) inside a fresh mkdtemp directory; API cases that need a memory limit run in a
 * forked child too. A hang is a signal exit or a Criterion timeout, and fails. */
#include "cli_assert.h"
#include "hadamard.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <criterion/logging.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CORPUS HDM_SOURCE_DIR "/tests/fuzz/corpus/load"

/* ---- a scratch directory per test ---- */

static char *dir;

static void make_dir(void)
{
    dir = scratch_new();
    cr_assert(dir, "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void) { scratch_free(dir); }

TestSuite(stb, .init = make_dir, .fini = remove_dir, .timeout = 120);

/* Every child has a 60-second alarm: a hang becomes a signal exit. */
static const cli_opts plain = {.timeout = 60};

/* in refused by info, mul and mask (as image and as mask), with cause, leaving no output. */
static void expect_refused_everywhere(const char *name, const char *cause)
{
    const char *in = at(dir, name), *out = at(dir, "out.png");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "info", in);
    CLI_REFUSED(&r, 1, in, cause);
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, cause);
    CLI_WITH(&r, dir, &plain, "mask", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, cause);
    const char *keep[] = {name};
    cli_expect_only(dir, keep, 1);
}

/* ---- 1: HDR run-length data that ends inside a scanline, behind header tricks ---- */

/* stb ends the header at a line that starts with NUL; the check must too. */
Test(stb, hdr_nul_line_ends_header)
{
    static const char f[] = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\0\n-Y 1 +X 100\n\2\2\0\144\262\7";
    tu_write_file(at(dir, "h.hdr"), f, sizeof f - 1);
    expect_refused_everywhere("h.hdr", "run-length data ends inside a scanline");
}

/* A size line longer than any fixed copy of it (stb skips the spaces). */
Test(stb, hdr_long_size_line)
{
    char f[256];
    int n = snprintf(f, sizeof f, "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 %80s+X 100\n", "");
    memcpy(f + n, "\2\2\0\144\262\7", 6);
    tu_write_file(at(dir, "h.hdr"), f, (size_t)n + 6);
    expect_refused_everywhere("h.hdr", "run-length data ends inside a scanline");
}

/* A header line of more than 1023 bytes is cut by stb, the rest skipped; a FORMAT line after it
 * still counts, and the data must still be walked. */
Test(stb, hdr_overlong_comment_line)
{
    static char f[4096];
    size_t n = 0;
    n += (size_t)sprintf(f, "#?RADIANCE\n#");
    memset(f + n, 'x', 2000);
    n += 2000;
    n += (size_t)sprintf(f + n, "\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 16\n");
    memcpy(f + n, "\2\2\0\20\220\1", 6); /* one run of 16 in the first channel, then nothing */
    tu_write_file(at(dir, "h.hdr"), f, n + 6);
    expect_refused_everywhere("h.hdr", "run-length data ends inside a scanline");
}

/* Flat (not run-length) data shorter than the image: stb would convert bytes it never set. */
Test(stb, hdr_flat_truncated)
{
    static const char f[] = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 4\n\x80\x80\x80\x81\1\2";
    tu_write_file(at(dir, "h.hdr"), f, sizeof f - 1);
    expect_refused_everywhere("h.hdr", "truncated (6 bytes of 32)");
}

/* The same files whole are read (the check does not refuse good data). */
Test(stb, hdr_whole_still_reads)
{
    char f[512];
    int n = snprintf(f, sizeof f, "#?RADIANCE\n#comment\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 %80s+X 8\n", "");
    memcpy(f + n, "\2\2\0\10\210\100\210\100\210\100\210\201", 12);
    tu_write_file(at(dir, "ok.hdr"), f, (size_t)n + 12);
    hdm_image *img;
    hdm_error e;
    cr_assert_eq(hdm_load(at(dir, "ok.hdr"), NULL, &img, &e), HDM_OK, "%s", e.message);
    cr_assert_eq(img->width, 8);
    cr_assert_eq(img->height, 1);
    /* 64 · 2^(129-136) = 0.5 */
    cr_assert_float_eq(((float *)img->plane[0])[7], 0.5f, 1e-6);
    hdm_image_free(img);
}

/* ---- 2: truncated raw data is refused where the header gives its length ---- */

static void expect_truncated(const char *name, const char *head, size_t have, const char *cause)
{
    size_t hl = strlen(head);
    unsigned char *f = malloc(hl + have);
    memcpy(f, head, hl);
    for (size_t i = 0; i < have; i++)
        f[hl + i] = (unsigned char)(i * 7 + 1);
    tu_write_file(at(dir, name), f, hl + have);
    free(f);
    expect_refused_everywhere(name, cause);
    remove(at(dir, name));
}

Test(stb, pnm_truncated)
{
    expect_truncated("g8.pgm", "P5 100 100 255\n", 123, "corrupt pnm: truncated (123 bytes of 10000)");
    expect_truncated("g16.pgm", "P5 10 10 65535\n", 199, "truncated (199 bytes of 200)");
    expect_truncated("c8.ppm", "P6 10 10 255\n", 299, "truncated (299 bytes of 300)");
    expect_truncated("c16.ppm", "P6 4 4 65535\n", 6, "truncated (6 bytes of 96)");
}

/* The same PNM whole is read: its own bytes, nothing else. */
Test(stb, pnm_whole_reads)
{
    unsigned char f[64] = "P5 4 2 255\n";
    size_t hl = strlen((char *)f);
    for (int i = 0; i < 8; i++)
        f[hl + i] = (unsigned char)(i * 30);
    tu_write_file(at(dir, "ok.pgm"), f, hl + 8);
    hdm_image *img;
    hdm_error e;
    cr_assert_eq(hdm_load(at(dir, "ok.pgm"), NULL, &img, &e), HDM_OK, "%s", e.message);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(((uint8_t *)hdm_row(img, 0, (uint32_t)i / 4))[i % 4], i * 30);
    hdm_image_free(img);
}

/* BMP, TGA and PSD without compression: a file shorter than its pixel data is refused. */
Test(stb, raw_truncated)
{
    static const char *const seeds[] = {"bmp-rgb24.bmp", "bmp-pal8.bmp", "tga-rgb24.tga",
                                        "tga-gray8.tga", "psd-rgb8.psd", "psd-rgb16.psd"};
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        char src[512];
        snprintf(src, sizeof src, "%s/%s", CORPUS, seeds[s]);
        size_t n;
        unsigned char *data = slurp(src, &n);
        cr_assert(data, "%s", src);
        const char *in = at(dir, seeds[s]);
        tu_write_file(in, data, n);
        cli_result r;
        CLI_WITH(&r, dir, &plain, "info", in);
        cli_expect_ok(&r);
        tu_write_file(in, data, n - 5);
        char cause[64];
        snprintf(cause, sizeof cause, "truncated (%zu bytes of ", n - 5);
        CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", at(dir, "out.png"));
        CLI_REFUSED(&r, 1, in, cause);
        remove(in);
        free(data);
        cli_expect_only(dir, NULL, 0);
    }
}

/* ---- 3: PNM maxval: 1..65535, samples up to it, scaled exactly to the depth's maximum ---- */

static void check_maxval(unsigned maxval)
{
    bool wide = maxval > 255;
    unsigned full = wide ? 65535 : 255;
    /* a row of samples 0, 1, maxval/3, maxval/2, maxval-1, maxval, and every value for small
     * maxvals */
    unsigned v[300];
    size_t count = 0;
    if (maxval < 300) {
        for (unsigned i = 0; i <= maxval; i++)
            v[count++] = i;
    } else {
        unsigned pick[] = {0, 1, 2, maxval / 3, maxval / 2, maxval / 2 + 1, maxval - 1, maxval};
        for (size_t i = 0; i < 8; i++)
            v[count++] = pick[i];
    }
    unsigned char f[1024];
    size_t n = (size_t)sprintf((char *)f, "P5 %zu 1 %u\n", count, maxval);
    for (size_t i = 0; i < count; i++) {
        if (wide)
            f[n++] = (unsigned char)(v[i] >> 8);
        f[n++] = (unsigned char)v[i];
    }
    hdm_image *img;
    hdm_error e;
    cr_assert_eq(hdm_load_memory(f, n, NULL, &img, &e), HDM_OK, "maxval %u: %s", maxval,
                 e.message);
    cr_assert_eq(img->depth, wide ? HDM_U16 : HDM_U8, "maxval %u", maxval);
    for (size_t i = 0; i < count; i++) {
        /* round(v·M/maxval), halves up, in exact integers */
        unsigned long long want = (2ull * v[i] * full + maxval) / (2ull * maxval);
        unsigned got = wide ? ((uint16_t *)img->plane[0])[i] : ((uint8_t *)img->plane[0])[i];
        cr_assert_eq(got, want, "maxval %u, sample %u: %u, not %llu", maxval, v[i], got, want);
    }
    hdm_image_free(img);
}

Test(stb, pnm_maxval_scaled)
{
    static const unsigned maxvals[] = {1, 2, 15, 100, 254, 255, 256, 300, 1000, 4095, 65534, 65535};
    for (size_t i = 0; i < sizeof maxvals / sizeof maxvals[0]; i++)
        check_maxval(maxvals[i]);
    /* a few values worked by hand */
    hdm_image *img;
    cr_assert_eq(hdm_load_memory("P5 2 1 1\n\0\1", 11, NULL, &img, NULL), HDM_OK);
    cr_assert(((uint8_t *)img->plane[0])[0] == 0 && ((uint8_t *)img->plane[0])[1] == 255);
    hdm_image_free(img);
    cr_assert_eq(hdm_load_memory("P5 1 1 15\n\7", 11, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(((uint8_t *)img->plane[0])[0], 119);
    hdm_image_free(img);
    cr_assert_eq(hdm_load_memory("P5 1 1 300\n\0\226", 13, NULL, &img, NULL), HDM_OK); /* 150 */
    cr_assert_eq(((uint16_t *)img->plane[0])[0], 32768); /* 32767.5 rounds up */
    hdm_image_free(img);
    cr_assert_eq(hdm_load_memory("P5 1 1 65535\n\1\2", 15, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(((uint16_t *)img->plane[0])[0], 0x0102); /* big-endian (pgm(5)) */
    hdm_image_free(img);
}

Test(stb, pnm_maxval_refused)
{
    tu_write_file(at(dir, "m0.pgm"), "P5 2 1 0\n\0\0", 11);
    expect_refused_everywhere("m0.pgm", "maxval 0 is out of range (1 to 65535)");
    remove(at(dir, "m0.pgm"));
    tu_write_file(at(dir, "big.pgm"), "P5 1 1 65536\n\0\0", 15);
    expect_refused_everywhere("big.pgm", "maxval 65536 is out of range");
    remove(at(dir, "big.pgm"));
    tu_write_file(at(dir, "over.pgm"), "P5 2 1 1\n\0\7", 11);
    const char *in = at(dir, "over.pgm");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", at(dir, "out.png"));
    CLI_REFUSED(&r, 1, in, "corrupt pnm: sample value 7 above maxval 1");
    tu_write_file(in, "P6 1 1 1000\n\0\1\3\351\0\0", 18); /* 1001 > 1000 */
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", at(dir, "out.png"));
    CLI_REFUSED(&r, 1, in, "sample value 1001 above maxval 1000");
    const char *keep[] = {"over.pgm"};
    cli_expect_only(dir, keep, 1);
}

/* ---- 4: outputs whose sizes the format cannot hold ---- */

Test(stb, output_too_wide)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(70000, 4, 1, HDM_U8, &img), HDM_OK);
    for (uint32_t y = 0; y < 4; y++)
        memset(hdm_row(img, 0, y), 100, 70000);
    hdm_error e;
    cr_assert_eq(hdm_save(img, at(dir, "wide.png"), NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    const char *keep[] = {"wide.png", "old.jpg"};
    tu_write_file(at(dir, "old.jpg"), "old", 3);
    /* JPEG's frame holds 65535 but libjpeg-turbo writes at most 65500 (JPEG_MAX_DIMENSION) */
    static const char *const outs[][3] = {{"x.jpg", "JPEG", "65500"}, {"x.tga", "TGA", "65535"},
                                          {"old.jpg", "JPEG", "65500"}};
    for (size_t i = 0; i < 3; i++) {
        const char *in = at(dir, "wide.png"), *out = at(dir, outs[i][0]);
        cli_result r;
        CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", out);
        char cause[128];
        snprintf(cause, sizeof cause, "%s: 70000x4 is too large for %s (at most %sx%s)",
                 out, outs[i][1], outs[i][2], outs[i][2]);
        CLI_REFUSED(&r, 1, out, cause);
        cli_expect_only(dir, keep, 2);
    }
    size_t n;
    unsigned char *old = slurp(at(dir, "old.jpg"), &n);
    cr_assert(old && n == 3 && memcmp(old, "old", 3) == 0, "old.jpg was changed");
    free(old);
    /* the API says the same */
    cr_assert_eq(hdm_image_new(4, 70000, 1, HDM_U8, &img), HDM_OK);
    void *data = NULL;
    size_t size = 0;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_JPEG, NULL, &data, &size, &e), HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "4x70000 is too large for JPEG"), "%s", e.message);
    hdm_image_free(img);
    free(data);
}

/* ---- 5, 6: memory: stb's out of memory, and info reading headers only ---- */

#if defined(__SANITIZE_ADDRESS__)
#define NO_RLIMIT "ASan's shadow memory does not fit under RLIMIT_AS"
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_RLIMIT "ASan's shadow memory does not fit under RLIMIT_AS"
#endif
#endif

#ifndef NO_RLIMIT
/* A 6000×6000 RGB JPEG (a few hundred KiB; decoding it needs some 250 MB). */
static const char *big_jpeg(void)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(6000, 6000, 3, HDM_U8, &img), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 6000; y++) {
            uint8_t *row = hdm_row(img, c, y);
            for (uint32_t x = 0; x < 6000; x++)
                row[x] = (uint8_t)((x / 64 + y / 64 + c * 80) & 0xFF);
        }
    const char *p = at(dir, "big.jpg");
    hdm_error e;
    cr_assert_eq(hdm_save(img, p, NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    return p;
}
#endif

enum { MEM_LIMIT = 96 << 20 };

Test(stb, out_of_memory_is_nomem)
{
#ifdef NO_RLIMIT
    cr_skip_test(NO_RLIMIT);
#else
    const char *p = big_jpeg();
    int fd[2];
    cr_assert_eq(pipe(fd), 0);
    pid_t pid = cli_fork(NULL, &plain);
    cr_assert(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        /* room for reading the file, not for the decode: what the child maps now, plus 64 MiB */
        unsigned long long mapped = 0;
        FILE *vm = fopen("/proc/self/status", "r");
        char line[256];
        while (vm && fgets(line, sizeof line, vm))
            if (sscanf(line, "VmSize: %llu kB", &mapped) == 1)
                break;
        if (vm)
            fclose(vm);
        if (!mapped)
            _exit(CLI_SKIP);
        rlim_t lim = (rlim_t)(mapped * 1024 + (64 << 20));
        struct rlimit l = {lim, lim};
        if (setrlimit(RLIMIT_AS, &l) || setrlimit(RLIMIT_DATA, &l))
            _exit(CLI_SKIP);
        hdm_image *img = NULL;
        hdm_error e = {0};
        hdm_status st = hdm_load(p, NULL, &img, &e);
        char msg[sizeof e.message + 16];
        int n = snprintf(msg, sizeof msg, "%d %s", (int)st, e.message);
        if (write(fd[1], msg, (size_t)n) != n)
            _exit(2);
        _exit(0);
    }
    close(fd[1]);
    char msg[2048];
    cli_drain(fd[0], msg, sizeof msg);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "child status %d", status);
    if (WEXITSTATUS(status) == CLI_SKIP)
        CLI_CANNOT(access("/proc/self/status", R_OK) != 0,
                   "out_of_memory_is_nomem: cannot read the child's VmSize or set its limits");
    cr_assert_eq(WEXITSTATUS(status), 0, "child status %d", status);
    char want[512];
    snprintf(want, sizeof want, "%d %s: out of memory", (int)HDM_ERR_NOMEM, p);
    cr_assert_str_eq(msg, want);
#endif
}

Test(stb, info_reads_headers_only)
{
#ifdef NO_RLIMIT
    cr_skip_test(NO_RLIMIT);
#else
    const char *p = big_jpeg();
    static const cli_opts limited = {.timeout = 60, .data = MEM_LIMIT, .as = MEM_LIMIT};
    cli_result r;
    CLI_WITH(&r, dir, &limited, "info", p);
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "6000x6000, 3 channels"), "info said: %s", r.out);
    /* a baseline JPEG is decoded a scanline at a time, so the product of two 108 MB images
     * fits in the 96 MB (stb decoded them whole and ran out) */
    CLI_WITH(&r, dir, &limited, "mul", p, p, "-o", at(dir, "x.png"));
    cli_expect_ok(&r);
    const char *keep[] = {"big.jpg", "x.png"};
    cli_expect_only(dir, keep, 2);
#endif
}

/* A JPEG whose SOF comes after 192 KiB of APPn segments: info reads on until it has it. */
Test(stb, info_jpeg_sof_after_large_app_segments)
{
    size_t n;
    unsigned char *src = slurp(CORPUS "/jpeg-rgb.jpg", &n);
    cr_assert(src && n > 2);
    size_t seg = 4 + 65533, apps = 3, m = n + apps * seg;
    unsigned char *f = malloc(m);
    memcpy(f, src, 2); /* SOI */
    for (size_t a = 0; a < apps; a++) {
        unsigned char *s = f + 2 + a * seg;
        s[0] = 0xFF, s[1] = (unsigned char)(0xE1 + a), s[2] = 0xFF, s[3] = 0xFF; /* length 65535 */
        memset(s + 4, 'A' + (int)a, 65533);
    }
    memcpy(f + 2 + apps * seg, src + 2, n - 2);
    const char *p = at(dir, "app.jpg");
    tu_write_file(p, f, m);
    free(f);
    free(src);
    hdm_info info;
    hdm_error e;
    cr_assert_eq(hdm_info_read(p, NULL, &info, &e), HDM_OK, "%s", e.message);
    cr_assert(info.width == 17 && info.height == 9 && info.channels == 3, "%ux%u %u",
              info.width, info.height, info.channels);
    cli_result r;
    CLI_WITH(&r, dir, &plain, "info", p);
    cli_expect_ok(&r);
    cr_assert(strstr(r.out, "17x9, 3 channels"), "info said: %s", r.out);
    hdm_image *img;
    cr_assert_eq(hdm_load(p, NULL, &img, &e), HDM_OK, "%s", e.message);
    cr_assert(img->width == 17 && img->height == 9);
    hdm_image_free(img);
}

/* For every file of the load corpus, hdm_info_read says what hdm_load finds. */
Test(stb, info_agrees_with_load_on_corpus)
{
    DIR *d = opendir(CORPUS);
    cr_assert(d, "%s", CORPUS);
    int count = 0;
    for (struct dirent *ent; (ent = readdir(d));) {
        if (ent->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", CORPUS, ent->d_name);
        hdm_info info;
        hdm_image *img;
        hdm_error e;
        cr_assert_eq(hdm_info_read(p, NULL, &info, &e), HDM_OK, "%s", e.message);
        cr_assert_eq(hdm_load(p, NULL, &img, &e), HDM_OK, "%s", e.message);
        cr_assert(info.width == img->width && info.height == img->height &&
                      info.channels == img->channels && info.depth == img->depth,
                  "%s: info %ux%u %u ch depth %d, load %ux%u %u ch depth %d", ent->d_name,
                  info.width, info.height, info.channels, info.depth, img->width, img->height,
                  img->channels, img->depth);
        hdm_image_free(img);
        count++;
    }
    closedir(d);
    cr_assert_geq(count, 40);
}

/* stb decoded every scan over the whole frame: 400 empty scans over 2048×2048 took minutes.
 * libjpeg-turbo finds each empty scan's data missing, a warning: refused at once. */
Test(stb, jpeg_many_empty_scans)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(2048, 2048, 1, HDM_U8, &img), HDM_OK);
    for (uint32_t y = 0; y < 2048; y++)
        for (uint32_t x = 0; x < 2048; x++)
            ((uint8_t *)hdm_row(img, 0, y))[x] = (uint8_t)(x * 7 + y * 3);
    void *jpg;
    size_t n;
    hdm_error e;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_JPEG, NULL, &jpg, &n, &e), HDM_OK, "%s",
                 e.message);
    hdm_image_free(img);
    unsigned char *d = jpg, *sos = memmem(d, n, "\xFF\xDA", 2);
    cr_assert(sos);
    size_t off = (size_t)(sos - d), len = 2 + ((size_t)sos[2] << 8 | sos[3]), copies = 400;
    unsigned char *f = malloc(n + copies * len);
    memcpy(f, d, off);
    for (size_t k = 0; k < copies; k++)
        memcpy(f + off + k * len, sos, len);
    memcpy(f + off + copies * len, d + off, n - off);
    tu_write_file(at(dir, "ok.jpg"), d, n);
    tu_write_file(at(dir, "scans.jpg"), f, n + copies * len);
    free(f);
    free(jpg);
    const char *in = at(dir, "scans.jpg"), *out = at(dir, "out.png");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "corrupt JPEG: Corrupt JPEG data: premature end of data segment");
    CLI_WITH(&r, dir, &plain, "mul", at(dir, "ok.jpg"), at(dir, "ok.jpg"), "-o", out);
    cli_expect_ok(&r);
}

/* Files larger than the first read (64 KiB) in every stb format written here, and 16-bit PNM:
 * info from a prefix of each says what the whole file decodes to. */
Test(stb, info_on_prefix_of_large_files)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(400, 300, 3, HDM_U8, &img), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 300; y++)
            for (uint32_t x = 0; x < 400; x++)
                ((uint8_t *)hdm_row(img, c, y))[x] = (uint8_t)((x * 131 + y * 71 + c * 29) ^ (x * y));
    static const char *const names[] = {"big.bmp", "big.tga", "big.hdr", "big.jpg"};
    hdm_error e;
    for (size_t i = 0; i < 4; i++)
        cr_assert_eq(hdm_save(img, at(dir, names[i]), NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    size_t hl;
    static unsigned char pnm[20 + 400 * 300 * 2];
    hl = (size_t)sprintf((char *)pnm, "P5 400 300 40000\n");
    for (size_t i = 0; i < 400 * 300; i++)
        pnm[hl + 2 * i] = (unsigned char)(i % 156), pnm[hl + 2 * i + 1] = (unsigned char)i;
    tu_write_file(at(dir, "big.pgm"), pnm, hl + 400 * 300 * 2);
    static const char *const all[] = {"big.bmp", "big.tga", "big.hdr", "big.jpg", "big.pgm"};
    for (size_t i = 0; i < 5; i++) {
        const char *p = at(dir, all[i]);
        struct stat st;
        cr_assert_eq(stat(p, &st), 0);
        cr_assert_gt(st.st_size, 64 << 10, "%s is only %lld bytes", all[i], (long long)st.st_size);
        hdm_info info;
        cr_assert_eq(hdm_info_read(p, NULL, &info, &e), HDM_OK, "%s", e.message);
        cr_assert_eq(hdm_load(p, NULL, &img, &e), HDM_OK, "%s", e.message);
        cr_assert(info.width == 400 && info.height == 300 && info.width == img->width &&
                      info.height == img->height && info.channels == img->channels &&
                      info.depth == img->depth,
                  "%s: info %ux%u %u ch, load %ux%u %u ch", all[i], info.width, info.height,
                  info.channels, img->width, img->height, img->channels);
        hdm_image_free(img);
    }
}

/* ---- images with no pixel data at all: a few bytes of header made one of any size ---- */

#define CRASHERS HDM_SOURCE_DIR "/tests/fuzz/crashers"

/* The crasher copied into dir, refused everywhere within 10 seconds (it took 8 s and 1.5 GB
 * to be accepted), with cause. */
static void expect_crasher_refused(const char *name, const char *cause)
{
    size_t n;
    char src[512];
    snprintf(src, sizeof src, "%s/%s", CRASHERS, name);
    unsigned char *d = slurp(src, &n);
    cr_assert(d, "%s", src);
    tu_write_file(at(dir, name), d, n);
    free(d);
    const char *in = at(dir, name);
    static const cli_opts quick = {.timeout = 10};
    cli_result r;
    CLI_WITH(&r, dir, &quick, "mul", in, in, "-o", at(dir, "out.png"));
    CLI_REFUSED(&r, 1, in, cause);
    expect_refused_everywhere(name, cause);
    remove(in);
}

Test(stb, jpeg_frame_without_scan)
{
    expect_crasher_refused("load-jpeg-sof-without-scan-huge.jpg",
                           "corrupt JPEG: Invalid JPEG file structure: missing SOS marker");
    /* and with no EOI either: the file just ends after the frame header */
    static const unsigned char f[] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 11, 8, 0x3E, 0x80, 0x3E, 0x80,
                                      1, 1, 0x11, 0};
    tu_write_file(at(dir, "noeoi.jpg"), f, sizeof f);
    expect_refused_everywhere("noeoi.jpg", "corrupt JPEG: data is truncated");
}

/* A scan whose entropy-coded data is absurdly short for the frame (4 bytes, then EOI): stb
 * decoded the rest as zeros; libjpeg-turbo warns that the data ends early, and any warning is
 * refused, so nothing is written. */
Test(stb, jpeg_truncated_scan_refused)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(64, 64, 1, HDM_U8, &img), HDM_OK);
    for (uint32_t y = 0; y < 64; y++)
        for (uint32_t x = 0; x < 64; x++)
            ((uint8_t *)hdm_row(img, 0, y))[x] = (uint8_t)(x * 5 ^ y * 3);
    void *jpg;
    size_t n;
    hdm_error e;
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_JPEG, NULL, &jpg, &n, &e), HDM_OK, "%s",
                 e.message);
    hdm_image_free(img);
    unsigned char *d = jpg, *sos = memmem(d, n, "\xFF\xDA", 2);
    cr_assert(sos);
    size_t cut = (size_t)(sos - d) + 2 + ((size_t)sos[2] << 8 | sos[3]) + 4;
    memcpy(d + cut, "\xFF\xD9", 2);
    tu_write_file(at(dir, "cut.jpg"), d, cut + 2);
    free(jpg);
    const char *in = at(dir, "cut.jpg"), *out = at(dir, "out.png");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", out);
    CLI_REFUSED(&r, 1, in, "corrupt JPEG: Corrupt JPEG data: premature end of data segment");
    cr_assert(!exists(dir, "out.png"));
}

/* GIF: the screen descriptor, a global colour table, then ... */
static size_t gif_start(unsigned char *f, unsigned w, unsigned h)
{
    static const unsigned char head[] = "GIF89a";
    memcpy(f, head, 6);
    f[6] = (unsigned char)w, f[7] = (unsigned char)(w >> 8);
    f[8] = (unsigned char)h, f[9] = (unsigned char)(h >> 8);
    f[10] = 0x80, f[11] = 0, f[12] = 0; /* a 2-entry global table */
    memcpy(f + 13, "\0\0\0\xff\xff\xff", 6);
    return 19;
}

/* ... an image descriptor over the whole screen */
static size_t gif_descriptor(unsigned char *f, size_t n, unsigned w, unsigned h)
{
    const unsigned char desc[] = {0x2C, 0, 0, 0, 0, (unsigned char)w, (unsigned char)(w >> 8),
                                  (unsigned char)h, (unsigned char)(h >> 8), 0};
    memcpy(f + n, desc, sizeof desc);
    return n + sizeof desc;
}

Test(stb, gif_screen_without_image)
{
    expect_crasher_refused("load-gif-screen-without-image-huge.gif",
                           "corrupt gif: no image data (no LZW data)");
    unsigned char f[64];
    /* no image descriptor: a graphic control extension (with its sub-block end) and the
     * trailer */
    size_t n = gif_start(f, 16000, 16000);
    memcpy(f + n, "\x21\xF9\x04\0\0\0\0\0\x3B", 9);
    tu_write_file(at(dir, "noimg.gif"), f, n + 9);
    expect_refused_everywhere("noimg.gif", "corrupt gif: no image data");
    remove(at(dir, "noimg.gif"));
    /* the file ends before any block */
    tu_write_file(at(dir, "end.gif"), f, gif_start(f, 16000, 16000));
    expect_refused_everywhere("end.gif", "corrupt gif: no image data");
    remove(at(dir, "end.gif"));
    /* a descriptor and nothing after it: stb read the code size and the data as zeros */
    n = gif_descriptor(f, gif_start(f, 16000, 16000), 16000, 16000);
    tu_write_file(at(dir, "desc.gif"), f, n);
    expect_refused_everywhere("desc.gif", "corrupt gif: no image data (no LZW code size)");
    remove(at(dir, "desc.gif"));
    /* the trailer where the code size belongs */
    f[n] = 0x3B;
    tu_write_file(at(dir, "nolzw.gif"), f, n + 1);
    expect_refused_everywhere("nolzw.gif", "corrupt gif: no image data (no LZW code size)");
}

/* stb refused an LZW code size above 12 with an empty reason. */
Test(stb, gif_lzw_code_size_13)
{
    unsigned char f[64];
    size_t n = gif_descriptor(f, gif_start(f, 4, 4), 4, 4);
    memcpy(f + n, "\x0D\x02\x00\x01\x00\x3B", 6);
    tu_write_file(at(dir, "lzw13.gif"), f, n + 6);
    expect_refused_everywhere("lzw13.gif", "corrupt gif: LZW code size 13 is above 12");
}

/* A small real GIF (2x2, code size 2: clear, 4 pixels, end) still decodes. */
Test(stb, gif_with_data_still_decoded)
{
    unsigned char f[64];
    size_t n = gif_descriptor(f, gif_start(f, 2, 2), 2, 2);
    /* codes (3 bits): clear 4, 0, 1, 1, 0, end 5 -> bits LSB first */
    static const unsigned char lzw[] = {0x02, 0x03, 0x44, 0x0A, 0x05, 0x00, 0x3B};
    memcpy(f + n, lzw, sizeof lzw);
    tu_write_file(at(dir, "ok.gif"), f, n + sizeof lzw);
    const char *in = at(dir, "ok.gif");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "mul", in, in, "-o", at(dir, "out.png"));
    cli_expect_ok(&r);
    cr_assert(exists(dir, "out.png"));
}

/* Every PNM header field's problem named: stb reads a missing or non-numeric field as 0. */
Test(stb, pnm_header_fields_named)
{
    static const struct {
        const char *file, *cause;
    } cases[] = {
        {"P6\n-64 48\n255\n", "corrupt pnm: bad header: width is not a number"},
        {"P6\n64 -48\n255\n", "corrupt pnm: bad header: height is not a number"},
        {"P6\n64x48\n255\n", "corrupt pnm: bad header: height is not a number"},
        {"P6\n64 48\n-1\n", "corrupt pnm: bad header: maxval is not a number"},
        {"P6\n64 48\n", "corrupt pnm: bad header: no maxval"},
        {"P6\n64 48", "corrupt pnm: bad header: no maxval"},
        {"P5 # only a comment\n", "corrupt pnm: bad header: no width"},
        {"P5 64\n", "corrupt pnm: bad header: no height"},
        {"P5 99999999999 1 255\n", "corrupt pnm: bad header: width is too large"},
        {"P5 1 99999999999 255\n", "corrupt pnm: bad header: height is too large"},
        {"P5 1 1 99999999999\n", "corrupt pnm: bad header: maxval is too large"},
        {"P5 0 4 255\n", "corrupt pnm: bad header: width is 0"},
        {"P5 4 0 255\n", "corrupt pnm: bad header: height is 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tu_write_file(at(dir, "h.ppm"), cases[i].file, strlen(cases[i].file));
        cr_log_info("%s", cases[i].file);
        expect_refused_everywhere("h.ppm", cases[i].cause);
    }
}

/* ---- run-length TGA and PSD data that ends early decoded as black ---- */

/* A run-length TGA (as hadamard writes one) cut short: refused with how far its data goes. */
Test(stb, tga_rle_truncated)
{
    const char *tga = at(dir, "full.tga");
    cli_result r;
    CLI_WITH(&r, dir, &plain, "run", HDM_SOURCE_DIR "/samples/photo.png", "-o", tga,
             "filter:box:1");
    cli_expect_ok(&r);
    size_t n;
    unsigned char *data = slurp(tga, &n);
    cr_assert(data && n > 1000 && data[2] == 10, "not a run-length TGA");
    CLI_WITH(&r, dir, &plain, "info", tga);
    cli_expect_ok(&r);
    remove(tga);
    static const size_t cuts[] = {100, 1000, 0};
    for (size_t i = 0; i < 3; i++) {
        size_t cut = cuts[i] ? cuts[i] : n - 1;
        tu_write_file(at(dir, "t.tga"), data, cut);
        /* info reads only the header of a file longer than its first read */
        if (cut < 4096)
            expect_refused_everywhere("t.tga", "corrupt tga: run-length data ends early (");
        const char *in = at(dir, "t.tga"), *out = at(dir, "x.png");
        CLI_WITH(&r, dir, &plain, "run", in, "-o", out, "filter:box:1");
        CLI_REFUSED(&r, 1, in, "of 98304 pixels)");
        cr_assert(!exists(dir, "x.png"));
        remove(in);
    }
    free(data);
}

/* A 2x2 RGB PSD with run-length data: rows of 2 bytes as one run (0xFF, value) each. */
static size_t psd_rle(unsigned char *f, unsigned rowbytes)
{
    static const unsigned char head[26] = {'8', 'B', 'P', 'S', 0, 1, 0, 0, 0, 0, 0, 0, 0, 3,
                                           0, 0, 0, 2, 0, 0, 0, 2, 0, 8, 0, 3};
    size_t n = 0;
    memcpy(f, head, 26);
    n = 26;
    memset(f + n, 0, 12); /* three empty sections */
    n += 12;
    f[n++] = 0, f[n++] = 1;
    for (int k = 0; k < 6; k++) /* 3 channels x 2 rows */
        f[n++] = 0, f[n++] = (unsigned char)rowbytes;
    for (int k = 0; k < 6; k++)
        f[n++] = 0xFF, f[n++] = (unsigned char)(40 * k);
    return n;
}

Test(stb, psd_rle_checked)
{
    unsigned char f[128];
    size_t n = psd_rle(f, 2);
    const char *in = at(dir, "r.psd");
    tu_write_file(in, f, n);
    cli_result r;
    CLI_WITH(&r, dir, &plain, "run", in, "-o", at(dir, "ok.png"), "filter:box:1");
    cli_expect_ok(&r);
    remove(at(dir, "ok.png"));
    /* the data cut short of what the table lists */
    tu_write_file(in, f, n - 3);
    expect_refused_everywhere("r.psd", "corrupt psd: run-length data is shorter than its "
                                       "byte-count table lists (9 of 12 bytes)");
    /* the table cut short */
    tu_write_file(in, f, 26 + 12 + 2 + 5);
    expect_refused_everywhere("r.psd", "corrupt psd: run-length byte-count table is truncated");
    /* the table lists more than the data holds for the channel */
    n = psd_rle(f, 3);
    f[n++] = 0, f[n++] = 0, f[n++] = 0, f[n++] = 0, f[n++] = 0, f[n++] = 0;
    tu_write_file(in, f, n);
    expect_refused_everywhere("r.psd", "corrupt psd: run-length byte counts disagree with the "
                                       "data (channel 0: 6 listed, 4 used)");
}

/* A PSD that ends before its compression field: stb read it as a raw image of zeros. */
Test(stb, psd_truncated_before_data)
{
    unsigned char f[128];
    size_t n = psd_rle(f, 2);
    (void)n;
    static const size_t cuts[] = {26, 30, 38, 39};
    for (size_t i = 0; i < 4; i++) {
        tu_write_file(at(dir, "t.psd"), f, cuts[i]);
        expect_refused_everywhere("t.psd", "corrupt psd: truncated before the image data");
    }
    /* a section length running past the end */
    f[26] = 0x10;
    tu_write_file(at(dir, "t.psd"), f, n);
    expect_refused_everywhere("t.psd", "corrupt psd: truncated before the image data");
}

/* ---- header sizes beyond an int, and step and option parsing ---- */

/* stb casts the HDR size line's numbers to int: 2^32 + 2 read as 2. */
Test(stb, hdr_size_beyond_int)
{
    static const struct {
        const char *size, *cause;
    } cases[] = {
        {"-Y 4294967298 +X 2\n", "corrupt hdr: height 4294967298 is out of range"},
        {"-Y 2 +X 4294967298\n", "corrupt hdr: width 4294967298 is out of range"},
        {"-Y 2 +X 99999999999999999999999\n",
         "corrupt hdr: width 99999999999999999999999 is out of range"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char f[256];
        int n = snprintf(f, sizeof f, "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n%s", cases[i].size);
        memset(f + n, 0, 16);
        tu_write_file(at(dir, "s.hdr"), f, (size_t)n + 16);
        expect_refused_everywhere("s.hdr", cases[i].cause);
    }
}

/* A usage error (exit 2) naming the problem, and no output. */
static void expect_usage(const char *cause, const char *const *args)
{
    cli_result r;
    cli_run_with(&r, dir, &plain, args);
    CLI_REFUSED(&r, 2, cause);
    const char *keep[] = {"in.png"};
    cli_expect_only(dir, keep, 1);
}

#define USAGE(cause, ...) expect_usage((cause), (const char *const[]){__VA_ARGS__, NULL})

Test(stb, parsing_empty_twice_and_plain_numbers)
{
    const char *in = at(dir, "in.png"), *out = at(dir, "out.png");
    size_t n;
    unsigned char *png = slurp(HDM_SOURCE_DIR "/samples/gradient.png", &n);
    cr_assert(png);
    tu_write_file(in, png, n);
    free(png);
    USAGE("kernel: empty entry in row 1, column 2", "filter", in, "-o", out, "--kernel",
          "1,,1;1,1,1;1,1,1");
    USAGE("kernel: empty entry in row 2, column 1", "filter", in, "-o", out, "--kernel",
          "1,1,1;,1,1;1,1,1");
    USAGE("kernel: empty entry in row 3, column 4", "filter", in, "-o", out, "--kernel",
          "1,1,1;1,1,1;1,1,1,");
    USAGE("filter: border given twice", "run", in, "-o", out, "filter:box:3:border=wrap:border=zero");
    USAGE("filter: border given twice", "run", in, "-o", out, "filter:box:3:wrap:zero");
    USAGE("filter: kernel given twice", "run", in, "-o", out, "filter:kernel=box:kernel=box");
    char step[1024];
    snprintf(step, sizeof step, "mask:%s:feather=2:feather=3", in);
    USAGE("mask: feather given twice", "run", in, "-o", out, step);
    snprintf(step, sizeof step, "mask:%s:threshold=0.5:threshold=0.2", in);
    USAGE("mask: threshold given twice", "run", in, "-o", out, step);
    USAGE("window: strength given twice", "run", in, "-o", out, "window:hann:strength=0.5:strength=1");
    USAGE("window: type given twice", "run", in, "-o", out, "window:type=hann:type=hann");
    snprintf(step, sizeof step, "blend:%s:mode=multiply:mode=screen", in);
    USAGE("blend: mode given twice", "run", in, "-o", out, step);
    snprintf(step, sizeof step, "blend:%s:0.5:opacity=0.3", in);
    USAGE("blend: opacity given twice", "run", in, "-o", out, step);
    static const char *const notnum[] = {"0x10", "inf", "nan", " 2", "1e", "2.5.1", "+", "."};
    for (size_t i = 0; i < sizeof notnum / sizeof *notnum; i++) {
        char opt[64], cause[64];
        snprintf(opt, sizeof opt, "--feather=%s", notnum[i]);
        snprintf(cause, sizeof cause, "'%s' is not a number", notnum[i]);
        USAGE(cause, "mask", in, in, "-o", out, opt);
    }
    /* plain decimals still read */
    static const char *const ok[] = {"2", "2.", ".5", "+1.5", "1e0", "2.5E-1"};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char opt[64];
        snprintf(opt, sizeof opt, "--feather=%s", ok[i]);
        cli_result r;
        CLI_WITH(&r, dir, &plain, "mask", in, in, "-o", out, opt);
        cli_expect_ok(&r);
        remove(out);
    }
}

/* The file's bytes are held through an stb decode: a 1000x1000 RGB BMP (3 MB) needs its
 * result, our planar copy and itself, about 9 MB; 7 MB is not enough. */
Test(stb, decode_peak_counts_the_file)
{
    enum { W = 1000, H = 1000, ROW = W * 3 };
    size_t n = 54 + (size_t)ROW * H;
    unsigned char *f = calloc(1, n);
    cr_assert(f);
    f[0] = 'B', f[1] = 'M';
    f[2] = (unsigned char)n, f[3] = (unsigned char)(n >> 8), f[4] = (unsigned char)(n >> 16);
    f[10] = 54, f[14] = 40;
    f[18] = W & 0xFF, f[19] = W >> 8, f[22] = H & 0xFF, f[23] = H >> 8;
    f[26] = 1, f[28] = 24;
    const char *in = at(dir, "big.bmp"), *out = at(dir, "o.png");
    tu_write_file(in, f, n);
    free(f);
    cli_result r;
    CLI_WITH(&r, dir, &plain, "run", in, "-o", out, "--max-memory", "7000000", "filter:box:1");
    CLI_REFUSED(&r, 1, in, "decoding needs about 9000054 bytes");
    cr_assert(!exists(dir, "o.png"));
}
