/* SPDX-License-Identifier: MIT */
/* test_cli_batch.c — hadamard batch: counts, exit status, report, resume, shards, kills, and the
 * hostile cases: symlink loops, outputs over inputs, reports over anything, signals */
#include "cli_assert.h"
#include "cli_run.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <hadamard.h>
#include <errno.h>
#include <fcntl.h>
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

static void put(const char *name, const char *text)
{
    FILE *f = fopen(at(dir, name), "wb");
    cr_assert(f);
    fputs(text, f);
    fclose(f);
}

/* in/ holds n copies of the photo, one corrupt file and a text file that is skipped. */
static void make_inputs(int n)
{
    mkdir(at(dir, "in"), 0755);
    mkdir(at(dir, "in/sub"), 0755);
    copy_sample(dir, "photo.png");
    copy_sample(dir, "circle.png");
    size_t len;
    unsigned char *b = slurp(at(dir, "photo.png"), &len);
    for (int i = 0; i < n; i++) {
        char name[64];
        snprintf(name, sizeof name, "in/%s%03d.png", i % 4 == 3 ? "sub/" : "", i);
        FILE *f = fopen(at(dir, name), "wb");
        fwrite(b, 1, len, f);
        fclose(f);
    }
    free(b);
    put("in/broken.png", "\x89PNG\r\n\x1a\nnot really");
    put("in/notes.txt", "not an image");
}

static void setup(void)
{
    dir = scratch_new();
    cr_assert(dir);
}

static void teardown(void) { scratch_free(dir); }

/* Every test runs under a timeout, so a hang fails (a suite-wide one: per-test timeouts of
 * tests run in parallel made Criterion's runner leak under LeakSanitizer). */
TestSuite(batch, .init = setup, .fini = teardown, .timeout = 120);

static int count_files(const char *sub, const char *suffix)
{
    DIR *d = opendir(at(dir, sub));
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        size_t l = strlen(e->d_name), s = strlen(suffix);
        n += l > s && strcmp(e->d_name + l - s, suffix) == 0 && e->d_name[0] != '.';
    }
    if (d)
        closedir(d);
    return n;
}

Test(batch, good_and_bad_inputs_report_and_counts)
{
    make_inputs(6);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "r.jsonl", "-j", "2",
        "mask:circle.png", "--", "in", "missing.png");
    cr_assert_eq(r.status, 1, "some failed: %s", r.err);
    /* top level of in/ without -r: 000,001,002,004,005 good; broken.png and missing.png bad;
     * notes.txt is in no format we read: skipped, and listed */
    cr_assert(strstr(r.err, "5 ok, 2 failed, 1 skipped"), "%s", r.err);
    cr_assert(strstr(r.err, "in/broken.png: corrupt PNG"), "%s", r.err);
    cr_assert(strstr(r.err, "missing.png: cannot open"), "%s", r.err);
    cr_assert_eq(count_files("out", ".png"), 5);
    cr_assert_eq(temp_files(at(dir, "out")), 0);
    size_t n;
    char *rep = (char *)slurp(at(dir, "r.jsonl"), &n);
    cr_assert(rep);
    rep = realloc(rep, n + 1);
    rep[n] = '\0';
    cr_assert_eq(lines(rep), 8);
    cr_assert(strstr(rep, "{\"input\":\"in/notes.txt\",\"output\":null,\"status\":\"skipped\","
                          "\"error\":\"not in a format hadamard reads\""), "%s", rep);
    cr_assert(strstr(rep, "{\"input\":\"in/000.png\",\"output\":\"out/000.png\",\"status\":\"ok\","
                          "\"error\":null,\"milliseconds\":"), "%s", rep);
    cr_assert(strstr(rep, "\"input\":\"in/broken.png\",\"output\":\"out/broken.png\","
                          "\"status\":\"failed\",\"error\":\"in/broken.png: corrupt PNG"), "%s", rep);
    free(rep);
    /* the outputs are the same as the single command's */
    CLI(&r, dir, "mask", "in/000.png", "circle.png", "-o", "single.png");
    size_t n1, n2;
    unsigned char *a = slurp(at(dir, "single.png"), &n1), *b = slurp(at(dir, "out/000.png"), &n2);
    cr_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
}

Test(batch, all_ok_exits_0_and_jobs_do_not_change_output)
{
    make_inputs(8);
    remove(at(dir, "in/broken.png"));
    CLI(&r, dir, "batch", "--out-dir", "o1", "-j", "1", "-r", "mask:circle.png:invert", "--",
        "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "o2", "--jobs", "4", "-r", "mask:circle.png:invert", "--",
        "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    for (int i = 0; i < 8; i++) {
        char name[32];
        snprintf(name, sizeof name, "%03d.png", i);
        size_t n1, n2;
        char p1[64], p2[64];
        snprintf(p1, sizeof p1, "o1/%s", name);
        snprintf(p2, sizeof p2, "o2/%s", name);
        unsigned char *a = slurp(at(dir, p1), &n1);
        unsigned char *b = slurp(at(dir, p2), &n2);
        cr_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0, "%s differs", name);
        free(a);
        free(b);
    }
}

Test(batch, name_template_dir_and_format)
{
    make_inputs(4);
    remove(at(dir, "in/broken.png"));
    CLI(&r, dir, "batch", "--out-dir", "out", "-r", "--name", "{dir}/{stem}-masked.{ext}",
        "--format", "jpg", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "out/000-masked.jpg"));
    cr_assert(exists(dir, "out/sub/003-masked.jpg"), "{dir} keeps the tree");
    hdm_info info;
    cr_assert_eq(hdm_info_read(at(dir, "out/sub/003-masked.jpg"), NULL, &info, NULL), HDM_OK);
    cr_assert_eq(info.format, HDM_FORMAT_JPEG);
}

Test(batch, stdin_list)
{
    make_inputs(3);
    put("list.txt", "in/000.png\nin/002.png\n");
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd %s && %s/hadamard batch --out-dir out -q mul:circle.png -- - "
             "< list.txt", dir, HDM_BINARY_DIR);
    cr_assert_eq(system(cmd), 0);
    cr_assert_eq(count_files("out", ".png"), 2);
    cr_assert(exists(dir, "out/002.png"));
}

/* A file of the scratch directory as a string. */
static char *report_inputs(const char *name)
{
    size_t n;
    char *rep = (char *)slurp(at(dir, name), &n);
    cr_assert(rep, "no report %s", name);
    rep = realloc(rep, n + 1);
    rep[n] = '\0';
    return rep;
}

/* --resume trusts an output only if its own record says this recipe made it from this input
 * and the file there is still the one it made. Everything else is redone. */
