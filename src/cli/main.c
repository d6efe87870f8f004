/* main.c — the hadamard command: one table of subcommands over the public API */
#include "hadamard.h"
#include "cli/batch.h"
#include "kernel/kernel.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* ---- options: one table, shared by every command that names them ---- */

typedef enum opt_kind { OPT_FLAG, OPT_UINT, OPT_STRING } opt_kind;

typedef struct cli_opt {
    const char *name;   /* long name without "--" */
    char short_name;    /* or 0 */
    opt_kind kind;
    const char *arg;    /* placeholder in help */
    const char *help;
    uint64_t min, max;  /* OPT_UINT range */
} cli_opt;

static const cli_opt options[] = {
    {"output", 'o', OPT_STRING, "OUT", "output file; its extension picks the format "
     "(.png .jpg .jpeg .bmp .tga .hdr)", 0, 0},
    {"quality", 0, OPT_UINT, "Q", "JPEG quality 1..100 (default 90)", 1, 100},
    {"png-level", 0, OPT_UINT, "L", "PNG zlib level 0..9 (default: the measured one)", 0, 9},
    {"png-filter", 0, OPT_STRING, "F", "PNG row filter: none, sub, up, avg, paeth, adaptive", 0, 0},
    {"max-pixels", 0, OPT_UINT, "N", "refuse images above N pixels (default 268435456 = 2^28)",
     1, UINT64_MAX},
    {"max-width", 0, OPT_UINT, "N", "refuse images wider than N (default 1048576)", 1, UINT32_MAX},
    {"max-height", 0, OPT_UINT, "N", "refuse images taller than N (default 1048576)", 1,
     UINT32_MAX},
    {"max-memory", 0, OPT_UINT, "BYTES", "refuse a job that would hold more than BYTES at "
     "once: decoded images, filter rows, encoders (default 4294967296)", 1, UINT64_MAX},
    {"out-dir", 0, OPT_STRING, "DIR", "batch: write outputs under DIR (created if missing)", 0, 0},
    {"name", 0, OPT_STRING, "TEMPLATE", "batch: output name from {stem}, {ext}, {dir} (the "
     "input's directory below its root) and {root} (the root's name, or a named file's "
     "directory's); default {stem}.{ext}; {{ and }} write a brace, any other {...} is an "
     "error", 0, 0},
    {"format", 0, OPT_STRING, "EXT", "write this format (png, jpg, bmp, tga, hdr): needed with "
     "-o -; batch: instead of the input's", 0, 0},
    {"jobs", 'j', OPT_UINT, "N", "batch: files processed at once (default: the number of cores)",
     1, 256},
    {"recursive", 'r', OPT_FLAG, NULL, "batch: descend into directories given as inputs", 0, 0},
    {"resume", 0, OPT_FLAG, NULL, "batch: skip inputs whose output exists as a whole image (a "
     "regular file that decodes completely: one decode per skipped file); others are redone",
     0, 0},
    {"shard", 0, OPT_STRING, "K/N", "batch: process only part K of N (0 <= K < N) of the sorted "
     "inputs", 0, 0},
    {"report", 0, OPT_STRING, "FILE", "batch: write one JSON object per input to FILE, "
     "replaced whole at the end; a name that is not UTF-8 shows U+FFFD for each bad byte and "
     "gains \"input_bytes\" (or \"output_bytes\"): the name's bytes in hex", 0, 0},
    {"null", '0', OPT_FLAG, NULL, "batch: the - input is a NUL-separated list (default: one "
     "path a line, blank lines ignored); an entry longer than a path or an empty NUL entry "
     "is an error, and the list is at most --max-memory bytes", 0, 0},
    {"quiet", 'q', OPT_FLAG, NULL, "batch: no progress and no summary (errors still shown)", 0,
     0},
    {"help", 'h', OPT_FLAG, NULL, "show this help", 0, 0},
};
enum { N_OPTIONS = sizeof options / sizeof options[0] };

/* What a parsed command line holds. */
typedef struct cli_args {
    const char **pos; /* as many as argv holds; freed by args_free */
    int npos;
    int dashdash;   /* npos when "--" was met, or -1 */
    bool set[N_OPTIONS];
    const char *str[N_OPTIONS];
    uint64_t num[N_OPTIONS];
    /* an operation's own parameters, as step fields: "name" or "name=value" */
    char **fields;
    int nfields;
} cli_args;

static void args_free(cli_args *a)
{
    for (int f = 0; f < a->nfields; f++)
        free(a->fields[f]);
    free(a->fields);
    free((void *)a->pos);
    a->fields = NULL;
    a->pos = NULL;
    a->nfields = a->npos = 0;
}

static int opt_index(const char *name)
{
    for (int i = 0; i < N_OPTIONS; i++)
        if (strcmp(options[i].name, name) == 0)
            return i;
    return -1;
}

