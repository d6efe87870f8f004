/* SPDX-License-Identifier: MIT */
/* deflate_bench.c — which deflate for PNG output: zlib, libdeflate or ISA-L, on real rows */
#define _POSIX_C_SOURCE 200809L
/* Takes a PNG, re-encodes it through libhadamard with no compression (libpng's adaptive row
 * filters), recovers those filtered rows, and compresses them with each candidate at several
 * levels in one run: output size and single-thread MB/s. */
#include <hadamard.h>
#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s IMAGE.png\n", argv[0]);
        return 2;
    }
    hdm_image *img;
    hdm_error e;
    if (hdm_load(argv[1], NULL, &img, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    hdm_options o;
    hdm_options_init(&o);
    o.png_level = 0;
    o.png_filter = HDM_PNG_FILTER_ADAPTIVE;
    void *png;
    size_t png_n;
    if (hdm_save_memory(img, HDM_FORMAT_PNG, &o, &png, &png_n, &e)) {
        fprintf(stderr, "%s\n", e.message);
        return 1;
    }
    /* gather IDAT, inflate: the filtered rows libpng chose */
    unsigned char *z = malloc(png_n), *p = png;
    size_t zn = 0;
    for (size_t off = 8; off + 12 <= png_n;) {
        uint32_t len = be32(p + off);
        if (memcmp(p + off + 4, "IDAT", 4) == 0)
            memcpy(z + zn, p + off + 8, len), zn += len;
        off += 12 + (size_t)len;
    }
    uLongf rn = (uLongf)img->height * (1 + (size_t)img->width * img->channels * img->depth);
    unsigned char *raw = malloc(rn), *out = malloc(rn + rn / 8 + 65536);
    if (uncompress(raw, &rn, z, zn) != Z_OK) {
        fprintf(stderr, "cannot recover rows\n");
        return 1;
    }
    printf("filtered rows: %.1f MB\n%-16s %9s %9s\n", rn / 1e6, "compressor", "out MB", "MB/s");
    for (int lvl = 1; lvl <= 9; lvl += (lvl < 4 ? 3 : lvl == 4 ? 2 : 3)) {
        double t = now();
        uLongf on = rn + rn / 8 + 65536;
        compress2(out, &on, raw, rn, lvl);
        t = now() - t;
        printf("zlib %-11d %9.2f %9.1f\n", lvl, on / 1e6, rn / 1e6 / t);
    }
    static const struct { int strategy, level; const char *name; } zs[] = {
        {Z_FILTERED, 1, "zlib filtered 1"}, {Z_FILTERED, 3, "zlib filtered 3"},
        {Z_FILTERED, 4, "zlib filtered 4"}, {Z_FILTERED, 6, "zlib filtered 6"},
        {Z_HUFFMAN_ONLY, 1, "zlib huffman"}, {Z_RLE, 1, "zlib rle"},
    };
    for (size_t i = 0; i < sizeof zs / sizeof zs[0]; i++) {
        z_stream st = {0};
        deflateInit2(&st, zs[i].level, Z_DEFLATED, 15, 8, zs[i].strategy);
        st.next_in = raw;
        st.avail_in = (uInt)rn;
        st.next_out = out;
        st.avail_out = (uInt)(rn + rn / 8 + 65536);
        double t = now();
        deflate(&st, Z_FINISH);
        t = now() - t;
        printf("%-16s %9.2f %9.1f\n", zs[i].name, st.total_out / 1e6, rn / 1e6 / t);
        deflateEnd(&st);
    }
    for (int lvl = 1; lvl <= 9; lvl += (lvl < 4 ? 3 : lvl == 4 ? 2 : 3)) {
        struct libdeflate_compressor *c = libdeflate_alloc_compressor(lvl);
        double t = now();
        size_t on = libdeflate_zlib_compress(c, raw, rn, out, rn + rn / 8 + 65536);
        t = now() - t;
        printf("libdeflate %-5d %9.2f %9.1f\n", lvl, on / 1e6, rn / 1e6 / t);
        libdeflate_free_compressor(c);
    }
    for (int lvl = 1; lvl <= 3; lvl++) {
        struct isal_zstream s;
        isal_deflate_init(&s);
        static unsigned char lb[ISAL_DEF_LVL3_LARGE];
        s.level = (uint32_t)lvl;
        s.level_buf = lb;
        s.level_buf_size = sizeof lb;
        s.gzip_flag = IGZIP_ZLIB;
        s.next_out = out;
        s.avail_out = (uint32_t)(rn + rn / 8 + 65536);
        double t = now();
        /* streamed in 1 MiB pieces, as a strip pipeline would feed it */
        for (size_t off = 0; off < rn; off += 1 << 20) {
            size_t k = rn - off < (1u << 20) ? rn - off : 1u << 20;
            s.next_in = raw + off;
            s.avail_in = (uint32_t)k;
            s.end_of_stream = off + k == rn;
            isal_deflate(&s);
        }
        t = now() - t;
        printf("isa-l %-10d %9.2f %9.1f\n", lvl, s.total_out / 1e6, rn / 1e6 / t);
    }
    free(raw);
    free(out);
    free(z);
    free(png);
    hdm_image_free(img);
    return 0;
}