Test(batch, resume_trusts_only_its_own_records)
{
    make_inputs(7);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "mask:circle.png", "--", "in");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "6 ok, 0 failed, 0 skipped"), "%s", r.err);
    struct stat kept;
    cr_assert_eq(stat(at(dir, "out/002.png"), &kept), 0);
    size_t nk;
    unsigned char *kb = slurp(at(dir, "out/002.png"), &nk);
    put("out/000.png", "");                                   /* emptied: redone */
    remove(at(dir, "out/001.png"));
    copy_sample(dir, "gradient.png");                         /* a foreign whole image: redone */
    rename(at(dir, "gradient.png"), at(dir, "out/001.png"));
    struct timespec later[2] = {{0, UTIME_OMIT}, {1000000000, 0}};
    cr_assert_eq(utimensat(AT_FDCWD, at(dir, "in/004.png"), later, 0), 0); /* input changed */
    remove(at(dir, "out/005.png"));                           /* gone: redone */
    remove(at(dir, "out/006.png"));
    mkdir(at(dir, "out/006.png"), 0755);                      /* a directory: redone, fails */
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "--report", "r.jsonl",
        "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "4 ok, 1 failed, 1 skipped"), "%s", r.err);
    char *rep = report_inputs("r.jsonl");
    cr_assert(strstr(rep, "{\"input\":\"in/002.png\",\"output\":\"out/002.png\",\"status\":"
                          "\"skipped\",\"error\":\"done before (--resume)\""), "%s", rep);
    free(rep);
    struct stat now_st;
    cr_assert_eq(stat(at(dir, "out/002.png"), &now_st), 0);
    cr_assert(now_st.st_ino == kept.st_ino && now_st.st_mtim.tv_nsec == kept.st_mtim.tv_nsec,
              "a trusted output is not rewritten");
    size_t n1, n2;
    unsigned char *a = slurp(at(dir, "out/001.png"), &n1), *b = slurp(at(dir, "out/002.png"), &n2);
    cr_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0, "the foreign file was redone");
    cr_assert(n2 == nk && memcmp(b, kb, nk) == 0);
    free(a);
    free(b);
    free(kb);
    /* two inputs swapped by renames keep every size and time but not their inodes: redone,
     * as is an output written over and touched back to its old time */
    CLI(&r, dir, "batch", "-q", "--out-dir", "sw", "--resume", "mask:circle.png", "--",
        "in/001.png", "in/002.png");
    cli_expect_ok(&r);
    cr_assert_eq(rename(at(dir, "in/001.png"), at(dir, "swap.png")), 0);
    cr_assert_eq(rename(at(dir, "in/002.png"), at(dir, "in/001.png")), 0);
    cr_assert_eq(rename(at(dir, "swap.png"), at(dir, "in/002.png")), 0);
    CLI(&r, dir, "batch", "--out-dir", "sw", "--resume", "mask:circle.png", "--", "in/001.png",
        "in/002.png");
    cr_assert(strstr(r.err, "2 ok, 0 failed, 0 skipped"), "swapped inputs are redone: %s",
              r.err);
    struct stat old_out;
    cr_assert_eq(stat(at(dir, "sw/001.png"), &old_out), 0);
    put("sw/001.png", "scribbled over");
    struct timespec back[2] = {old_out.st_atim, old_out.st_mtim};
    cr_assert_eq(utimensat(AT_FDCWD, at(dir, "sw/001.png"), back, 0), 0);
    /* same size, same time, other bytes */
    cr_assert_eq(truncate(at(dir, "sw/001.png"), old_out.st_size), 0);
    cr_assert_eq(utimensat(AT_FDCWD, at(dir, "sw/001.png"), back, 0), 0);
    CLI(&r, dir, "batch", "--out-dir", "sw", "--resume", "mask:circle.png", "--", "in/001.png",
        "in/002.png");
    cr_assert(strstr(r.err, "1 ok, 0 failed, 1 skipped"), "a rewritten output is redone: %s",
              r.err);
    /* another step list (or option, or a changed operand) trusts none of these records */
    CLI(&r, dir, "batch", "-q", "--out-dir", "out", "--resume", "mask:circle.png:invert", "--",
        "in");
    cr_assert_eq(r.status, 1, "%s", r.err); /* out/006.png is still a directory */
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "--png-level", "1", "mask:circle.png",
        "--", "in");
    cr_assert(strstr(r.err, "5 ok, 1 failed, 0 skipped"), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "--png-level", "1", "mask:circle.png",
        "--", "in");
    cr_assert(strstr(r.err, "0 ok, 1 failed, 5 skipped"), "%s", r.err);
    struct timespec touch[2] = {{0, UTIME_OMIT}, {0, UTIME_NOW}};
    cr_assert_eq(utimensat(AT_FDCWD, at(dir, "circle.png"), touch, 0), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "--png-level", "1", "mask:circle.png",
        "--", "in");
    cr_assert(strstr(r.err, "5 ok, 1 failed, 0 skipped"), "a changed operand: %s", r.err);
}

/* A record cut short or changed is not trusted; a file of that name that is not ours is left
 * alone (said once), and the batch goes on. */
Test(batch, resume_records_that_are_damaged_or_foreign)
{
    make_inputs(3);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    CLI(&r, dir, "batch", "-q", "--out-dir", "out", "--resume", "mask:circle.png", "--", "in");
    cli_expect_ok(&r);
    size_t n;
    char *log = report_inputs("out/.hadamard-resume-0-of-1");
    n = strlen(log);
    cr_assert(n > 40 && strncmp(log, "hadamard resume records v2\n", 27) == 0);
    char *second = strchr(strchr(log, '\n') + 1, '\n') + 1; /* the second record */
    char *end = strchr(second, '\n');
    cr_assert(end);
    second[(end - second) / 2] ^= 1; /* changed */
    n -= 5;                                                  /* and the last one cut short */
    FILE *f = fopen(at(dir, "out/.hadamard-resume-0-of-1"), "wb");
    fwrite(log, 1, n, f);
    fclose(f);
    free(log);
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "mask:circle.png", "--", "in");
    cli_expect_ok(&r);
    cr_assert(strstr(r.err, "2 ok, 0 failed, 1 skipped"), "%s", r.err);
    /* redone files are recorded again: now all three are trusted */
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "mask:circle.png", "--", "in");
    cr_assert(strstr(r.err, "0 ok, 0 failed, 3 skipped"), "%s", r.err);

    /* a record file cut short before its header was whole (a kill, a crash) is ours */
    mkdir(at(dir, "o3"), 0755);
    put("o3/.hadamard-resume-0-of-1", "hadamard res");
    CLI(&r, dir, "batch", "--out-dir", "o3", "--resume", "mask:circle.png", "--", "in");
    cr_assert(strstr(r.err, "3 ok, 0 failed, 0 skipped"), "%s", r.err);
    cr_assert(!strstr(r.err, "cannot record"), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "o3", "--resume", "mask:circle.png", "--", "in");
    cr_assert(strstr(r.err, "0 ok, 0 failed, 3 skipped"), "%s", r.err);
    /* the report may not be the records */
    CLI(&r, dir, "batch", "--out-dir", "o3", "--report", "o3/.hadamard-resume-0-of-1",
        "mask:circle.png", "--", "in");
    CLI_REFUSED(&r, 2, "the report would overwrite --resume's records");

    mkdir(at(dir, "o2"), 0755);
    put("o2/.hadamard-resume-0-of-1", "my own notes\n");
    CLI(&r, dir, "batch", "--out-dir", "o2", "--resume", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: o2/.hadamard-resume-0-of-1: cannot record finished "
                            "outputs: a file there is not hadamard's record; left alone"),
              "%s", r.err);
    char *notes = (char *)slurp(at(dir, "o2/.hadamard-resume-0-of-1"), &n);
    cr_assert(notes && n == 13 && memcmp(notes, "my own notes\n", 13) == 0, "left alone");
    free(notes);
}

/* Reruns with changing step lists do not grow the records without end: once most lines are
 * superseded, the shard's file is rewritten with the last record of each output. */
Test(batch, resume_records_stay_bounded)
{
    make_inputs(3);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    for (int i = 0; i < 40; i++) {
        CLI(&r, dir, "batch", "-q", "--out-dir", "out", "--resume",
            i % 2 ? "mask:circle.png:invert" : "mask:circle.png", "--", "in");
        cli_expect_ok(&r);
    }
    char *log = report_inputs("out/.hadamard-resume-0-of-1");
    int n = lines(log);
    free(log);
    /* 120 records were written; at most 2 per output beyond 64 lines are kept */
    cr_assert(n >= 4 && n <= 1 + 2 * 3 + 64 + 3, "%d lines", n);
    CLI(&r, dir, "batch", "--out-dir", "out", "--resume", "mask:circle.png:invert", "--", "in");
    cr_assert(strstr(r.err, "0 ok, 0 failed, 3 skipped"), "the kept records still count: %s",
              r.err);
}

/* Shards by a hash of each file's path below its root: every input in exactly one shard. */
Test(batch, shards_partition_the_inputs)
{
    make_inputs(13);
    remove(at(dir, "in/broken.png"));
    int total = 0;
    for (int k = 0; k < 3; k++) {
        char shard[16], out[16];
        snprintf(shard, sizeof shard, "%d/3", k);
        snprintf(out, sizeof out, "s%d", k);
        CLI(&r, dir, "batch", "--out-dir", out, "--shard", shard, "-r", "-q",
            "--name", "{dir}_{stem}.{ext}", "mask:circle.png", "--", "in");
        cr_assert_eq(r.status, 0, "%s", r.err);
        total += count_files(out, ".png");
    }
    cr_assert_eq(total, 13, "every input exactly once");
    for (int i = 0; i < 13; i++) {
        char name[64];
        int hits = 0;
        for (int k = 0; k < 3; k++) {
            snprintf(name, sizeof name, "s%d/%s_%03d.png", k, i % 4 == 3 ? "sub" : "", i);
            hits += exists(dir, name);
        }
        cr_assert_eq(hits, 1, "input %d is in %d shards", i, hits);
    }
}

/* 10,000 names over 4 shards: each within 5% of a quarter, each name in exactly one. */
Test(batch, shards_split_evenly_by_name)
{
    enum { N = 10000, K = 4 };
    char *list = malloc((size_t)N * 16 + 1); /* 16 characters a name, and sprintf's NUL */
    size_t len = 0;
    for (int i = 0; i < N; i++)
        len += (size_t)sprintf(list + len, "p/img_%05d.png\n", i);
    static unsigned char seen[N];
    memset(seen, 0, sizeof seen);
    for (int k = 0; k < K; k++) {
        char shard[16], rep[32];
        snprintf(shard, sizeof shard, "%d/%d", k, K);
        snprintf(rep, sizeof rep, "r%d.jsonl", k);
        cli_opts o = {.in = list, .in_len = len};
        CLI_WITH(&r, dir, &o, "batch", "-q", "--out-dir", "out", "--shard", shard, "--report",
                 rep, "mask:circle.png", "--", "-");
        cr_assert_eq(r.status, 1, "every named file is missing: %s", r.err);
        char *text = report_inputs(rep);
        int count = 0;
        for (char *p = strstr(text, "\"input\":\"p/img_"); p; p = strstr(p + 1, "\"input\":\"p/img_")) {
            int i = atoi(p + 15);
            cr_assert(i >= 0 && i < N);
            cr_assert_eq(seen[i]++, 0, "img_%05d in two shards", i);
            count++;
        }
        free(text);
        cr_assert(count > N / K * 95 / 100 && count < N / K * 105 / 100,
                  "shard %d has %d of %d", k, count, N);
    }
    for (int i = 0; i < N; i++)
        cr_assert_eq(seen[i], 1, "img_%05d in no shard", i);
    free(list);
}