static bool has(const cli_args *a, const char *name) { return a->set[opt_index(name)]; }
static const char *str(const cli_args *a, const char *name) { return a->str[opt_index(name)]; }
static uint64_t num(const cli_args *a, const char *name) { return a->num[opt_index(name)]; }

/* ---- commands ---- */

typedef struct cli_cmd {
    const char *name;
    const char *synopsis;       /* positional arguments */
    const char *summary;
    int min_pos, max_pos;       /* positional argument counts (max -1: any) */
    const char *const *opts;    /* option names it accepts, NULL-terminated */
    int (*run)(const struct cli_cmd *cmd, const cli_args *a);
    const hdm_op *op;           /* for an operation's command: its table entry */
} cli_cmd;

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

/* One line on stderr: control characters from file names or arguments show as '?'. */
/* The library names the hdm_options field of a limit it hit, "(max_pixels)"; the command says
 * how to raise it instead. */
static void name_flags(char *msg, size_t cap)
{
    static const char *const fields[] = {"max_pixels", "max_width", "max_height", "max_memory"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        char key[32], flag[64];
        snprintf(key, sizeof key, "(%s)", fields[i]);
        int n = snprintf(flag, sizeof flag, "(raise it with --%s)", fields[i]);
        for (int j = 0; flag[j]; j++)
            if (flag[j] == '_')
                flag[j] = '-';
        char *at = strstr(msg, key);
        size_t len = strlen(msg), klen = strlen(key);
        if (at && len - klen + (size_t)n < cap) {
            memmove(at + n, at + klen, len - (size_t)(at - msg) - klen + 1);
            memcpy(at, flag, (size_t)n);
        }
    }
}

void cli_say(const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    name_flags(msg, sizeof msg);
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    fprintf(stderr, "hadamard: %s\n", msg);
}

static hdm_png_filter parse_filter(const char *s, bool *ok)
{
    static const char *const names[] = {"default", "none", "sub", "up", "avg", "paeth",
                                        "adaptive"};
    for (int i = 0; i < 7; i++)
        if (strcmp(s, names[i]) == 0) {
            *ok = true;
            return (hdm_png_filter)i;
        }
    *ok = false;
    return HDM_PNG_FILTER_DEFAULT;
}

static void fill_options(const cli_args *a, hdm_options *o)
{
    hdm_options_init(o);
    if (has(a, "max-pixels")) o->max_pixels = num(a, "max-pixels");
    if (has(a, "max-width")) o->max_width = (uint32_t)num(a, "max-width");
    if (has(a, "max-height")) o->max_height = (uint32_t)num(a, "max-height");
    if (has(a, "max-memory")) o->max_memory = num(a, "max-memory");
    if (has(a, "quality")) o->jpeg_quality = (int)num(a, "quality");
    if (has(a, "png-level")) o->png_level = (int)num(a, "png-level");
    if (has(a, "png-filter")) {
        bool ok;
        o->png_filter = parse_filter(str(a, "png-filter"), &ok);
    }
    o->cancel = &cancel_flag;
}

static int report(const hdm_error *e)
{
    cli_say("%s", e->message);
    return e->status == HDM_ERR_ARG ? EXIT_USAGE : EXIT_FAIL;
}

static const char *layout_name(uint32_t channels)
{
    static const char *const n[] = {"", "gray", "gray+alpha", "RGB", "RGBA"};
    return channels <= 4 ? n[channels] : "?";
}

static int read_stdin(uint64_t max, void **data, size_t *size);
static void name_stdin(hdm_error *e);

static int run_info(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    hdm_options o;
    fill_options(a, &o);
    int rc = 0;
    bool read_stdin_once = false;
    for (int i = 0; i < a->npos; i++) {
        hdm_info info;
        hdm_error e = {0};
        hdm_status st;
        if (strcmp(a->pos[i], "-") == 0) {
            /* standard input can be read once: a second "-" would find it empty */
            if (read_stdin_once) {
                cli_say("info: standard input can be given only once");
                rc = EXIT_FAIL;
                continue;
            }
            read_stdin_once = true;
            void *data = NULL;
            size_t size = 0;
            if (read_stdin(o.max_memory, &data, &size)) {
                rc = EXIT_FAIL;
                continue;
            }
            st = hdm_info_read_memory(data ? data : "", size, &o, &info, &e);
            free(data);
            name_stdin(&e);
        } else {
            st = hdm_info_read(a->pos[i], &o, &info, &e);
        }
        if (st) {
            cli_say("%s", e.message);
            rc = EXIT_FAIL;
            continue;
        }
        printf("%s: %ux%u, %u channel%s (%s), %s, %s\n", a->pos[i], info.width, info.height,
               info.channels, info.channels == 1 ? "" : "s", layout_name(info.channels),
               info.depth == HDM_U8 ? "8-bit" : info.depth == HDM_U16 ? "16-bit" : "32-bit float",
               hdm_format_name(info.format));
    }
    return rc;
}

