/* SPDX-License-Identifier: MIT */
/* test_codec_jpeg_huff.c — baseline JPEG re-coded with optimal Huffman tables: libjpeg's own
 * optimised file byte for byte, damaged streams refused, the writer's memory bounded */
#include "codec/jpeg.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jpeglib.h>

/* One suite-wide timeout (per-test timeouts run in parallel leak in Criterion's runner). */
TestSuite(jpeg_huff, .init = tu_setup, .fini = tu_teardown, .timeout = 300);

/* ---- libjpeg, used directly as the reference ---- */

typedef struct ref_err {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
} ref_err;

static void ref_error_exit(j_common_ptr c)
{
    longjmp(((ref_err *)c->err)->jump, 1);
}

typedef struct spec {
    uint32_t w, h;
    int comps;          /* 1 gray, 3 RGB */
    int quality;
    int hs, vs;         /* luma sampling factors */
    int restart_mcus;   /* 0: no restart markers */
    bool optimize, progressive;
} spec;

/* libjpeg's file for pix (interleaved), set up as jpeg_write.c sets it up. */
static unsigned char *ref_encode(const spec *s, const unsigned char *pix, size_t *size)
{
    struct jpeg_compress_struct c;
    ref_err e;
    c.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = ref_error_exit;
    unsigned char *out = NULL;
    unsigned long n = 0;
    if (setjmp(e.jump)) {
        jpeg_destroy_compress(&c);
        cr_assert_fail("libjpeg could not write the test image");
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &out, &n);
    c.image_width = s->w;
    c.image_height = s->h;
    c.input_components = s->comps;
    c.in_color_space = s->comps == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, s->quality, TRUE);
    c.optimize_coding = s->optimize;
    c.dct_method = JDCT_ISLOW;
    c.comp_info[0].h_samp_factor = s->hs;
    c.comp_info[0].v_samp_factor = s->vs;
    c.restart_interval = (unsigned)s->restart_mcus;
    if (s->progressive)
        jpeg_simple_progression(&c);
    jpeg_start_compress(&c, TRUE);
    size_t stride = (size_t)s->w * (size_t)s->comps;
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pix + c.next_scanline * stride);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *size = n;
    return out;
}

/* libjpeg's decode (gray or RGB, interleaved), or NULL when it fails or warns. */
static unsigned char *ref_decode(const void *data, size_t size, size_t *n)
{
    struct jpeg_decompress_struct d;
    ref_err e;
    d.err = jpeg_std_error(&e.pub);
    e.pub.error_exit = ref_error_exit;
    unsigned char *volatile pix = NULL;
    if (setjmp(e.jump)) {
        jpeg_destroy_decompress(&d);
        free(pix);
        return NULL;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, (unsigned long)size);
    jpeg_read_header(&d, TRUE);
    d.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&d);
    size_t stride = (size_t)d.output_width * (size_t)d.output_components;
    *n = stride * d.output_height;
    pix = malloc(*n);
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = pix + d.output_scanline * stride;
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    int warnings = (int)e.pub.num_warnings;
    jpeg_destroy_decompress(&d);
    if (warnings) {
        free(pix);
        return NULL;
    }
    return pix;
}

/* ---- images ---- */

static uint32_t rng_state = 12345;
static unsigned rnd(void)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 16) & 0x7FFF;
}

/* Interleaved samples: noise (every coefficient busy, long codes) or smooth (mostly EOBs). */
static unsigned char *make_pixels(uint32_t w, uint32_t h, int comps, bool noise)
{
    size_t n = (size_t)w * h * (size_t)comps;
    unsigned char *p = malloc(n ? n : 1);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < comps; c++) {
                double v = 0.5 + 0.3 * sin((x + 7.0 * c) / 23.0) * cos((y + 3.0 * c) / 31.0) +
                           0.15 * ((double)x / w - (double)y / h);
                int s = noise ? (int)(rnd() & 255) : (int)lround(v * 255);
                p[((size_t)y * w + x) * (size_t)comps + (size_t)c] =
                    (unsigned char)(s < 0 ? 0 : s > 255 ? 255 : s);
            }
    return p;
}

/* hdm__jpeg_optimize on a memory buffer; the bytes out (free them) or NULL with st. */
static unsigned char *optimize(const unsigned char *in, size_t n, size_t *out_n,
                               hdm_status *st, hdm_error *e)
{
    hdm__bytes b = {0};
    *st = hdm__jpeg_optimize(in, n, &b, "bad.jpg", e);
    if (*st || b.failed) {
        free(b.mem);
        return NULL;
    }
    *out_n = b.len;
    return b.mem;
}

/* Standard tables re-coded against libjpeg's optimize_coding, for one image and setting: the
 * same bytes, so the same pixels. */
