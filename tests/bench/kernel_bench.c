/* SPDX-License-Identifier: MIT */
/* kernel_bench.c — throughput of every kernel primitive and variant against memcpy, in cache and in DRAM */

/* Usage: kernel_bench [DRAM_MIB [PREFIX...]]   (default 96: MiB per buffer for the DRAM size)
 *
 * With PREFIXes only the primitives whose names start with one of them are timed (e.g.
 * "kernel_bench 16 deinterleave interleave" for the layout rows), and the two-thread table is
 * left out: a quick look at a few rows on a shared machine.
 *
 * For each size — L1 (8 KiB per buffer), L2 (320 KiB per buffer, about 1 MiB for a product's
 * three buffers) and DRAM (DRAM_MIB per buffer, 288 MiB touched by a product at the default) —
 * it times memcpy and each primitive on each variant over the same buffers and prints GB/s with
 * the ratio to memcpy. Bytes count reads plus writes: a product moves 2 reads + 1 write, memcpy
 * 1 read + 1 write, axpy 2 reads + 1 write, a PNG filter of RGB rows (bpp 3) its row, the
 * previous row unless the type ignores it (None, Sub), and 1 write. "novec" is scalar.c compiled again with
 * -fno-tree-vectorize; "best/novec" is the fastest variant over it. Timings are the best of N
 * runs with CLOCK_MONOTONIC. A last table runs the DRAM products and memcpy on 2 threads, each
 * taking half of the row. */
#include "kernel_checks.h"

#include "hadamard.h"

#include <pthread.h>
#include <time.h>

extern const hdm__kernel hdm__kernel_scalar_novec;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned char *buf_src[4], *buf_dst[4];

static void fill_buffers(size_t bytes)
{
    kc_seed(42);
    for (int i = 0; i < 4; i++) {
        buf_src[i] = aligned_alloc(4096, bytes);
        buf_dst[i] = aligned_alloc(4096, bytes);
        if (!buf_src[i] || !buf_dst[i]) {
            fprintf(stderr, "kernel_bench: out of memory\n");
            exit(2);
        }
        /* values valid for every interpretation: floats in [0, 1) whose bytes are also varied
         * u8 / u16 samples */
        float *f = (float *)buf_src[i];
        for (size_t j = 0; j < bytes / 4; j++)
            f[j] = (float)(kc_rand() >> 40) / 16777216.0f;
        memcpy(buf_dst[i], buf_src[i], bytes);
    }
}

/* a primitive call on n samples, by the operations table of kernel_checks.h */
typedef struct job {
    const hdm__kernel *k; /* NULL: memcpy */
    const kc_op *o;
    size_t n, bytes;      /* samples; bytes of the largest buffer (memcpy) */
    size_t from, to;      /* the part of the row this thread does */
} job;

static void run_part(const job *j)
{
    if (!j->k) {
        size_t per = j->bytes / j->n; /* memcpy counts bytes as samples of 1 */
        memcpy(buf_dst[0] + j->from * per, buf_src[0] + j->from * per, (j->to - j->from) * per);
        return;
    }
    const kc_op *o = j->o;
    void *d[4], *s[4];
    for (int i = 0; i < 4; i++) {
        s[i] = buf_src[i] + j->from * o->src_type * o->src_mult;
        d[i] = buf_dst[i] + j->from * o->dst_type * o->dst_mult;
    }
    o->run(j->k, d, s, j->to - j->from, 0.5f);
}

static void *thread_main(void *arg)
{
    run_part(arg);
    return NULL;
}

/* best seconds per call over `tries` timings of `reps` calls, on 1 or 2 threads */
static double best_time(job j, int reps, int tries, int threads)
{
    double best = 1e30;
    for (int t = 0; t < tries; t++) {
        double t0 = now();
        for (int r = 0; r < reps; r++) {
            if (threads == 1) {
                j.from = 0;
                j.to = j.n;
                run_part(&j);
            } else {
                job half[2] = {j, j};
                half[0].from = 0;
                half[0].to = half[1].from = j.n / 2 / 64 * 64;
                half[1].to = j.n;
                pthread_t th;
                pthread_create(&th, NULL, thread_main, &half[1]);
                run_part(&half[0]);
                pthread_join(th, NULL);
            }
        }
        double dt = (now() - t0) / reps;
        if (dt < best)
            best = dt;
    }
    return best;
}

static size_t samples_for(const kc_op *o, size_t bytes)
{
    size_t s = o->src_type * o->src_mult, d = o->dst_type * o->dst_mult;
    return bytes / (s > d ? s : d);
}

static size_t bytes_moved(const kc_op *o, size_t n)
{
    return n * (o->nsrc * o->src_type * o->src_mult +
                o->ndst * o->dst_type * o->dst_mult * (o->inout ? 2u : 1u));
}

