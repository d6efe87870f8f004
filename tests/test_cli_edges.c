/* SPDX-License-Identifier: MIT */
/* test_cli_edges.c — the command at its edges: replaced outputs, long names, stale temporaries,
 * option forms, pipes, signals, messages */
#include "cli_assert.h"
#include "cli_run.h"
#include "core/core.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *dir;
static cli_result r;

static void setup(void)
{
    alarm(60); /* a hang fails the test, whatever Criterion's timeout does */
    dir = scratch_new();
    cr_assert(dir);
    copy_sample(dir, "photo.png");
    copy_sample(dir, "circle.png");
}

static void teardown(void) { scratch_free(dir); }

TestSuite(edges, .init = setup, .fini = teardown, .timeout = 60);

static void assert_failed(int status, const char *needle)
{
    cr_assert_eq(r.status, status, "status %d, stderr: %s", r.status, r.err);
    cr_assert_eq(lines(r.err), 1, "want one line, got: %s", r.err);
    cr_assert(strncmp(r.err, "hadamard: ", 10) == 0, "%s", r.err);
    cr_assert(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    cr_assert_eq(temp_files(dir), 0, "a temporary file was left behind");
}

static void write_text(const char *path, const char *s)
{
    FILE *f = fopen(path, "wb");
    cr_assert(f);
    fputs(s, f);
    fclose(f);
}

static bool file_is(const char *path, const char *s)
{
    size_t n;
    unsigned char *b = slurp(path, &n);
    bool same = b && n == strlen(s) && memcmp(b, s, n) == 0;
    free(b);
    return same;
}

/* Runs hadamard with stdin holding in_len bytes of in (NULL: /dev/null), all of stdout kept in
 * res->whole_out (the caller frees it). */
static void run_io(cli_result *res, const char *const *args, const void *in, size_t in_len)
{
    cli_run_with(res, dir, &(cli_opts){.in = in, .in_len = in_len, .whole_out = true}, args);
}

static const char *const named_temp[] = {"HADAMARD_NAMED_TEMP=1", NULL};

/* ---- 1. replacing an existing output ---- */

Test(edges, replaced_output_keeps_its_mode)
{
    write_text(at(dir, "o.png"), "OLD");
    chmod(at(dir, "o.png"), 0600);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat st;
    cr_assert_eq(stat(at(dir, "o.png"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", st.st_mode & 07777);
    cr_assert(!file_is(at(dir, "o.png"), "OLD"));
    /* a new file gets the usual mode from the umask */
    mode_t um = umask(022);
    umask(um);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "new.png");
    cr_assert_eq(stat(at(dir, "new.png"), &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0666 & ~um);
}

Test(edges, symlink_output_replaces_its_target)
{
    mkdir(at(dir, "real"), 0755);
    write_text(at(dir, "real/t.png"), "OLD");
    cr_assert_eq(symlink("real/t.png", at(dir, "link.png")), 0);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "link.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat st;
    cr_assert_eq(lstat(at(dir, "link.png"), &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the symlink was replaced by a file");
    cr_assert(!file_is(at(dir, "real/t.png"), "OLD"), "the target was not written");
    hdm_image *img = NULL;
    cr_assert_eq(hdm_load(at(dir, "real/t.png"), NULL, &img, NULL), HDM_OK);
    hdm_image_free(img);
    cr_assert_eq(temp_files(at(dir, "real")), 0);
    /* a dangling symlink: the file it names is created */
    cr_assert_eq(symlink("real/new.png", at(dir, "dangling.png")), 0);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "dangling.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "real/new.png"));
    cr_assert_eq(lstat(at(dir, "dangling.png"), &st), 0);
    cr_assert(S_ISLNK(st.st_mode));
}

Test(edges, hard_linked_output_is_refused)
{
    write_text(at(dir, "o.png"), "OLD");
    cr_assert_eq(link(at(dir, "o.png"), at(dir, "other.png")), 0);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.png");
    assert_failed(1, "hard links");
    cr_assert(file_is(at(dir, "o.png"), "OLD"));
    cr_assert(file_is(at(dir, "other.png"), "OLD"));
}

Test(edges, read_only_output_is_refused)
{
    write_text(at(dir, "o.png"), "OLD");
    chmod(at(dir, "o.png"), 0444);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.png");
    assert_failed(1, "read-only");
    cr_assert(file_is(at(dir, "o.png"), "OLD"));
}

/* ---- 2. long names and stale temporaries ---- */

Test(edges, output_name_of_250_bytes)
{
    char name[251];
    memset(name, 'n', 246);
    memcpy(name + 246, ".png", 5);
    cr_assert_eq(strlen(name), 250);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", name);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, name));
    cr_assert_eq(temp_files(dir), 0);
    /* the named fallback too */
    name[0] = 'm';
    CLI_WITH(&r, dir, &(cli_opts){.env = named_temp}, "mask", "photo.png", "circle.png", "-o",
             name);
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, name));
    cr_assert_eq(temp_files(dir), 0);
}

static pid_t dead_pid(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(0);
    waitpid(pid, NULL, 0);
    return pid;
}

/* Sets a file's times an hour back: older than the age below which a temporary is kept. */
static void make_old(const char *path)
{
    struct timespec t[2];
    clock_gettime(CLOCK_REALTIME, &t[0]);
    t[0].tv_sec -= 3600;
    t[1] = t[0];
    cr_assert_eq(utimensat(AT_FDCWD, path, t, 0), 0, "%s", strerror(errno));
}

Test(edges, stale_named_temporaries_of_dead_runs_are_removed)
{
    char dead[128], live[128], foreign[128], other[128];
    snprintf(dead, sizeof dead, ".o.png.hadamard-tmp-%08x-%ld-0badf00d", hdm__host_id(),
             (long)dead_pid());
    snprintf(live, sizeof live, ".o.png.hadamard-tmp-%08x-%ld-0badf00d", hdm__host_id(),
             (long)getpid());
    snprintf(foreign, sizeof foreign, ".o.png.hadamard-tmp-%08x-%ld-0badf00d",
             hdm__host_id() ^ 1u, (long)dead_pid());
    snprintf(other, sizeof other, ".o.png.hadamard-tmp-12345678"); /* an old-style name */
    write_text(at(dir, dead), "x");
    write_text(at(dir, live), "x");
    write_text(at(dir, foreign), "x");
    write_text(at(dir, other), "x");
    make_old(at(dir, dead));
    make_old(at(dir, foreign));
    CLI_WITH(&r, dir, &(cli_opts){.env = named_temp}, "mask", "photo.png", "circle.png", "-o",
             "o.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(!exists(dir, dead), "a dead run's temporary was kept");
    cr_assert(exists(dir, live), "a live run's temporary was removed");
    cr_assert(exists(dir, foreign), "another host's temporary was removed");
    cr_assert(exists(dir, other), "a temporary of unknown origin was removed");
    cr_assert_eq(temp_files(dir), 3);
}

/* ---- 3, 4. option parsing ---- */

Test(edges, long_unknown_option_is_not_the_previous_one)
{
    char opt[80] = "--";
    memset(opt + 2, 'x', 70);
    strcpy(opt + 72, "=0.1");
    CLI(&r, dir, "blend", "photo.png", "circle.png", "--opacity", "0.5", opt, "-o", "o.png");
    assert_failed(2, "unknown option");
    cr_assert(!exists(dir, "o.png"));
}

Test(edges, attached_values)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-oa.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "a.png"));
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--output=b.jpg", "--quality=70");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "b.jpg"));
    CLI(&r, dir, "blend", "photo.png", "circle.png", "--opacity=0.5", "-o", "c.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "batch", "-j1", "--quiet", "--out-dir", "outs", "mask:circle.png", "--",
        "photo.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "outs/photo.png"));
}

Test(edges, a_value_is_not_taken_from_the_next_option)
{
    CLI(&r, dir, "batch", "--name", "--quiet", "--out-dir", "d", "mask:circle.png", "--",
        "photo.png");
    assert_failed(2, "option '--name' needs a value");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--quality", "-o", "o.jpg");
    assert_failed(2, "option '--quality' needs a value");
    cr_assert(!exists(dir, "o.jpg"));
    /* "-" alone is a value */
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "-");
    assert_failed(2, "--format");
}

Test(edges, more_than_4096_arguments)
{
    enum { N = 5000 };
    const char **args = calloc(N + 2, sizeof *args);
    args[0] = "info";
    for (int i = 1; i <= N; i++)
        args[i] = "photo.png";
    cli_result res;
    run_io(&res, args, NULL, 0);
    free(args);
    cr_assert_eq(res.status, 0, "%s", res.err);
    int n = 0;
    for (size_t i = 0; i < res.out_len; i++)
        n += res.whole_out[i] == '\n';
    cr_assert_eq(n, N);
    free(res.whole_out);
}

Test(edges, help_shows_options_where_they_are_accepted)
{
    CLI(&r, dir, "batch", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: hadamard batch [OPTIONS] STEP... -- INPUT...\n"), "%s",
              r.out);
    cr_assert(!strstr(r.out, "INPUT... [OPTIONS]"));
    cr_assert(strstr(r.out, "--name=-x-"), "option forms not described");
    CLI(&r, dir, "run", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(!strstr(r.out, "see 'hadamard run --help'"), "run's help refers to itself");
    cr_assert(strstr(r.out, "\\:"), "escapes not described");
}

/* ---- 6. messages and exit codes ---- */

Test(edges, help_command)
{
    CLI(&r, dir, "help", "mask");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "usage: hadamard mask IMAGE MASK"), "%s", r.out);
    CLI(&r, dir, "help", "nosuch");
    assert_failed(2, "unknown command 'nosuch'");
    CLI(&r, dir, "help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "commands:"));
}

Test(edges, bad_cpu_request_refused_for_version_too)
{
    static const char *const bogus[] = {"HADAMARD_CPU=bogus", NULL};
    CLI_WITH(&r, dir, &(cli_opts){.env = bogus}, "--version");
    assert_failed(2, "HADAMARD_CPU=bogus");
    cr_assert_eq(r.out[0], '\0');
}

static void big_input(const char *name)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(2500, 2500, 3, HDM_U8, &img), HDM_OK);
    tu_rng r;
    tu_seed(&r, 1);
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < img->height; y++) {
            uint8_t *row = hdm_row(img, c, y);
            for (uint32_t x = 0; x < img->width; x++)
                row[x] = (uint8_t)(tu_next(&r) >> 56);
        }
    hdm_options o;
    hdm_options_init(&o);
    o.png_level = 0;
    cr_assert_eq(hdm_save(img, at(dir, name), &o, NULL), HDM_OK);
    hdm_image_free(img);
}