/* A file that arrives between two machines' listings changes no other file's shard, and is
 * taken by exactly one shard. */
Test(batch, a_new_file_moves_no_other_file)
{
    make_inputs(12);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    char *before[3], *after[3];
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            size_t n;
            unsigned char *b = slurp(at(dir, "in/000.png"), &n);
            FILE *f = fopen(at(dir, "in/sub/late.png"), "wb");
            fwrite(b, 1, n, f);
            fclose(f);
            free(b);
        }
        for (int k = 0; k < 3; k++) {
            char shard[16], rep[32];
            snprintf(shard, sizeof shard, "%d/3", k);
            snprintf(rep, sizeof rep, "r%d-%d.jsonl", pass, k);
            CLI(&r, dir, "batch", "-q", "--out-dir", pass ? "o1" : "o0", "--shard", shard, "-r",
                "--report", rep, "mask:circle.png", "--", "in");
            cli_expect_ok(&r);
            (pass ? after : before)[k] = report_inputs(rep);
        }
    }
    int late = 0;
    for (int i = 0; i < 12; i++) {
        char q[64];
        snprintf(q, sizeof q, "\"input\":\"in/%s%03d.png\"", i % 4 == 3 ? "sub/" : "", i);
        for (int k = 0; k < 3; k++)
            cr_assert_eq(strstr(before[k], q) != NULL, strstr(after[k], q) != NULL,
                         "%s moved when a file arrived", q);
    }
    for (int k = 0; k < 3; k++) {
        late += strstr(after[k], "\"input\":\"in/sub/late.png\"") != NULL;
        free(before[k]);
        free(after[k]);
    }
    cr_assert_eq(late, 1, "the new file is taken by exactly one shard");
}

Test(batch, two_inputs_one_output_is_refused_before_work)
{
    make_inputs(4);
    CLI(&r, dir, "batch", "--out-dir", "out", "-r", "--name", "x.png", "mask:circle.png", "--",
        "in");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "would both be written to out/x.png"), "%s", r.err);
    cr_assert(!exists(dir, "out/x.png"));
}

Test(batch, usage_errors)
{
    make_inputs(1);
    CLI(&r, dir, "batch", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--out-dir"));
    CLI(&r, dir, "batch", "--out-dir", "o", "mask:circle.png", "in");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "STEP... -- INPUT..."), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "o", "--shard", "3/3", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--shard needs K/N"), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "o", "--format", "gif", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2);
    CLI(&r, dir, "batch", "--out-dir", "o", "mask:circle.png:wat", "--", "in");
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "unexpected field 'wat'"), "%s", r.err);
}

/* An out-dir that is a file, or goes through one, is one usage error before any work. */
Test(batch, out_dir_that_is_a_file_is_one_usage_error)
{
    make_inputs(3);
    put("blocker", "a file where a directory should be");
    CLI(&r, dir, "batch", "--out-dir", "blocker/out", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "blocker/out: --out-dir goes through a file"), "%s", r.err);
    cr_assert_eq(lines(r.err), 1, "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "blocker", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "blocker: --out-dir is not a directory"), "%s", r.err);
    cr_assert_eq(lines(r.err), 1, "%s", r.err);
}

/* Killed with SIGKILL mid-way, a batch leaves only whole outputs; --resume completes the set. */
Test(batch, sigkill_leaves_only_whole_outputs)
{
    make_inputs(40);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    cli_child c;
    CLI_START(&c, dir, NULL, "batch", "--out-dir", "out", "-r", "-j", "2", "--png-level", "9",
              "--resume", "mask:circle.png", "--", "in");
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(c.pid, SIGKILL);
    cli_finish(&c, &r);
    cr_assert_eq(temp_files(at(dir, "out")), 0, "no temporary survives a kill");
    /* every output present decodes whole */
    DIR *d = opendir(at(dir, "out"));
    struct dirent *e;
    int whole = 0;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512];
        snprintf(p, sizeof p, "out/%s", e->d_name);
        hdm_image *img;
        cr_assert_eq(hdm_load(at(dir, p), NULL, &img, NULL), HDM_OK, "%s is not whole", p);
        hdm_image_free(img);
        whole++;
    }
    if (d)
        closedir(d);
    cr_assert_lt(whole, 40, "the kill came mid-way (%d done)", whole);
    CLI(&r, dir, "batch", "--out-dir", "out", "-r", "-j", "2", "--png-level", "9", "--resume",
        "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(count_files("out", ".png"), 40);
    /* what was done is not done again: at most the two files in flight when the kill came
     * (written, not yet recorded) are redone */
    int ok = -1, skipped = -1;
    const char *sum = strstr(r.err, "batch: ");
    cr_assert(sum && sscanf(sum, "batch: %d ok, 0 failed, %d skipped", &ok, &skipped) == 2,
              "%s", r.err);
    cr_assert_eq(ok + skipped, 40, "%s", r.err);
    cr_assert(skipped >= whole - 2, "%d of %d whole outputs trusted", skipped, whole);
}


/* ---- hostile cases: each under a timeout, so a hang fails ---- */

static char *read_text(const char *name)
{
    size_t n = 0;
    char *s = (char *)slurp(at(dir, name), &n);
    if (!s)
        return NULL;
    s = realloc(s, n + 1);
    s[n] = '\0';
    return s;
}

/* 1. Directory symlinks that loop: each real directory is walked once. */
Test(batch, symlink_loops_are_walked_once)
{
    make_inputs(8); /* 000..007, 003 and 007 in sub/ */
    remove(at(dir, "in/broken.png"));
    cr_assert_eq(symlink(".", at(dir, "in/l1")), 0);
    cr_assert_eq(symlink(".", at(dir, "in/l2")), 0);
    cr_assert_eq(symlink("..", at(dir, "in/sub/up")), 0);
    cr_assert_eq(symlink("sub", at(dir, "in/sub-again")), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "-r", "--name", "{dir}/{stem}.{ext}",
        "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "8 ok, 0 failed, 1 skipped"), "each file once: %s", r.err);
}

/* 1, 11. SIGTERM while the inputs are still being gathered (here: a list on stdin that never
 * ends) stops at once with 130. */
Test(batch, sigterm_while_gathering_stops_promptly)
{
    make_inputs(1);
    int p[2];
    cr_assert_eq(pipe(p), 0);
    cli_child c;
    CLI_START(&c, dir, &(cli_opts){.in_fd = p[0]}, "batch", "--out-dir", "out", "mask:circle.png",
              "--", "-");
    close(p[0]);
    cr_assert(write(p[1], "in/000.png\n", 11) == 11);
    struct timespec ts = {0, 200 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(c.pid, SIGTERM);
    cli_finish(&c, &r);
    cr_assert_eq(r.status, 130);
    close(p[1]);
    cr_assert(!exists(dir, "out/000.png"), "no work after the signal");
}

/* 2. An output that is another input (or an operand) is refused before any work. */
Test(batch, output_over_an_input_or_operand_is_refused)
{
    make_inputs(2);
    copy_sample(dir, "photo.png");
    rename(at(dir, "photo.png"), at(dir, "in/a.png"));
    copy_sample(dir, "gradient.png");
    rename(at(dir, "gradient.png"), at(dir, "in/a2.png"));
    size_t n0;
    unsigned char *before = slurp(at(dir, "in/a2.png"), &n0);
    CLI(&r, dir, "batch", "--out-dir", "in", "--name", "{stem}2.{ext}", "mask:circle.png", "--",
        "in/a.png", "in/a2.png");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(lines(r.err), 1, "%s", r.err);
    cr_assert(strstr(r.err, "in/a2.png: the output of in/a.png would overwrite an input"), "%s",
              r.err);
    size_t n1;
    unsigned char *after = slurp(at(dir, "in/a2.png"), &n1);
    cr_assert(after && n0 == n1 && memcmp(before, after, n0) == 0, "the input is untouched");
    cr_assert(!exists(dir, "in/a22.png"), "no work was done");
    free(before);
    free(after);
    /* an operand of the steps */
    CLI(&r, dir, "batch", "--out-dir", ".", "--name", "circle.png", "mask:circle.png", "--",
        "in/000.png");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "would overwrite an operand of the steps"), "%s", r.err);
    /* a blend's mask, given as a NAME=FILE field, is an operand too */
    CLI(&r, dir, "batch", "--out-dir", ".", "--name", "circle.png", "blend:photo.png:mask=circle.png",
        "--", "in/000.png");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "would overwrite an operand of the steps"), "%s", r.err);
    /* an output not there yet, spelled another way than an input named after it */
    CLI(&r, dir, "batch", "--out-dir", "in", "--name", "{stem}2.{ext}", "mask:circle.png", "--",
        "in/000.png", "./in/../in/0002.png");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(!exists(dir, "in/0002.png"));
}

