/* SPDX-License-Identifier: MIT */
/* test_api_cancel.c — hdm_options.cancel and max_memory through the public entry points: a
 * cancelled run is HDM_ERR_INTERRUPTED with no output and no temporary left, a cancelled or
 * over-limit product gives no image */
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

TestSuite(cancel, .init = tu_setup, .fini = tu_teardown);

enum { BIG = 3000 }; /* 27 MB of RGB samples: a run long enough to be stopped midway */

/* in.png (RGB) and b.png (gray), random, BIG × BIG, and a pipeline multiplying them. */
static hdm_pipeline *big_job(void)
{
    tu_rng r;
    tu_seed(&r, 7);
    hdm_image *in = tu_image_random(BIG, BIG, 3, HDM_U8, &r);
    hdm_image *b = tu_image_random(BIG, BIG, 1, HDM_U8, &r);
    hdm_error err;
    cr_assert_eq(hdm_save(in, tu_path("in.png"), NULL, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(hdm_save(b, tu_path("b.png"), NULL, &err), HDM_OK, "%s", err.message);
    hdm_image_free(in);
    hdm_image_free(b);
    hdm_pipeline *p;
    cr_assert_eq(hdm_pipeline_new(&p), HDM_OK);
    const char *fields[] = {tu_path("b.png")};
    cr_assert_eq(hdm_pipeline_add_fields(p, "mul", fields, 1, &err), HDM_OK, "%s", err.message);
    return p;
}

/* Only the two inputs are left in the directory: no output, no temporary. */
static void assert_only_inputs(void)
{
    DIR *d = opendir(tu_dir);
    cr_assert_not_null(d);
    struct dirent *e;
    while ((e = readdir(d)))
        cr_assert(!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
                      !strcmp(e->d_name, "in.png") || !strcmp(e->d_name, "b.png"),
                  "left in the directory: %s", e->d_name);
    closedir(d);
    cr_assert(!tu_exists(tu_path("out.png")));
}

static void run_cancelled_before(bool named)
{
    if (named)
        setenv("HADAMARD_NAMED_TEMP", "1", 1);
    hdm_pipeline *p = big_job();
    volatile int flag = 1;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    hdm_error err = {0};
    hdm_status st = hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt, &err);
    cr_assert_eq(st, HDM_ERR_INTERRUPTED, "%s", err.message);
    cr_assert_eq(err.status, HDM_ERR_INTERRUPTED);
    cr_assert(strstr(err.message, "interrupted"), "%s", err.message);
    assert_only_inputs();
    hdm_pipeline_free(p);
}

Test(cancel, raised_before_the_run)
{
    run_cancelled_before(false);
}

Test(cancel, raised_before_the_run_named_temporary)
{
    run_cancelled_before(true);
}

/* The watcher: raises the flag once the run's output (its temporary, named or unnamed) holds
 * at least 1 MiB, i.e. midway through writing; tells whether it saw that. */
typedef struct watch {
    volatile int *flag;
    atomic_bool done;
    bool raised;
    long long seen_size;
} watch;

/* Size of the file open in this process that is the output being written: a descriptor whose
 * target is in tu_dir and is a temporary (".hadamard-tmp-" or an O_TMPFILE, "(deleted)"). */
static long long output_size(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    long long best = -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, tu_dir, strlen(tu_dir)) != 0 ||
            !(strstr(target, ".hadamard-tmp-") || strstr(target, "(deleted)")))
            continue;
        struct stat st;
        if (stat(link, &st) == 0 && st.st_size > best)
            best = st.st_size;
    }
    closedir(d);
    return best;
}

