/* SPDX-License-Identifier: MIT */
/* test_core_io.c — outputs complete or absent (src/core/io.c): the named temporary used where
 * O_TMPFILE is not, the retries when a name is taken between open and commit, and stale
 * temporaries of dead runs */
#include "core/core.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

TestSuite(io, .init = tu_setup, .fini = tu_teardown);

static const char payload[] = "the whole output, every byte of it, and nothing else";

/* Whether tu_dir's file system takes O_TMPFILE (io.c then uses it unless told not to). */
static bool dir_has_tmpfile(void)
{
#ifdef O_TMPFILE
    int fd = open(tu_dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    close(fd);
    return access("/proc/self/fd", F_OK) == 0;
#else
    return false;
#endif
}

/* The one entry of tu_dir whose name holds ".hadamard-tmp-", copied into name; their count. */
static int temps(char *name, size_t cap)
{
    DIR *d = opendir(tu_dir);
    cr_assert_not_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".hadamard-tmp-")) {
            if (name && n == 0)
                snprintf(name, cap, "%s", e->d_name);
            n++;
        }
    closedir(d);
    return n;
}

static void assert_file_is(const char *path, const void *data, size_t n)
{
    size_t got;
    void *b = tu_read_file(path, &got);
    cr_assert_eq(got, n, "%s holds %zu bytes, not %zu", path, got, n);
    cr_assert(memcmp(b, data, n) == 0, "%s holds other bytes", path);
    free(b);
}

/* HADAMARD_NAMED_TEMP=1 is read once per process: each test sets it before its first output
 * (Criterion runs every test in a process of its own). */
static void force_named(bool on)
{
    if (on)
        setenv("HADAMARD_NAMED_TEMP", "1", 1);
    else
        unsetenv("HADAMARD_NAMED_TEMP");
}

/* The name is ".STEM.hadamard-tmp-HOST-PID-TAG" (STEM the destination's name), the file sits
 * beside the destination while written, and after commit only the complete output is left. */
Test(io, named_temporary_while_writing_then_gone)
{
    force_named(true);
    const char *path = tu_path("out.png");
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    cr_assert(!o.unnamed, "HADAMARD_NAMED_TEMP=1 must give a named temporary");
    char name[512];
    cr_assert_eq(temps(name, sizeof name), 1, "the named temporary is in the directory");
    cr_assert_eq(tu_dir_entries(), 1);
    char want[128];
    snprintf(want, sizeof want, ".out.png.hadamard-tmp-%08x-%ld-", hdm__host_id(),
             (long)getpid());
    cr_assert(strncmp(name, want, strlen(want)) == 0, "temporary %s, expected %s…", name, want);
    const char *tag = name + strlen(want);
    cr_assert_eq(strlen(tag), 8, "an 8-digit tag: %s", name);
    cr_assert_eq(strspn(tag, "0123456789abcdef"), 8, "a hex tag: %s", name);
    cr_assert(strstr(o.tmp, name), "o.tmp %s is the file seen", o.tmp);
    cr_assert(!tu_exists(path), "the destination appears only at commit");
    for (int i = 0; i < 1000; i++)
        hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(temps(NULL, 0), 0, "temporary left after success");
    cr_assert_eq(tu_dir_entries(), 1);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(n, 1000 * sizeof payload, "the output is complete: %zu bytes", n);
    for (int i = 0; i < 1000; i++)
        cr_assert(memcmp(b + i * sizeof payload, payload, sizeof payload) == 0, "copy %d", i);
    free(b);
}

/* The stem is cut at 32 bytes, never inside a UTF-8 sequence, whatever the name's length. */
Test(io, named_temporary_of_a_long_name_is_bounded)
{
    force_named(true);
    char base[256];
    size_t n = 0;
    n += (size_t)snprintf(base, sizeof base, "%s", "abcdefghijklmnopqrstuvwxyz01234"); /* 31 */
    while (n + 2 < 250) {
        memcpy(base + n, "\xc3\xa9", 2); /* é: byte 32 falls inside the first one */
        n += 2;
    }
    memcpy(base + n, ".png", 5);
    const char *path = tu_path(base);
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    char name[512];
    cr_assert_eq(temps(name, sizeof name), 1);
    static const char cut[] = ".abcdefghijklmnopqrstuvwxyz01234.hadamard-tmp-";
    cr_assert(strncmp(name, cut, sizeof cut - 1) == 0,
              "stem cut before the split character: %s", name);
    hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_OK, "%s", err.message);
    assert_file_is(path, payload, sizeof payload);
    cr_assert_eq(tu_dir_entries(), 1);
}