/* 3. The report: never over an input, operand or output, never a directory; its directory is
 * checked before any work. */
Test(batch, report_path_is_checked_before_work)
{
    make_inputs(2);
    remove(at(dir, "in/broken.png"));
    size_t n0;
    unsigned char *before = slurp(at(dir, "in/000.png"), &n0);
    const char *bad[] = {"in/000.png", "circle.png", "out/001.png", "in", "nodir/r.jsonl"};
    const char *why[] = {"would overwrite an input", "would overwrite an operand",
                         "would overwrite an output", "is a directory",
                         "nodir/r.jsonl: cannot write the report"};
    for (int i = 0; i < 5; i++) {
        CLI(&r, dir, "batch", "--out-dir", "out", "--report", bad[i], "mask:circle.png", "--",
            "in");
        cr_assert_eq(r.status, 2, "%s: %s", bad[i], r.err);
        cr_assert_eq(lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, why[i]), "%s: %s", bad[i], r.err);
        cr_assert(!exists(dir, "out"), "no work before the refusal (%s)", bad[i]);
    }
    size_t n1;
    unsigned char *after = slurp(at(dir, "in/000.png"), &n1);
    cr_assert(after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(before);
    free(after);
    cr_assert_eq(temp_files(dir), 0);
}

/* 3. A report that cannot be written whole (the file-size limit, as a full disk would) leaves
 * the old report as it was, no temporary, and a message naming the report. */
Test(batch, report_write_failure_keeps_the_old_report)
{
    put("r.jsonl", "{\"old\":true}\n");
    FILE *f = fopen(at(dir, "list.txt"), "w");
    cr_assert(f);
    for (int i = 0; i < 200; i++) /* 200 missing files: 200 long failure lines, no outputs */
        fprintf(f, "missing/file-with-a-rather-long-name-%03d.png\n", i);
    fclose(f);
    copy_sample(dir, "circle.png");
    int in = open(at(dir, "list.txt"), O_RDONLY);
    cli_opts limited = {.in_fd = in, .fsize = 4096};
    CLI_WITH(&r, dir, &limited, "batch", "--out-dir", "out", "--report", "r.jsonl", "-q",
             "mask:circle.png", "--", "-");
    close(in);
    cr_assert_eq(r.status, 1);
    const char *err = r.err;
    cr_assert(strstr(err, "r.jsonl: cannot write the report: File too large (any earlier "
                          "report there is unchanged)"), "%s", err);
    char *rep = read_text("r.jsonl");
    cr_assert_str_eq(rep, "{\"old\":true}\n");
    free(rep);
    cr_assert_eq(temp_files(dir), 0);
    /* without the limit the same report is written, and replaces the old one */
    in = open(at(dir, "list.txt"), O_RDONLY);
    CLI_WITH(&r, dir, &(cli_opts){.in_fd = in}, "batch", "--out-dir", "out", "--report",
             "r.jsonl", "-q", "mask:circle.png", "--", "-");
    close(in);
    cr_assert_eq(r.status, 1);
    rep = read_text("r.jsonl");
    cr_assert_eq(lines(rep), 200);
    free(rep);
}

/* 4. Two inputs that write one output are refused in every shard, not only when one shard
 * holds both. */
Test(batch, shard_collisions_are_found_over_every_shard)
{
    make_inputs(4); /* 000 001 002 at the top, 003 in sub/ */
    copy_sample(dir, "circle.png");
    cr_assert_eq(rename(at(dir, "circle.png"), at(dir, "in/sub/000.png")), 0);
    copy_sample(dir, "circle.png");
    remove(at(dir, "in/broken.png"));
    for (int k = 0; k < 2; k++) {
        char shard[8];
        snprintf(shard, sizeof shard, "%d/2", k);
        CLI(&r, dir, "batch", "--out-dir", "out", "-r", "--shard", shard, "mask:circle.png",
            "--", "in");
        cr_assert_eq(r.status, 2, "shard %s: %s", shard, r.err);
        cr_assert(strstr(r.err, "in/000.png and in/sub/000.png would both be written to "
                                "out/000.png (add {dir} to --name"), "%s", r.err);
        cr_assert(!exists(dir, "out/001.png"));
    }
}

/* 5. --out-dir that is an input root: the root is walked, its outputs are not inputs. */
Test(batch, out_dir_inside_the_input_tree)
{
    make_inputs(3);
    remove(at(dir, "in/broken.png"));
    CLI(&r, dir, "batch", "--out-dir", "in", "--name", "{stem}-m.{ext}", "mask:circle.png",
        "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "3 ok, 0 failed, 1 skipped"), "%s", r.err);
    cr_assert(exists(dir, "in/000-m.png") && exists(dir, "in/002-m.png"));
    /* again: the outputs are found but skipped, never masked twice */
    CLI(&r, dir, "batch", "--out-dir", "in", "--name", "{stem}-m.{ext}", "mask:circle.png",
        "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "3 ok, 0 failed, 4 skipped"), "%s", r.err);
    cr_assert(!exists(dir, "in/000-m-m.png"));
    /* an input that would be its own output is refused, not skipped */
    CLI(&r, dir, "batch", "--out-dir", "in", "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "would overwrite an input of this batch"), "%s", r.err);
    /* strictly below the root: that subtree is not walked */
    for (int run = 0; run < 2; run++) {
        CLI(&r, dir, "batch", "--out-dir", "in/sub/out", "-r", "mask:circle.png", "--", "in");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.err, "6 ok, 0 failed, 1 skipped"), "run %d: %s", run, r.err);
    }
    cr_assert(exists(dir, "in/sub/out/000-m.png"));
}

/* 6. Inputs are chosen by their first bytes: no extension, any extension; hidden files and
 * our temporaries never; a file in no format we read is skipped and listed with the reason. */
Test(batch, inputs_are_selected_by_content)
{
    make_inputs(1);
    remove(at(dir, "in/broken.png"));
    CLI(&r, dir, "mask", "in/000.png", "circle.png", "-o", "j.jpg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_eq(rename(at(dir, "j.jpg"), at(dir, "in/photo.jpe")), 0);
    size_t n;
    unsigned char *png = slurp(at(dir, "in/000.png"), &n);
    const char *copies[] = {"in/noext", "in/.hidden.png", "in/y.png.hadamard-tmp-1",
                            "in/fake.png"};
    for (int i = 0; i < 4; i++) {
        FILE *f = fopen(at(dir, copies[i]), "wb");
        fwrite(png, 1, n, f);
        fclose(f);
    }
    free(png);
    put("in/fake.png", "a PNG name, no image"); /* (an empty one fails: see below) */
    CLI(&r, dir, "batch", "--out-dir", "out", "--format", "png", "--report", "r.jsonl",
        "mask:circle.png", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "3 ok, 0 failed, 2 skipped"), "%s", r.err);
    cr_assert(exists(dir, "out/noext.png") && exists(dir, "out/photo.png") &&
              exists(dir, "out/000.png"));
    cr_assert(!exists(dir, "out/.hidden.png") && !exists(dir, "out/y.png"));
    char *rep = read_text("r.jsonl");
    cr_assert_eq(lines(rep), 5, "%s", rep);
    cr_assert(strstr(rep, "\"input\":\"in/fake.png\",\"output\":null,\"status\":\"skipped\","
                          "\"error\":\"not in a format hadamard reads\""), "%s", rep);
    cr_assert(!strstr(rep, "hidden") && !strstr(rep, "hadamard-tmp"), "%s", rep);
    free(rep);
}

/* 7. --name and --format are checked once, before any work. */
Test(batch, name_and_format_are_usage_errors_before_work)
{
    make_inputs(2);
    const char *names[] = {"{stem}.png", "{stem}.xyz", "{stem}", "../{stem}.{ext}", "",
                           "{stem}{ext}"};
    const char *why[] = {"--format jpg and --name '{stem}.png' disagree",
                         "ends in '.xyz', not a format hadamard writes",
                         "gives no extension", "leaves the output directory",
                         "--name is empty", "gives no extension"};
    for (int i = 0; i < 6; i++) {
        CLI(&r, dir, "batch", "--out-dir", "out", "--name", names[i], "--format", "jpg",
            "mask:circle.png", "--", "in");
        cr_assert_eq(r.status, 2, "%s: %s", names[i], r.err);
        cr_assert_eq(lines(r.err), 1, "%s", r.err);
        cr_assert(strstr(r.err, why[i]), "%s: %s", names[i], r.err);
        cr_assert(!exists(dir, "out"));
    }
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{stem}.JPG", "--format", "jpeg",
        "mask:circle.png", "--", "in/000.png");
    cr_assert_eq(r.status, 0, "jpg and jpeg agree: %s", r.err);
    hdm_info info;
    cr_assert_eq(hdm_info_read(at(dir, "out/000.JPG"), NULL, &info, NULL), HDM_OK);
    cr_assert_eq(info.format, HDM_FORMAT_JPEG);
}