/* Says once per option, on stderr, that a writing option has no effect on the output format
 * (--quality outside JPEG, --png-level and --png-filter outside PNG). The exit status is not
 * changed. Also for batch, once per output format it writes. */
static void cli_note_inapplicable(const cli_args *a, hdm_format fmt)
{
    static const struct { const char *opt; hdm_format only; } rules[] = {
        {"quality", HDM_FORMAT_JPEG}, {"png-level", HDM_FORMAT_PNG}, {"png-filter", HDM_FORMAT_PNG},
    };
    static bool said[sizeof rules / sizeof rules[0]];
    char upper[16];
    snprintf(upper, sizeof upper, "%s", hdm_format_name(fmt));
    for (char *c = upper; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (!said[i] && fmt != rules[i].only && fmt != HDM_FORMAT_UNKNOWN &&
            has(a, rules[i].opt)) {
            said[i] = true;
            cli_say("--%s has no effect on %s output", rules[i].opt, upper);
        }
}

/* The output format: --format when given (it must agree with a file output's extension, which
 * parse() checked), else the extension. */
static hdm_format output_format(const cli_args *a)
{
    const char *f = str(a, "format");
    return f ? hdm_format_from_name(f) : hdm_format_from_name(str(a, "output"));
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

/* The library names an in-memory input "(memory)"; here that is standard input. */
static void name_stdin(hdm_error *e)
{
    static const char tag[] = "(memory)";
    if (strncmp(e->message, tag, sizeof tag - 1) == 0) {
        char msg[sizeof e->message];
        snprintf(msg, sizeof msg, "standard input%s", e->message + sizeof tag - 1);
        memcpy(e->message, msg, sizeof msg);
    }
}

static int report_stdin(hdm_error *e)
{
    name_stdin(e);
    return report(e);
}

/* Runs p over the command's IMAGE into its output: "-" for either end is standard input or
 * output. A result for standard output is encoded whole in memory first, so nothing partial
 * ever reaches it. */
static int run_pipeline(const cli_args *a, const hdm_pipeline *p)
{
    hdm_options o;
    fill_options(a, &o);
    const char *in = a->pos[0], *out = str(a, "output");
    hdm_format fmt = output_format(a);
    cli_note_inapplicable(a, fmt);
    bool from_stdin = strcmp(in, "-") == 0, to_stdout = strcmp(out, "-") == 0;
    void *data = NULL, *res = NULL;
    size_t size = 0, res_size = 0;
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
    int rc = st ? report_stdin(&e) : to_stdout ? write_stdout(res, res_size) : 0;
    free(res);
    return rc;
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
    for (int i = 0; i < a->nfields; i++)
        fields[n++] = a->fields[i];
    hdm_error e = {0};
    int rc = hdm_pipeline_add_fields(p, cmd->op->name, fields, n, &e) ? report(&e)
                                                                      : run_pipeline(a, p);
    hdm_pipeline_free(p);
    free(fields);
    return rc;
}

static int run_run(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    hdm_pipeline *p;
    hdm_error e = {0};
    if (hdm_pipeline_new(&p)) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    int rc = 0;
    for (int i = 1; i < a->npos && !rc; i++) {
        /* a step's operand "-" ("mask:-") would be opened as a file named "-" */
        const char *colon = strchr(a->pos[i], ':');
        if (colon && colon[1] == '-' && (colon[2] == '\0' || colon[2] == ':')) {
            cli_say("step '%s': standard input can only be the IMAGE (give the operand as a "
                    "file)", a->pos[i]);
            rc = EXIT_USAGE;
        } else if (hdm_pipeline_add(p, a->pos[i], &e)) {
            rc = report(&e);
        }
    }
    if (!rc)
        rc = run_pipeline(a, p);
    hdm_pipeline_free(p);
    return rc;
}

static bool parse_shard(const char *s, unsigned *k, unsigned *n)
{
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

static int run_batch(const cli_cmd *cmd, const cli_args *a)
{
    (void)cmd;
    if (a->dashdash < 0 || a->dashdash == a->npos) {
        cli_say("batch: expected STEP... -- INPUT... (see 'hadamard batch --help')");
        return EXIT_USAGE;
    }
    batch_config cfg = {0};
    cfg.out_dir = str(a, "out-dir");
    if (!cfg.out_dir) {
        cli_say("batch: no output directory (give --out-dir DIR, before the --)");
        return EXIT_USAGE;
    }
    cfg.name = has(a, "name") ? str(a, "name") : "{stem}.{ext}";
    cfg.format = str(a, "format");
    /* an output format fixed for every file (by --format, or a name without {ext}) */
    const char *fixed = cfg.format ? cfg.format : strstr(cfg.name, "{ext}") ? NULL : cfg.name;
    if (fixed && hdm_format_from_name(fixed) != HDM_FORMAT_UNKNOWN)
        cli_note_inapplicable(a, hdm_format_from_name(fixed));
    cfg.shard_count = 1;
    if (has(a, "shard") && !parse_shard(str(a, "shard"), &cfg.shard_index, &cfg.shard_count)) {
        cli_say("batch: --shard needs K/N with 0 <= K < N, not '%s'", str(a, "shard"));
        return EXIT_USAGE;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    cfg.jobs = has(a, "jobs") ? (unsigned)num(a, "jobs") : cores > 0 ? (unsigned)cores : 1;
    cfg.recursive = has(a, "recursive");
    cfg.resume = has(a, "resume");
    cfg.quiet = has(a, "quiet");
    cfg.report = str(a, "report");
    cfg.null_list = has(a, "null");
    cfg.steps = a->pos;
    cfg.nsteps = (size_t)a->dashdash;
    cfg.cancel = &cancel_flag;
    cfg.inputs = a->pos + a->dashdash;
    cfg.ninputs = (size_t)(a->npos - a->dashdash);
    hdm_options o;
    fill_options(a, &o);
    cfg.opt = &o;
    hdm_pipeline *p;
    hdm_error e = {0};
    if (hdm_pipeline_new(&p)) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    int rc = -1;
    for (int i = 0; i < a->dashdash && rc < 0; i++)
        if (hdm_pipeline_add(p, a->pos[i], &e))
            rc = report(&e);
    if (rc < 0) {
        cfg.pipeline = p;
        rc = batch_main(&cfg);
    }
    hdm_pipeline_free(p);
    return rc;
}

#define WRITE_OPTS "output", "quality", "png-level", "png-filter"
#define LIMIT_OPTS "max-pixels", "max-width", "max-height", "max-memory"

static const char *const info_opts[] = {LIMIT_OPTS, "help", NULL};
static const char *const write_opts[] = {WRITE_OPTS, "format", LIMIT_OPTS, "help", NULL};
static const char *const batch_opts[] = {"out-dir", "name", "format", "jobs", "recursive",
                                         "resume", "shard", "report", "null", "quiet", "quality",
                                         "png-level", "png-filter", LIMIT_OPTS, "help", NULL};

/* The fixed commands; one more per operation is made from the library's table at start. */
static cli_cmd commands[32] = {
    {"info", "FILE...", "print size, channels, bit depth and format of each file (- reads "
     "standard input)", 1, -1,
     info_opts, run_info, NULL},
    {"run", "IMAGE -o OUT STEP...", "run several steps in one pass, one decode and one encode",
     2, -1, write_opts, run_run, NULL},
    {"batch", "STEP... -- INPUT...", "the same steps over many files, in parallel (INPUT: a "
     "file, a directory, or - for a list on stdin)", 1, -1, batch_opts, run_batch, NULL},
};
static int n_commands = 3;
static char synopses[32][96];

static void add_op_commands(void)
{
    for (size_t i = 0; hdm_op_at(i) && n_commands < 32; i++) {
        const hdm_op *op = hdm_op_at(i);
        int operands = 0;
        for (const char *s = op->operands; *s; s++)
            operands += (s == op->operands || s[-1] == ' ') && *s != ' ';
        snprintf(synopses[n_commands], sizeof synopses[0], "IMAGE %s%s-o OUT", op->operands,
                 operands ? " " : "");
        commands[n_commands] = (cli_cmd){op->name, synopses[n_commands], op->summary,
                                         1 + operands, 1 + operands, write_opts, run_op, op};
        n_commands++;
    }
}

static const hdm_param *op_param(const cli_cmd *cmd, const char *name)
{
    if (!cmd->op)
        return NULL;
    for (const hdm_param *p = cmd->op->params; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p;
    return NULL;
}

static bool accepts(const cli_cmd *cmd, int opt)
{
    for (const char *const *p = cmd->opts; *p; p++)
        if (strcmp(*p, options[opt].name) == 0)
            return true;
    return false;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hadamard COMMAND [ARGS] [OPTIONS]\n\n"
               "Element-wise (Hadamard) image products, exact to the last bit.\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++)
        fprintf(f, "  %-6s %-22s %s\n", commands[i].name, commands[i].synopsis,
                commands[i].summary);
    fprintf(f, "\n'hadamard COMMAND --help' or 'hadamard help COMMAND' describes a command; "
               "'hadamard --version' prints\nthe version. An IMAGE of - reads standard input (so "
               "does 'info -'; other operands must be files);\n"
               "-o - writes standard output (with --format).\n"
               "Exit status: 0 success, 1 a file failed, 2 a usage error, 130 stopped by "
               "SIGINT or SIGTERM.\n");
}

/* How options are written, for every command's help. */
static const char option_forms[] =
    "Options and their values: '--quality 80' or '--quality=80'; a short one as '-o OUT' or\n"
    "'-oOUT', '-j 4' or '-j4'. A value that starts with '-' and a letter or another '-' is\n"
    "taken for the next option, not a value (so '--name --quiet' is an error): give such a\n"
    "value attached, '--name=-x-'. '-' alone and negative numbers ('-0.5') are values.\n";

static void cmd_help(const cli_cmd *cmd)
{
    /* Options go before a "--": after it every argument is an input. */
    if (strstr(cmd->synopsis, " -- "))
        printf("usage: hadamard %s [OPTIONS] %s\n\n%s\n\noptions (before the --):\n", cmd->name,
               cmd->synopsis, cmd->summary);
    else
        printf("usage: hadamard %s %s [OPTIONS]\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis,
               cmd->summary);
    for (const char *const *p = cmd->opts; *p; p++) {
        const cli_opt *o = &options[opt_index(*p)];
        char left[64];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name,
                     o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "",
                     o->arg ? o->arg : "");
        printf("  %-26s %s\n", left, o->help);
    }
    if (cmd->op) {
        for (const hdm_param *p = cmd->op->params; p->name; p++) {
            char left[64];
            snprintf(left, sizeof left, "    --%s%s%s", p->name, p->arg ? " " : "",
                     p->arg ? p->arg : "");
            printf("  %-26s %s\n", left, p->help);
        }
        printf("\nAs a step of 'hadamard run': %s\n", cmd->op->syntax);
    }
    if (cmd->run == run_run) {
        printf("\nsteps, run in order in one pass (fields after the name split at ':'; write\n"
               "'\\:' for a ':' inside a field and '\\\\' for a backslash, as in\n"
               "mask:C\\:/masks/m.png:invert):\n");
        for (size_t i = 0; hdm_op_at(i); i++)
            printf("  %-34s %s\n", hdm_op_at(i)->syntax, hdm_op_at(i)->summary);
    }
    if (accepts(cmd, opt_index("output")))
        printf("\nIMAGE - reads standard input; -o - writes standard output, in the format\n"
               "--format names (required then); it is written only once complete. Other\n"
               "operands (MASK, TOP, a @FILE kernel) must be files.\n");
    printf("\n%s", option_forms);
}

/* ---- "did you mean": edit distance at most 2, or a unique prefix ---- */

/* Edit distance of a and b counting a swap of neighbours as one edit ("--hlep" is one from
 * "--help": the optimal string alignment form of Damerau-Levenshtein, as the library's own
 * hints count), or 3 once it is certainly above 2. The CLI keeps its own copy: it may call
 * only the public API. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64 || (la > lb ? la - lb : lb - la) > 2)
        return 3;
    int d[3][65]; /* rows i - 2, i - 1 and i, used in turn */
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int best = prev[j - 1] + (a[i - 1] != b[j - 1]);
            if (prev[j] + 1 < best)
                best = prev[j] + 1;
            if (cur[j - 1] + 1 < best)
                best = cur[j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1;
            cur[j] = best;
        }
    }
    return d[la % 3][lb] > 3 ? 3 : d[la % 3][lb];
}

/* The one candidate closest to word (distance <= 2, a unique best), else the one candidate
 * word is a prefix of; NULL when there is no single answer. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
    if (!*word)
        return NULL;
    const char *best = NULL;
    int bestd = 3, ties = 0;
    for (size_t i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
            ties = 1;
        } else if (d == bestd) {
            ties++;
        }
    }
    if (best && ties == 1)
        return best;
    const char *pre = NULL;
    size_t npre = 0, lw = strlen(word);
    for (size_t i = 0; i < n; i++)
        if (strncmp(cands[i], word, lw) == 0) {
            pre = cands[i];
            npre++;
        }
    return npre == 1 ? pre : NULL;
}

static const char *suggest_option(const cli_cmd *cmd, const char *name)
{
    const char *cands[N_OPTIONS + 64];
    size_t n = 0;
    for (const char *const *p = cmd->opts; *p; p++)
        cands[n++] = *p;
    if (cmd->op)
        for (const hdm_param *p = cmd->op->params; p->name && n < sizeof cands / sizeof *cands;
             p++)
            cands[n++] = p->name;
    return suggest(name, cands, n);
}

static const char *suggest_command(const char *name)
{
    const char *cands[33];
    size_t n = 0;
    for (int i = 0; i < n_commands; i++)
        cands[n++] = commands[i].name;
    cands[n++] = "help";
    return suggest(name, cands, n);
}

static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* An argument that reads as an option, so never taken as the value of the one before it:
 * '-' then a letter or '-' ("-q", "--quiet"), not "-", "-5" or "-.5". */
static bool looks_like_option(const char *s)
{
    return s[0] == '-' && s[1] != '\0' && !(s[1] >= '0' && s[1] <= '9') && s[1] != '.';
}

/* The value of an option that needs one: attached (val already set), else the next argument
 * unless that reads as an option. Returns false (message said) when there is none. */
static bool take_value(const cli_cmd *cmd, const char *shown, const char *arg, int argc,
                       char **argv, int *i, const char **val)
{
    if (*val)
        return true;
    if (*i + 1 >= argc || looks_like_option(argv[*i + 1])) {
        if (*i + 1 < argc)
            cli_say("%s: option '%s' needs a value (%s), not the option '%s' (for a value "
                    "starting with '-' write %s=VALUE)", cmd->name, shown, arg, argv[*i + 1],
                    shown);
        else
            cli_say("%s: option '%s' needs a value (%s)", cmd->name, shown, arg);
        return false;
    }
    *val = argv[++*i];
    return true;
}

/* Parses argv for cmd; returns -1 when fine, else an exit status (help printed: 0). a's arrays
 * are allocated here, to be released by args_free whatever the result. */
static int parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->dashdash = -1;
    a->pos = malloc(((size_t)argc + 1) * sizeof *a->pos);
    a->fields = malloc(((size_t)argc + 1) * sizeof *a->fields);
    if (!a->pos || !a->fields) {
        cli_say("out of memory");
        return EXIT_FAIL;
    }
    bool only_pos = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (only_pos || s[0] != '-' || s[1] == '\0') {
            a->pos[a->npos++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) {
            only_pos = true;
            a->dashdash = a->npos;
            continue;
        }
        int k = -1;
        const char *val = NULL;
        char name[64] = "";  /* a long option's name; "" for a short one or one too long */
        char shown[80];      /* the option as the user wrote it, without any value */
        if (s[1] == '-') {
            const char *eq = strchr(s + 2, '=');
            size_t len = eq ? (size_t)(eq - s - 2) : strlen(s + 2);
            if (len < sizeof name) {
                memcpy(name, s + 2, len);
                name[len] = '\0';
                k = opt_index(name);
            }
            if (eq)
                val = eq + 1;
            snprintf(shown, sizeof shown, "--%s", name);
        } else {
            for (int j = 0; j < N_OPTIONS; j++)
                if (options[j].short_name == s[1])
                    k = j;
            if (k >= 0 && s[2]) {
                if (options[k].kind == OPT_FLAG) {
                    cli_say("%s: option '-%c' takes no value (give flags apart: '-%c -%c')",
                            cmd->name, s[1], s[1], s[2]);
                    return EXIT_USAGE;
                }
                val = s + 2; /* -j4, -oOUT */
            }
            snprintf(shown, sizeof shown, "-%c", s[1]);
        }
        const hdm_param *param = k < 0 && name[0] ? op_param(cmd, name) : NULL;
        if (param) {
            if (!param->arg && val) {
                cli_say("%s: option '--%s' takes no value", cmd->name, param->name);
                return EXIT_USAGE;
            }
            if (param->arg && !take_value(cmd, shown, param->arg, argc, argv, &i, &val))
                return EXIT_USAGE;
            size_t len = strlen(param->name) + (val ? strlen(val) + 2 : 1);
            char *f = malloc(len);
            if (!f) {
                cli_say("out of memory");
                return EXIT_FAIL;
            }
            snprintf(f, len, val ? "%s=%s" : "%s", param->name, val ? val : "");
            a->fields[a->nfields++] = f;
            continue;
        }
        if (k < 0 || !accepts(cmd, k)) {
            const char *hint = name[0] ? suggest_option(cmd, name) : NULL;
            if (hint)
                cli_say("%s: unknown option '%.100s' (did you mean '--%s'?)", cmd->name, s, hint);
            else
                cli_say("%s: unknown option '%.100s' (see 'hadamard %s --help')", cmd->name, s,
                        cmd->name);
            return EXIT_USAGE;
        }
        const cli_opt *o = &options[k];
        if (o->kind == OPT_FLAG) {
            if (val) {
                cli_say("%s: option '--%s' takes no value", cmd->name, o->name);
                return EXIT_USAGE;
            }
        } else if (!take_value(cmd, shown, o->arg, argc, argv, &i, &val)) {
            return EXIT_USAGE;
        }
        if (strcmp(o->name, "help") == 0) {
            cmd_help(cmd);
            return 0;
        }
        if (o->kind == OPT_UINT && !parse_uint(val, o->min, o->max, &a->num[k])) {
            cli_say("%s: option '--%s' needs a whole number from %" PRIu64 " to %" PRIu64
                ", not '%s'", cmd->name, o->name, o->min, o->max, val);
            return EXIT_USAGE;
        }
        if (strcmp(o->name, "png-filter") == 0) {
            bool ok;
            parse_filter(val, &ok);
            if (!ok) {
                cli_say("%s: unknown PNG filter '%s' (none, sub, up, avg, paeth, adaptive)",
                    cmd->name, val);
                return EXIT_USAGE;
            }
        }
        if (a->set[k] && o->kind != OPT_FLAG) {
            cli_say("%s: option '--%s' given twice", cmd->name, o->name);
            return EXIT_USAGE;
        }
        a->set[k] = true;
        a->str[k] = val;
    }
    if (a->npos < cmd->min_pos || (cmd->max_pos >= 0 && a->npos > cmd->max_pos)) {
        cli_say("%s: expected %s (see 'hadamard %s --help')", cmd->name, cmd->synopsis, cmd->name);
        return EXIT_USAGE;
    }
    /* A command that writes needs an output whose format is known, checked before any work. */
    if (accepts(cmd, opt_index("output"))) {
        const char *out = str(a, "output"), *fmt = str(a, "format");
        if (!out) {
            cli_say("%s: no output file (give -o OUT)", cmd->name);
            return EXIT_USAGE;
        }
        if (fmt && hdm_format_from_name(fmt) == HDM_FORMAT_UNKNOWN) {
            cli_say("%s: unknown --format '%s' (png, jpg, jpeg, bmp, tga or hdr)", cmd->name,
                    fmt);
            return EXIT_USAGE;
        }
        if (strcmp(out, "-") == 0) {
            if (!fmt) {
                cli_say("%s: -o - writes standard output, which has no extension: give "
                        "--format FMT (png, jpg, bmp, tga or hdr)", cmd->name);
                return EXIT_USAGE;
            }
        } else if (hdm_format_from_name(out) == HDM_FORMAT_UNKNOWN) {
            cli_say("%s: unknown output format (use .png, .jpg, .jpeg, .bmp, .tga or .hdr)", out);
            return EXIT_USAGE;
        } else if (fmt && hdm_format_from_name(fmt) != hdm_format_from_name(out)) {
            cli_say("%s: --format %s differs from the format its extension names", out, fmt);
            return EXIT_USAGE;
        }
    }
    return -1;
}

/* ---- the man page and bash completion, made from the same tables as --help ---- */

/* Prints s for roff: backslashes doubled, hyphens as \-, a leading dot or quote escaped. */
static void roff(const char *s)
{
    if (*s == '.' || *s == '\'')
        fputs("\\&", stdout);
    for (; *s; s++) {
        if (*s == '\\')
            fputs("\\e", stdout);
        else if (*s == '-')
            fputs("\\-", stdout);
        else
            putchar(*s);
    }
}

static void man_option(const char *left_short, const char *name, const char *arg,
                       const char *help)
{
    fputs(".TP\n.B ", stdout);
    if (left_short) {
        roff(left_short);
        fputs(", ", stdout);
    }
    fputs("\\-\\-", stdout);
    roff(name);
    if (arg) {
        fputs(" \\fI", stdout);
        roff(arg);
        fputs("\\fR", stdout);
    }
    putchar('\n');
    roff(help);
    putchar('\n');
}

static void print_man(void)
{
    printf(".TH HADAMARD 1 \"\" \"hadamard %s\" \"User Commands\"\n", hdm_version());
    puts(".SH NAME\nhadamard \\- element\\-wise (Hadamard) image products: masks, blends, "
         "windows, filters");
    puts(".SH SYNOPSIS\n.B hadamard\n.I COMMAND\n[\\fIARGS\\fR] [\\fIOPTIONS\\fR]");
    puts(".SH DESCRIPTION\nEach operation is an element\\-wise product of channel planes. "
         "Integer products are exact: every sample is round(a\\(mub/M), M = 255 or 65535. "
         "Outputs are written to a temporary file and renamed into place only when complete.");
    puts(".SH COMMANDS");
    for (int i = 0; i < n_commands; i++) {
        const cli_cmd *c = &commands[i];
        fputs(".SS ", stdout);
        roff(c->name);
        fputs(" ", stdout);
        roff(c->synopsis);
        fputs("\n", stdout);
        roff(c->summary);
        putchar('\n');
        if (c->op) {
            fputs(".PP\nAs a step of run or batch: \\fB", stdout);
            roff(c->op->syntax);
            fputs("\\fR\n", stdout);
            for (const hdm_param *p = c->op->params; p->name; p++)
                man_option(NULL, p->name, p->arg, p->help);
        }
        for (const char *const *o = c->opts; *o; o++) {
            const cli_opt *opt = &options[opt_index(*o)];
            char sh[3] = {'-', opt->short_name, 0};
            man_option(opt->short_name ? sh : NULL, opt->name, opt->arg, opt->help);
        }
    }
    puts(".SH EXIT STATUS\n0 on success, 1 when a file failed, 2 for a usage error, "
         "130 when stopped by SIGINT or SIGTERM.");
    puts(".SH ENVIRONMENT\n.TP\n.B HADAMARD_CPU\nforce a kernel variant: scalar, sse2, avx2, "
         "avx512 or neon (refused if the CPU lacks it).");
}

static void print_completion(void)
{
    puts("# bash completion for hadamard, generated by 'hadamard --completion'");
    puts("_hadamard() {");
    puts("  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts=''");
    fputs("  if [ \"$COMP_CWORD\" -eq 1 ]; then\n    COMPREPLY=($(compgen -W '--help --version",
          stdout);
    for (int i = 0; i < n_commands; i++)
        printf(" %s", commands[i].name);
    puts("' -- \"$cur\")); return; fi");
    puts("  case $prev in");
    puts("    -o|--output|--out-dir|--report) COMPREPLY=($(compgen -f -- \"$cur\")); return;;");
    puts("    --png-filter) COMPREPLY=($(compgen -W 'none sub up avg paeth adaptive' -- "
         "\"$cur\")); return;;");
    for (size_t i = 0; hdm_op_at(i); i++)
        for (const hdm_param *p = hdm_op_at(i)->params; p->name; p++)
            if (p->choices)
                printf("    --%s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return;;\n",
                       p->name, p->choices);
    puts("  esac");
    puts("  case ${COMP_WORDS[1]} in");
    for (int i = 0; i < n_commands; i++) {
        printf("    %s) opts='", commands[i].name);
        for (const char *const *o = commands[i].opts; *o; o++)
            printf("%s--%s", o == commands[i].opts ? "" : " ", *o);
        if (commands[i].op)
            for (const hdm_param *p = commands[i].op->params; p->name; p++)
                printf(" --%s", p->name);
        puts("';;");
    }
    puts("  esac");
    puts("  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"));");
    puts("  else COMPREPLY=($(compgen -f -- \"$cur\")); fi");
    puts("}");
    puts("complete -o filenames -F _hadamard hadamard");
}

