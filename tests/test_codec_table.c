/* SPDX-License-Identifier: MIT */
/* test_codec_table.c — the codec table: one consistent entry per format, and what reads it */
#include "cli_run.h"
#include "codec/codec.h"
#include "fuzz/seeds.h"
#include "testutil.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static size_t codec_count(void)
{
    size_t n = 0;
    while (hdm__codec_at(n))
        n++;
    return n;
}

static bool has_depth(unsigned depths, hdm_depth d)
{
    return (depths & (unsigned)d) != 0;
}

/* ---- the table itself ---- */

/* Every format of hdm_format but UNKNOWN has exactly one entry, and the public view is the
 * internal table's, entry for entry, ending where it ends. */
Test(codec_table, one_entry_per_format)
{
    size_t n = codec_count();
    cr_assert_eq(n, (size_t)HDM__FORMAT_COUNT - 1, "%zu entries for %d formats", n,
                 HDM__FORMAT_COUNT - 1);
    for (int f = 1; f < HDM__FORMAT_COUNT; f++) {
        int seen = 0;
        for (size_t i = 0; i < n; i++)
            seen += hdm__codec_at(i)->pub.format == (hdm_format)f;
        cr_assert_eq(seen, 1, "format %d has %d entries", f, seen);
        cr_assert_not_null(hdm__codec_of((hdm_format)f));
        cr_assert_eq(hdm__codec_of((hdm_format)f)->pub.format, (hdm_format)f);
    }
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(hdm_codec_at(i), &hdm__codec_at(i)->pub);
    cr_assert_null(hdm_codec_at(n));
    cr_assert_null(hdm_codec_at((size_t)-1));
    cr_assert_null(hdm__codec_of(HDM_FORMAT_UNKNOWN));
    cr_assert_null(hdm__codec_of((hdm_format)HDM__FORMAT_COUNT));
    cr_assert_null(hdm__codec_of((hdm_format)-1));
}

/* Each entry is complete and says the same thing in each of its fields: a sink exactly when it
 * is writable, exactly when it has output extensions and layouts; depths only of hdm_depth. */
Test(codec_table, entries_are_complete_and_agree)
{
    for (size_t i = 0; hdm__codec_at(i); i++) {
        const hdm__codec *c = hdm__codec_at(i);
        const char *name = c->pub.name;
        cr_assert(name && *name, "entry %zu has no name", i);
        cr_assert(c->sniff && c->info && c->source_memory, "%s lacks a reader", name);
        cr_assert(c->pub.extensions && c->pub.read_extensions, "%s: NULL extension list", name);
        cr_assert_not_null(c->pub.read_extensions[0], "%s: no read extension", name);
        bool writable = c->sink != NULL;
        cr_assert_eq(c->pub.writable != 0, writable, "%s: writable disagrees with its sink", name);
        cr_assert_eq(c->pub.extensions[0] != NULL, writable, "%s: output extensions", name);
        cr_assert_eq(c->pub.layouts != 0, writable, "%s: layouts", name);
        cr_assert_eq(c->pub.layouts & ~0xfu, 0u, "%s: a layout beyond 4 channels", name);
        cr_assert_eq(hdm__format_writable(c->pub.format), writable, "%s", name);
        cr_assert_neq(c->pub.depths, 0u, "%s stores no depth", name);
        cr_assert_eq(c->pub.depths & ~(unsigned)(HDM_U8 | HDM_U16 | HDM_F32), 0u, "%s", name);
        /* what it writes, it reads under the same names */
        for (const char *const *e = c->pub.extensions; *e; e++) {
            bool listed = false;
            for (const char *const *r = c->pub.read_extensions; *r; r++)
                listed |= strcmp(*r, *e) == 0;
            cr_assert(listed, "%s writes .%s but does not list it as read", name, *e);
        }
    }
}

/* Names and extensions round-trip through hdm_format_name and hdm_format_from_name, in any
 * case, bare or as a path's extension; no two entries share a name or an output extension; a
 * format that is not written is selected by no name. */