Test(edges, sigint_stops_a_single_command_with_130)
{
    big_input("big.png");
    int got130 = 0;
    for (int delay_ms = 50; delay_ms <= 800 && !got130; delay_ms *= 2) {
        cli_child c;
        CLI_START(&c, dir, NULL, "run", "big.png", "-o", "out.png", "mul:big.png", "mul:big.png",
                  "mul:big.png", "--png-level", "9");
        struct timespec t = {0, (long)delay_ms * 1000000L};
        nanosleep(&t, NULL);
        kill(c.pid, SIGINT);
        cli_finish(&c, &r);
        int st = r.wstatus;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 130)
            got130 = 1;
        else if (WIFSIGNALED(st) && WTERMSIG(st) == SIGINT) {
            /* too early, before its handler was set (a loaded machine, ASan): wait longer */
            cr_assert(!exists(dir, "out.png"), "a run killed by SIGINT left its output");
            continue;
        }
        else
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
        if (got130)
            cr_assert(!exists(dir, "out.png"), "an interrupted run left its output");
        unlink(at(dir, "out.png"));
    }
    cr_assert(got130, "could not interrupt the command");
    cr_assert_eq(temp_files(dir), 0);
}

/* A second signal ends the process at once: stdin that never ends keeps it reading; the first
 * SIGTERM interrupts that read, the process ends with 130. */