static void check_same(const spec *s0, const unsigned char *pix)
{
    spec s = *s0;
    size_t ns, no, nr;
    s.optimize = false;
    unsigned char *std = ref_encode(&s, pix, &ns);
    s.optimize = true;
    unsigned char *ref = ref_encode(&s, pix, &nr);
    hdm_status st;
    hdm_error e = {0};
    unsigned char *ours = optimize(std, ns, &no, &st, &e);
    cr_assert(ours, "%ux%u comps %d q%d %dx%d: %s", s.w, s.h, s.comps, s.quality, s.hs, s.vs,
              e.message);
    size_t pa, pb;
    unsigned char *a = ref_decode(ours, no, &pa), *b = ref_decode(ref, nr, &pb);
    cr_assert(a && b && pa == pb && memcmp(a, b, pa) == 0,
              "%ux%u comps %d q%d %dx%d: pixels differ from libjpeg's optimised file", s.w, s.h,
              s.comps, s.quality, s.hs, s.vs);
    cr_assert_leq(no * 1000, nr * 1005, "%zu bytes, libjpeg's optimised %zu", no, nr);
    cr_assert(no == nr && memcmp(ours, ref, no) == 0,
              "%ux%u comps %d q%d %dx%d restart %d: %zu bytes, libjpeg's %zu, not the same", s.w,
              s.h, s.comps, s.quality, s.hs, s.vs, s.restart_mcus, no, nr);
    cr_assert_leq(no, ns, "optimised %zu bytes, standard %zu", no, ns);
    free(a);
    free(b);
    free(std);
    free(ref);
    free(ours);
}

/* gray, 4:4:4, 4:2:2, 4:2:0; quality 50, 90, 100; tiny to VGA, noise and smooth */
Test(jpeg_huff, same_file_as_libjpeg_optimised)
{
    static const int layouts[4][3] = {{1, 1, 1}, {3, 1, 1}, {3, 2, 1}, {3, 2, 2}};
    static const int qualities[3] = {50, 90, 100};
    static const uint32_t sizes[4][2] = {{1, 1}, {7, 9}, {17, 33}, {640, 480}};
    for (int z = 0; z < 4; z++)
        for (int noise = 0; noise < 2; noise++)
            for (int l = 0; l < 4; l++) {
                int comps = layouts[l][0];
                unsigned char *pix = make_pixels(sizes[z][0], sizes[z][1], comps, noise);
                for (int q = 0; q < 3; q++) {
                    spec s = {sizes[z][0], sizes[z][1], comps, qualities[q], layouts[l][1],
                              layouts[l][2], 0, false, false};
                    check_same(&s, pix);
                }
                free(pix);
            }
}

/* Restart markers are kept where they were, the padding before each one re-done. */
Test(jpeg_huff, restart_intervals_kept)
{
    static const int intervals[] = {1, 3, 7, 1000};
    for (int i = 0; i < 4; i++)
        for (int comps = 1; comps <= 3; comps += 2) {
            unsigned char *pix = make_pixels(123, 77, comps, i & 1);
            spec s = {123, 77, comps, 85, 2, 2, intervals[i], false, false};
            check_same(&s, pix);
            free(pix);
        }
}

/* What the writer puts out, baseline and progressive, is libjpeg's optimised file. */
Test(jpeg_huff, writer_output_is_libjpeg_optimised)
{
    for (int prog = 0; prog < 2; prog++) {
        hdm_image *img;
        unsigned char *pix = make_pixels(200, 150, 3, false);
        cr_assert_eq(hdm_image_from_interleaved(pix, 200, 150, 3, HDM_U8, 200 * 3, &img),
                     HDM_OK);
        hdm_options o;
        hdm_options_init(&o);
        o.jpeg_quality = 85; /* auto sampling: 4:2:0 */
        o.jpeg_progressive = prog;
        void *data;
        size_t n, nr;
        hdm_error e = {0};
        cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_JPEG, &o, &data, &n, &e), HDM_OK, "%s",
                     e.message);
        spec s = {200, 150, 3, 85, 2, 2, 0, true, prog};
        unsigned char *ref = ref_encode(&s, pix, &nr);
        cr_assert(n == nr && memcmp(data, ref, n) == 0, "progressive %d: %zu bytes, libjpeg %zu",
                  prog, n, nr);
        hdm_free(data);
        free(ref);
        free(pix);
        hdm_image_free(img);
    }
}