/* 7. The collision hint names what the template lacks; {root} tells roots apart. */
Test(batch, collision_hint_and_root_placeholder)
{
    make_inputs(2);
    remove(at(dir, "in/broken.png"));
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{dir}/x.png", "mask:circle.png", "--",
        "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "(add {stem} to --name, or rename one of them)"), "%s", r.err);
    mkdir(at(dir, "in2"), 0755);
    copy_sample(dir, "gradient.png");
    rename(at(dir, "gradient.png"), at(dir, "in2/000.png"));
    CLI(&r, dir, "batch", "--out-dir", "out", "mask:circle.png", "--", "in", "in2");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "(add {root} to --name, or rename one of them)"), "%s", r.err);
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{root}/{stem}.{ext}", "mask:circle.png",
        "--", "in", "in2", "in/../circle.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(exists(dir, "out/in/000.png") && exists(dir, "out/in2/000.png"));
    /* a named file's {root} is its directory's name (here the scratch directory's) */
    const char *base = strrchr(dir, '/') + 1;
    char p[256];
    snprintf(p, sizeof p, "out/%s/circle.png", base);
    cr_assert(exists(dir, p), "%s", p);
}

/* 9. The report is valid JSON whatever bytes the names hold. */
Test(batch, report_is_valid_json_for_any_name)
{
    make_inputs(1);
    remove(at(dir, "in/broken.png"));
    size_t n;
    unsigned char *png = slurp(at(dir, "in/000.png"), &n);
    const char *names[] = {"in/\xff.png", "in/\xc3.png", "in/c\x01\x1f\x7f.png",
                           "in/q\"uo\\te.png", "in/\xed\xa0\x80.png", "in/caf\xc3\xa9.png"};
    for (int i = 0; i < 6; i++) {
        FILE *f = fopen(at(dir, names[i]), "wb");
        cr_assert(f);
        fwrite(png, 1, n, f);
        fclose(f);
    }
    put("in/bad\xfe.txt", "not an image");
    free(png);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "r.jsonl", "mask:circle.png", "--",
        "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import json,sys\n"
             "rows=[json.loads(l) for l in open(sys.argv[1],\"rb\")]\n"
             "assert len(rows)==9, len(rows)\n"
             "for o in rows:\n"
             "  raw=bytes.fromhex(o[\"input_bytes\"]) if \"input_bytes\" in o else o[\"input\"].encode()\n"
             "  assert raw.startswith(b\"in/\"), raw\n"
             "  assert (\"input_bytes\" in o) == (\"\\ufffd\" in o[\"input\"]), o\n"
             "names=set(o[\"input\"] for o in rows)\n"
             "assert \"in/caf\\u00e9.png\" in names and \"in/q\\\"uo\\\\te.png\" in names, names\n"
             "assert \"in/c\\x01\\x1f\\x7f.png\" in names, names\n"
             "' %s/r.jsonl", dir);
    cr_assert_eq(system(cmd), 0, "the report parses as JSON lines");
    char *rep = read_text("r.jsonl");
    cr_assert(strstr(rep, "\"input\":\"in/\xef\xbf\xbd.png\",\"input_bytes\":\"696e2fff2e706e67\""),
              "%s", rep);
    free(rep);
}

/* 10. --null / -0: the - list is NUL-separated, so a name may hold a newline. */
Test(batch, null_separated_list)
{
    make_inputs(3);
    copy_sample(dir, "gradient.png");
    cr_assert_eq(rename(at(dir, "gradient.png"), at(dir, "in/new\nline.png")), 0);
    FILE *f = fopen(at(dir, "list0"), "wb");
    fwrite("in/000.png\0in/new\nline.png\0in/002.png", 1, 38, f);
    fclose(f);
    for (int form = 0; form < 2; form++) {
        int in = open(at(dir, "list0"), O_RDONLY);
        CLI_WITH(&r, dir, &(cli_opts){.in_fd = in}, "batch", "--out-dir", "out",
                 form ? "-0" : "--null", "mask:circle.png", "--", "-");
        close(in);
        cr_assert_eq(r.status, 0);
        const char *err = r.err;
        cr_assert(strstr(err, "3 ok, 0 failed, 0 skipped"), "%s", err);
        cr_assert(exists(dir, "out/new\nline.png"));
    }
    /* an empty entry cannot be a path: refused, naming it, before any work */
    static const char empty[] = "in/000.png\0in/001.png\0\0in/002.png";
    cli_opts eo = {.in = empty, .in_len = sizeof empty - 1, .timeout = 20};
    CLI_WITH(&r, dir, &eo, "batch", "-0", "--out-dir", "o3", "mask:circle.png", "--", "-");
    CLI_REFUSED(&r, 2, "empty entry 3 in the NUL-separated list");
    cr_assert(!exists(dir, "o3"));
    /* the default stays one path a line */
    put("list.txt", "in/001.png\r\n\nin/002.png\n");
    int in = open(at(dir, "list.txt"), O_RDONLY);
    CLI_WITH(&r, dir, &(cli_opts){.in_fd = in}, "batch", "--out-dir", "o2", "mask:circle.png",
             "--", "-");
    close(in);
    cr_assert_eq(r.status, 0);
    cr_assert(exists(dir, "o2/001.png") && exists(dir, "o2/002.png"));
}

/* 11. SIGINT/SIGTERM mid-run: exit 130, files left not run (the report says which), no
 * temporaries. The signal is sent once the first output exists, with hundreds still to go. */
static void interrupt_mid_run(int sig)
{
    enum { N = 300 };
    make_inputs(N);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    cli_child c;
    CLI_START(&c, dir, NULL, "batch", "--out-dir", "out", "-r", "-j", "1", "--png-level", "9",
              "--report", "r.jsonl", "--name", "{stem}.{ext}", "mask:circle.png", "--", "in");
    struct timespec ts = {0, 1000 * 1000};
    for (int i = 0; i < 20000 && count_files("out", ".png") == 0; i++)
        nanosleep(&ts, NULL);
    cr_assert_gt(count_files("out", ".png"), 0, "the batch started");
    kill(c.pid, sig);
    cli_finish(&c, &r);
    cr_assert_eq(r.status, 130);
    int done = count_files("out", ".png");
    cr_assert_lt(done, N, "it stopped early (%d done)", done);
    cr_assert_eq(temp_files(at(dir, "out")), 0);
    const char *err = r.err;
    char want[64];
    snprintf(want, sizeof want, "%d ok, 0 failed, 0 skipped, %d not run (interrupted)", done,
             N - done);
    cr_assert(strstr(err, want), "want '%s' in %s", want, err);
    char *rep = read_text("r.jsonl");
    cr_assert(rep && lines(rep) == N);
    int not_run = 0;
    for (char *s = rep; (s = strstr(s, "\"status\":\"not-run\"")); s++)
        not_run++;
    cr_assert_eq(not_run, N - done);
    free(rep);
}

Test(batch, sigint_stops_early_and_cleanly) { interrupt_mid_run(SIGINT); }
Test(batch, sigterm_stops_early_and_cleanly) { interrupt_mid_run(SIGTERM); }

/* ---- the stdin list is untrusted: bounded entries, bounded total, no silent stop ---- */

static void same_file(const char *name, const unsigned char *old, size_t n)
{
    size_t m;
    unsigned char *now_ = slurp(at(dir, name), &m);
    cr_assert(now_ && m == n && memcmp(now_, old, n) == 0, "%s was changed", name);
    free(now_);
}

Test(batch, list_from_dev_zero_ends_as_a_usage_error)
{
    copy_sample(dir, "photo.png");
    for (int nul = 0; nul < 2; nul++) {
        int fd = open("/dev/zero", O_RDONLY);
        cr_assert(fd >= 0);
        cli_opts o = {.in_fd = fd, .timeout = 20};
        time_t t0 = time(NULL);
        if (nul)
            CLI_WITH(&r, dir, &o, "batch", "-0", "--out-dir", "out", "filter:box:1", "--", "-");
        else
            CLI_WITH(&r, dir, &o, "batch", "--out-dir", "out", "filter:box:1", "--", "-");
        close(fd);
        cr_assert(time(NULL) - t0 < 10, "took %ld s", (long)(time(NULL) - t0));
        cr_assert_lt(r.maxrss_kb, 256 * 1024, "the list is read in bounded memory");
        if (nul)
            CLI_REFUSED(&r, 2, "-: ", "empty entry 1 in the NUL-separated list");
        else
            CLI_REFUSED(&r, 2, "-: ", "line 1 of the list", "PATH_MAX");
        cr_assert(!exists(dir, "out"), "no work before the refusal");
    }
}

