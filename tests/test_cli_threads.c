/* SPDX-License-Identifier: MIT */
/* test_cli_threads.c — --threads through the command: the same bytes for every count, batch's
 * share of them, a bad operand read on its own thread, counts refused */
#include "cli_assert.h"
#include "cli_run.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char *dir;
static cli_result r;

static void setup(void)
{
    dir = scratch_new();
    cr_assert(dir, "mkdtemp: %s", strerror(errno));
}

static void teardown(void) { scratch_free(dir); }

/* Every run is under cli_run's watchdog: a hang fails. */
TestSuite(cli_threads, .init = setup, .fini = teardown, .timeout = 600);

static void save_random(const char *name, uint32_t w, uint32_t h, uint32_t c, hdm_depth d,
                        uint64_t seed)
{
    tu_rng g;
    tu_seed(&g, seed);
    hdm_image *img = tu_image_random(w, h, c, d, &g);
    hdm_error err;
    cr_assert_eq(hdm_save(img, at(dir, name), NULL, &err), HDM_OK, "%s", err.message);
    hdm_image_free(img);
}

/* 320 × 1500: several read-ahead chunks, strips shared out in several bands. */
static void inputs(void)
{
    save_random("in.png", 320, 1500, 3, HDM_U8, 1);
    save_random("top.png", 320, 1500, 3, HDM_U8, 2);
    save_random("m.png", 320, 1500, 1, HDM_U8, 3);
}

static const char *const counts[] = {"1", "2", "3", "7"};

/* args with "--threads N" after them, for each N, the output (named out) the same bytes. */
static void same_bytes(const char *out, const char *const *args, int nargs)
{
    unsigned char *first = NULL;
    size_t first_n = 0;
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        const char *argv[32];
        int n = 0;
        for (; n < nargs; n++)
            argv[n] = args[n];
        argv[n++] = "--threads";
        argv[n++] = counts[i];
        argv[n] = NULL;
        cli_run(&r, dir, argv);
        cli_expect_ok(&r);
        size_t len;
        unsigned char *b = slurp(at(dir, out), &len);
        cr_assert(b, "%s: no %s", args[0], out);
        if (!first) {
            first = b;
            first_n = len;
            continue;
        }
        cr_assert(len == first_n && memcmp(b, first, len) == 0,
                  "%s: --threads %s wrote other bytes than --threads 1", args[0], counts[i]);
        free(b);
    }
    free(first);
}
#define SAME(out, ...)                                                                          \
    same_bytes((out), (const char *const[]){__VA_ARGS__},                                      \
               sizeof((const char *const[]){__VA_ARGS__}) / sizeof(const char *))

Test(cli_threads, mask) { inputs(); SAME("out.png", "mask", "in.png", "m.png", "-o", "out.png"); }

Test(cli_threads, blend_two_pngs)
{
    inputs();
    SAME("out.png", "blend", "in.png", "top.png", "-o", "out.png", "--mode", "multiply");
}

Test(cli_threads, gaussian)
{
    inputs();
    SAME("out.png", "filter", "in.png", "-o", "out.png", "--kernel", "gaussian:2");
}

Test(cli_threads, run_chain)
{
    inputs();
    SAME("out.png", "run", "in.png", "-o", "out.png", "mul:m.png", "filter:box:3",
         "blend:screen:top.png:0.5", "window:hann", "mask:m.png:invert");
}

Test(cli_threads, jpeg_output)
{
    inputs();
    SAME("out.jpg", "mask", "in.png", "m.png", "-o", "out.jpg");
}

/* A job that fits with one thread fits with any: what only threads take (the PNG encoder's
 * worker blocks, shared filter rows, read-ahead) steps aside under a tight limit. Here a 25 × 25
 * image kernel over 2000 × 1500 under 14 MB, which one thread needs about 11 MB of. */
Test(cli_threads, tight_limit_fits_threaded)
{
    save_random("big.png", 2000, 1500, 1, HDM_U8, 4);
    save_random("k.png", 25, 25, 1, HDM_U8, 5);
    SAME("out.png", "filter", "big.png", "-o", "out.png", "--kernel", "@k.png", "--max-memory",
         "14000000");
    save_random("m.png", 2000, 1500, 1, HDM_U8, 6);
    SAME("out.png", "mask", "big.png", "m.png", "-o", "out.png", "--max-memory", "9000000");
}

/* Batch shares the threads between its jobs; each output is the one a single run makes. */
Test(cli_threads, batch_outputs_as_single_runs)
{
    inputs();
    CLI(&r, dir, "mask", "in.png", "m.png", "-o", "one.png", "--threads", "1");
    cli_expect_ok(&r);
    CLI(&r, dir, "mask", "top.png", "m.png", "-o", "two.png", "--threads", "1");
    cli_expect_ok(&r);
    size_t n1, n2;
    unsigned char *one = slurp(at(dir, "one.png"), &n1), *two = slurp(at(dir, "two.png"), &n2);
    const char *const shapes[][2] = {{"1", "1"}, {"2", "7"}, {"1", "3"}, {"2", "1"}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        CLI(&r, dir, "batch", "mask:m.png", "--out-dir", "o", "-q", "--jobs", shapes[i][0],
            "--threads", shapes[i][1], "--", "in.png", "top.png");
        cli_expect_ok(&r);
        size_t a, b;
        unsigned char *x = slurp(at(dir, "o/in.png"), &a), *y = slurp(at(dir, "o/top.png"), &b);
        cr_assert(x && a == n1 && memcmp(x, one, a) == 0, "--jobs %s --threads %s: in.png",
                  shapes[i][0], shapes[i][1]);
        cr_assert(y && b == n2 && memcmp(y, two, b) == 0, "--jobs %s --threads %s: top.png",
                  shapes[i][0], shapes[i][1]);
        free(x);
        free(y);
        remove(at(dir, "o/in.png"));
        remove(at(dir, "o/top.png"));
    }
    free(one);
    free(two);
}