static void *watcher(void *arg)
{
    watch *w = arg;
    while (!atomic_load(&w->done)) {
        long long n = output_size();
        if (n >= (1 << 20)) {
            w->seen_size = n;
            *w->flag = 1;
            w->raised = true;
            return NULL;
        }
        struct timespec ts = {0, 200 * 1000};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void run_cancelled_midway(bool named)
{
    if (access("/proc/self/fd", F_OK) != 0)
        cr_skip_test("no /proc: the watcher cannot see the output grow");
    if (named)
        setenv("HADAMARD_NAMED_TEMP", "1", 1);
    hdm_pipeline *p = big_job();
    volatile int flag = 0;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    watch w = {.flag = &flag};
    atomic_init(&w.done, false);
    pthread_t t;
    cr_assert_eq(pthread_create(&t, NULL, watcher, &w), 0);
    hdm_error err = {0};
    hdm_status st = hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt, &err);
    atomic_store(&w.done, true);
    pthread_join(t, NULL);
    cr_assert(w.raised, "the run ended (%s) before its output reached 1 MiB", hdm_strerror(st));
    cr_assert_eq(st, HDM_ERR_INTERRUPTED, "raised at %lld bytes written: %s", w.seen_size,
                 err.message);
    assert_only_inputs();
    hdm_pipeline_free(p);
}

Test(cancel, raised_midway_by_another_thread, .timeout = 600)
{
    run_cancelled_midway(false);
}

Test(cancel, raised_midway_by_another_thread_named_temporary, .timeout = 600)
{
    run_cancelled_midway(true);
}

/* The same flag, not raised, lets the run finish: the interruption above is the flag's doing. */
Test(cancel, not_raised_the_run_completes, .timeout = 600)
{
    hdm_pipeline *p = big_job();
    volatile int flag = 0;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    hdm_error err = {0};
    cr_assert_eq(hdm_pipeline_run_file(p, tu_path("in.png"), tu_path("out.png"), &opt, &err),
                 HDM_OK, "%s", err.message);
    hdm_info info;
    cr_assert_eq(hdm_info_read(tu_path("out.png"), NULL, &info, &err), HDM_OK, "%s",
                 err.message);
    cr_assert(info.width == BIG && info.height == BIG && info.channels == 3);
    hdm_pipeline_free(p);
}

/* ---- the in-memory products ---- */

typedef enum which { MUL, MASK, BLEND } which;
static const char *const names[] = {"hdm_mul", "hdm_mask", "hdm_blend"};

static hdm_status product(which w, const hdm_image *a, const hdm_image *b,
                          const hdm_options *opt, hdm_image **out, hdm_error *err)
{
    switch (w) {
    case MUL:
        return hdm_mul(a, b, opt, out, err);
    case MASK:
        return hdm_mask(a, b, 0, opt, out, err);
    default:
        return hdm_blend(a, b, HDM_BLEND_MULTIPLY, 0.5, 0, opt, out, err);
    }
}

static hdm_image *sentinel(void)
{
    static hdm_image s;
    return &s;
}

Test(cancel, products_interrupted)
{
    tu_rng r;
    tu_seed(&r, 11);
    hdm_image *a = tu_image_random(64, 48, 3, HDM_U8, &r);
    hdm_image *m = tu_image_random(64, 48, 1, HDM_U8, &r);
    volatile int flag = 1;
    hdm_options opt;
    hdm_options_init(&opt);
    opt.cancel = &flag;
    for (which w = MUL; w <= BLEND; w++) {
        hdm_image *out = sentinel();
        hdm_error err = {0};
        hdm_status st = product(w, a, m, &opt, &out, &err);
        cr_assert_eq(st, HDM_ERR_INTERRUPTED, "%s: %s (%s)", names[w], hdm_strerror(st),
                     err.message);
        cr_assert_null(out, "%s: an image after an interruption", names[w]);
        /* lowered again, the same call succeeds: the flag was the only reason */
        flag = 0;
        cr_assert_eq(product(w, a, m, &opt, &out, &err), HDM_OK, "%s: %s", names[w],
                     err.message);
        cr_assert(out && out->width == 64 && out->height == 48);
        hdm_image_free(out);
        flag = 1;
    }
    hdm_image_free(a);
    hdm_image_free(m);
}

Test(cancel, products_over_max_memory)
{
    tu_rng r;
    tu_seed(&r, 12);
    hdm_image *a = tu_image_random(500, 400, 4, HDM_U16, &r);
    hdm_image *m = tu_image_random(500, 400, 1, HDM_U16, &r);
    hdm_options opt;
    hdm_options_init(&opt);
    opt.max_memory = 4096;
    for (which w = MUL; w <= BLEND; w++) {
        hdm_image *out = sentinel();
        hdm_error err = {0};
        hdm_status st = product(w, a, m, &opt, &out, &err);
        cr_assert_eq(st, HDM_ERR_LIMIT, "%s: %s (%s)", names[w], hdm_strerror(st),
                     err.message);
        cr_assert(strstr(err.message, "max_memory"), "%s: %s", names[w], err.message);
        cr_assert_null(out, "%s: an image over the limit", names[w]);
        /* with the default limit the same call succeeds */
        cr_assert_eq(product(w, a, m, NULL, &out, &err), HDM_OK, "%s: %s", names[w],
                     err.message);
        hdm_image_free(out);
    }
    hdm_image_free(a);
    hdm_image_free(m);
}