Test(batch, list_long_line_or_nul_inside_is_a_usage_error)
{
    make_inputs(2);
    char *list = malloc(6000);
    cr_assert(list);
    int n = snprintf(list, 6000, "in/000.png\n");
    memset(list + n, 'a', 5000);
    n += 5000;
    list[n++] = '\n';
    cli_opts o = {.in = list, .in_len = (size_t)n, .timeout = 20};
    CLI_WITH(&r, dir, &o, "batch", "--out-dir", "out", "filter:box:1", "--", "-");
    CLI_REFUSED(&r, 2, "-: ", "line 2 of the list", "PATH_MAX");
    cr_assert(!exists(dir, "out"));
    /* a NUL inside a line of a newline list is no path: refused, not dropped */
    static const char nul_line[] = "in/000.png\nin/0\0001.png\n";
    o = (cli_opts){.in = nul_line, .in_len = sizeof nul_line - 1, .timeout = 20};
    CLI_WITH(&r, dir, &o, "batch", "--out-dir", "out", "filter:box:1", "--", "-");
    CLI_REFUSED(&r, 2, "-: ", "line 2", "NUL byte", "-0");
    cr_assert(!exists(dir, "out"));
    free(list);
}

Test(batch, list_blank_lines_are_ignored_but_bounded)
{
    make_inputs(2);
    static const char blanks[] = "\n\nin/000.png\n\r\n\n";
    cli_opts o = {.in = blanks, .in_len = sizeof blanks - 1, .timeout = 20};
    CLI_WITH(&r, dir, &o, "batch", "-q", "--out-dir", "out", "filter:box:1", "--", "-");
    cli_expect_ok(&r);
    cr_assert_eq(count_files("out", ".png"), 1);
    size_t len = 200000;
    char *many = malloc(len);
    cr_assert(many);
    memset(many, '\n', len);
    o = (cli_opts){.in = many, .in_len = len, .timeout = 20};
    CLI_WITH(&r, dir, &o, "batch", "--max-memory", "100000", "--out-dir", "out2",
             "filter:box:1", "--", "-");
    CLI_REFUSED(&r, 2, "-: ", "longer than max_memory (100000 bytes)", "--max-memory");
    cr_assert(!exists(dir, "out2"));
    free(many);
}

Test(batch, list_entry_after_a_failed_one_is_kept)
{
    make_inputs(2);
    static const char list[] = "missing.png\nin/000.png\n";
    cli_opts o = {.in = list, .in_len = sizeof list - 1, .timeout = 20};
    CLI_WITH(&r, dir, &o, "batch", "--out-dir", "out", "--report", "r.jsonl", "filter:box:1",
             "--", "-");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 1 failed, 0 skipped"), "%s", r.err);
    cr_assert(exists(dir, "out/000.png"));
    size_t n;
    char *rep = (char *)slurp(at(dir, "r.jsonl"), &n);
    cr_assert(rep);
    rep = realloc(rep, n + 1);
    rep[n] = '\0';
    cr_assert_eq(lines(rep), 2, "%s", rep);
    cr_assert(strstr(rep, "\"input\":\"missing.png\",\"output\":\"out/missing.png\","
                          "\"status\":\"failed\""), "%s", rep);
    free(rep);
}

/* ---- the report and the outputs never overwrite a kernel file, a gathered file or the list */

Test(batch, report_and_outputs_spare_kernels_skipped_inputs_and_the_list)
{
    make_inputs(2);
    static const char kernel[] = "1,1,1;1,1,1;1,1,1\n";
    put("k.txt", kernel);
    put("k.png", kernel);
    static const char list[] = "in/000.png\n";
    put("list.txt", list);
    put("l.png", list);
    size_t nn;
    unsigned char *notes = slurp(at(dir, "in/notes.txt"), &nn);
    cr_assert(notes);
    const char *steps[] = {"filter:@k.txt", "filter:kernel=@k.txt"};
    for (int i = 0; i < 2; i++) {
        CLI(&r, dir, "batch", "--report", "k.txt", "--out-dir", "out", steps[i], "--",
            "in/000.png");
        CLI_REFUSED(&r, 2, "k.txt: the report would overwrite an operand of the steps");
    }
    CLI(&r, dir, "batch", "--out-dir", ".", "--name", "k.png", "filter:@k.png", "--",
        "in/000.png");
    CLI_REFUSED(&r, 2, "k.png: the output of in/000.png would overwrite an operand");
    same_file("k.txt", (const unsigned char *)kernel, sizeof kernel - 1);
    same_file("k.png", (const unsigned char *)kernel, sizeof kernel - 1);

    /* in/notes.txt is skipped (no image) but gathered: protected like the rest */
    CLI(&r, dir, "batch", "--report", "in/notes.txt", "--out-dir", "out", "filter:box:1", "--",
        "in");
    CLI_REFUSED(&r, 2, "in/notes.txt: the report would overwrite a skipped input");
    same_file("in/notes.txt", notes, nn);
    free(notes);

    for (int k = 0; k < 2; k++) {
        int fd = open(at(dir, k ? "l.png" : "list.txt"), O_RDONLY);
        cr_assert(fd >= 0);
        cli_opts o = {.in_fd = fd, .timeout = 20};
        if (k)
            CLI_WITH(&r, dir, &o, "batch", "--out-dir", ".", "--name", "l.png", "filter:box:1",
                     "--", "-");
        else
            CLI_WITH(&r, dir, &o, "batch", "--report", "list.txt", "--out-dir", "out",
                     "filter:box:1", "--", "-");
        close(fd);
        CLI_REFUSED(&r, 2, k ? "l.png: the output of in/000.png" : "list.txt: the report",
                    "the list on standard input");
    }
    same_file("list.txt", (const unsigned char *)list, sizeof list - 1);
    same_file("l.png", (const unsigned char *)list, sizeof list - 1);
    cr_assert(!exists(dir, "out"), "no work before a refusal");
    cr_assert_eq(temp_files(dir), 0);
}

/* ---- found files that cannot be read fail, each told once; files in no format are skipped */

Test(batch, unreadable_and_empty_found_files_fail)
{
    make_inputs(2);
    remove(at(dir, "in/broken.png"));
    put("in/sub/empty.png", "");
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "r.jsonl", "-r", "filter:box:1", "--",
        "in");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: in/sub/empty.png: empty file\n"), "%s", r.err);
    cr_assert(strstr(r.err, "2 ok, 1 failed, 1 skipped"), "%s", r.err);
    size_t n;
    char *rep = (char *)slurp(at(dir, "r.jsonl"), &n);
    cr_assert(rep);
    rep = realloc(rep, n + 1);
    rep[n] = '\0';
    cr_assert(strstr(rep, "{\"input\":\"in/sub/empty.png\",\"output\":null,\"status\":\"failed\","
                          "\"error\":\"in/sub/empty.png: empty file\""), "%s", rep);
    cr_assert(strstr(rep, "\"input\":\"in/notes.txt\",\"output\":null,\"status\":\"skipped\""),
              "%s", rep);
    free(rep);

    /* unreadable file and directory: root reads anything, so as nobody */
    cr_assert_eq(chmod(dir, 0755), 0);
    copy_sample(dir, "gradient.png");
    rename(at(dir, "gradient.png"), at(dir, "in/secret.png"));
    mkdir(at(dir, "in/locked"), 0755);
    put("in/locked/hidden.png", "x");
    mkdir(at(dir, "w"), 0777);
    cr_assert_eq(chmod(at(dir, "w"), 0777), 0);
    cr_assert_eq(chmod(at(dir, "in/secret.png"), 0), 0);
    cr_assert_eq(chmod(at(dir, "in/locked"), 0), 0);
    cli_opts o = {.uid = CLI_NOBODY, .timeout = 60};
    CLI_WITH(&r, dir, &o, "batch", "--out-dir", "w/out", "--report", "w/r.jsonl", "-r",
             "filter:box:1", "--", "in");
    chmod(at(dir, "in/locked"), 0755); /* so the scratch directory can be removed */
    if (cli_skipped(&r))
        CLI_CANNOT(cli_cannot_here(&o), "unreadable part: cannot become nobody");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: in/secret.png: cannot read: Permission denied\n"), "%s",
              r.err);
    cr_assert(strstr(r.err, "hadamard: in/locked: cannot read directory: Permission denied\n"),
              "%s", r.err);
    cr_assert(strstr(r.err, "2 ok, 3 failed, 1 skipped"), "%s", r.err);
    cr_assert_eq(lines(r.err), 4, "one line each and the summary: %s", r.err);
    rep = (char *)slurp(at(dir, "w/r.jsonl"), &n);
    cr_assert(rep);
    rep = realloc(rep, n + 1);
    rep[n] = '\0';
    cr_assert(strstr(rep, "{\"input\":\"in/locked\",\"output\":null,\"status\":\"failed\","
                          "\"error\":\"in/locked: cannot read directory: Permission denied\""),
              "%s", rep);
    cr_assert(strstr(rep, "{\"input\":\"in/secret.png\",\"output\":null,\"status\":\"failed\","
                          "\"error\":\"in/secret.png: cannot read: Permission denied\""),
              "%s", rep);
    free(rep);
}