static const char *const bench_ops[] = {
    "mul_u8", "mul_u16", "mul_f32", "mulinv_u8", "mulinv_u16", "mulinv_f32", "scale_f32",
    "lerp_f32", "lerpv_f32", "screen_f32", "axpy_f32", "u8_to_f32", "u16_to_f32", "f32_to_u8",
    "f32_to_u16", "u8_to_u16", "u16_to_u8", "deinterleave_u8/3", "interleave_u8/3",
    "deinterleave_u8/4", "interleave_u8/4", "deinterleave_u16/3", "interleave_u16/3",
    "deinterleave_u16/4", "interleave_u16/4", "deinterleave_f32/3", "interleave_f32/3",
    "deinterleave_f32/4", "interleave_f32/4",
    "png_none/3", "png_sub/3", "png_up/3", "png_avg/3", "png_paeth/3",
    "blend/overlay", "blend/darken", "blend/lighten", "blend/color-dodge+i",
    "blend/color-burn+i", "blend/hard-light", "blend/soft-light", "blend/difference",
    "blend/exclusion", "over_f32", "mix_f32", "unpremul_f32", "threshold_u8", "threshold_u16",
    "threshold_f32", "srgb_to_linear_f32", "linear_to_srgb_f32", "srgb_to_linear_inv",
};
#define BENCH_OP_COUNT (sizeof bench_ops / sizeof bench_ops[0])

/* no prefixes: every primitive */
static int wanted(const char *name, int nprefix, char **prefix)
{
    if (nprefix == 0)
        return 1;
    for (int i = 0; i < nprefix; i++)
        if (!strncmp(name, prefix[i], strlen(prefix[i])))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    int nprefix = argc > 2 ? argc - 2 : 0;
    char **prefix = argv + 2;
    size_t dram_mib = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 96;
    if (dram_mib < 4)
        dram_mib = 4;
    const struct { const char *label; size_t bytes; } sizes[] = {
        {"L1", 8 << 10}, {"L2", 320 << 10}, {"DRAM", dram_mib << 20},
    };
    fill_buffers(sizes[2].bytes);

    const hdm__kernel *ks[8];
    const char *names[8];
    int nk = 0;
    ks[nk] = &hdm__kernel_scalar_novec;
    names[nk++] = "novec";
    /* reference first, then the SIMD variants narrowest first */
    size_t count = 0;
    while (hdm__kernel_names(count))
        count++;
    for (size_t v = count; v-- > 0;) {
        const hdm__kernel *k = hdm__kernel_get(hdm__kernel_names(v));
        if (k) {
            ks[nk] = k;
            names[nk++] = k->name;
        }
    }

    printf("kernel_bench: GB/s (reads + writes) and ratio to memcpy; chosen variant: %s\n",
           hdm_kernel_name());
    const hdm__kernel *best_k = hdm__kern();
    for (size_t s = 0; s < 3; s++) {
        size_t bytes = sizes[s].bytes;
        int dram = s == 2;
        /* in cache: repeat calls to fill about 2 ms a timing; DRAM: one call */
        int reps = dram ? 1 : (int)(2e-3 * 20e9 / (double)(3 * bytes)) + 1;
        int tries = dram ? 5 : 7;
        job mj = {NULL, NULL, bytes, bytes, 0, 0};
        double mt = best_time(mj, reps, tries, 1);
        double mgb = 2.0 * (double)bytes / mt / 1e9;
        printf("\n== %s: %zu KiB per buffer; memcpy %.1f GB/s ==\n", sizes[s].label, bytes >> 10,
               mgb);
        printf("%-19s", "primitive");
        for (int k = 0; k < nk; k++)
            printf(" %13s", names[k]);
        printf(" %10s\n", "best/novec");
        for (size_t b = 0; b < BENCH_OP_COUNT; b++) {
            const kc_op *o = kc_find_op(bench_ops[b]);
            if (!wanted(o->name, nprefix, prefix))
                continue;
            size_t n = samples_for(o, bytes);
            double novec = 0, best = 0;
            printf("%-19s", o->name);
            for (int k = 0; k < nk; k++) {
                job j = {ks[k], o, n, bytes, 0, 0};
                double t = best_time(j, reps, tries, 1);
                double gb = (double)bytes_moved(o, n) / t / 1e9;
                if (k == 0)
                    novec = gb;
                else if (gb > best)
                    best = gb;
                printf(" %6.1f %5.2fx", gb, gb / mgb);
            }
            printf(" %9.1fx\n", best / novec);
        }
        fflush(stdout);
    }

    /* two threads on the DRAM size, each half of the row */
    if (nprefix) {
        for (int i = 0; i < 4; i++) {
            free(buf_src[i]);
            free(buf_dst[i]);
        }
        return 0;
    }
    size_t bytes = sizes[2].bytes;
    job mj = {NULL, NULL, bytes, bytes, 0, 0};
    double mgb2 = 2.0 * (double)bytes / best_time(mj, 1, 5, 2) / 1e9;
    printf("\n== DRAM, 2 threads (half a row each), variant %s; memcpy %.1f GB/s ==\n",
           best_k->name, mgb2);
    const char *const two[] = {"mul_u8", "mul_u16", "mul_f32"};
    for (size_t b = 0; b < 3; b++) {
        const kc_op *o = kc_find_op(two[b]);
        size_t n = samples_for(o, bytes);
        job j = {best_k, o, n, bytes, 0, 0};
        double gb = (double)bytes_moved(o, n) / best_time(j, 1, 5, 2) / 1e9;
        printf("%-19s %6.1f GB/s %5.2fx memcpy\n", o->name, gb, gb / mgb2);
    }
    for (int i = 0; i < 4; i++) {
        free(buf_src[i]);
        free(buf_dst[i]);
    }
    return 0;
}