Test(edges, sigterm_while_reading_stdin)
{
    int fds[2];
    cr_assert_eq(pipe2(fds, O_CLOEXEC), 0); /* the write end stays here only */
    cli_child c;
    CLI_START(&c, dir, &(cli_opts){.in_fd = fds[0]}, "mask", "-", "circle.png", "-o", "o.png");
    close(fds[0]);
    struct timespec t = {0, 200 * 1000000L};
    nanosleep(&t, NULL);
    kill(c.pid, SIGTERM);
    cli_finish(&c, &r);
    int st = r.wstatus;
    close(fds[1]);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 130, "status %d", st);
    cr_assert(!exists(dir, "o.png"));
}

/* ---- 7. pipes ---- */

Test(edges, stdin_to_stdout)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "ref.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    size_t n, ref_n;
    unsigned char *in = slurp(at(dir, "photo.png"), &n), *ref = slurp(at(dir, "ref.png"), &ref_n);
    cli_result res;
    run_io(&res, (const char *const[]){"mask", "-", "circle.png", "-o", "-", "--format", "png",
                                       NULL}, in, n);
    cr_assert_eq(res.status, 0, "%s", res.err);
    cr_assert_eq(res.out_len, ref_n);
    cr_assert(memcmp(res.whole_out, ref, ref_n) == 0, "stdout differs from the file output");
    free(res.whole_out);
    /* stdin to a file, a file to stdout */
    run_io(&res, (const char *const[]){"mask", "-", "circle.png", "-o", "s.png", NULL}, in, n);
    cr_assert_eq(res.status, 0, "%s", res.err);
    free(res.whole_out);
    cr_assert(file_is(at(dir, "s.png"), "") == false);
    size_t sn;
    unsigned char *s = slurp(at(dir, "s.png"), &sn);
    cr_assert(sn == ref_n && memcmp(s, ref, sn) == 0);
    free(s);
    run_io(&res, (const char *const[]){"run", "photo.png", "-o", "-", "--format", "jpg",
                                       "mask:circle.png", NULL}, NULL, 0);
    cr_assert_eq(res.status, 0, "%s", res.err);
    cr_assert(res.out_len > 2 && res.whole_out[0] == 0xFF && res.whole_out[1] == 0xD8, "not a JPEG");
    free(res.whole_out);
    free(in);
    free(ref);
}

Test(edges, nothing_partial_reaches_stdout)
{
    size_t n;
    unsigned char *in = slurp(at(dir, "photo.png"), &n);
    cli_result res;
    /* truncated input: refused, stdout empty */
    run_io(&res, (const char *const[]){"mask", "-", "circle.png", "-o", "-", "--format", "png",
                                       NULL}, in, n / 2);
    cr_assert_eq(res.status, 1, "%s", res.err);
    cr_assert_eq(res.out_len, 0, "%zu bytes reached stdout", res.out_len);
    cr_assert(strstr(res.err, "standard input"), "%s", res.err);
    free(res.whole_out);
    /* an input above --max-memory is refused while it is read */
    run_io(&res, (const char *const[]){"mask", "-", "circle.png", "-o", "-", "--format", "png",
                                       "--max-memory", "1000", NULL}, in, n);
    cr_assert_eq(res.status, 1, "%s", res.err);
    cr_assert(strstr(res.err, "--max-memory"), "%s", res.err);
    cr_assert_eq(res.out_len, 0);
    free(res.whole_out);
    free(in);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "-", "--format", "gif");
    assert_failed(2, "unknown --format 'gif'");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "x.png", "--format", "jpg");
    assert_failed(2, "differs");
}

/* ---- 8. did you mean ---- */

Test(edges, did_you_mean)
{
    CLI(&r, dir, "msk", "photo.png");
    assert_failed(2, "did you mean 'mask'?");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--qualty", "80", "-o", "o.jpg");
    assert_failed(2, "did you mean '--quality'?");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--inv", "-o", "o.png");
    assert_failed(2, "did you mean '--invert'?");
    CLI(&r, dir, "blend", "photo.png", "circle.png", "--opacty", "1", "-o", "o.png");
    assert_failed(2, "did you mean '--opacity'?");
    /* a unique prefix beats a word two edits away: "bl" is blend, not mul */
    CLI(&r, dir, "bl", "photo.png");
    assert_failed(2, "did you mean 'blend'?");
    CLI(&r, dir, "zzzzzzzz");
    assert_failed(2, "see 'hadamard --help'");
}

/* ---- 9. escaped colons ---- */

Test(edges, escaped_colon_in_a_step)
{
    copy_sample(dir, "circle.png");
    cr_assert_eq(rename(at(dir, "circle.png"), at(dir, "c:1.png")), 0);
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "mask:c\\:1.png:invert");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "o.png"));
    CLI(&r, dir, "run", "photo.png", "-o", "p.png", "mask:c:1.png");
    cr_assert_eq(r.status, 2, "an unescaped ':' still splits: %s", r.err);
}

/* ---- 10. options of no effect ---- */

Test(edges, inapplicable_options_are_noted_once)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--quality", "50", "-o", "o.png");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.err, "hadamard: --quality has no effect on PNG output"), "%s", r.err);
    cr_assert_eq(lines(r.err), 1);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--png-level", "3", "--png-filter", "up",
        "-o", "o.jpg");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.err, "--png-level has no effect on JPEG output"), "%s", r.err);
    cr_assert(strstr(r.err, "--png-filter has no effect on JPEG output"), "%s", r.err);
    cr_assert_eq(lines(r.err), 2);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--png-level", "3", "-o", "o.png");
    cr_assert_eq(r.status, 0);
    cr_assert_eq(r.err[0], '\0', "%s", r.err);
}

