/* SPDX-License-Identifier: MIT */
/* resume_fuzzer.c — batch --resume's record files: reading, trusting, adding, compacting
 *
 * Byte 0 holds flags: bit 0 writes the lines raw (else each gets the record's frame: "R", the
 * recipe, and the line's checksum, so the fields between are parsed), bit 1 puts them in
 * another shard's file instead of this one's, bits 2-7 how many records to add before closing
 * (enough make the file compact). The rest, split at '\n', are the lines. The checks: nothing
 * is trusted that does not match a file as it is now, what is added is trusted once read
 * again, and the record file always starts with its header. */
#define _XOPEN_SOURCE 700 /* mkdtemp */
#include "fuzz/fuzz.h"
#include "cli/messages.h"
#include "cli/resume.h"

#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAGIC "hadamard resume records v2\n"
static const uint64_t RECIPE = 0x0123456789abcdefu;
static char dir[64], own[128], other[128], input[128], output[128];

static void cleanup(void)
{
    unlink(own);
    unlink(other);
    unlink(input);
    unlink(output);
    rmdir(dir);
}

static void setup(void)
{
    if (dir[0])
        return;
    snprintf(dir, sizeof dir, "/tmp/hdm-resume-fuzz-XXXXXX");
    HDM_FUZZ_CHECK(mkdtemp(dir) != NULL);
    atexit(cleanup);
    snprintf(own, sizeof own, "%s/.hadamard-resume-0-of-2", dir);
    snprintf(other, sizeof other, "%s/.hadamard-resume-1-of-2", dir);
    snprintf(input, sizeof input, "%s/in.png", dir);
    snprintf(output, sizeof output, "%s/out.png", dir);
    FILE *f = fopen(input, "w");
    HDM_FUZZ_CHECK(f && fputs("input", f) >= 0 && fclose(f) == 0);
    f = fopen(output, "w");
    HDM_FUZZ_CHECK(f && fputs("output", f) >= 0 && fclose(f) == 0);
    FILE *quiet = fopen("/dev/null", "w");
    HDM_FUZZ_CHECK(quiet != NULL);
    cli_say_to(quiet); /* "records larger than …" and the like: not the test's output */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    setup();
    unsigned flags = data[0];
    unlink(own);
    unlink(other);
    FILE *f = fopen(flags & 2 ? other : own, "w");
    HDM_FUZZ_CHECK(f != NULL);
    fputs(MAGIC, f);
    for (const uint8_t *p = data + 1, *end = data + size; p < end;) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (flags & 1) {
            fwrite(p, 1, n, f);
        } else {
            char *line = NULL;
            size_t len = 0;
            FILE *m = open_memstream(&line, &len);
            HDM_FUZZ_CHECK(m != NULL);
            fprintf(m, "R\t%016" PRIx64 "\t", RECIPE);
            fwrite(p, 1, n, m);
            fputc('\t', m);
            HDM_FUZZ_CHECK(fclose(m) == 0);
            fprintf(f, "%s%016" PRIx64, line, resume_hash(RESUME_HASH_SEED, line, len));
            free(line);
        }
        fputc('\n', f);
        p += n + 1;
    }
    HDM_FUZZ_CHECK(fclose(f) == 0);

    struct stat in, out;
    HDM_FUZZ_CHECK(stat(input, &in) == 0 && stat(output, &out) == 0);
    resume_log *log = resume_open(dir, 0, 2, RECIPE, 1u << 20);
    HDM_FUZZ_CHECK(log != NULL);
    /* the fuzzer cannot know the inode and times of these files: nothing it wrote matches */
    HDM_FUZZ_CHECK(!resume_done(log, "out.png", "in.png", &in, &out));
    unsigned adds = flags >> 2;
    for (unsigned i = 0; i < adds; i++)
        resume_record(log, "out.png", "in.png", &in, &out);
    resume_close(log);

    log = resume_open(dir, 0, 2, RECIPE, 1u << 20);
    HDM_FUZZ_CHECK(log != NULL);
    HDM_FUZZ_CHECK(resume_done(log, "out.png", "in.png", &in, &out) == (adds > 0));
    resume_close(log);
    int fd = open(own, O_RDONLY);
    if (fd >= 0) {
        char head[sizeof MAGIC - 1];
        HDM_FUZZ_CHECK(read(fd, head, sizeof head) == (ssize_t)sizeof head);
        HDM_FUZZ_CHECK(memcmp(head, MAGIC, sizeof head) == 0);
        close(fd);
    }
    return 0;
}