Test(batch, report_keeps_its_mode_and_owner)
{
    make_inputs(1);
    put("r.jsonl", "old\n");
    cr_assert_eq(chmod(at(dir, "r.jsonl"), 0600), 0);
    bool root = geteuid() == 0;
    if (root)
        cr_assert_eq(chown(at(dir, "r.jsonl"), CLI_NOBODY, CLI_NOBODY), 0);
    CLI(&r, dir, "batch", "-q", "--out-dir", "out", "--report", "r.jsonl", "filter:box:1", "--",
        "in/000.png");
    cli_expect_ok(&r);
    struct stat st;
    cr_assert_eq(stat(at(dir, "r.jsonl"), &st), 0);
    cr_assert_eq(st.st_mode & 07777, 0600, "mode %o", (unsigned)(st.st_mode & 07777));
    if (root)
        cr_assert(st.st_uid == CLI_NOBODY && st.st_gid == CLI_NOBODY);
    cr_assert_gt(st.st_size, 4, "the report was written");
}

/* ---- --name: a misspelt placeholder is an error, doubled braces are literal ---- */

Test(batch, unknown_placeholder_is_a_usage_error)
{
    make_inputs(1);
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{stme}.png", "filter:box:1", "--",
        "in/000.png");
    CLI_REFUSED(&r, 2, "unknown placeholder {stme} in --name (did you mean {stem}?)");
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{stem}}.png", "filter:box:1", "--",
        "in/000.png");
    CLI_REFUSED(&r, 2, "lone '}'", "}}");
    CLI(&r, dir, "batch", "--out-dir", "out", "--name", "{stem.png", "filter:box:1", "--",
        "in/000.png");
    CLI_REFUSED(&r, 2, "unclosed '{'", "{{");
    cr_assert(!exists(dir, "out"));
    CLI(&r, dir, "batch", "-q", "--out-dir", "out", "--name", "{{x}}{stem}.png", "filter:box:1",
        "--", "in/000.png");
    cli_expect_ok(&r);
    cr_assert(exists(dir, "out/{x}000.png"));
}

/* ---- messages: no extension, a format we read but do not write, an empty --out-dir ---- */

Test(batch, format_messages_and_empty_out_dir)
{
    make_inputs(1);
    copy_sample(dir, "photo.png");
    rename(at(dir, "photo.png"), at(dir, "noext"));
    size_t n;
    unsigned char *gif = slurp(HDM_SOURCE_DIR "/tests/fuzz/corpus/load/gif-animated.gif", &n);
    cr_assert(gif);
    FILE *f = fopen(at(dir, "anim.gif"), "wb");
    cr_assert(f);
    fwrite(gif, 1, n, f);
    fclose(f);
    free(gif);
    CLI(&r, dir, "batch", "--out-dir", "out", "filter:box:1", "--", "noext", "anim.gif",
        "in/000.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: noext: has no extension to name an output format (give "
                            "--format)\n"), "%s", r.err);
    cr_assert(strstr(r.err, "hadamard: anim.gif: cannot write a .gif file (give --format)\n"), "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 2 failed"), "the batch carries on: %s", r.err);
    cr_assert(exists(dir, "out/000.png"));
    CLI(&r, dir, "batch", "--out-dir", "", "filter:box:1", "--", "in/000.png");
    CLI_REFUSED(&r, 2, "--out-dir is empty");
}

/* A batch whose every input fails takes away the output directory it made (and the parents
 * and {dir}s made with it), never one that was there before or that holds anything. */
Test(batch, out_dir_made_for_nothing_is_removed)
{
    make_inputs(1);
    CLI(&r, dir, "batch", "--out-dir", "new", "mask:circle.png", "--", "in/broken.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "0 ok, 1 failed"), "%s", r.err);
    cr_assert(!exists(dir, "new"), "an empty output directory was left behind");
    CLI(&r, dir, "batch", "--out-dir", "made/deeper/", "-r", "--name", "{dir}/{stem}.{ext}",
        "mask:circle.png", "--", "in/broken.png", "missing.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(!exists(dir, "made"), "the parents made for it were left behind");
    /* there before: stays, empty or not */
    mkdir(at(dir, "old"), 0755);
    CLI(&r, dir, "batch", "--out-dir", "old", "mask:circle.png", "--", "in/broken.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(exists(dir, "old"));
    mkdir(at(dir, "parent"), 0755);
    CLI(&r, dir, "batch", "--out-dir", "parent/child", "mask:circle.png", "--", "in/broken.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(exists(dir, "parent") && !exists(dir, "parent/child"));
    /* made, and something written into it: stays */
    CLI(&r, dir, "batch", "--out-dir", "some", "mask:circle.png", "--", "in/broken.png",
        "in/000.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(exists(dir, "some/000.png"));
    /* a report inside the out-dir it makes: written there; a report that cannot be written is
     * refused before any work, the out-dir made for it gone again */
    CLI(&r, dir, "batch", "-q", "--out-dir", "rep/inner", "--report", "rep/inner/r.jsonl",
        "mask:circle.png", "--", "in/000.png");
    cli_expect_ok(&r);
    cr_assert(exists(dir, "rep/inner/r.jsonl") && exists(dir, "rep/inner/000.png"));
    CLI(&r, dir, "batch", "-q", "--out-dir", "unmade", "--report", "nowhere/r.jsonl",
        "mask:circle.png", "--", "in/000.png");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "nowhere/r.jsonl"), "%s", r.err);
    cr_assert(!exists(dir, "unmade"), "the out-dir made for a refused report was left");
}

/* ---- --resume redoes an output that was cut short after it was made ---- */

Test(batch, resume_redoes_truncated_outputs)
{
    make_inputs(3);
    remove(at(dir, "in/broken.png"));
    remove(at(dir, "in/notes.txt"));
    CLI(&r, dir, "batch", "-q", "--resume", "--out-dir", "op", "filter:box:1", "--", "in");
    cli_expect_ok(&r);
    CLI(&r, dir, "batch", "-q", "--resume", "--out-dir", "oj", "--format", "jpg", "filter:box:1",
        "--", "in");
    cli_expect_ok(&r);
    const char *whole[] = {"op/001.png", "oj/001.jpg"}, *cut[] = {"op/000.png", "oj/000.jpg"};
    struct stat before[2], after;
    unsigned char *bytes[2];
    size_t len[2], full[2];
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(stat(at(dir, whole[k]), &before[k]), 0);
        bytes[k] = slurp(at(dir, whole[k]), &len[k]);
        cr_assert(bytes[k]);
        struct stat cs;
        cr_assert_eq(stat(at(dir, cut[k]), &cs), 0);
        full[k] = (size_t)cs.st_size;
        cr_assert_gt(full[k], 1000);
        cr_assert_eq(truncate(at(dir, cut[k]), 1000), 0);
    }
    CLI(&r, dir, "batch", "--resume", "--out-dir", "op", "filter:box:1", "--", "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 0 failed, 2 skipped"), "%s", r.err);
    CLI(&r, dir, "batch", "--resume", "--out-dir", "oj", "--format", "jpg", "filter:box:1", "--",
        "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 0 failed, 2 skipped"), "%s", r.err);
    for (int k = 0; k < 2; k++) {
        struct stat cs;
        cr_assert_eq(stat(at(dir, cut[k]), &cs), 0);
        cr_assert_eq((size_t)cs.st_size, full[k], "%s redone whole", cut[k]);
        hdm_image *img = NULL;
        cr_assert_eq(hdm_load(at(dir, cut[k]), NULL, &img, NULL), HDM_OK);
        hdm_image_free(img);
        cr_assert_eq(stat(at(dir, whole[k]), &after), 0);
        cr_assert(after.st_mtim.tv_sec == before[k].st_mtim.tv_sec &&
                  after.st_mtim.tv_nsec == before[k].st_mtim.tv_nsec, "%s untouched", whole[k]);
        same_file(whole[k], bytes[k], len[k]);
        free(bytes[k]);
    }
}

/* A gathered file in no format hadamard reads is skipped, and no output may land on it: with the
 * out-dir the input tree, photo.jpg's output photo.png would replace a text file of that name. */
Test(batch, output_never_replaces_a_skipped_file_of_the_tree)
{
    make_inputs(1);
    remove(at(dir, "in/broken.png"));
    cr_assert_eq(mkdir(at(dir, "tree"), 0755), 0);
    CLI(&r, dir, "mask", "in/000.png", "circle.png", "-o", "tree/photo.jpg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    put("tree/photo.png", "notes, not an image");
    CLI(&r, dir, "batch", "--out-dir", "tree", "--format", "png", "mask:circle.png", "--",
        "tree");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "tree/photo.png") && strstr(r.err, "refusing"), "%s", r.err);
    char *text = read_text("tree/photo.png");
    cr_assert_str_eq(text, "notes, not an image");
    free(text);
    cr_assert_eq(temp_files(at(dir, "tree")), 0);
}

