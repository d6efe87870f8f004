/* SPDX-License-Identifier: MIT */
/* test_codec_png_large.c — PNGs large enough for the writer's multi-block threaded encoder
 * (src/codec/png_write.c), read back by libpng itself and compared sample by sample (RGB 8-bit
 * from memory is test_codec_png_hostile's threaded_encoder_multi_block_is_exact; here files
 * through hdm_save, and the block encoder and its threads are seen at work) */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

TestSuite(png_large, .init = tu_setup, .fini = tu_teardown, .timeout = 600);

enum { SIDE = 3000 };

/* png_write.c cuts the rows into blocks of about 1 MiB ((1 << 20) / row bytes rows each), each
 * deflated on its own and ended by a sync flush (an empty stored block, bytes 00 00 ff ff on a
 * byte boundary), and shares them among worker threads, one per core (at most 4), whenever
 * there is more than one block. */
static uint32_t blocks_of(uint32_t channels, hdm_depth depth)
{
    size_t row = (size_t)SIDE * channels * depth;
    size_t rows = ((size_t)1 << 20) / row;
    return (uint32_t)((SIDE + rows - 1) / rows);
}

/* The IDAT chunks' data joined: the zlib stream. */
static unsigned char *idat_stream(const unsigned char *png, size_t n, size_t *len)
{
    unsigned char *z = malloc(n);
    cr_assert_not_null(z);
    *len = 0;
    for (size_t off = 8; off + 12 <= n;) {
        uint32_t l = (uint32_t)png[off] << 24 | (uint32_t)png[off + 1] << 16 |
                     (uint32_t)png[off + 2] << 8 | png[off + 3];
        cr_assert(off + 12 + l <= n, "chunk past the end");
        if (memcmp(png + off + 4, "IDAT", 4) == 0) {
            memcpy(z + *len, png + off + 8, l);
            *len += l;
        }
        off += 12 + (size_t)l;
    }
    return z;
}

static size_t sync_markers(const unsigned char *z, size_t n)
{
    static const unsigned char m[4] = {0x00, 0x00, 0xff, 0xff};
    size_t count = 0;
    for (size_t i = 0; i + 4 <= n; i++)
        count += memcmp(z + i, m, 4) == 0;
    return count;
}

/* Threads of this process, from /proc/self/task (-1 without /proc). */
static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

typedef struct counter {
    atomic_bool done;
    int most;
} counter;

static void *count_threads(void *arg)
{
    counter *c = arg;
    while (!atomic_load(&c->done)) {
        int n = threads_now();
        if (n > c->most)
            c->most = n;
        struct timespec ts = {0, 100 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void large_round_trip(uint32_t channels, hdm_depth depth, uint64_t seed)
{
    tu_rng r;
    tu_seed(&r, seed);
    hdm_image *img = tu_image_random(SIDE, SIDE, channels, depth, &r);
    const char *path = tu_path("large.png");
    /* the threads while hdm_save runs: this one, the counter and any the encoder starts */
    counter c = {.most = 0};
    atomic_init(&c.done, false);
    int before = threads_now();
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, count_threads, &c), 0);
    hdm_error err;
    hdm_status st = hdm_save(img, path, NULL, &err);
    atomic_store(&c.done, true);
    pthread_join(t, NULL);
    cr_assert_eq(st, HDM_OK, "%s", err.message);

    size_t n;
    unsigned char *png = tu_read_file(path, &n);
    size_t zlen;
    unsigned char *z = idat_stream(png, n, &zlen);
    uint32_t blocks = blocks_of(channels, depth);
    cr_assert_gt(blocks, 1, "the image must be more than one block");
    size_t marks = sync_markers(z, zlen);
    cr_assert_geq(marks, blocks - 1,
                  "%zu sync flushes in the stream: not the %u blocks of the block encoder",
                  marks, blocks);
    free(z);
    cr_log_info("%u blocks, %zu sync flushes; %d threads before the save, %d during it", blocks,
                marks, before, c.most);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores > 1 && before > 0)
        cr_assert_gt(c.most, before + 1,
                     "%ld cores but no encoder thread seen (%d threads before, at most %d)",
                     cores, before, c.most);
    else
        cr_log_info("one core (or no /proc): the blocks are encoded on the calling thread");

    tu_decoded d;
    cr_assert(tu_png_decode(png, n, &d), "libpng cannot read the large PNG");
    cr_assert(d.width == SIDE && d.height == SIDE && d.channels == channels && d.depth == depth,
              "libpng sees %ux%u, %u channels, depth %d", d.width, d.height, d.channels,
              (int)d.depth);
    for (uint32_t y = 0; y < SIDE; y++)
        for (uint32_t ch = 0; ch < channels; ch++) {
            const void *row = hdm_row(img, ch, y);
            for (uint32_t x = 0; x < SIDE; x++) {
                size_t k = ((size_t)y * SIDE + x) * channels + ch;
                uint32_t want = depth == HDM_U8 ? ((const uint8_t *)row)[x]
                                                : ((const uint16_t *)row)[x];
                uint32_t got = depth == HDM_U8 ? ((const uint8_t *)d.pix)[k]
                                               : ((const uint16_t *)d.pix)[k];
                if (got != want)
                    cr_assert_fail("sample (%u, %u) channel %u: libpng reads %u, wrote %u", x,
                                   y, ch, got, want);
            }
        }
    tu_decoded_free(&d);
    free(png);
    hdm_image_free(img);
}

Test(png_large, rgba8)
{
    large_round_trip(4, HDM_U8, 3001);
}

Test(png_large, rgb16)
{
    large_round_trip(3, HDM_U16, 3002);
}

Test(png_large, rgba16)
{
    large_round_trip(4, HDM_U16, 3003);
}
