/* SPDX-License-Identifier: MIT */
/* test_cli_hostile_steps.c — the numbers and names of filter, mask, blend and window steps:
 * values a double or an f32 cannot hold, underflow, and mistyped names (moved out of the PNG
 * hostile tests, where they were sections 5 and 6)
 *
 * CLI cases run the built binary in a forked child (stderr captured, alarm() as a watchdog)
 * inside a fresh mkdtemp directory. */
#include "cli_assert.h"
#include "hadamard.h"
#include "testutil.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a scratch directory per test ---- */

static char *dir;

static void make_dir(void)
{
    dir = scratch_new();
    cr_assert(dir, "mkdtemp: %s", strerror(errno));
}

static void remove_dir(void) { scratch_free(dir); }

TestSuite(hsteps, .init = make_dir, .fini = remove_dir, .timeout = 300);

/* Runs hadamard ARGS... with limits o (NULL: none) under the watchdog; a child that cannot set
 * its limits fails the test. */
#define RUN(r, o, ...)                                                                         \
    do {                                                                                       \
        CLI_WITH((r), dir, (o), __VA_ARGS__);                                                  \
        cr_assert(!cli_skipped(r), "the child could not set its limits");                      \
    } while (0)

/* ---- filter numbers ---- */

static void write_photo(const char *path, uint32_t c)
{
    tu_rng r;
    tu_seed(&r, 5);
    hdm_image *img = tu_image_random(97, 61, c, HDM_U8, &r);
    cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
    hdm_image_free(img);
}

static void expect_same_files(const char *a, const char *b)
{
    hdm_image *x, *y;
    cr_assert_eq(hdm_load(a, NULL, &x, NULL), HDM_OK);
    cr_assert_eq(hdm_load(b, NULL, &y, NULL), HDM_OK);
    tu_assert_same(x, y, b);
    hdm_image_free(x);
    hdm_image_free(y);
}

Test(hsteps, tiny_gaussian_sigma_is_the_identity)
{
    const char *in = at(dir, "in.png");
    static const char *const sigmas[] = {"gaussian:1e-300", "gaussian:1e-320", "gaussian:1e-30"};
    for (uint32_t c = 1; c <= 3; c += 2) { /* no alpha: premultiplying would round colour */
        write_photo(in, c);
        for (size_t i = 0; i < 3; i++) {
            const char *out = at(dir, "out.png");
            cli_result r;
            RUN(&r, NULL, "filter", in, "-o", out, "--kernel", sigmas[i]);
            cli_expect_ok(&r);
            expect_same_files(in, out);
        }
    }
}

Test(hsteps, kernel_entries_f32_cannot_hold_are_refused)
{
    const char *in = at(dir, "in.png"), *out = at(dir, "out.png");
    write_photo(in, 3);
    cli_result r;
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "1e40,0,0");
    CLI_REFUSED(&r, 2, "1e40", "row 1, column 1");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "0,-1e39;0,0");
    CLI_REFUSED(&r, 2, "-1e39", "row 1, column 2");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "3e38,3e38,0");
    CLI_REFUSED(&r, 2, "add up");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "1e999,0,0");
    CLI_REFUSED(&r, 2, "'1e999' is out of range");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "gaussian:1e999");
    CLI_REFUSED(&r, 2, "'1e999' is out of range");
    cr_assert(access(out, F_OK) != 0, "an output was written");
    /* an entry too small for a double is a number: 0 */
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "1e-320,1,0");
    cli_expect_ok(&r);
    expect_same_files(in, out);
}

Test(hsteps, tiny_feather_is_a_number_and_changes_nothing)
{
    const char *in = at(dir, "in.png"), *m = at(dir, "m.png");
    write_photo(in, 3);
    write_photo(m, 1);
    cli_result r;
    RUN(&r, NULL, "mask", in, m, "-o", at(dir, "plain.png"));
    cli_expect_ok(&r);
    RUN(&r, NULL, "mask", in, m, "-o", at(dir, "f.png"), "--feather", "1e-320");
    cli_expect_ok(&r);
    expect_same_files(at(dir, "plain.png"), at(dir, "f.png"));
    RUN(&r, NULL, "mask", in, m, "-o", at(dir, "g.png"), "--feather", "1e999");
    CLI_REFUSED(&r, 2, "out of range");
    cr_assert(!strstr(r.err, "not a number"), "%s", r.err);
}

Test(hsteps, parse_double_accepts_underflow)
{
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    hdm_error e = {0};
    cr_assert_eq(hdm_pipeline_add(p, "window:gaussian:1e-320", &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "filter:gaussian:4.9e-324", &e), HDM_OK, "%s", e.message);
    cr_assert_eq(hdm_pipeline_add(p, "filter:gaussian:abc", &e), HDM_ERR_ARG);
    cr_assert(strstr(e.message, "'abc' is not a number"), "%s", e.message);
    hdm_pipeline_free(p);
}

/* ---- did you mean ---- */

Test(hsteps, mistyped_names_get_a_suggestion)
{
    const char *in = at(dir, "in.png"), *out = at(dir, "out.png");
    write_photo(in, 3);
    cli_result r;
    RUN(&r, NULL, "blend", in, in, "-o", out, "--mode", "softlight");
    CLI_REFUSED(&r, 2, "unknown mode 'softlight'", "did you mean 'soft-light'?");
    RUN(&r, NULL, "blend", in, in, "-o", out, "--mode", "Multipyl");
    CLI_REFUSED(&r, 2, "did you mean 'multiply'?");
    RUN(&r, NULL, "window", in, "-o", out, "--type", "hamng");
    CLI_REFUSED(&r, 2, "unknown type 'hamng'", "did you mean 'hamming'?");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "gausian:2");
    CLI_REFUSED(&r, 2, "did you mean 'gaussian'?");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "sobelx");
    CLI_REFUSED(&r, 2, "did you mean 'sobel-x'?");
    RUN(&r, NULL, "filter", in, "-o", out, "--kernel", "box:3", "--border", "mirorr");
    CLI_REFUSED(&r, 2, "unknown border 'mirorr'", "did you mean 'mirror'?");
    RUN(&r, NULL, "run", in, "-o", out, "filter:box:3:wrpa");
    CLI_REFUSED(&r, 2, "did you mean 'wrap'?");
    RUN(&r, NULL, "run", in, "-o", out, "mask:m.png:invrt");
    CLI_REFUSED(&r, 2, "did you mean 'invert'?");
    /* nothing close: no guess */
    RUN(&r, NULL, "blend", in, in, "-o", out, "--mode", "zzzzzz");
    CLI_REFUSED(&r, 2, "unknown mode");
    cr_assert(!strstr(r.err, "did you mean"), "%s", r.err);
    cr_assert(access(out, F_OK) != 0, "an output was written");
}