/* A symlink to nothing found by a walk fails as that file; the others go on. */
Test(batch, dangling_symlink_found_fails)
{
    make_inputs(1);
    remove(at(dir, "in/broken.png"));
    cr_assert_eq(symlink("no-such-file.png", at(dir, "in/gone.png")), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "r.jsonl", "mask:circle.png", "--",
        "in");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 1 failed, 1 skipped"), "%s", r.err); /* notes.txt */
    cr_assert(strstr(r.err, "in/gone.png: a symbolic link to nothing"), "%s", r.err);
    char *rep = read_text("r.jsonl");
    cr_assert(strstr(rep, "\"input\":\"in/gone.png\",\"output\":null,\"status\":\"failed\""),
              "%s", rep);
    free(rep);
}

/* A limit hit by one input is named in the report as on stderr: by the flag that raises it,
 * not by the library's hdm_options field. */
Test(batch, report_names_a_limit_by_its_flag)
{
    make_inputs(1);
    CLI(&r, dir, "batch", "--max-memory", "1000", "--out-dir", "out", "--report", "r.jsonl",
        "mask:circle.png", "--", "in/000.png");
    cr_assert_eq(r.status, 1, "%s", r.err);
    const char *said = strstr(r.err, "in/000.png: ");
    cr_assert(said && strstr(said, "(raise it with --max-memory)\n"), "%s", r.err);
    char *rep = read_text("r.jsonl");
    char want[1024];
    snprintf(want, sizeof want, "\"error\":\"%.*s\"", (int)(strchr(said, '\n') - said), said);
    cr_assert(strstr(rep, want), "report %s\nstderr %s", rep, r.err);
    cr_assert(!strstr(rep, "max_memory"), "%s", rep);
    free(rep);
}

/* A FIFO or a link to a device found by a walk under an image's name fails as that file, in the
 * report and the counts, without being opened (a FIFO with no writer would block); under another
 * name it is passed over like any file that is not an image. */
Test(batch, walked_fifo_and_device_fail_unopened)
{
    make_inputs(1);
    remove(at(dir, "in/broken.png"));
    cr_assert_eq(mkfifo(at(dir, "in/fifo.png"), 0644), 0);
    cr_assert_eq(symlink("/dev/zero", at(dir, "in/zero.png")), 0);
    cr_assert_eq(mkfifo(at(dir, "in/fifo"), 0644), 0);
    cr_assert_eq(symlink("/dev/null", at(dir, "in/null.txt")), 0);
    cli_opts o = {.timeout = 30};
    CLI_WITH(&r, dir, &o, "batch", "--out-dir", "out", "--report", "r.jsonl", "mask:circle.png",
             "--", "in");
    cr_assert_eq(r.status, 1, "%s", r.err);
    cr_assert(strstr(r.err, "1 ok, 2 failed, 1 skipped"), "%s", r.err); /* notes.txt */
    cr_assert(strstr(r.err, "in/fifo.png: not a regular file"), "%s", r.err);
    cr_assert(strstr(r.err, "in/zero.png: not a regular file"), "%s", r.err);
    char *rep = read_text("r.jsonl");
    cr_assert(strstr(rep, "\"input\":\"in/fifo.png\",\"output\":null,\"status\":\"failed\","
                          "\"error\":\"in/fifo.png: not a regular file\""),
              "%s", rep);
    cr_assert(strstr(rep, "\"input\":\"in/zero.png\",\"output\":null,\"status\":\"failed\","
                          "\"error\":\"in/zero.png: not a regular file\""),
              "%s", rep);
    cr_assert(!strstr(rep, "in/fifo\"") && !strstr(rep, "null.txt"), "%s", rep);
    cr_assert_eq(lines(rep), 4, "%s", rep);
    free(rep);
}

/* The report obeys the rules of every output: a symlink has its target replaced, a hard-linked
 * or read-only report is refused before any work, and a kill leaves no temporary of it. */
Test(batch, report_follows_the_output_rules)
{
    make_inputs(2);
    remove(at(dir, "in/broken.png"));
    put("target.jsonl", "{\"old\":true}\n");
    cr_assert_eq(symlink("target.jsonl", at(dir, "link.jsonl")), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "link.jsonl", "filter:box:1", "--",
        "in");
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat st;
    cr_assert_eq(lstat(at(dir, "link.jsonl"), &st), 0);
    cr_assert(S_ISLNK(st.st_mode), "the symlink was replaced");
    char *rep = read_text("target.jsonl");
    cr_assert(rep && strstr(rep, "\"status\":\"ok\""), "target not written: %s", rep);
    free(rep);
    remove(at(dir, "out/000.png"));
    remove(at(dir, "out/001.png"));
    rmdir(at(dir, "out"));

    put("hard.jsonl", "{\"old\":true}\n");
    cr_assert_eq(link(at(dir, "hard.jsonl"), at(dir, "hard2.jsonl")), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "hard.jsonl", "filter:box:1", "--",
        "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert_eq(lines(r.err), 1, "%s", r.err);
    cr_assert(strstr(r.err, "hard.jsonl: cannot write the report: refusing to replace a file "
                            "with 2 hard links"), "%s", r.err);
    cr_assert(!exists(dir, "out"), "no work before the refusal");
    rep = read_text("hard.jsonl");
    cr_assert_str_eq(rep, "{\"old\":true}\n");
    free(rep);

    put("ro.jsonl", "{\"old\":true}\n");
    cr_assert_eq(chmod(at(dir, "ro.jsonl"), 0444), 0);
    CLI(&r, dir, "batch", "--out-dir", "out", "--report", "ro.jsonl", "filter:box:1", "--",
        "in");
    cr_assert_eq(r.status, 2, "%s", r.err);
    cr_assert(strstr(r.err, "ro.jsonl: cannot write the report: refusing to replace a "
                            "read-only file"), "%s", r.err);
    cr_assert(!exists(dir, "out"), "no work before the refusal");
    rep = read_text("ro.jsonl");
    cr_assert_str_eq(rep, "{\"old\":true}\n");
    free(rep);
    cr_assert_eq(temp_files(dir), 0);
}

Test(batch, sigkill_leaves_no_report_temporary)
{
    make_inputs(40);
    remove(at(dir, "in/broken.png"));
    for (int named = 0; named < 2; named++) {
        const char *env[] = {named ? "HADAMARD_NAMED_TEMP=1" : "HADAMARD_NAMED_TEMP=0", NULL};
        cli_opts o = {.env = env};
        cli_child c;
        CLI_START(&c, dir, &o, "batch", "--out-dir", "out", "--report", "r.jsonl", "-r", "-j",
                  "2", "--png-level", "9", "mask:circle.png", "--", "in");
        struct timespec ts = {0, 150 * 1000 * 1000};
        nanosleep(&ts, NULL);
        kill(c.pid, SIGKILL);
        cli_finish(&c, &r);
        cr_assert_eq(r.status, 128 + SIGKILL, "killed mid-batch: %s", r.err);
        cr_assert_eq(temp_files(dir), 0, "a report temporary survives a kill");
        cr_assert(!exists(dir, "r.jsonl"), "a report from a killed run");
    }
}

/* Files already in an --out-dir below an input root are not taken, but not dropped silently:
 * each one that is not an output of this batch is listed as skipped, counted and reported. */
Test(batch, other_files_in_the_out_dir_are_listed_as_skipped)
{
    mkdir(at(dir, "t"), 0755);
    mkdir(at(dir, "t/in"), 0755);
    mkdir(at(dir, "t/in/out"), 0755);
    mkdir(at(dir, "t/in/out/deep"), 0755);
    copy_sample(dir, "photo.png");
    size_t n;
    unsigned char *b = slurp(at(dir, "photo.png"), &n);
    cr_assert(b);
    const char *names[] = {"t/in/x.png", "t/in/out/extra.png", "t/in/out/deep/more.png"};
    for (int i = 0; i < 3; i++) {
        FILE *f = fopen(at(dir, names[i]), "wb");
        cr_assert(f);
        fwrite(b, 1, n, f);
        fclose(f);
    }
    free(b);
    for (int run = 0; run < 2; run++) { /* the second finds its own output there: not listed */
        CLI(&r, dir, "batch", "-r", "--out-dir", "t/in/out", "--report", "t/log.jsonl",
            "filter:box:3", "--", "t/in");
        cr_assert_eq(r.status, 0, "%s", r.err);
        cr_assert(strstr(r.err, "1 ok, 0 failed, 2 skipped"), "run %d: %s", run, r.err);
        char *rep = read_text("t/log.jsonl");
        cr_assert(rep);
        cr_assert_eq(lines(rep), 3, "run %d: %s", run, rep);
        cr_assert(strstr(rep, "{\"input\":\"t/in/out/extra.png\",\"output\":null,\"status\":"
                              "\"skipped\",\"error\":\"in the output directory\""), "%s", rep);
        cr_assert(strstr(rep, "\"input\":\"t/in/out/deep/more.png\""), "%s", rep);
        cr_assert(!strstr(rep, "\"input\":\"t/in/out/x.png\""), "%s", rep);
        free(rep);
    }
    cr_assert(!exists(dir, "t/in/out/out"), "nothing is written from the out-dir");
}