/* ---- hostile-tester findings: stdin, namespaces, stdout, long messages, kernel files ---- */

/* A stream of zeros on stdin is refused from its first bytes, not read up to --max-memory. */
Test(edges, stdin_not_an_image_is_refused_at_once)
{
    int fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    cr_assert(fd >= 0);
    CLI_WITH(&r, dir, &(cli_opts){.in_fd = fd}, "run", "-", "-o", "o.png", "filter:box:1");
    close(fd);
    CLI_REFUSED(&r, 1, "standard input", "not an image in a format hadamard reads");
    cr_assert_lt(r.maxrss_kb, 64 * 1024, "peak %ld KB", r.maxrss_kb);
    cli_expect_no_leftovers(dir, "o.png", NULL);
    fd = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    CLI_WITH(&r, dir, &(cli_opts){.in_fd = fd}, "info", "-");
    close(fd);
    CLI_REFUSED(&r, 1, "standard input", "not an image");
    cr_assert_lt(r.maxrss_kb, 64 * 1024, "peak %ld KB", r.maxrss_kb);
}

/* An image on stdin above --max-memory is refused without holding much more than the limit.
 * The limit is a power of two, where growing by doubling used to overshoot to twice it; the
 * bound allows half the limit again for a realloc that copies. */
Test(edges, stdin_above_the_memory_limit)
{
    CLI(&r, dir, "info", "photo.png");
    cli_expect_ok(&r);
    long base_kb = r.maxrss_kb;
    size_t n;
    unsigned char *png = slurp(at(dir, "photo.png"), &n);
    cr_assert(png && n > 4096);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t w = fork();
    if (w == 0) { /* a writer that sends the image then 64 MiB more */
        close(p[0]);
        static unsigned char zero[1 << 16];
        if (write(p[1], png, n) != (ssize_t)n)
            _exit(1);
        for (int i = 0; i < 1024; i++)
            if (write(p[1], zero, sizeof zero) < 0)
                _exit(0);
        _exit(0);
    }
    close(p[1]);
    CLI_WITH(&r, dir, &(cli_opts){.in_fd = p[0]}, "mask", "-", "circle.png", "-o", "o.png",
             "--max-memory", "33554432");
    close(p[0]);
    waitpid(w, NULL, 0);
    free(png);
    CLI_REFUSED(&r, 1, "standard input", "more than the memory limit of 33554432",
                "--max-memory");
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine keeps every freed block resident */
    cr_assert_lt(r.maxrss_kb, base_kb + 32768 * 3 / 2 + 8192, "peak %ld KB, %ld KB at rest",
                 r.maxrss_kb, base_kb);
#else
    (void)base_kb;
#endif
    cli_expect_no_leftovers(dir, "o.png", NULL);
}

/* The host id of a process in a new PID namespace (with our host name), or 0 when one cannot
 * be made. */
static uint32_t host_id_in_new_pid_namespace(void)
{
    int p[2];
    cr_assert_eq(pipe(p), 0);
    pid_t c = fork();
    if (c == 0) {
        close(p[0]);
        if (unshare(CLONE_NEWPID) != 0)
            _exit(0);
        pid_t g = fork(); /* the first child is pid 1 of the new namespace */
        if (g == 0) {
            uint32_t h = hdm__host_id();
            _exit(write(p[1], &h, sizeof h) == sizeof h ? 0 : 1);
        }
        _exit(g > 0 && waitpid(g, NULL, 0) == g ? 0 : 1);
    }
    close(p[1]);
    uint32_t h = 0;
    if (read(p[0], &h, sizeof h) != sizeof h)
        h = 0;
    close(p[0]);
    waitpid(c, NULL, 0);
    return h;
}

/* A pid is judged dead only within its own PID namespace, and only an old temporary goes. */
Test(edges, stale_temporaries_judged_per_pid_namespace_and_by_age)
{
    uint32_t other_ns = host_id_in_new_pid_namespace();
    if (!other_ns)
        CLI_CANNOT(!cli_has_cap(21 /* CAP_SYS_ADMIN */), "cannot make a PID namespace here");
    cr_assert_neq(other_ns, hdm__host_id(), "the host id ignores the PID namespace");
    char foreign[128], old[128], fresh[128];
    pid_t dead = dead_pid();
    snprintf(foreign, sizeof foreign, ".o.png.hadamard-tmp-%08x-%ld-0badf00d", other_ns,
             (long)dead);
    snprintf(old, sizeof old, ".o.png.hadamard-tmp-%08x-%ld-0badf00e", hdm__host_id(),
             (long)dead);
    snprintf(fresh, sizeof fresh, ".o.png.hadamard-tmp-%08x-%ld-0badf00f", hdm__host_id(),
             (long)dead);
    write_text(at(dir, foreign), "x");
    write_text(at(dir, old), "x");
    write_text(at(dir, fresh), "x");
    make_old(at(dir, foreign));
    make_old(at(dir, old));
    CLI_WITH(&r, dir, &(cli_opts){.env = named_temp}, "mask", "photo.png", "circle.png", "-o",
             "o.png");
    cli_expect_ok(&r);
    cr_assert(exists(dir, foreign), "another PID namespace's temporary was removed");
    cr_assert(!exists(dir, old), "an old temporary of a dead run was kept");
    cr_assert(exists(dir, fresh), "a fresh temporary was removed");
    cr_assert_eq(temp_files(dir), 2);
}