/* A file it does not re-code (progressive: several scans) comes out as it went in. */
Test(jpeg_huff, progressive_kept_as_is)
{
    unsigned char *pix = make_pixels(64, 48, 3, true);
    spec s = {64, 48, 3, 90, 1, 1, 0, false, true};
    size_t n, no;
    unsigned char *prog = ref_encode(&s, pix, &n);
    hdm_status st;
    hdm_error e = {0};
    unsigned char *out = optimize(prog, n, &no, &st, &e);
    cr_assert(out && no == n && memcmp(out, prog, n) == 0, "%s", e.message);
    free(out);
    free(prog);
    free(pix);
}

/* ---- damaged streams ---- */

/* Every case on a copy of exactly its size (AddressSanitizer sees a read past it), in a child
 * with a watchdog; 0 when each is refused as corrupt, naming the file. */
static int run_case(const unsigned char *f, size_t n, const char *what, bool must_refuse)
{
    unsigned char *copy = malloc(n ? n : 1);
    memcpy(copy, f, n);
    hdm_status st;
    hdm_error e = {0};
    size_t no;
    unsigned char *out = optimize(copy, n, &no, &st, &e);
    free(out);
    free(copy);
    if (!must_refuse && (st == HDM_OK || st == HDM_ERR_CORRUPT))
        return 0;
    if (st == HDM_ERR_CORRUPT && strstr(e.message, "bad.jpg") && strstr(e.message, "corrupt"))
        return 0;
    fprintf(stderr, "%s: status %d, %s\n", what, (int)st, e.message);
    return 1;
}

static void in_child(void (*body)(const unsigned char *, size_t, int *), const unsigned char *f,
                     size_t n)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        alarm(60);
        int bad = 0;
        body(f, n, &bad);
        _exit(bad ? 1 : 0);
    }
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child status %d (signal %d)",
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
}

/* Where the entropy-coded data starts: after the SOS segment. */
static size_t scan_start(const unsigned char *f, size_t n)
{
    for (size_t p = 2; p + 4 <= n;) {
        size_t len = (size_t)f[p + 2] << 8 | f[p + 3];
        if (f[p + 1] == 0xDA)
            return p + 2 + len;
        p += 2 + len;
    }
    cr_assert_fail("no SOS");
    return 0;
}

static void truncations(const unsigned char *f, size_t n, int *bad)
{
    char what[64];
    for (size_t len = 0; len < n; len++) {
        snprintf(what, sizeof what, "cut to %zu of %zu bytes", len, n);
        *bad += run_case(f, len, what, true);
    }
}

static void damage(const unsigned char *f, size_t n, int *bad)
{
    unsigned char *g = malloc(n + 2);
    size_t s = scan_start(f, n), mid = s + (n - 2 - s) / 2;
    /* sixteen 1-bits: a code no table has */
    memcpy(g, f, n);
    g[s] = 0xFF, g[s + 1] = 0x00, g[s + 2] = 0xFF, g[s + 3] = 0x00;
    *bad += run_case(g, n, "bad Huffman code", true);
    /* a marker inside the scan: EOI, an RST, SOS, and fill bytes */
    static const unsigned char markers[] = {0xD9, 0xD0, 0xD3, 0xDA, 0xC4, 0xFF};
    for (size_t m = 0; m < sizeof markers; m++) {
        memcpy(g, f, n);
        g[mid] = 0xFF, g[mid + 1] = markers[m];
        if (g[mid - 1] == 0xFF)
            g[mid - 1] = 0x12;
        if (g[mid + 2] == 0x00 && markers[m] == 0xFF)
            g[mid + 2] = 0xD9;
        *bad += run_case(g, n, "marker inside the scan", true);
    }
    /* a Huffman table whose codes overflow: the first DHT's 1-bit count set to 3 */
    for (size_t p = 2; p + 4 < n && f[p + 1] != 0xDA; p += 2 + ((size_t)f[p + 2] << 8 | f[p + 3]))
        if (f[p + 1] == 0xC4) {
            memcpy(g, f, n);
            g[p + 5] = 3;
            *bad += run_case(g, n, "bad Huffman table", true);
            break;
        }
    /* data after the last block, before EOI */
    memcpy(g, f, n - 2);
    g[n - 2] = 0x55, g[n - 1] = 0xFF, g[n] = 0xD9;
    *bad += run_case(g, n + 1, "data after the scan", true);
    /* bytes changed at random: refused or re-coded, never read out of bounds */
    uint32_t seed = 99;
    for (int i = 0; i < 2000; i++) {
        memcpy(g, f, n);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = s + (seed >> 8) % (n - s);
            g[at] ^= (unsigned char)(1u << ((seed >> 4) & 7));
        }
        *bad += run_case(g, n, "random damage", false);
    }
    /* and in the headers */
    for (int i = 0; i < 2000; i++) {
        memcpy(g, f, n);
        seed = seed * 1103515245u + 12345u;
        g[(seed >> 8) % s] = (unsigned char)(seed >> 3);
        *bad += run_case(g, n, "header damage", false);
    }
    free(g);
}