/* A failure at commit (the destination became a directory, so the rename fails) removes the
 * named temporary and leaves no output; so does an abort. */
Test(io, named_temporary_gone_after_failure_and_abort)
{
    force_named(true);
    const char *path = tu_path("out.png");
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(temps(NULL, 0), 1);
    cr_assert_eq(mkdir(path, 0755), 0);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_ERR_IO, "renaming over a directory must fail");
    cr_assert(strstr(err.message, "write failed"), "%s", err.message);
    cr_assert_eq(temps(NULL, 0), 0, "temporary left after a failed commit");
    struct stat st;
    cr_assert(stat(path, &st) == 0 && S_ISDIR(st.st_mode), "the directory is untouched");
    cr_assert_eq(tu_dir_entries(), 1);
    cr_assert_eq(rmdir(path), 0);

    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(temps(NULL, 0), 1);
    hdm__out_abort(&o);
    cr_assert_eq(tu_dir_entries(), 0, "an abort leaves nothing");
}

/* A write error is reported at commit and leaves nothing: the named temporary is removed and
 * the existing destination keeps its old contents. */
Test(io, named_temporary_gone_after_a_write_error)
{
    force_named(true);
    if (access("/dev/full", W_OK) != 0)
        cr_skip_test("no /dev/full");
    const char *path = tu_path("out.bin");
    tu_write_file(path, "old", 3);
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(temps(NULL, 0), 1);
    /* the stream now writes to /dev/full: its flush fails with ENOSPC */
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    cr_assert(full >= 0);
    cr_assert(dup2(full, fileno(o.f)) >= 0);
    close(full);
    for (int i = 0; i < 100000; i++)
        hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_ERR_IO);
    cr_assert(strstr(err.message, strerror(ENOSPC)), "%s", err.message);
    cr_assert_eq(temps(NULL, 0), 0, "temporary left after a write error");
    assert_file_is(path, "old", 3);
    cr_assert_eq(tu_dir_entries(), 1);
}

/* The same rules through the public API: hdm_save with a named temporary writes the whole
 * image (decoded by libpng, every sample equal) and leaves no temporary. */
Test(io, named_temporary_through_hdm_save)
{
    force_named(true);
    tu_rng r;
    tu_seed(&r, 41);
    hdm_image *img = tu_image_random(300, 200, 4, HDM_U16, &r);
    const char *path = tu_path("saved.png");
    hdm_error err;
    cr_assert_eq(hdm_save(img, path, NULL, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(tu_dir_entries(), 1, "only the output is left");
    size_t n;
    void *b = tu_read_file(path, &n);
    tu_decoded d;
    cr_assert(tu_png_decode(b, n, &d), "libpng reads it");
    cr_assert(d.width == 300 && d.height == 200 && d.channels == 4 && d.depth == HDM_U16);
    const uint16_t *pix = d.pix;
    for (uint32_t y = 0; y < 200; y++)
        for (uint32_t x = 0; x < 300; x++)
            for (uint32_t c = 0; c < 4; c++)
                cr_assert_eq(pix[((size_t)y * 300 + x) * 4 + c], tu_get(img, c, x, y),
                             "sample (%u, %u, %u)", x, y, c);
    tu_decoded_free(&d);
    free(b);
    hdm_image_free(img);
}

/* Without HADAMARD_NAMED_TEMP, a file system with O_TMPFILE gets an unnamed temporary: nothing
 * is in the directory until commit. One without it gets the named one (the fallback). */
Test(io, unnamed_temporary_where_the_file_system_has_it)
{
    force_named(false);
    const char *path = tu_path("out.png");
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    if (dir_has_tmpfile()) {
        cr_assert(o.unnamed, "O_TMPFILE works here, so the temporary is unnamed");
        cr_assert_eq(tu_dir_entries(), 0, "an unnamed temporary is in no directory");
    } else {
        cr_assert(!o.unnamed, "no O_TMPFILE here: the named fallback");
        cr_assert_eq(temps(NULL, 0), 1);
    }
    hdm__out_write(&o, payload, sizeof payload);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_OK, "%s", err.message);
    assert_file_is(path, payload, sizeof payload);
    cr_assert_eq(tu_dir_entries(), 1);
}

/* The link retry: a new destination gets the unnamed file linked in at commit; when a file of
 * that name appeared meanwhile, linkat says EEXIST and the file is linked under its temporary
 * name instead, then renamed over the newcomer (the output still wins, whole). */
Test(io, destination_appearing_before_commit_is_replaced)
{
    force_named(false);
    const char *path = tu_path("new.png");
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(o.unnamed, dir_has_tmpfile());
    hdm__out_write(&o, payload, sizeof payload);
    tu_write_file(path, "someone else's", 14); /* between the check at open and the commit */
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_OK, "%s", err.message);
    assert_file_is(path, payload, sizeof payload);
    cr_assert_eq(temps(NULL, 0), 0, "temporary left after the retry");
    cr_assert_eq(tu_dir_entries(), 1);
}