/* Runs hadamard with stdout on fd (closed if < 0); its stderr into r.err, its status into r.status. */
static void run_stdout_to(int fd, const char *const *args)
{
    const char *argv[16] = {HDM_BINARY_DIR "/hadamard"};
    size_t n = 1;
    while (args[n - 1] && n < 15) {
        argv[n] = args[n - 1];
        n++;
    }
    argv[n] = NULL;
    int pe[2];
    cr_assert_eq(pipe2(pe, O_CLOEXEC), 0);
    pid_t pid = cli_fork(dir, NULL);
    if (pid == 0) {
        if (fd < 0)
            close(1);
        else
            dup2(fd, 1);
        dup2(pe[1], 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    cr_assert(pid > 0);
    close(pe[1]);
    cli_drain(pe[0], r.err, sizeof r.err);
    int ws;
    cr_assert_eq(waitpid(pid, &ws, 0), pid);
    r.wstatus = ws;
    r.status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}
#define RUN_STDOUT_TO(fd, ...) run_stdout_to((fd), (const char *const[]){__VA_ARGS__, NULL})

Test(edges, stdout_write_failures_are_reported)
{
    int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
    if (full < 0)
        CLI_CANNOT(errno == ENOENT, "cannot open /dev/full: %s", strerror(errno));
    RUN_STDOUT_TO(full, "info", "photo.png");
    CLI_REFUSED(&r, 1, "standard output: write failed: No space left on device");
    RUN_STDOUT_TO(full, "--help");
    CLI_REFUSED(&r, 1, "standard output: write failed: No space left on device");
    RUN_STDOUT_TO(full, "mask", "--help");
    CLI_REFUSED(&r, 1, "standard output: write failed");
    RUN_STDOUT_TO(full, "mask", "photo.png", "circle.png", "-o", "-", "--format", "png");
    CLI_REFUSED(&r, 1, "standard output: write failed: No space left on device");
    close(full);
    /* a pipe whose reader is gone: EPIPE, not death by SIGPIPE */
    int p[2];
    cr_assert_eq(pipe2(p, O_CLOEXEC), 0);
    close(p[0]);
    RUN_STDOUT_TO(p[1], "mask", "photo.png", "circle.png", "-o", "-", "--format", "png");
    CLI_REFUSED(&r, 1, "standard output: write failed: Broken pipe");
    RUN_STDOUT_TO(p[1], "info", "photo.png");
    CLI_REFUSED(&r, 1, "standard output: write failed: Broken pipe");
    close(p[1]);
    /* a closed stdout that nothing is written to is no failure */
    RUN_STDOUT_TO(-1, "mask", "photo.png", "circle.png", "-o", "o.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
}

Test(edges, long_path_message_keeps_its_reason)
{
    char path[5200];
    memset(path, 'e', 5000);
    strcpy(path + 5000, "/x.png");
    CLI(&r, dir, "info", path);
    CLI_REFUSED(&r, 1, "x.png: cannot open: File name too long", "\xe2\x80\xa6");
    CLI(&r, dir, "mask", path, "circle.png", "-o", "o.png");
    CLI_REFUSED(&r, 1, "x.png: cannot open: File name too long");
}

/* A kernel file is an input: the output may not overwrite it. */
Test(edges, kernel_file_is_an_input)
{
    write_text(at(dir, "k.png"), "1,2,1;2,4,2;1,2,1\n");
    CLI(&r, dir, "filter", "photo.png", "--kernel", "@k.png", "-o", "k.png");
    CLI_REFUSED(&r, 1, "output is the same file as the input k.png");
    cr_assert(file_is(at(dir, "k.png"), "1,2,1;2,4,2;1,2,1\n"), "the kernel file changed");
    CLI(&r, dir, "run", "photo.png", "-o", "k.png", "filter:@k.png");
    CLI_REFUSED(&r, 1, "output is the same file as the input k.png");
    cr_assert(file_is(at(dir, "k.png"), "1,2,1;2,4,2;1,2,1\n"), "the kernel file changed");
    cli_expect_no_leftovers(dir, NULL, NULL);
    CLI(&r, dir, "filter", "photo.png", "--kernel", "@k.png", "-o", "o.png");
    cli_expect_ok(&r);
}

/* "-" is standard input for info; as an operand it is refused, clearly. */
Test(edges, stdin_for_info_and_operands)
{
    size_t n;
    unsigned char *png = slurp(at(dir, "photo.png"), &n);
    cr_assert(png);
    const cli_opts in = {.in = png, .in_len = n};
    CLI_WITH(&r, dir, &in, "info", "-");
    cli_expect_ok(&r);
    CLI(&r, dir, "info", "photo.png");
    const char *dims = strchr(r.out, ' ');
    cr_assert(dims);
    char want[256];
    snprintf(want, sizeof want, "-:%s", dims);
    CLI_WITH(&r, dir, &in, "info", "-");
    cr_assert_str_eq(r.out, want);
    CLI_WITH(&r, dir, &in, "mask", "photo.png", "-", "-o",
             "o.png");
    CLI_REFUSED(&r, 2, "standard input can only be the IMAGE");
    CLI_WITH(&r, dir, &in, "blend", "photo.png", "-", "-o",
             "o.png");
    CLI_REFUSED(&r, 2, "standard input can only be the IMAGE");
    CLI_WITH(&r, dir, &in, "run", "photo.png", "-o", "o.png",
             "mask:-");
    CLI_REFUSED(&r, 2, "standard input can only be the IMAGE");
    cli_expect_no_leftovers(dir, "o.png", NULL);
    free(png);
}

Test(edges, messages_that_say_what_to_do)
{
    FILE *f = fopen(at(dir, "big.txt"), "wb");
    cr_assert(f);
    for (int i = 0; i < 300000; i++)
        fputs("1,2;", f);
    fclose(f);
    CLI(&r, dir, "filter", "photo.png", "--kernel", "@big.txt", "-o", "o.png", "--max-memory",
        "9000000000");
    CLI_REFUSED(&r, 1, "big.txt", "kernel file of 1200000 bytes is larger than 1 MiB");
    cr_assert(!strstr(r.err, "max-memory"), "%s", r.err);
    CLI(&r, dir, "mask", "--hlep");
    CLI_REFUSED(&r, 2, "did you mean '--help'?");
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "filtre:box:3");
    CLI_REFUSED(&r, 2, "unknown operation 'filtre' (did you mean 'filter'?)");
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "mask:");
    CLI_REFUSED(&r, 2, "mask: needs a mask file (mask:MASK");
    cli_expect_no_leftovers(dir, "o.png", NULL);
}

/* An existing output another user owns is not replaced (rename would, and make it ours), nor one
 * in a sticky directory we could not rename over: both refused before any work. */
Test(edges, output_of_another_user_refused)
{
    cr_assert_eq(chmod(dir, 0777), 0);
    cr_assert_eq(chmod(at(dir, "photo.png"), 0644), 0);
    cr_assert_eq(chmod(at(dir, "circle.png"), 0644), 0);
    write_text(at(dir, "theirs.png"), "not ours\n");
    cr_assert_eq(chmod(at(dir, "theirs.png"), 0644), 0);
    cr_assert_eq(mkdir(at(dir, "sticky"), 0777), 0);
    cr_assert_eq(chmod(at(dir, "sticky"), 01777), 0);
    write_text(at(dir, "sticky/s.png"), "not ours\n");
    cr_assert_eq(chmod(at(dir, "sticky/s.png"), 0666), 0);
    struct stat before;
    cr_assert_eq(stat(at(dir, "theirs.png"), &before), 0);
    cli_opts o = {.uid = CLI_NOBODY};
    if (before.st_uid == CLI_NOBODY)
        CLI_CANNOT(true, "output_of_another_user_refused: the files are nobody's already");
    CLI_WITH(&r, dir, &o, "mask", "photo.png", "circle.png", "-o", "theirs.png");
    if (cli_skipped(&r))
        CLI_CANNOT(cli_cannot_here(&o), "output_of_another_user_refused: cannot become nobody");
    CLI_REFUSED(&r, 1, "theirs.png", "no write permission; refusing to replace it");
    cli_expect_no_leftovers(dir, at(dir, "theirs.png"), "not ours\n");
    struct stat after;
    cr_assert_eq(stat(at(dir, "theirs.png"), &after), 0);
    cr_assert_eq(after.st_uid, before.st_uid, "the owner changed");
    cr_assert_eq(after.st_ino, before.st_ino, "the file was replaced");
    CLI_WITH(&r, dir, &o, "mask", "photo.png", "circle.png", "-o", "sticky/s.png");
    CLI_REFUSED(&r, 1, "sticky/s.png", "sticky directory");
    cr_assert(file_is(at(dir, "sticky/s.png"), "not ours\n"));
    cr_assert_eq(temp_files(at(dir, "sticky")), 0);
}

/* --shard is digits "/" digits only; an input whose own extension names no format we write says
 * what to do (it was taken by its content, so "hadamard reads .xyz" would be wrong). */
Test(edges, batch_shard_strict_and_unwritable_extension)
{
    const char *bad[] = {" 0/3", "0/ 3", "+0/3", "0/3 ", "0/+3", "-0/3", "0x1/3", "1/1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CLI(&r, dir, "batch", "--shard", bad[i], "--out-dir", "out", "filter:box:1", "--",
            "photo.png");
        CLI_REFUSED(&r, 2, "--shard needs K/N");
        cr_assert(!exists(dir, "out"), "'%s' was accepted", bad[i]);
    }
    CLI(&r, dir, "batch", "--shard", "0/1", "--out-dir", "out", "filter:box:1", "--",
        "photo.png");
    cli_expect_ok(&r);
    size_t n;
    unsigned char *png = slurp(at(dir, "photo.png"), &n);
    cr_assert(png);
    const char *names[] = {"weird.xyz", "noext"};
    for (int i = 0; i < 2; i++) {
        FILE *f = fopen(at(dir, names[i]), "wb");
        cr_assert(f);
        fwrite(png, 1, n, f);
        fclose(f);
    }
    free(png);
    CLI(&r, dir, "batch", "--out-dir", "o2", "filter:box:1", "--", "weird.xyz", "noext");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: weird.xyz: cannot write a .xyz file (give --format)\n"),
              "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: noext: has no extension to name an output format "
                            "(give --format)\n"), "%s", r.err);
    cr_assert(!strstr(r.err, "reads"), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "o3", "--format", "png", "filter:box:1", "--",
        "weird.xyz", "noext");
    cli_expect_ok(&r);
    cr_assert(exists(dir, "o3/weird.png") && exists(dir, "o3/noext.png"));
}