/* A truncated operand, decoded on its own thread: one line naming it, no output, no hang. */
Test(cli_threads, truncated_operand)
{
    inputs();
    size_t n;
    unsigned char *b = slurp(at(dir, "top.png"), &n);
    FILE *f = fopen(at(dir, "cut.png"), "wb");
    cr_assert(f);
    fwrite(b, 1, n / 2, f);
    fclose(f);
    free(b);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        CLI(&r, dir, "blend", "in.png", "cut.png", "-o", "out.png", "--threads", counts[i]);
        CLI_REFUSED(&r, 1, "cut.png");
        cli_expect_no_leftovers(dir, "out.png", NULL);
        CLI(&r, dir, "run", "cut.png", "-o", "out.png", "mul:m.png", "--threads", counts[i]);
        CLI_REFUSED(&r, 1, "cut.png");
        cli_expect_no_leftovers(dir, "out.png", NULL);
    }
}

/* 0 is no count on the command line (leave the option out for the cores available); more than
 * 1024 is a slip. */
Test(cli_threads, counts_refused)
{
    inputs();
    const char *const bad[] = {"0", "1025", "-1", "two", ""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CLI(&r, dir, "mask", "in.png", "m.png", "-o", "out.png", "--threads", bad[i]);
        CLI_REFUSED(&r, 2, "--threads");
        cr_assert(!exists(dir, "out.png"));
        CLI(&r, dir, "batch", "mask:m.png", "--out-dir", "o", "--threads", bad[i], "--",
            "in.png");
        CLI_REFUSED(&r, 2, "--threads");
    }
    CLI(&r, dir, "mask", "in.png", "m.png", "-o", "out.png", "--threads", "1024");
    cli_expect_ok(&r);
}

/* --threads 1024 where the address space (RLIMIT_AS) has no room for that many stacks: the job
 * runs on the threads that could be started, down to the caller's alone, writing the bytes one
 * thread writes, with no message. Each limit is one a single thread runs within. */
Test(cli_threads, more_threads_than_the_address_space_holds)
{
    if (UNDER_ASAN)
        cr_skip_test("ASan's shadow takes the address space these limits bound");
    inputs();
    const char *const jobs[][9] = {
        {"mask", "in.png", "m.png", "-o", "out.png"},
        {"run", "in.png", "-o", "out.png", "mul:m.png", "filter:box:3", "window:hann",
         "blend:screen:top.png:0.5"},
        {"filter", "in.png", "-o", "out.jpg", "--kernel", "gaussian:2"},
        {"batch", "-q", "--jobs", "2", "--out-dir", "o", "mask:m.png", "--", "in.png"},
    };
    const char *const outs[] = {"out.png", "out.png", "out.jpg", "o/in.png"};
    const rlim_t limits[] = {40u << 20, 64u << 20, 160u << 20};
    for (size_t j = 0; j < sizeof jobs / sizeof jobs[0]; j++) {
        /* the command, --threads N, then the rest (batch takes no option after "--") */
        const char *argv[16] = {jobs[j][0], "--threads", "1"};
        int n = 2, k = 3;
        for (int a = 1; a < 9 && jobs[j][a]; a++)
            argv[k++] = jobs[j][a];
        argv[k] = NULL;
        cli_run(&r, dir, argv);
        cli_expect_ok(&r);
        size_t want_n;
        unsigned char *want = slurp(at(dir, outs[j]), &want_n);
        cr_assert(want);
        int tried = 0;
        for (size_t l = 0; l < sizeof limits / sizeof limits[0]; l++) {
            cli_opts o = {.as = limits[l]};
            argv[n] = "1";
            remove(at(dir, outs[j]));
            cli_run_with(&r, dir, &o, argv);
            if (r.status != 0)
                continue; /* below what this job needs on one thread */
            tried++;
            argv[n] = "1024";
            remove(at(dir, outs[j]));
            cli_run_with(&r, dir, &o, argv);
            cr_assert_eq(r.status, 0, "%s, RLIMIT_AS %lu MiB: %s", jobs[j][0],
                         (unsigned long)(limits[l] >> 20), r.err);
            cr_assert_str_empty(r.err, "%s: %s", jobs[j][0], r.err);
            size_t got_n;
            unsigned char *got = slurp(at(dir, outs[j]), &got_n);
            cr_assert(got && got_n == want_n && memcmp(got, want, want_n) == 0,
                      "%s, RLIMIT_AS %lu MiB: other bytes than one thread's", jobs[j][0],
                      (unsigned long)(limits[l] >> 20));
            free(got);
        }
        cr_assert_gt(tried, 0, "%s: no limit tried that one thread runs within", jobs[j][0]);
        free(want);
    }
}