Test(codec_table, names_and_extensions_round_trip)
{
    for (size_t i = 0; hdm__codec_at(i); i++) {
        const hdm_codec_info *c = hdm_codec_at(i);
        cr_assert_str_eq(hdm_format_name(c->format), c->name);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(hdm_codec_at(j)->name, c->name);
        if (!c->writable)
            cr_assert_eq(hdm_format_from_name(c->name), HDM_FORMAT_UNKNOWN,
                         "%s is not written, yet its name selects it", c->name);
        for (const char *const *e = c->extensions; *e; e++) {
            char upper[32], path[64];
            size_t k = 0;
            for (; (*e)[k] && k + 1 < sizeof upper; k++)
                upper[k] = (char)toupper((unsigned char)(*e)[k]);
            upper[k] = '\0';
            snprintf(path, sizeof path, "dir.x/photo.%s", upper);
            cr_assert_eq(hdm_format_from_name(*e), c->format, ".%s", *e);
            cr_assert_eq(hdm_format_from_name(upper), c->format, "%s", upper);
            cr_assert_eq(hdm_format_from_name(path), c->format, "%s", path);
            for (size_t j = 0; j < i; j++)
                for (const char *const *o = hdm_codec_at(j)->extensions; *o; o++)
                    cr_assert_str_neq(*o, *e, ".%s names two formats", *e);
        }
    }
    cr_assert_str_eq(hdm_format_name(HDM_FORMAT_UNKNOWN), "unknown");
    cr_assert_eq(hdm_format_from_name("photo.unknown"), HDM_FORMAT_UNKNOWN);
}

/* The depth written for each depth asked: one the entry has, the same one when it has it. */
Test(codec_table, format_depth_follows_the_entry)
{
    static const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    for (size_t i = 0; hdm_codec_at(i); i++) {
        const hdm_codec_info *c = hdm_codec_at(i);
        for (size_t k = 0; k < 3; k++) {
            hdm_depth got = hdm__format_depth(c->format, depths[k]);
            cr_assert(has_depth(c->depths, got), "%s: depth %d for %d", c->name, got, depths[k]);
            if (has_depth(c->depths, depths[k]))
                cr_assert_eq(got, depths[k], "%s changes depth %d", c->name, depths[k]);
            else if (depths[k] < got)
                for (unsigned d = depths[k]; d < (unsigned)got; d <<= 1)
                    cr_assert(!has_depth(c->depths, (hdm_depth)d), "%s skips %u", c->name, d);
        }
    }
}

/* ---- sniffs against real files ---- */

/* Checks that the sniff of want's entry, and only it, accepts data, and that detection says
 * want; a sniff is called on an exact-size copy, so reading past it shows under ASan. */
static void sniffed_as(const unsigned char *data, size_t size, hdm_format want, const char *what)
{
    unsigned char *head = malloc(size ? size : 1);
    cr_assert_not_null(head);
    memcpy(head, data, size);
    for (size_t i = 0; hdm__codec_at(i); i++) {
        const hdm__codec *c = hdm__codec_at(i);
        bool mine = c->pub.format == want;
        cr_assert_eq(c->sniff(head, size), mine, "%s: the %s sniff %s it", what, c->pub.name,
                     mine ? "rejects" : "accepts");
    }
    cr_assert_eq(hdm__detect(head, size), want, "%s detected as %s", what,
                 hdm_format_name(hdm__detect(head, size)));
    cr_assert_eq(hdm_format_sniff(head, size), want, "%s", what);
    free(head);
}

/* Every writable format's own output, each layout and each depth, is sniffed as that format
 * alone, decodes through hdm_load_memory at the depth hdm__format_depth names, and keeps its
 * channels exactly when the entry's layouts say so (otherwise it decodes to a layout they
 * have). */
