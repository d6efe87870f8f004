/* SPDX-License-Identifier: MIT */
/* batch_fuzzer.c — the batch's planning: name templates, formats, shards, collisions, the report
 *
 * Once, it makes a small tree in a temporary directory (images found by their bytes, a text
 * file, hidden files and temporaries, names that are not UTF-8, symlink loops) and works there.
 * Byte 0 holds flags (recursive, --format, --report, which step), byte 1 the shard count, byte 2
 * the out-dir; the rest, split at NULs, is the --name template, the --format, the report path and
 * the inputs. batch_prepare runs once per shard; the checks: every shard agrees on the verdict,
 * the shards partition the inputs, every output is under the out-dir, no two inputs share an
 * output and none is an input, the extension agrees with --format, and every report line is
 * valid UTF-8 JSON whose strings give back the names (exactly, or through "input_bytes"). */
#define _XOPEN_SOURCE 700 /* nftw, symlink, mkdtemp */
#include "fuzz/fuzz.h"
#include "cli/batch.h"
#include "cli/messages.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>


static char tree[64];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    return remove(p);
}

static void remove_tree(void)
{
    if (chdir("/") == 0)
        nftw(tree, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *name, const char *bytes, size_t n)
{
    FILE *f = fopen(name, "wb");
    HDM_FUZZ_CHECK(f);
    fwrite(bytes, 1, n, f);
    fclose(f);
}

static void make_tree(void)
{
    strcpy(tree, "/tmp/hdm-batch-fuzz-XXXXXX");
    HDM_FUZZ_CHECK(mkdtemp(tree) && chdir(tree) == 0);
    atexit(remove_tree);
    static const char png[] = "\x89PNG\r\n\x1a\n....", jpg[] = "\xff\xd8\xff\xe0....";
    const char *dirs[] = {"in", "in/sub", "in/sub/deep", "in2", "out"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        HDM_FUZZ_CHECK(mkdir(dirs[i], 0755) == 0);
    const char *pngs[] = {"in/a.png", "in/sub/a.png", "in/sub/c", "in/sub/deep/a.png",
                          "in/\xff.png", "in/\xc3.png", "in/q\"\\.png", "in/c\x01\x7f.png",
                          "in/a.jpe", "in2/a.png", "in/.hidden.png", "in/a.png.hadamard-tmp-1",
                          "m.png", "in/a2.png", "in/sub/deep/\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof pngs / sizeof pngs[0]; i++)
        put(pngs[i], png, sizeof png - 1);
    put("in/b.jpg", jpg, sizeof jpg - 1);
    put("in/notes.txt", "text", 4);
    put("in/empty.png", "", 0);
    HDM_FUZZ_CHECK(symlink(".", "in/loop") == 0 && symlink("..", "in/sub/up") == 0 &&
                   symlink("../in", "in2/back") == 0 && symlink("nowhere", "in/dangling") == 0);
}

/* ---- an independent reader of what the report promises ---- */

/* Decodes one UTF-8 sequence (RFC 3629) at s; returns its length or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, const unsigned char *end, unsigned *cp)
{
    size_t n = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3
             : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (!n || (size_t)(end - s) < n)
        return 0;
    unsigned c = n == 1 ? s[0] : s[0] & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < min[n] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return n;
}

static bool valid_utf8(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    unsigned cp;
    while (p < end) {
        size_t k = utf8_decode(p, end, &cp);
        if (!k)
            return false;
        p += k;
    }
    return true;
}

static size_t put_utf8(char *o, unsigned c)
{
    if (c < 0x80)
        return o[0] = (char)c, 1;
    if (c < 0x800)
        return o[0] = (char)(0xC0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3F)), 2;
    if (c < 0x10000)
        return o[0] = (char)(0xE0 | c >> 12), o[1] = (char)(0x80 | (c >> 6 & 0x3F)),
               o[2] = (char)(0x80 | (c & 0x3F)), 3;
    return o[0] = (char)(0xF0 | c >> 18), o[1] = (char)(0x80 | (c >> 12 & 0x3F)),
           o[2] = (char)(0x80 | (c >> 6 & 0x3F)), o[3] = (char)(0x80 | (c & 0x3F)), 4;
}

/* Parses a JSON string at *p into out (NUL-terminated); false if it is not one. */
static bool json_string(const char **p, char *out, size_t cap)
{
    const char *s = *p;
    size_t n = 0;
    if (*s++ != '"')
        return false;
    while (*s != '"') {
        if (n + 5 > cap || (unsigned char)*s < 0x20)
            return false;
        if (*s != '\\') {
            out[n++] = *s++;
            continue;
        }
        s++;
        const char *simple = strchr("\"\\/bfnrt", *s);
        if (*s && simple) {
            out[n++] = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
            s++;
        } else if (*s == 'u') {
            unsigned c = 0;
            for (int i = 1; i <= 4; i++) {
                char h = s[i];
                if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F')))
                    return false;
                c = c << 4 | (unsigned)(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
            }
            if (c >= 0xD800 && c <= 0xDFFF)
                return false; /* we never split a character into surrogates */
            n += put_utf8(out + n, c);
            s += 5;
        } else {
            return false;
        }
    }
    out[n] = '\0';
    *p = s + 1;
    return true;
}

static bool hex_equals(const char *hex, const char *raw)
{
    size_t n = strlen(raw);
    if (strlen(hex) != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++) {
        char b[3] = {hex[2 * i], hex[2 * i + 1], 0};
        if (strtoul(b, NULL, 16) != (unsigned char)raw[i])
            return false;
    }
    return true;
}

/* A JSON string written by batch_json_str gives back s exactly, or (when lossy) s with each
 * invalid byte as U+FFFD; either way it is valid UTF-8. */
static void check_string(const char *json, const char *s, bool lossy)
{
    static char got[1 << 16];
    const char *p = json;
    HDM_FUZZ_CHECK(json_string(&p, got, sizeof got));
    HDM_FUZZ_CHECK(valid_utf8(got, strlen(got)));
    if (!lossy)
        HDM_FUZZ_CHECK(strcmp(got, s) == 0);
    else
        HDM_FUZZ_CHECK(strstr(got, "\xEF\xBF\xBD") != NULL);
    HDM_FUZZ_CHECK(valid_utf8(s, strlen(s)) == !lossy);
}

/* One report line: {"k":v,...}\n, values strings, null or numbers; names given back. */
static void check_line(const char *line, size_t len, const batch_item *it)
{
    HDM_FUZZ_CHECK(len > 2 && line[len - 1] == '\n' && memchr(line, '\n', len - 1) == NULL);
    HDM_FUZZ_CHECK(valid_utf8(line, len));
    static char key[64], val[1 << 16], input[1 << 16], output[1 << 16];
    bool has_in_bytes = false, has_out_bytes = false, out_null = false;
    input[0] = output[0] = '\0';
    const char *p = line;
    HDM_FUZZ_CHECK(*p++ == '{');
    for (;;) {
        HDM_FUZZ_CHECK(json_string(&p, key, sizeof key));
        HDM_FUZZ_CHECK(*p++ == ':');
        if (*p == '"') {
            const char *start = p;
            HDM_FUZZ_CHECK(json_string(&p, val, sizeof val));
            if (strcmp(key, "input") == 0)
                strcpy(input, val);
            else if (strcmp(key, "output") == 0)
                strcpy(output, val);
            else if (strcmp(key, "input_bytes") == 0) {
                has_in_bytes = true;
                HDM_FUZZ_CHECK(hex_equals(val, it->input));
            } else if (strcmp(key, "output_bytes") == 0) {
                has_out_bytes = true;
                HDM_FUZZ_CHECK(it->output && hex_equals(val, it->output));
            }
            (void)start;
        } else if (strncmp(p, "null", 4) == 0) {
            out_null |= strcmp(key, "output") == 0;
            p += 4;
        } else {
            HDM_FUZZ_CHECK(*p == '-' || (*p >= '0' && *p <= '9'));
            while (*p == '-' || *p == '.' || (*p >= '0' && *p <= '9'))
                p++;
        }
        if (*p == ',') {
            p++;
            continue;
        }
        HDM_FUZZ_CHECK(*p++ == '}');
        break;
    }
    HDM_FUZZ_CHECK(*p == '\n');
    HDM_FUZZ_CHECK(has_in_bytes == !valid_utf8(it->input, strlen(it->input)));
    if (!has_in_bytes)
        HDM_FUZZ_CHECK(strcmp(input, it->input) == 0);
    HDM_FUZZ_CHECK(out_null == (it->output == NULL));
    if (it->output) {
        HDM_FUZZ_CHECK(has_out_bytes == !valid_utf8(it->output, strlen(it->output)));
        if (!has_out_bytes)
            HDM_FUZZ_CHECK(strcmp(output, it->output) == 0);
    }
}

static void check_report(const batch_item *it)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    HDM_FUZZ_CHECK(f);
    batch_report_line(f, it);
    HDM_FUZZ_CHECK(fclose(f) == 0);
    check_line(buf, len, it);
    free(buf);
}

/* ---- the plan's promises ---- */

static bool safe_rel(const char *s)
{
    if (!*s || *s == '/' || strcmp(s, "-") == 0)
        return false;
    for (const char *c = s; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.')
            return false;
        c += n + (c[n] == '/');
    }
    return true;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_under(const char *out, const char *out_dir)
{
    size_t n = strlen(out_dir);
    HDM_FUZZ_CHECK(strncmp(out, out_dir, n) == 0 && out[n] == '/');
    for (const char *c = out + n + 1;;) {
        size_t k = strcspn(c, "/");
        HDM_FUZZ_CHECK(k > 0 && !(k == 1 && c[0] == '.') && !(k == 2 && c[0] == '.' && c[1] == '.'));
        if (!c[k])
            break;
        c += k + 1;
    }
}

enum { MAX_FIELDS = 16 };

static void fuzz_one(const uint8_t *data, size_t size);

/* Works inside the tree, and goes back where it was, so the replayer's relative paths hold. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    HDM_FUZZ_CHECK(here >= 0);
    if (!tree[0])
        make_tree();
    HDM_FUZZ_CHECK(chdir(tree) == 0);
    fuzz_one(data, size);
    HDM_FUZZ_CHECK(fchdir(here) == 0);
    close(here);
    return 0;
}

/* Every brace of a name is a placeholder's or doubled ("{{", "}}"): anything else would be
 * written literally, so the name is refused. */
static bool braces_ok(const char *name)
{
    static const char *const ph[] = {"{stem}", "{ext}", "{dir}", "{root}"};
    for (const char *p = name; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p += 2;
            continue;
        }
        if (*p == '}')
            return false;
        if (*p != '{') {
            p++;
            continue;
        }
        size_t k = 0;
        while (k < 4 && strncmp(p, ph[k], strlen(ph[k])) != 0)
            k++;
        if (k == 4)
            return false;
        p += strlen(ph[k]);
    }
    return true;
}

static void fuzz_one(const uint8_t *data, size_t size)
{
    if (size < 3)
        return;
    /* the report's escaping, on any bytes at all */
    {
        char *s = strndup((const char *)data + 3, size - 3);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        HDM_FUZZ_CHECK(s && f);
        bool lossy = batch_json_str(f, s);
        HDM_FUZZ_CHECK(fclose(f) == 0);
        HDM_FUZZ_CHECK(strlen(buf) == len && valid_utf8(buf, len));
        check_string(buf, s, lossy);
        free(buf);
        free(s);
    }
    unsigned flags = data[0], nshards = 1 + data[1] % 4;
    static const char *const out_dirs[] = {"out", "in", "in/sub", "out/x", "in/a.png", "in2/back"};
    char *copy = malloc(size - 3 + 1);
    HDM_FUZZ_CHECK(copy);
    memcpy(copy, data + 3, size - 3);
    copy[size - 3] = '\0';
    char *field[MAX_FIELDS];
    size_t nf = 0;
    for (char *s = copy, *end = copy + (size - 3); nf < MAX_FIELDS; s += strlen(s) + 1) {
        field[nf++] = s;
        if (s + strlen(s) >= end)
            break;
    }
    size_t k = 0;
    batch_config cfg = {0};
    volatile int cancel = 0;
    cfg.cancel = &cancel;
    cfg.out_dir = out_dirs[data[2] % 6];
    cfg.name = k < nf ? field[k++] : "{stem}.{ext}";
    cfg.format = flags & 2 && k < nf ? field[k++] : NULL;
    const char *report = flags & 4 && k < nf ? field[k++] : NULL;
    cfg.report = report && safe_rel(report) ? report : NULL;
    cfg.recursive = flags & 1;
    static const char *const steps_a[] = {"mask:m.png:invert"}, *const steps_b[] = {"mul:in/a.png"};
    cfg.steps = flags & 8 ? steps_b : steps_a;
    cfg.nsteps = 1;
    const char *inputs[MAX_FIELDS];
    size_t ni = 0;
    for (; k < nf; k++)
        if (safe_rel(field[k]))
            inputs[ni++] = field[k];
    if (ni == 0)
        inputs[ni++] = "in";
    cfg.inputs = inputs;
    cfg.ninputs = ni;
    cfg.shard_count = nshards;
    {
        char msg[1024];
        if (!braces_ok(cfg.name))
            HDM_FUZZ_CHECK(!batch_check_names(cfg.name, cfg.format, msg, sizeof msg));
    }

    int verdict = 0;
    char *all_in[4096];
    size_t n_all = 0;
    size_t total = 0, n_seen = 0;
    char *outs[4096];
    size_t n_outs = 0;
    for (unsigned s = 0; s < nshards; s++) {
        cfg.shard_index = s;
        /* batch.c reports through the command's cli_say: here every message is counted and
         * must be one line */
        char *said = NULL;
        size_t said_len = 0;
        FILE *sf = open_memstream(&said, &said_len);
        HDM_FUZZ_CHECK(sf);
        cli_say_to(sf);
        batch_plan plan;
        int rc = batch_prepare(&cfg, &plan);
        cli_say_to(NULL);
        HDM_FUZZ_CHECK(fclose(sf) == 0);
        size_t nsaid = hdm_fuzz_count_said(said, said_len);
        free(said);
        HDM_FUZZ_CHECK(rc == -1 || rc == 1 || rc == 2);
        if (s == 0)
            verdict = rc;
        HDM_FUZZ_CHECK(rc == verdict); /* every shard sees the whole list */
        if (rc != -1) {
            HDM_FUZZ_CHECK(nsaid >= 1);
            continue;
        }
        if (s == 0)
            total = plan.total_run;
        HDM_FUZZ_CHECK(plan.total_run == total);
        char msg[1024];
        HDM_FUZZ_CHECK(batch_check_names(cfg.name, cfg.format, msg, sizeof msg));
        for (size_t i = 0; i < plan.n; i++) {
            const batch_item *it = &plan.v[i];
            check_report(it);
            if (it->status == BATCH_SKIPPED) {
                HDM_FUZZ_CHECK(it->output == NULL && it->error);
                continue;
            }
            n_seen++;
            if (!it->output) { /* no name could be made: it fails alone (and may be named twice) */
                HDM_FUZZ_CHECK(it->status == BATCH_FAILED && it->error);
                continue;
            }
            HDM_FUZZ_CHECK(n_all < 4096 && (all_in[n_all++] = strdup(it->input)));
            check_under(it->output, cfg.out_dir);
            if (cfg.format)
                HDM_FUZZ_CHECK(hdm_format_from_name(it->output) == hdm_format_from_name(cfg.format));
            HDM_FUZZ_CHECK(n_outs < 4096 && (outs[n_outs++] = strdup(it->output)));
            struct stat so, si;
            if (stat(it->output, &so) == 0)
                for (size_t j = 0; j < plan.n; j++)
                    if (plan.v[j].status != BATCH_SKIPPED && stat(plan.v[j].input, &si) == 0)
                        HDM_FUZZ_CHECK(so.st_dev != si.st_dev || so.st_ino != si.st_ino);
        }
        batch_plan_free(&plan);
    }
    if (verdict == -1) {
        /* the shards partition the inputs: each once, all of them */
        HDM_FUZZ_CHECK(n_seen == total);
        qsort(all_in, n_all, sizeof *all_in, by_str);
        for (size_t i = 1; i < n_all; i++)
            HDM_FUZZ_CHECK(strcmp(all_in[i - 1], all_in[i]) != 0);
        /* no two inputs write one output, and no output is an input */
        qsort(outs, n_outs, sizeof *outs, by_str);
        for (size_t i = 1; i < n_outs; i++)
            HDM_FUZZ_CHECK(strcmp(outs[i - 1], outs[i]) != 0);
        for (size_t i = 0; i < n_outs; i++)
            HDM_FUZZ_CHECK(!bsearch(&outs[i], all_in, n_all, sizeof *all_in, by_str));
    }
    for (size_t i = 0; i < n_all; i++)
        free(all_in[i]);
    for (size_t i = 0; i < n_outs; i++)
        free(outs[i]);
    free(copy);
}