/* run_stdout_to with standard output opened on dir/name (flags as for open). */
static void run_stdout_on(const char *name, int flags, const char *const *args)
{
    int fd = open(at(dir, name), flags | O_CLOEXEC, 0644);
    cr_assert_geq(fd, 0, "%s: %s", name, strerror(errno));
    run_stdout_to(fd, args);
    close(fd);
}

/* A redirection that makes standard output an input, or standard input the output, is refused
 * before anything is written. */
Test(edges, std_ends_that_are_inputs_or_the_output)
{
    size_t n0, n;
    unsigned char *orig = slurp(at(dir, "circle.png"), &n0);
    cr_assert(orig);
    /* 1<> mask: opened read-write in place */
    run_stdout_on("circle.png", O_RDWR,
                  (const char *const[]){"run", "photo.png", "-o", "-", "--format", "png",
                                        "mask:circle.png", NULL});
    CLI_REFUSED(&r, 1, "standard output is the same file as the input circle.png");
    unsigned char *now = slurp(at(dir, "circle.png"), &n);
    cr_assert(now && n == n0 && memcmp(now, orig, n) == 0, "the mask was overwritten");
    free(now);
    /* >> IMAGE: appended to the input */
    run_stdout_on("circle.png", O_WRONLY | O_APPEND,
                  (const char *const[]){"run", "circle.png", "-o", "-", "--format", "png",
                                        "filter:box:1", NULL});
    CLI_REFUSED(&r, 1, "standard output is the same file as the input circle.png");
    now = slurp(at(dir, "circle.png"), &n);
    cr_assert(now && n == n0 && memcmp(now, orig, n) == 0, "the input was appended to");
    free(now);
    /* a blend top and a kernel file are inputs too */
    write_text(at(dir, "k.txt"), "1,2,1\n");
    run_stdout_on("k.txt", O_WRONLY | O_APPEND,
                  (const char *const[]){"run", "photo.png", "-o", "-", "--format", "png",
                                        "filter:@k.txt", NULL});
    CLI_REFUSED(&r, 1, "standard output is the same file as the input k.txt");
    cr_assert(file_is(at(dir, "k.txt"), "1,2,1\n"));
    /* < OUT: the output replaced while it is read */
    int fd = open(at(dir, "circle.png"), O_RDONLY);
    cr_assert_geq(fd, 0);
    const cli_opts in = {.in_fd = fd};
    CLI_WITH(&r, dir, &in, "run", "-", "-o", "circle.png", "filter:box:1");
    close(fd);
    CLI_REFUSED(&r, 1, "circle.png", "same file as standard input");
    now = slurp(at(dir, "circle.png"), &n);
    cr_assert(now && n == n0 && memcmp(now, orig, n) == 0, "the input was replaced");
    free(now);
    cli_expect_no_leftovers(dir, NULL, NULL);
    /* another file on standard output is fine */
    run_stdout_on("o.png", O_WRONLY | O_CREAT | O_TRUNC,
                  (const char *const[]){"run", "photo.png", "-o", "-", "--format", "png",
                                        "mask:circle.png", NULL});
    cli_expect_ok(&r);
    free(orig);
}