Test(codec_table, written_files_read_back_as_the_entry_says)
{
    static const hdm_depth depths[] = {HDM_U8, HDM_U16, HDM_F32};
    tu_rng r;
    tu_seed(&r, 0xc0dec);
    for (size_t i = 0; hdm_codec_at(i); i++) {
        const hdm_codec_info *c = hdm_codec_at(i);
        if (!c->writable)
            continue;
        for (uint32_t ch = 1; ch <= 4; ch++)
            for (size_t k = 0; k < 3; k++) {
                char what[64];
                snprintf(what, sizeof what, "%s, %u channels, depth %d", c->name, ch, depths[k]);
                hdm_image *img = tu_image_random(9, 5, ch, depths[k], &r);
                void *data = NULL;
                size_t size = 0;
                hdm_error e = {0};
                cr_assert_eq(hdm_save_memory(img, c->format, NULL, &data, &size, &e), HDM_OK,
                             "%s: %s", what, e.message);
                sniffed_as(data, size, c->format, what);
                hdm_image *back = NULL;
                cr_assert_eq(hdm_load_memory(data, size, NULL, &back, &e), HDM_OK, "%s: %s",
                             what, e.message);
                cr_assert_eq(back->width, 9u, "%s", what);
                cr_assert_eq(back->height, 5u, "%s", what);
                cr_assert_eq(back->depth, hdm__format_depth(c->format, depths[k]), "%s", what);
                cr_assert(c->layouts & 1u << (back->channels - 1), "%s: read back with %u",
                          what, back->channels);
                if (c->layouts & 1u << (ch - 1))
                    cr_assert_eq(back->channels, ch, "%s: read back with %u", what,
                                 back->channels);
                else
                    cr_assert_neq(back->channels, ch, "%s: layouts lack it, yet it was kept",
                                  what);
                hdm_image_free(back);
                hdm_free(data);
                hdm_image_free(img);
            }
    }
}

/* The test seeds (tests/fuzz/seeds.c: small valid files of every input format, named
 * "FORMAT-....") are each sniffed by their own entry alone and decode to depths it lists; every
 * entry has a seed, and its seeds show every depth it lists. */
Test(codec_table, seeds_are_sniffed_by_their_entry_alone)
{
    unsigned seen_depths[HDM__FORMAT_COUNT] = {0};
    const char *name;
    unsigned char *data;
    size_t size;
    for (size_t s = 0; hdm_seed(s, &name, &data, &size); s++) {
        cr_assert_not_null(data, "seed %s could not be made", name);
        const hdm_codec_info *own = NULL;
        for (size_t i = 0; hdm_codec_at(i); i++) {
            size_t len = strlen(hdm_codec_at(i)->name);
            if (strncmp(name, hdm_codec_at(i)->name, len) == 0 && name[len] == '-')
                own = hdm_codec_at(i);
        }
        cr_assert_not_null(own, "seed %s names no format of the table", name);
        sniffed_as(data, size, own->format, name);
        hdm_info info;
        hdm_error e = {0};
        cr_assert_eq(hdm_info_read_memory(data, size, NULL, &info, &e), HDM_OK, "%s: %s", name,
                     e.message);
        cr_assert_eq(info.format, own->format, "%s", name);
        cr_assert(has_depth(own->depths, info.depth), "%s: depth %d not in %s's", name,
                  info.depth, own->name);
        seen_depths[own->format] |= (unsigned)info.depth;
        free(data);
    }
    for (size_t i = 0; hdm_codec_at(i); i++)
        cr_assert_eq(seen_depths[hdm_codec_at(i)->format], hdm_codec_at(i)->depths,
                     "%s: its seeds show depths %#x, it lists %#x", hdm_codec_at(i)->name,
                     seen_depths[hdm_codec_at(i)->format], hdm_codec_at(i)->depths);
}

/* No sniff accepts a prefix shorter than what it checks: every prefix of every seed is either
 * sniffed as the seed's format or as nothing, each read from an exact-size copy. */
Test(codec_table, prefixes_are_never_another_format)
{
    const char *name;
    unsigned char *data;
    size_t size;
    for (size_t s = 0; hdm_seed(s, &name, &data, &size); s++) {
        cr_assert_not_null(data);
        hdm_format want = hdm__detect(data, size);
        for (size_t n = 0; n <= 32 && n <= size; n++) {
            unsigned char *head = malloc(n ? n : 1);
            cr_assert_not_null(head);
            memcpy(head, data, n);
            hdm_format got = hdm__detect(head, n);
            cr_assert(got == want || got == HDM_FORMAT_UNKNOWN, "%s, first %zu bytes: %s", name,
                      n, hdm_format_name(got));
            free(head);
        }
        free(data);
    }
}

/* ---- messages made from the table ---- */

/* The library's "unknown output format" message lists every output extension, in the table's
 * order, and no format it does not write. */
