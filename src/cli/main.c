/* SPDX-License-Identifier: MIT */
/* main.c — the hadamard command: signals, standard input and output, and each command's run */
#include "hadamard.h"
#include "cli/args.h"
#include "cli/batch.h"
#include "cli/help.h"
#include "cli/info.h"
#include "cli/messages.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stop_flag;
static volatile int cancel_flag;

/* The first SIGINT or SIGTERM asks the running call to stop and clean up; the handler then
 * steps aside, so a second one ends the process at once even if that cleanup hangs. */
static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
    cancel_flag = 1;
    struct sigaction dfl = {0};
    dfl.sa_handler = SIG_DFL;
    sigaction(SIGINT, &dfl, NULL);
    sigaction(SIGTERM, &dfl, NULL);
}

/* The library's notes on an output ("FILE: alpha flattened …", "FILE: XMP left out …"), each
 * kind said once per run however many files a batch writes, from whichever worker thread meets
 * it first. The kind is the text after the last ": " (the reasons hold none), so a path with
 * one in it does not make two kinds. An in-memory output is standard output here. */
static void on_notice(void *ctx, const char *message)
{
    enum { KINDS = 16, KIND_LEN = 96 };
    static char said[KINDS][KIND_LEN];
    static int nsaid;
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    (void)ctx;
    const char *kind = message;
    for (const char *p = strstr(message, ": "); p; p = strstr(p + 2, ": "))
        kind = p + 2;
    pthread_mutex_lock(&lock);
    bool seen = false;
    for (int i = 0; i < nsaid && !seen; i++)
        seen = strncmp(said[i], kind, KIND_LEN - 1) == 0;
    if (!seen && nsaid < KINDS)
        snprintf(said[nsaid++], KIND_LEN, "%s", kind);
    pthread_mutex_unlock(&lock);
    if (seen)
        return;
    static const char out_tag[] = "(memory output)";
    if (strncmp(message, out_tag, sizeof out_tag - 1) == 0)
        cli_say("standard output%s", message + sizeof out_tag - 1);
    else
        cli_say("%s", message);
}

/* The library's options for this command line, stopped by SIGINT or SIGTERM. */
static void fill_options(const cli_args *a, hdm_options *o)
{
    cli_fill_options(a, o);
    o->cancel = &cancel_flag;
    o->notice = on_notice;
}

static int report(const hdm_error *e)
{
    cli_say("%s", e->message);
    return e->status == HDM_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
}

static int read_stdin(uint64_t max, void **data, size_t *size);
static int report_ends(const hdm_error *e, bool from_stdin);
static int info_stdin(const hdm_options *o, hdm_file_info *info, hdm_error *e);

/* The message of a failed read as the command says it: standard input for "(memory)". */
static void ends_message(const hdm_error *e, bool from_stdin, char *buf, size_t cap)
{
    static const char in_tag[] = "(memory)";
    if (from_stdin && strncmp(e->message, in_tag, sizeof in_tag - 1) == 0)
        snprintf(buf, cap, "standard input%s", e->message + sizeof in_tag - 1);
    else
        snprintf(buf, cap, "%s", e->message);
}

static int run_info(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    hdm_options o;
    fill_options(a, &o);
    bool json = cli_has(a, "json");
    int rc = 0;
    bool read_stdin_once = false;
    for (int i = 0; i < a->npos; i++) {
        hdm_file_info d = {.size = sizeof d};
        hdm_error e = {0};
        hdm_status st;
        bool from_stdin = strcmp(a->pos[i], "-") == 0;
        if (from_stdin) {
            /* standard input can be read once: a second "-" would find it empty */
            if (read_stdin_once) {
                cli_say("info: standard input can be given only once");
                if (json)
                    info_print_json_error(stdout, "-", "standard input can be given only once");
                rc = EXIT_FAIL;
                continue;
            }
            read_stdin_once = true;
            if (info_stdin(&o, &d, &e)) {
                if (json)
                    info_print_json_error(stdout, "-", "standard input could not be read");
                rc = EXIT_FAIL;
                continue;
            }
            st = e.status;
        } else {
            st = hdm_file_info_read(a->pos[i], &o, &d, &e);
        }
        if (st) {
            report_ends(&e, from_stdin);
            if (json) {
                char msg[sizeof e.message + 32];
                ends_message(&e, from_stdin, msg, sizeof msg);
                info_print_json_error(stdout, a->pos[i], msg);
            }
            rc = EXIT_FAIL;
            continue;
        }
        if (json)
            info_print_json(stdout, a->pos[i], &d, o.no_rotate);
        else
            info_print(stdout, a->pos[i], &d, o.no_rotate);
    }
    return rc;
}