/* With -o -, an encoder's complaint is about standard output, not standard input. */
Test(edges, output_side_errors_name_standard_output)
{
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(70000, 2, 1, HDM_U8, &img), HDM_OK);
    cr_assert_eq(hdm_save(img, at(dir, "wide.png"), NULL, NULL), HDM_OK);
    hdm_image_free(img);
    CLI(&r, dir, "run", "wide.png", "-o", "-", "--format", "jpg", "filter:box:1");
    CLI_REFUSED(&r, 1, "standard output: 70000x2 is too large for JPEG");
    cr_assert(!strstr(r.err, "standard input"), "%s", r.err);
    size_t n;
    unsigned char *png = slurp(at(dir, "wide.png"), &n);
    const cli_opts in = {.in = png, .in_len = n};
    CLI_WITH(&r, dir, &in, "run", "-", "-o", "-", "--format", "jpg", "filter:box:1");
    CLI_REFUSED(&r, 1, "standard output: 70000x2 is too large for JPEG");
    CLI_WITH(&r, dir, &in, "run", "-", "-o", "o.jpg", "filter:box:1");
    CLI_REFUSED(&r, 1, "o.jpg: 70000x2 is too large for JPEG");
    /* a corrupt file IMAGE is named, not called standard input */
    write_text(at(dir, "bad.png"), "\x89PNG\r\n\x1a\n");
    CLI(&r, dir, "run", "bad.png", "-o", "-", "--format", "png", "filter:box:1");
    CLI_REFUSED(&r, 1, "bad.png");
    cr_assert(!strstr(r.err, "standard"), "%s", r.err);
    free(png);
    cli_expect_no_leftovers(dir, "o.jpg", NULL);
}

/* The hint for a value starting with '-' works as written; "-o=X" is refused, not a file "=X". */
/* Every numeric option takes plain decimal digits only: blanks, signs, a unit, hex or nothing
 * at all are refused in one line naming the option and the value, attached or not, and
 * nothing is written. */
Test(edges, numeric_options_take_digits_only)
{
    static const char *const opts[] = {"threads", "quality", "max-memory", "max-pixels",
                                       "max-width", "png-level"};
    static const char *const bad[] = {" 3", "3 ", "\t3", "+3", "3x", "", "0x3", "3.0", "-3",
                                      "\n3"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        for (size_t j = 0; j < sizeof bad / sizeof bad[0]; j++) {
            char name[32], attached[64], quoted[32];
            snprintf(name, sizeof name, "--%s", opts[i]);
            snprintf(attached, sizeof attached, "--%s=%s", opts[i], bad[j]);
            /* a control character is shown as '?' */
            bool shown = !bad[j][0] || bad[j][0] >= ' ';
            snprintf(quoted, sizeof quoted, "'%s'", shown ? bad[j] : "?3");
            CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.jpg", name, bad[j]);
            cr_assert_eq(r.status, 2, "%s '%s' accepted: %s", name, bad[j], r.err);
            cr_assert_eq(lines(r.err), 1, "%s", r.err);
            cr_assert(strstr(r.err, name) && strstr(r.err, quoted), "%s", r.err);
            CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.jpg", attached);
            cr_assert_eq(r.status, 2, "%s accepted: %s", attached, r.err);
            cr_assert(strstr(r.err, name) && strstr(r.err, quoted), "%s", r.err);
            cr_assert(!exists(dir, "o.jpg"));
        }
    CLI(&r, dir, "batch", "-j 2", "--out-dir", "d", "mask:circle.png", "--", "photo.png");
    CLI_REFUSED(&r, 2, "--jobs", "' 2'");
    cr_assert(!exists(dir, "d"));
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.jpg", "--threads", "03",
        "--quality", "090");
    cli_expect_ok(&r);
}

Test(edges, short_options_and_equals)
{
    CLI(&r, dir, "run", "photo.png", "-o", "--q.png", "filter:box:1");
    CLI_REFUSED(&r, 2, "write --output=OUT or -oOUT");
    CLI(&r, dir, "run", "photo.png", "--output=--q.png", "filter:box:1");
    cli_expect_ok(&r);
    cr_assert(exists(dir, "--q.png"));
    CLI(&r, dir, "run", "photo.png", "-o=x.png", "filter:box:1");
    CLI_REFUSED(&r, 2, "short options take their value attached without '='", "-oOUT",
                "--output=OUT");
    cr_assert(!exists(dir, "=x.png") && !exists(dir, "x.png"));
    CLI(&r, dir, "batch", "-j=2", "--out-dir", "d", "filter:box:1", "--", "photo.png");
    CLI_REFUSED(&r, 2, "-jN, or --jobs=N");
    CLI(&r, dir, "run", "photo.png", "-oy.png", "filter:box:1");
    cli_expect_ok(&r);
    cr_assert(exists(dir, "y.png"));
}