Test(codec_table, library_message_lists_the_output_extensions)
{
    hdm_image *img;
    cr_assert_eq(hdm_image_new(2, 2, 3, HDM_U8, &img), HDM_OK);
    void *data;
    size_t size;
    hdm_error e = {0};
    hdm_options o;
    hdm_options_init(&o);
    char *dir = scratch_new();
    cr_assert_eq(hdm_save(img, at(dir, "photo.nope"), &o, &e), HDM_ERR_FORMAT);
    const char *from = e.message;
    for (size_t i = 0; hdm_codec_at(i); i++)
        for (const char *const *x = hdm_codec_at(i)->extensions; *x; x++) {
            char want[32];
            snprintf(want, sizeof want, ".%s", *x);
            const char *hit = strstr(from, want);
            cr_assert_not_null(hit, "'%s' not after its predecessor in: %s", want, e.message);
            from = hit + strlen(want);
        }
    for (size_t i = 0; hdm_codec_at(i); i++)
        if (!hdm_codec_at(i)->writable) {
            char no[32];
            snprintf(no, sizeof no, ".%s", hdm_codec_at(i)->name);
            cr_assert_null(strstr(e.message, no), "%s lists %s", e.message, no);
        }
    cr_assert_eq(hdm_save_memory(img, HDM_FORMAT_GIF, NULL, &data, &size, &e), HDM_ERR_FORMAT);
    hdm_image_free(img);
    scratch_free(dir);
}

/* Checks that s lists every output extension of the table, in its order, and names no format
 * that is not written. */
static void lists_the_table(const char *s, const char *what)
{
    const char *from = s;
    for (size_t i = 0; hdm_codec_at(i); i++) {
        const hdm_codec_info *c = hdm_codec_at(i);
        for (const char *const *x = c->extensions; *x; x++) {
            const char *hit = strstr(from, *x);
            cr_assert_not_null(hit, "%s: '%s' missing or out of order in: %s", what, *x, s);
            from = hit + strlen(*x);
        }
        if (!c->writable)
            cr_assert_null(strstr(s, c->name), "%s names %s, which is not written: %s", what,
                           c->name, s);
    }
}

/* The command's --format refuses an unknown name listing the table's output extensions (run
 * and batch), and its completion offers exactly them. */
Test(codec_table, cli_format_choices_come_from_the_table)
{
    char *dir = scratch_new();
    hdm_image *img;
    cr_assert_eq(hdm_image_new(3, 2, 1, HDM_U8, &img), HDM_OK);
    hdm_error e = {0};
    cr_assert_eq(hdm_save(img, at(dir, "in.png"), NULL, &e), HDM_OK, "%s", e.message);
    hdm_image_free(img);
    cli_result *r = malloc(sizeof *r);
    cr_assert_not_null(r);

    CLI(r, dir, "run", "in.png", "-o", "out.png", "--format", "nope", "mul:in.png");
    cr_assert_eq(r->status, 2, "status %d: %s", r->status, r->err);
    cr_assert_not_null(strstr(r->err, "unknown --format 'nope' ("), "%s", r->err);
    lists_the_table(strchr(r->err, '('), "run --format");
    cr_assert(!exists(dir, "out.png"));

    CLI(r, dir, "batch", "--out-dir", "o", "--format", "gif", "mul:in.png", "--", "in.png");
    cr_assert_eq(r->status, 2, "status %d: %s", r->status, r->err);
    cr_assert_not_null(strstr(r->err, "unknown --format 'gif' ("), "%s", r->err);
    lists_the_table(strchr(r->err, '('), "batch --format");

    CLI(r, dir, "--completion");
    cr_assert_eq(r->status, 0);
    const char *line = strstr(r->out, "--format) COMPREPLY=($(compgen -W '");
    cr_assert_not_null(line, "no --format completion in: %s", r->out);
    line = strchr(line, '\'') + 1;
    char words[256];
    size_t n = strcspn(line, "'");
    cr_assert_lt(n, sizeof words);
    memcpy(words, line, n);
    words[n] = '\0';
    lists_the_table(words, "completion");
    size_t count = 0;
    for (size_t i = 0; hdm_codec_at(i); i++)
        for (const char *const *x = hdm_codec_at(i)->extensions; *x; x++)
            count++;
    size_t spaces = 0;
    for (const char *p = words; *p; p++)
        spaces += *p == ' ';
    cr_assert_eq(spaces + 1, count, "completion offers other words: %s", words);
    free(r);
    scratch_free(dir);
}