/* Says once per option, on stderr, that a writing option has no effect on the output format
 * (--quality outside JPEG and WebP, the --jpeg-… and --background options outside JPEG,
 * --png-level and --png-filter outside PNG, --webp-lossless outside WebP, --tiff-compression
 * outside TIFF; --quality and --jpeg-subsample apply to TIFF too when its compression is
 * jpeg). The exit status is not changed. Also for batch, once per output format it writes. */
static void cli_note_inapplicable(const cli_args *a, hdm_format fmt)
{
    static const struct { const char *opt; hdm_format only, also; bool tiff_jpeg; } rules[] = {
        {"quality", HDM_FORMAT_JPEG, HDM_FORMAT_WEBP, true},
        {"png-level", HDM_FORMAT_PNG, HDM_FORMAT_UNKNOWN, false},
        {"png-filter", HDM_FORMAT_PNG, HDM_FORMAT_UNKNOWN, false},
        {"jpeg-progressive", HDM_FORMAT_JPEG, HDM_FORMAT_UNKNOWN, false},
        {"jpeg-subsample", HDM_FORMAT_JPEG, HDM_FORMAT_UNKNOWN, true},
        {"background", HDM_FORMAT_JPEG, HDM_FORMAT_UNKNOWN, false},
        {"webp-lossless", HDM_FORMAT_WEBP, HDM_FORMAT_UNKNOWN, false},
        {"tiff-compression", HDM_FORMAT_TIFF, HDM_FORMAT_UNKNOWN, false},
    };
    bool tiff_jpeg = fmt == HDM_FORMAT_TIFF && cli_has(a, "tiff-compression") &&
                     strcmp(cli_str(a, "tiff-compression"), "jpeg") == 0;
    static bool said[sizeof rules / sizeof rules[0]];
    char upper[16];
    snprintf(upper, sizeof upper, "%s", hdm_format_name(fmt));
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (!said[i] && fmt != rules[i].only && fmt != rules[i].also &&
            fmt != HDM_FORMAT_UNKNOWN && !(rules[i].tiff_jpeg && tiff_jpeg) &&
            cli_has(a, rules[i].opt)) {
            said[i] = true;
            cli_say("--%s has no effect on %s output", rules[i].opt, upper);
        }
}


static int stdin_too_big(uint64_t max)
{
    cli_say("standard input: more than the memory limit of %" PRIu64
            " bytes (raise it with --max-memory)", max);
    return EXIT_FAIL;
}

/* Reads all of standard input, refusing more than max bytes. What is not an image is refused
 * from its first bytes, before more is read; the buffer grows by doubling but never past max
 * (realloc of a block that large moves pages, not bytes, so the peak stays near what is held). */