static bool err_ends_with(const char *end)
{
    size_t n = strlen(r.err), m = strlen(end);
    return n > m && r.err[n - 1] == '\n' && memcmp(r.err + n - 1 - m, end, m) == 0;
}

/* Values of 3000 characters lose their middle, never the reason or the choices at the end. */
Test(edges, long_values_keep_the_end_of_the_message)
{
    char q[3001], step[3100];
    memset(q, 'q', 3000);
    q[3000] = '\0';
    CLI(&r, dir, "blend", "photo.png", "circle.png", "-o", "o.png", "--mode", q);
    CLI_REFUSED(&r, 2, "\xe2\x80\xa6");
    cr_assert(err_ends_with("exclusion, hue, saturation, color, luminosity)"), "%s",
              r.err + strlen(r.err) - 100);
    snprintf(step, sizeof step, "gaussian%s", q);
    CLI(&r, dir, "filter", "photo.png", "-o", "o.png", "--kernel", step);
    CLI_REFUSED(&r, 2, "\xe2\x80\xa6");
    cr_assert(err_ends_with("or @FILE)"), "%s", r.err + strlen(r.err) - 100);
    snprintf(step, sizeof step, "window:%s", q);
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", step);
    CLI_REFUSED(&r, 2, "step 'window:qqq");
    cr_assert(err_ends_with("kaiser[:BETA])"), "%s", r.err + strlen(r.err) - 100);
    snprintf(step, sizeof step, "mask:circle.png:%s", q);
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", step);
    CLI_REFUSED(&r, 2, "step 'mask:circle.png:qqq");
    cr_assert(err_ends_with("[:threshold=T])"), "%s", r.err + strlen(r.err) - 100);
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "--png-filter", q);
    CLI_REFUSED(&r, 2, "unknown PNG filter");
    cr_assert(err_ends_with("paeth, adaptive)"), "%s", r.err + strlen(r.err) - 100);
    cli_expect_no_leftovers(dir, "o.png", NULL);
}

/* --format writes a name without a known extension in that format; one naming another format
 * stays an error. */
Test(edges, format_for_a_name_without_extension)
{
    CLI(&r, dir, "run", "photo.png", "-o", "out", "--format", "bmp", "filter:box:1");
    cli_expect_ok(&r);
    CLI(&r, dir, "info", "out");
    cr_assert(strstr(r.out, ", bmp\n"), "%s", r.out);
    size_t n;
    unsigned char *png = slurp(at(dir, "photo.png"), &n);
    const cli_opts in = {.in = png, .in_len = n};
    CLI_WITH(&r, dir, &in, "run", "-", "-o", "out.bak", "--format", "tga", "filter:box:1");
    cli_expect_ok(&r);
    CLI(&r, dir, "info", "out.bak");
    cr_assert(strstr(r.out, ", tga\n"), "%s", r.out);
    free(png);
    CLI(&r, dir, "run", "photo.png", "-o", "x", "filter:box:1");
    CLI_REFUSED(&r, 2, "x: unknown output format", "--format");
    CLI(&r, dir, "run", "photo.png", "-o", "x.jpg", "--format", "png", "filter:box:1");
    CLI_REFUSED(&r, 2, "x.jpg: --format png differs from the format its extension names");
    cli_expect_no_leftovers(dir, "x.jpg", NULL);
    cr_assert(!exists(dir, "x"));
}

/* info - takes only what the header needs: a PNG signature and then 500 MB is not read whole. */
Test(edges, info_stdin_reads_only_the_header)
{
    int fd = open(at(dir, "huge.png"), O_RDWR | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    cr_assert_eq(write(fd, "\x89PNG\r\n\x1a\n", 8), 8);
    cr_assert_eq(ftruncate(fd, 500 << 20), 0); /* sparse: zeros without the disk */
    cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
    const cli_opts in = {.in_fd = fd};
    CLI_WITH(&r, dir, &in, "info", "-");
    close(fd);
    CLI_REFUSED(&r, 1, "standard input: corrupt PNG");
    cr_assert_lt(r.maxrss_kb, 64 * 1024, "info - held %ld KB for a header", r.maxrss_kb);
    /* a header cut short at the end of the input still says so */
    size_t n;
    unsigned char *png = slurp(at(dir, "photo.png"), &n);
    const cli_opts cut = {.in = png, .in_len = 30};
    CLI_WITH(&r, dir, &cut, "info", "-");
    CLI_REFUSED(&r, 1, "standard input", "truncated");
    /* a BMP's header check wants the whole file: the prefix grows until it has it */
    hdm_image *img = NULL;
    cr_assert_eq(hdm_image_new(400, 300, 3, HDM_U8, &img), HDM_OK);
    cr_assert_eq(hdm_save(img, at(dir, "big.bmp"), NULL, NULL), HDM_OK);
    hdm_image_free(img);
    free(png);
    png = slurp(at(dir, "big.bmp"), &n);
    cr_assert_gt(n, 300000);
    const cli_opts bmp = {.in = png, .in_len = n};
    CLI_WITH(&r, dir, &bmp, "info", "-");
    cli_expect_ok(&r);
    cr_assert_str_eq(r.out, "-: 400x300, 3 channels (RGB), 8-bit, bmp\n");
    free(png);
}

/* A lone '\' at the end of a step is refused, saying how to write a backslash. */
Test(edges, trailing_backslash_in_a_step)
{
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "filter:box:1\\");
    CLI_REFUSED(&r, 2, "a '\\' at the end escapes nothing (write \\\\ for a backslash)");
    cli_expect_no_leftovers(dir, "o.png", NULL);
}