Test(jpeg_huff, damaged_streams_refused)
{
    for (int comps = 1; comps <= 3; comps += 2)
        for (int restart = 0; restart <= 2; restart += 2) {
            unsigned char *pix = make_pixels(40, 24, comps, true);
            spec s = {40, 24, comps, 75, 2, 2, restart, false, false};
            size_t n;
            unsigned char *f = ref_encode(&s, pix, &n);
            in_child(truncations, f, n);
            in_child(damage, f, n);
            free(f);
            free(pix);
        }
}

/* ---- memory ---- */

static hdm_status run_jpeg(const char *in, const char *out, const hdm_options *o,
                           hdm_error *e)
{
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    cr_assert_eq(hdm_pipeline_add(p, "filter:box:1", NULL), HDM_OK);
    hdm_status st = hdm_pipeline_run_file(p, in, out, o, e);
    hdm_pipeline_free(p);
    return st;
}

/* 4000 x 4000 RGB written as baseline JPEG at max_memory 16 MB (libjpeg's optimize_coding would
 * hold 96 MB of coefficients), under a 256 MB address-space limit; the command's peak RSS far
 * below the coefficients; the result libjpeg decodes. */
Test(jpeg_huff, big_baseline_written_in_little_memory)
{
    hdm_image *src;
    cr_assert_eq(hdm_image_new(4000, 4000, 3, HDM_U8, &src), HDM_OK);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < 4000; y++) {
            uint8_t *row = hdm_row(src, c, y);
            for (uint32_t x = 0; x < 4000; x++)
                row[x] = (uint8_t)((x / 16 + y / 16 + c * 70) * 3 + (x * y) % 7);
        }
    const char *in = tu_path("big.jpg"), *out = tu_path("out.jpg");
    hdm_error e = {0};
    cr_assert_eq(hdm_save(src, in, NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(src);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        struct rlimit rl = {256u << 20, 256u << 20};
        if (!UNDER_ASAN)
            setrlimit(RLIMIT_AS, &rl);
        alarm(120);
        hdm_options o;
        hdm_options_init(&o);
        o.max_memory = 16u << 20;
        hdm_error ce = {0};
        hdm_status st = run_jpeg(in, out, &o, &ce);
        if (st)
            fprintf(stderr, "%s\n", ce.message);
        _exit(st ? 10 + (int)st : 0);
    }
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "child status %d (signal %d)",
              WIFEXITED(ws) ? WEXITSTATUS(ws) : -1, WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    size_t n;
    unsigned char *f = tu_read_file(out, &n);
    size_t pn;
    unsigned char *pix = ref_decode(f, n, &pn);
    cr_assert(pix && pn == (size_t)4000 * 4000 * 3, "libjpeg cannot decode the output");
    free(pix);
    free(f);
    /* the command, its peak resident memory measured */
    remove(out);
    pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        execl(HDM_BINARY_DIR "/hadamard", "hadamard", "run", in, "-o", out, "filter:box:1",
              (char *)NULL);
        _exit(127);
    }
    struct rusage ru;
    cr_assert_eq(wait4(pid, &ws, 0, &ru), pid);
    cr_assert(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
    if (!UNDER_ASAN)
        cr_assert_lt(ru.ru_maxrss, 40 * 1024, "peak RSS %ld KB", ru.ru_maxrss);
}

/* The compressed bytes count against max_memory as they grow: noise at quality 100 (about
 * 4 MB) refused at 2 MB, naming the limit, and no output left. */
Test(jpeg_huff, compressed_bytes_counted)
{
    hdm_image *src;
    unsigned char *pix = make_pixels(1200, 1000, 3, true);
    cr_assert_eq(hdm_image_from_interleaved(pix, 1200, 1000, 3, HDM_U8, 1200 * 3, &src),
                 HDM_OK);
    free(pix);
    const char *in = tu_path("noise.jpg"), *out = tu_path("out.jpg");
    hdm_options o;
    hdm_options_init(&o);
    o.jpeg_quality = 100;
    hdm_error e = {0};
    cr_assert_eq(hdm_save(src, in, &o, &e), HDM_OK, "%s", e.message);
    hdm_image_free(src);
    o.max_memory = 2u << 20;
    cr_assert_eq(run_jpeg(in, out, &o, &e), HDM_ERR_LIMIT);
    cr_assert(strstr(e.message, "max_memory") && strstr(e.message, "compressed"), "%s",
              e.message);
    cr_assert(!tu_exists(out));
    o.max_memory = 64u << 20;
    cr_assert_eq(run_jpeg(in, out, &o, &e), HDM_OK, "%s", e.message);
    cr_assert(tu_exists(out));
}