static int read_stdin(uint64_t max, void **data, size_t *size)
{
    enum { HEAD = 32 };
    size_t lim = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)max;
    size_t n = 0, cap = lim < (1 << 16) ? lim : 1 << 16;
    struct stat sb;
    if (fstat(0, &sb) == 0 && S_ISREG(sb.st_mode)) {
        /* a redirected file says its size: refused or taken in one piece */
        off_t pos = lseek(0, 0, SEEK_CUR);
        uint64_t left = (uint64_t)sb.st_size - (pos > 0 && pos <= sb.st_size ? (uint64_t)pos : 0);
        if (left > max)
            return stdin_too_big(max);
        if (left > cap)
            cap = (size_t)left;
    }
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) {
        cli_say("standard input: out of memory");
        return EXIT_FAIL;
    }
    bool sniffed = false;
    for (;;) {
        if (!sniffed && (n >= HEAD || (n > 0 && n == cap))) {
            sniffed = true;
            if (hdm_format_sniff(buf, n) == HDM_FORMAT_UNKNOWN) {
                free(buf);
                cli_say("standard input: not an image in a format hadamard reads");
                return EXIT_FAIL;
            }
        }
        if (n == cap) {
            if (cap >= lim) { /* full: one more byte means too much */
                unsigned char extra;
                ssize_t r;
                while ((r = read(0, &extra, 1)) < 0 && errno == EINTR && !stop_flag)
                    ;
                if (r == 0)
                    break;
                free(buf);
                if (r > 0)
                    return stdin_too_big(max);
                cli_say("standard input: read failed: %s", strerror(errno));
                return EXIT_FAIL;
            }
            size_t next = cap > lim / 2 ? lim : cap * 2;
            unsigned char *b = realloc(buf, next);
            if (!b) {
                free(buf);
                cli_say("standard input: out of memory");
                return EXIT_FAIL;
            }
            buf = b;
            cap = next;
        }
        ssize_t r = read(0, buf + n, cap - n);
        if (r < 0 && errno == EINTR && !stop_flag)
            continue;
        if (r < 0) {
            int e = errno;
            free(buf);
            cli_say("standard input: read failed: %s", strerror(e));
            return EXIT_FAIL;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    if (!sniffed && n > 0 && hdm_format_sniff(buf, n) == HDM_FORMAT_UNKNOWN) {
        free(buf);
        cli_say("standard input: not an image in a format hadamard reads");
        return EXIT_FAIL;
    }
    *data = buf;
    *size = n;
    return 0;
}

/* Whether a header that failed on a prefix of the input may read with more of it: it was cut
 * ("truncated"), or stb's readers, which say only "unknown image type" for a cut header too. */
static bool may_need_more(const hdm_error *e)
{
    return e->status == HDM_ERR_CORRUPT &&
           (strstr(e->message, "truncated") || strstr(e->message, "unknown image type"));
}

/* Reads the header of the image on standard input, taking only as much of it as the header
 * needs: a prefix of 64 KiB, doubled while the header reader finds it cut, up to the memory
 * limit (a PNG signature and then gigabytes costs 64 KiB, not gigabytes). Returns 0 with e's
 * status (and message) for the header read, or EXIT_FAIL with the message said. */
static int info_stdin(const hdm_options *o, hdm_file_info *info, hdm_error *e)
{
    uint64_t max = o->max_memory;
    size_t lim = max > SIZE_MAX / 2 ? SIZE_MAX / 2 : (size_t)max;
    size_t n = 0, cap = lim < (1 << 16) ? lim : 1 << 16;
    unsigned char *buf = NULL;
    bool at_end = false;
    for (;;) {
        unsigned char *b = realloc(buf, cap ? cap : 1);
        if (!b) {
            free(buf);
            cli_say("standard input: out of memory");
            return EXIT_FAIL;
        }
        buf = b;
        while (n < cap) {
            ssize_t r = read(0, buf + n, cap - n);
            if (r < 0 && errno == EINTR && !stop_flag)
                continue;
            if (r < 0) {
                int err = errno;
                free(buf);
                cli_say("standard input: read failed: %s", strerror(err));
                return EXIT_FAIL;
            }
            if (r == 0) {
                at_end = true;
                break;
            }
            n += (size_t)r;
        }
        *e = (hdm_error){0};
        hdm_status st = hdm_file_info_read_memory(n ? buf : (const void *)"", n, o, info, e);
        e->status = st;
        if (!st || at_end || !may_need_more(e))
            break;
        if (cap >= lim) { /* the header needs more than the limit allows */
            free(buf);
            return stdin_too_big(max);
        }
        cap = cap > lim / 2 ? lim : cap * 2;
    }
    free(buf);
    return 0;
}

/* Writes all of data to standard output. */
static int write_stdout(const void *data, size_t size)
{
    const unsigned char *p = data;
    while (size) {
        ssize_t w = write(1, p, size);
        if (w < 0 && errno == EINTR && !stop_flag)
            continue;
        if (w <= 0) {
            cli_say("standard output: write failed: %s", w < 0 ? strerror(errno) : "no progress");
            return EXIT_FAIL;
        }
        p += w;
        size -= (size_t)w;
    }
    return 0;
}

/* The library names an in-memory input "(memory)" and an in-memory output "(memory output)";
 * here they are standard input (only when the IMAGE is "-") and standard output. Says e's
 * message so named and returns the exit status. */
static int report_ends(const hdm_error *e, bool from_stdin)
{
    static const char in_tag[] = "(memory)", out_tag[] = "(memory output)";
    if (strncmp(e->message, out_tag, sizeof out_tag - 1) == 0)
        cli_say("standard output%s", e->message + sizeof out_tag - 1);
    else if (from_stdin && strncmp(e->message, in_tag, sizeof in_tag - 1) == 0)
        cli_say("standard input%s", e->message + sizeof in_tag - 1);
    else
        cli_say("%s", e->message);
    return e->status == HDM_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
}

/* Whether fd is a regular file that is path (by device and inode). */
static bool fd_is_file(int fd, const char *path)
{
    struct stat a, b;
    return fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && stat(path, &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* A redirection can make standard output one of the files read ("1<> mask.png", ">> in.png")
 * or standard input the file written ("< out.png"): the library sees only bytes there, so the
 * command checks what it hands over, as the library does for file names. */
static int check_std_ends(const hdm_pipeline *p, const char *in, const char *out,
                          bool from_stdin, bool to_stdout)
{
    if (from_stdin && !to_stdout && fd_is_file(0, out)) {
        cli_say("%s: output is the same file as standard input; refusing to overwrite it", out);
        return EXIT_FAIL;
    }
    if (!to_stdout)
        return 0;
    if (!from_stdin && fd_is_file(1, in)) {
        cli_say("standard output is the same file as the input %s; refusing to overwrite it", in);
        return EXIT_FAIL;
    }
    size_t n = hdm_pipeline_files(p, NULL, 0);
    const char **files = malloc((n ? n : 1) * sizeof *files);
    if (!files) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    hdm_pipeline_files(p, files, n);
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        if (fd_is_file(1, files[i])) {
            cli_say("standard output is the same file as the input %s; refusing to overwrite it",
                    files[i]);
            rc = EXIT_FAIL;
        }
    free(files);
    return rc;
}

/* Runs p over the command's IMAGE into its output: "-" for either end is standard input or
 * output. A result for standard output is encoded whole in memory first, so nothing partial
 * ever reaches it. */
static int run_pipeline(const cli_args *a, const hdm_pipeline *p)
{
    hdm_options o;
    fill_options(a, &o);
    const char *in = a->pos[0], *out = cli_str(a, "output");
    hdm_format fmt = cli_output_format(a);
    cli_note_inapplicable(a, fmt);
    bool from_stdin = strcmp(in, "-") == 0, to_stdout = strcmp(out, "-") == 0;
    if (!to_stdout)
        o.out_format = fmt; /* --format, or the name's: a name need not have an extension */
    void *data = NULL, *res = NULL;
    size_t size = 0, res_size = 0;
    int bad = check_std_ends(p, in, out, from_stdin, to_stdout);
    if (bad)
        return bad;
    if (from_stdin) {
        int rc = read_stdin(o.max_memory, &data, &size);
        if (rc)
            return rc;
    }
    hdm_error e = {0};
    hdm_status st;
    if (from_stdin && to_stdout)
        st = hdm_pipeline_run_memory(p, data, size, fmt, &o, &res, &res_size, &e);
    else if (from_stdin)
        st = hdm_pipeline_run_memory_to_file(p, data, size, out, &o, &e);
    else if (to_stdout)
        st = hdm_pipeline_run_file_to_memory(p, in, fmt, &o, &res, &res_size, &e);
    else
        st = hdm_pipeline_run_file(p, in, out, &o, &e);
    free(data);
    int rc = st ? report_ends(&e, from_stdin) : to_stdout ? write_stdout(res, res_size) : 0;
    hdm_free(res);
    return rc;
}

/* ---- "-" is standard input only as the IMAGE ----
 * A step's operand, mask or "@-" kernel of "-" would be opened as a file called "-" (or find
 * standard input already read as the IMAGE): each is refused with a message saying which. */

/* Whether a field's value (after "KEY=", if any) is want. */
static bool value_is(const char *field, const char *want)
{
    const char *eq = strchr(field, '=');
    return strcmp(eq ? eq + 1 : field, want) == 0;
}

/* The first field of step (written as for run) whose value is want, copied into buf; NULL if
 * none. */
static const char *step_field(const char *step, const char *want, char *buf, size_t cap)
{
    for (const char *at = strchr(step, ':'); batch_step_field(&at, buf, cap);)
        if (value_is(buf, want))
            return buf;
    return NULL;
}

/* Whether one of the files p's steps read from the first'th on is "-". */
static bool reads_dash(const hdm_pipeline *p, size_t first)
{
    size_t n = hdm_pipeline_files(p, NULL, 0);
    const char **f = n ? malloc(n * sizeof *f) : NULL;
    bool dash = false;
    if (f) {
        hdm_pipeline_files(p, f, n);
        for (size_t i = first; i < n && !dash; i++)
            dash = strcmp(f[i], "-") == 0;
    }
    free(f);
    return dash;
}

/* Appends step (as for run) to p, refusing a field that reads standard input; returns -1 when
 * added, else the exit status (message said). */
static int add_step(hdm_pipeline *p, const char *step)
{
    char field[256];
    const char *why = "standard input can only be the IMAGE";
    if (step_field(step, "@-", field, sizeof field)) { /* a kernel file, read when added */
        cli_say("step '%s': %s: %s (give a file)", step, field, why);
        return EXIT_USAGE;
    }
    size_t before = hdm_pipeline_files(p, NULL, 0);
    hdm_error e = {0};
    if (hdm_pipeline_add(p, step, &e))
        return report(&e);
    if (!reads_dash(p, before))
        return -1;
    if (step_field(step, "-", field, sizeof field) && strchr(field, '='))
        cli_say("step '%s': %s: %s (give a file)", step, field, why);
    else
        cli_say("step '%s': %s (give the operand as a file)", step, why);
    return EXIT_USAGE;
}

/* Replaces the first whole word from in msg (between the start, a blank, '(' or a quote and
 * the end, a blank, ')', a quote, ',' or ';') by to, when it fits in cap. */
static void replace_word(char *msg, size_t cap, const char *from, const char *to)
{
    size_t fl = strlen(from), tl = strlen(to), len = strlen(msg);
    for (char *at = strstr(msg, from); at; at = strstr(at + 1, from)) {
        bool starts = at == msg || strchr(" ('", at[-1]);
        if (!starts || !strchr(" )',;", at[fl])) /* strchr finds the final NUL too */
            continue;
        if (len - fl + tl >= cap)
            return;
        memmove(at + tl, at + fl, len - (size_t)(at - msg) - fl + 1);
        memcpy(at, to, tl);
        return;
    }
}

/* The library speaks of an operation's fields as a step writes them ("mask-at=3,3",
 * "(mask=M)"); an operation's command gave them as options, so its message names them so:
 * "--mask-at 3,3", "(--mask M)". */
static void option_words(char *msg, size_t cap, const cli_cmd *cmd, const cli_args *a)
{
    char to[512];
    for (int i = 0; i < a->nfields; i++) {
        const char *f = a->fields[i], *eq = strchr(f, '=');
        if (eq)
            snprintf(to, sizeof to, "--%.*s %s", (int)(eq - f), f, eq + 1);
        else
            snprintf(to, sizeof to, "--%s", f);
        replace_word(msg, cap, f, to);
    }
    for (const hdm_param *p = cmd->op->params; p && p->name; p++) {
        if (!p->arg)
            continue;
        char from[128];
        snprintf(from, sizeof from, "%s=%s", p->name, p->arg);
        snprintf(to, sizeof to, "--%s %s", p->name, p->arg);
        replace_word(msg, cap, from, to);
    }
}

/* An operation's command is a one-step run: its operand files and parameters become the
 * step's fields, so the command line and the step grammar share one parser. */
static int run_op(const cli_cmd *cmd, const cli_args *a)
{
    const char **fields = malloc(((size_t)a->npos + (size_t)a->nfields + 1) * sizeof *fields);
    size_t n = 0;
    hdm_pipeline *p = NULL;
    if (!fields || hdm_pipeline_new(&p)) {
        free(fields);
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    for (int i = 1; i < a->npos; i++) {
        if (strcmp(a->pos[i], "-") == 0) {
            free(fields);
            hdm_pipeline_free(p);
            cli_say("%s: standard input can only be the IMAGE (give %s as a file)", cmd->name,
                    cmd->op->operands);
            return EXIT_USAGE;
        }
        fields[n++] = a->pos[i];
    }
    /* an option's value "-" or "@-" (--mask -, --kernel @-): its field is NAME=VALUE */
    const char *dash = NULL;
    for (int i = 0; i < a->nfields; i++) {
        if (value_is(a->fields[i], "@-"))
            dash = a->fields[i];
        fields[n++] = a->fields[i];
    }
    hdm_error e = {0};
    int rc = -1;
    if (dash) {
        rc = EXIT_USAGE;
    } else if (hdm_pipeline_add_fields(p, cmd->op->name, fields, n, &e)) {
        option_words(e.message, sizeof e.message, cmd, a);
        rc = report(&e);
    }
    for (int i = 0; rc < 0 && !dash && i < a->nfields; i++)
        if (value_is(a->fields[i], "-") && reads_dash(p, 0))
            dash = a->fields[i];
    if (dash) {
        const char *eq = strchr(dash, '=');
        cli_say("%s: --%.*s %s: standard input can only be the IMAGE (give a file)", cmd->name,
                (int)(eq - dash), dash, eq + 1);
        rc = EXIT_USAGE;
    }
    if (rc < 0)
        rc = run_pipeline(a, p);
    hdm_pipeline_free(p);
    free(fields);
    return rc;
}

static int run_run(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    hdm_pipeline *p;
    if (hdm_pipeline_new(&p)) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    int rc = -1;
    for (int i = 1; i < a->npos && rc < 0; i++)
        rc = add_step(p, a->pos[i]);
    if (rc < 0)
        rc = run_pipeline(a, p);
    hdm_pipeline_free(p);
    return rc;
}

/* Digits "/" digits and nothing else: strtoul alone would take leading blanks and signs. */
static bool parse_shard(const char *s, unsigned *k, unsigned *n)
{
    const char *slash = strchr(s, '/');
    if (!slash || strspn(s, "0123456789") != (size_t)(slash - s) ||
        strspn(slash + 1, "0123456789") != strlen(slash + 1))
        return false;
    char *end;
    errno = 0;
    unsigned long a = strtoul(s, &end, 10);
    if (errno || end == s || *end != '/' || *s == '-')
        return false;
    const char *t = end + 1;
    unsigned long b = strtoul(t, &end, 10);
    if (errno || end == t || *end || *t == '-' || b == 0 || b > 1000000 || a >= b)
        return false;
    *k = (unsigned)a;
    *n = (unsigned)b;
    return true;
}

/* What --resume's records must agree on besides the input: the version, the steps, and every
 * option given that can change an output's bytes (all but the batch's own controls and the
 * limits, which only refuse). A new option counts unless it is named here. */
static char *batch_recipe(const cli_args *a)
{
    static const char *const inert[] = {"out-dir", "jobs", "recursive", "resume", "shard",
                                        "report", "null", "quiet", "help", "max-pixels",
                                        "max-width", "max-height", "max-memory", "threads"};
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);
    if (!f)
        return NULL;
    fprintf(f, "hadamard %s", hdm_version());
    for (int i = 0; i < a->dashdash; i++)
        fprintf(f, "\nstep %zu %s", strlen(a->pos[i]), a->pos[i]);
    for (int i = 0; i < CLI_N_OPTIONS; i++) {
        bool skip = !a->set[i];
        for (size_t j = 0; !skip && j < sizeof inert / sizeof *inert; j++)
            skip = strcmp(cli_options[i].name, inert[j]) == 0;
        if (skip)
            continue;
        fprintf(f, "\n--%s", cli_options[i].name);
        if (cli_options[i].kind == OPT_STRING)
            fprintf(f, "=%zu %s", strlen(a->str[i]), a->str[i]);
        else if (cli_options[i].kind == OPT_UINT)
            fprintf(f, "=%" PRIu64, a->num[i]);
    }
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

static int run_batch(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    if (a->dashdash < 0 || a->dashdash == a->npos) {
        cli_say("batch: expected STEP... -- INPUT... (see 'hadamard batch --help')");
        return EXIT_USAGE;
    }
    batch_config cfg = {0};
    cfg.out_dir = cli_str(a, "out-dir");
    if (!cfg.out_dir) {
        cli_say("batch: no output directory (give --out-dir DIR, before the --)");
        return EXIT_USAGE;
    }
    cfg.name = cli_has(a, "name") ? cli_str(a, "name") : "{stem}.{ext}";
    cfg.format = cli_str(a, "format");
    /* an output format fixed for every file (by --format, or a name without {ext}) */
    const char *fixed = cfg.format ? cfg.format : strstr(cfg.name, "{ext}") ? NULL : cfg.name;
    if (fixed && hdm_format_from_name(fixed) != HDM_FORMAT_UNKNOWN)
        cli_note_inapplicable(a, hdm_format_from_name(fixed));
    cfg.shard_count = 1;
    if (cli_has(a, "shard") && !parse_shard(cli_str(a, "shard"), &cfg.shard_index, &cfg.shard_count)) {
        cli_say("batch: --shard needs K/N with 0 <= K < N, not '%s'", cli_str(a, "shard"));
        return EXIT_USAGE;
    }
    /* the cores this process may use (affinity mask, cgroup quota), not all the machine has */
    unsigned cores = hdm_cores_available();
    cfg.jobs = cli_has(a, "jobs") ? (unsigned)cli_num(a, "jobs") : cores > 256 ? 256 : cores;
    cfg.recursive = cli_has(a, "recursive");
    cfg.resume = cli_has(a, "resume");
    cfg.quiet = cli_has(a, "quiet");
    cfg.report = cli_str(a, "report");
    cfg.null_list = cli_has(a, "null");
    char *recipe = batch_recipe(a);
    if (!recipe) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    cfg.recipe = recipe;
    cfg.steps = a->pos;
    cfg.nsteps = (size_t)a->dashdash;
    cfg.cancel = &cancel_flag;
    cfg.inputs = a->pos + a->dashdash;
    cfg.ninputs = (size_t)(a->npos - a->dashdash);
    hdm_options o;
    fill_options(a, &o);
    cfg.opt = &o;
    hdm_pipeline *p;
    if (hdm_pipeline_new(&p)) {
        free(recipe);
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    int rc = -1;
    for (int i = 0; i < a->dashdash && rc < 0; i++)
        rc = add_step(p, a->pos[i]);
    if (rc < 0) {
        cfg.pipeline = p;
        rc = batch_main(&cfg);
    }
    hdm_pipeline_free(p);
    free(recipe);
    return rc;
}

/* HADAMARD_CPU forces a kernel variant; one this build or CPU lacks is refused, not ignored. */
static bool cpu_request_ok(void)
{
    const char *want = getenv("HADAMARD_CPU");
    if (!want || !*want || hdm_kernel_available(want) == HDM_OK)
        return true;
    cli_say("HADAMARD_CPU=%s: this build or CPU has no such kernel variant "
        "(scalar, sse2, avx2, avx512 or neon, as the CPU allows)", want);
    return false;
}

static int run(const cli_cmd *cmd, const cli_args *a)
{
    switch (cmd->kind) {
    case CLI_INFO: return run_info(cmd, a);
    case CLI_RUN: return run_run(cmd, a);
    case CLI_BATCH: return run_batch(cmd, a);
    case CLI_OP: return run_op(cmd, a);
    }
    return EXIT_FAIL;
}

static int run_main(int argc, char **argv);

int main(int argc, char **argv)
{
    /* A write past RLIMIT_FSIZE must fail with EFBIG, and one into a closed pipe with EPIPE,
     * not kill us before cleanup and a message. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    return cli_close_stdout(run_main(argc, argv));
}

static int run_main(int argc, char **argv)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    cli_add_op_commands();
    cli_add_format_lists();
    if (argc < 2) {
        cli_usage(stderr);
        return EXIT_USAGE;
    }
    /* A kernel variant that cannot be had is refused whatever the command, --version too. */
    if (!cpu_request_ok())
        return EXIT_USAGE;
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 ||
        (strcmp(c, "help") == 0 && argc == 2)) {
        cli_usage(stdout);
        return 0;
    }
    if (strcmp(c, "help") == 0) {
        if (argc > 3) {
            cli_say("help: expected at most one COMMAND (see 'hadamard --help')");
            return EXIT_USAGE;
        }
        const cli_cmd *cmd = cli_find_command(argv[2]);
        if (!cmd)
            return cli_unknown_command(argv[2]);
        cli_cmd_help(cmd);
        return 0;
    }
    if (strcmp(c, "--man") == 0) {
        cli_print_man();
        return 0;
    }
    if (strcmp(c, "--completion") == 0) {
        cli_print_completion();
        return 0;
    }
    if (strcmp(c, "--version") == 0) {
        printf("hadamard %s (kernel %s)\n", hdm_version(), hdm_kernel_name());
        return 0;
    }
    const cli_cmd *cmd = cli_find_command(c);
    if (!cmd)
        return cli_unknown_command(c);
    static cli_args a;
    int rc = cli_parse(cmd, argc - 2, argv + 2, &a);
    if (rc < 0)
        rc = run(cmd, &a);
    else if (rc == 0) /* --help */
        cli_cmd_help(cmd);
    cli_args_free(&a);
    /* Stopped by SIGINT or SIGTERM: the shell's 128 + SIGINT, as batch gives. */
    return stop_flag ? 130 : rc;
}