/* The retry's own retry: the temporary name chosen at open is taken too by then, so linkat
 * fails with EEXIST twice and a fresh name is drawn; the file taking the old name is not
 * touched. Only an unnamed temporary is linked at commit: on a file system without O_TMPFILE
 * the named one already holds its name (created O_EXCL at open), so there is no second link
 * to make fail, and what is checked there is that the newcomer is still replaced whole. */
Test(io, temporary_name_taken_before_commit_draws_another)
{
    force_named(false);
    bool unnamed = dir_has_tmpfile();
    const char *path = tu_path("new.png");
    hdm__out o;
    hdm_error err;
    cr_assert_eq(hdm__out_open(&o, path, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(o.unnamed, unnamed);
    char *taken = strdup(o.tmp);
    cr_assert_not_null(taken);
    hdm__out_write(&o, payload, sizeof payload);
    tu_write_file(path, "newcomer", 8);
    if (unnamed)
        tu_write_file(taken, "decoy", 5);
    cr_assert_eq(hdm__out_commit(&o, &err), HDM_OK, "%s", err.message);
    assert_file_is(path, payload, sizeof payload);
    if (unnamed) {
        assert_file_is(taken, "decoy", 5);
        cr_assert_eq(tu_dir_entries(), 2, "the output and the decoy, no other temporary");
    } else {
        cr_log_info("no O_TMPFILE in %s: no link at commit to retry", tu_dir);
        cr_assert_eq(tu_dir_entries(), 1);
    }
    free(taken);
}

/* A pid that is certainly dead: a child that has exited and been reaped. */
static pid_t dead_pid(void)
{
    pid_t p = fork();
    cr_assert(p >= 0);
    if (p == 0)
        _exit(0);
    int ws;
    cr_assert_eq(waitpid(p, &ws, 0), p);
    return p;
}

static void make_old(const char *path, const char *what)
{
    tu_write_file(path, what, strlen(what));
    struct timespec t[2] = {{time(NULL) - 3600, 0}, {time(NULL) - 3600, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0);
}

/* Stale temporaries (this host, a dead pid, untouched for over 10 minutes) are removed by the
 * next output opened in their directory, once per directory per process: the directory last
 * scanned is not scanned again until an output goes to another one. */
Test(io, stale_temporaries_removed_once_per_directory)
{
    force_named(true);
    char stale[128], later[128];
    pid_t dead = dead_pid();
    snprintf(stale, sizeof stale, ".x.png.hadamard-tmp-%08x-%ld-0badf00d", hdm__host_id(),
             (long)dead);
    snprintf(later, sizeof later, ".x.png.hadamard-tmp-%08x-%ld-0badf00e", hdm__host_id(),
             (long)dead);
    make_old(tu_path(stale), "stale");
    hdm_error err;
    cr_assert_eq(hdm_write_file(tu_path("a.bin"), "a", 1, &err), HDM_OK, "%s", err.message);
    cr_assert(!tu_exists(tu_path(stale)), "a stale temporary of a dead run survives");
    make_old(tu_path(later), "later");
    cr_assert_eq(hdm_write_file(tu_path("b.bin"), "b", 1, &err), HDM_OK, "%s", err.message);
    cr_assert(tu_exists(tu_path(later)), "the directory was scanned twice in a row");
    char other[4096];
    snprintf(other, sizeof other, "%s/sub", tu_dir);
    cr_assert_eq(mkdir(other, 0755), 0);
    char in_other[4200];
    snprintf(in_other, sizeof in_other, "%s/c.bin", other);
    cr_assert_eq(hdm_write_file(in_other, "c", 1, &err), HDM_OK, "%s", err.message);
    cr_assert_eq(hdm_write_file(tu_path("d.bin"), "d", 1, &err), HDM_OK, "%s", err.message);
    cr_assert(!tu_exists(tu_path(later)), "back in the directory, it is scanned again");
    cr_assert_eq(temps(NULL, 0), 0);
}
