/* SPDX-License-Identifier: MIT */
/* make_corpus.c — writes the fuzz seed corpus: tests/fuzz/corpus/{load,roundtrip,steps}/
 *
 * Usage: make_corpus DIR. The image seeds come from seeds.c; a roundtrip seed is one selector
 * byte (output format and operation, as roundtrip_fuzzer.c reads it) and then an image seed;
 * the steps seeds are step lines and command lines in steps_fuzzer.c's layout. */
#include "fuzz/seeds.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int failures;

static void write_file(const char *dir, const char *sub, const char *name, const void *pre,
                       size_t npre, const void *data, size_t n)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "make_corpus: %s: %s\n", path, strerror(errno));
        failures++;
        return;
    }
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(pre, 1, npre, f) != npre || fwrite(data, 1, n, f) != n || fclose(f)) {
        fprintf(stderr, "make_corpus: %s: cannot write\n", path);
        failures++;
    }
}

/* Step lines (first byte even) and command lines (odd, then a command index, then NUL-split
 * arguments); the command index counts info, run, then the operations in table order. */
static const struct { const char *name; const char *text; size_t len; } text_seeds[] = {
#define T(name, s) {name, s, sizeof s - 1}
    T("step-mul", "\0mul:b.png"),
    T("step-mask", "\0mask:m.png"),
    T("step-mask-flags", "\0mask:m.png:invert:alpha"),
    T("steps-chain", "\0mul:b.png\nmask:m.png:invert\nmask:m2.png:alpha"),
    T("step-unknown", "\0blur:r=2"),
    T("step-empty-fields", "\0mask::"),
    T("cli-info", "\1\0a.png\0b.jpg\0--max-pixels\0001000"),
    T("cli-run", "\1\1in.png\0-o\0out.png\0mul:b.png\0mask:m.png:invert\0--png-level=3"),
    T("cli-mul", "\1\2in.png\0b.png\0-o\0out.jpg\0--quality\00050\0--max-memory=1000000"),
    T("cli-mask", "\1\3in.png\0m.png\0--output=out.tga\0--invert\0--alpha\0--png-filter\0paeth"),
    T("cli-help", "\1\3--help"),
    T("cli-dashdash", "\1\2--\0-in.png\0b.png\0-o\0out.hdr"),
#undef T
};

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    const char *name;
    unsigned char *data;
    size_t size;
    for (size_t i = 0; hdm_seed(i, &name, &data, &size); i++) {
        if (!data) {
            fprintf(stderr, "make_corpus: could not make %s\n", name);
            failures++;
            continue;
        }
        write_file(dir, "load", name, "", 0, data, size);
        /* every output format and operation comes up across the seeds */
        unsigned char sel = (unsigned char)(i * 7 % 256);
        write_file(dir, "roundtrip", name, &sel, 1, data, size);
        free(data);
    }
    for (size_t i = 0; i < sizeof text_seeds / sizeof text_seeds[0]; i++)
        write_file(dir, "steps", text_seeds[i].name, "", 0, text_seeds[i].text, text_seeds[i].len);
    return failures ? 1 : 0;
}