/* HADAMARD_CPU forces a kernel variant; one this build or CPU lacks is refused, not ignored. */
static bool cpu_request_ok(void)
{
    const char *want = getenv("HADAMARD_CPU");
    if (!want || !*want || hdm__kernel_get(want))
        return true;
    cli_say("HADAMARD_CPU=%s: this build or CPU has no such kernel variant "
        "(scalar, sse2, avx2, avx512 or neon, as the CPU allows)", want);
    return false;
}

static int unknown_command(const char *c)
{
    const char *hint = suggest_command(c);
    if (hint)
        cli_say("unknown command '%.100s' (did you mean '%s'?)", c, hint);
    else
        cli_say("unknown command '%.100s' (see 'hadamard --help')", c);
    return EXIT_USAGE;
}

static const cli_cmd *find_command(const char *name)
{
    for (int i = 0; i < n_commands; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* Everything printed on stdout (info, help, the man page) must have reached it: a full disk
 * or a closed pipe is a failure said on stderr, not a silent success. */
static int close_stdout(int rc)
{
    errno = 0;
    bool bad = fflush(stdout) != 0 || ferror(stdout);
    int e = errno;
    if (fclose(stdout) != 0 && !bad && errno != EBADF) { /* EBADF: started with it closed */
        bad = true;
        e = errno;
    }
    if (!bad)
        return rc;
    cli_say("standard output: write failed: %s", strerror(e ? e : EIO));
    return rc ? rc : EXIT_FAIL;
}

static int run_main(int argc, char **argv);

int main(int argc, char **argv)
{
    /* A write past RLIMIT_FSIZE must fail with EFBIG, and one into a closed pipe with EPIPE,
     * not kill us before cleanup and a message. */
    signal(SIGXFSZ, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    return close_stdout(run_main(argc, argv));
}

static int run_main(int argc, char **argv)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    add_op_commands();
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    /* A kernel variant that cannot be had is refused whatever the command, --version too. */
    if (!cpu_request_ok())
        return EXIT_USAGE;
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 ||
        (strcmp(c, "help") == 0 && argc == 2)) {
        usage(stdout);
        return 0;
    }
    if (strcmp(c, "help") == 0) {
        if (argc > 3) {
            cli_say("help: expected at most one COMMAND (see 'hadamard --help')");
            return EXIT_USAGE;
        }
        const cli_cmd *cmd = find_command(argv[2]);
        if (!cmd)
            return unknown_command(argv[2]);
        cmd_help(cmd);
        return 0;
    }
    if (strcmp(c, "--man") == 0) {
        print_man();
        return 0;
    }
    if (strcmp(c, "--completion") == 0) {
        print_completion();
        return 0;
    }
    if (strcmp(c, "--version") == 0) {
        printf("hadamard %s (kernel %s)\n", hdm_version(), hdm_kernel_name());
        return 0;
    }
    const cli_cmd *cmd = find_command(c);
    if (!cmd)
        return unknown_command(c);
    static cli_args a;
    int rc = parse(cmd, argc - 2, argv + 2, &a);
    if (rc < 0)
        rc = cmd->run(cmd, &a);
    args_free(&a);
    /* Stopped by SIGINT or SIGTERM: the shell's 128 + SIGINT, as batch gives. */
    return stop_flag ? 130 : rc;
}
