/* SPDX-License-Identifier: MIT */
/* args.c — the command line's tables of options and commands, and the parser over them */
#include "cli/args.h"
#include "cli/messages.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- options: one table, shared by every command that names them ---- */

/* Help that lists the formats, made from the library's codec table by cli_add_format_lists. */
static char output_help[256], format_help[256];

const cli_opt cli_options[] = {
    {"output", 'o', OPT_STRING, "OUT", output_help, 0, 0},
    {"quality", 0, OPT_UINT, "Q", "JPEG and lossy WebP quality 1..100 (default 90)", 1, 100},
    {"png-level", 0, OPT_UINT, "L", "PNG zlib level 0..9 (default: the measured one)", 0, 9},
    {"png-filter", 0, OPT_STRING, "F", "PNG row filter: none, sub, up, avg, paeth, adaptive", 0, 0},
    {"jpeg-progressive", 0, OPT_FLAG, NULL, "write a progressive JPEG (default baseline)", 0, 0},
    {"jpeg-subsample", 0, OPT_STRING, "S", "JPEG chroma subsampling: auto (4:4:4 at --quality 90 "
     "and above, else 4:2:0), 444, 422 or 420", 0, 0},
    {"tiff-compression", 0, OPT_STRING, "C", "TIFF compression: deflate (default, with the "
     "horizontal predictor), lzw, zstd, none or jpeg (8-bit, at --quality)", 0, 0},
    {"background", 0, OPT_STRING, "COLOR", "the colour an image with alpha is flattened over "
     "for JPEG output: #rrggbb, white or black (default white)", 0, 0},
    {"webp-lossless", 0, OPT_FLAG, NULL, "write lossless WebP (default lossy at --quality)", 0, 0},
    {"strip", 0, OPT_FLAG, NULL, "write none of the input's metadata (ICC profile, EXIF, XMP, "
     "colour chunks, resolution)", 0, 0},
    {"keep", 0, OPT_STRING, "LIST", "write only these parts of the input's metadata, a comma "
     "list of icc, exif, xmp, color, resolution (default: all the output format holds)", 0, 0},
    {"no-rotate", 0, OPT_FLAG, NULL, "keep the stored pixels and the EXIF Orientation tag "
     "(default: turn images and operands upright, write the tag as 1)", 0, 0},
    {"json", 0, OPT_FLAG, NULL, "info: one JSON object per file, on one line", 0, 0},
    {"max-pixels", 0, OPT_UINT, "N", "refuse images above N pixels (default 268435456 = 2^28)",
     1, UINT64_MAX},
    {"max-width", 0, OPT_UINT, "N", "refuse images wider than N (default 1048576)", 1, UINT32_MAX},
    {"max-height", 0, OPT_UINT, "N", "refuse images taller than N (default 1048576)", 1,
     UINT32_MAX},
    {"max-memory", 0, OPT_UINT, "BYTES", "refuse a job that would hold more than BYTES at "
     "once: decoded images, filter rows, encoders (default 4294967296)", 1, UINT64_MAX},
    {"threads", 0, OPT_UINT, "N", "threads to use, the output the same for any N (default: "
     "the cores the affinity mask and cgroup quota allow; batch shares them between --jobs)",
     1, 1024},
    {"out-dir", 0, OPT_STRING, "DIR", "batch: write outputs under DIR (created if missing)", 0, 0},
    {"name", 0, OPT_STRING, "TEMPLATE", "batch: output name from {stem}, {ext}, {dir} (the "
     "input's directory below its root) and {root} (the root's name, or a named file's "
     "directory's); default {stem}.{ext}; {{ and }} write a brace, any other {...} is an "
     "error", 0, 0},
    {"format", 0, OPT_STRING, "EXT", format_help, 0, 0},
    {"jobs", 'j', OPT_UINT, "N", "batch: files processed at once (default: the cores available)",
     1, 256},
    {"recursive", 'r', OPT_FLAG, NULL, "batch: descend into directories given as inputs", 0, 0},
    {"resume", 0, OPT_FLAG, NULL, "batch: record each finished output (in DIR/.hadamard-resume-K-of-N) "
     "and skip the inputs whose record matches: same steps and options, the same input file, "
     "the output there the one that was made; anything else is redone", 0, 0},
    {"shard", 0, OPT_STRING, "K/N", "batch: process only part K of N (0 <= K < N): the files "
     "whose path below their input root hashes to K, so machines agree whatever else they "
     "list", 0, 0},
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
_Static_assert(sizeof cli_options / sizeof cli_options[0] == CLI_N_OPTIONS,
               "CLI_N_OPTIONS counts the entries of cli_options");

void cli_args_free(cli_args *a)
{
    for (int f = 0; f < a->nfields; f++)
        free(a->fields[f]);
    free(a->fields);
    free((void *)a->pos);
    a->fields = NULL;
    a->pos = NULL;
    a->nfields = a->npos = 0;
}

int cli_opt_index(const char *name)
{
    for (int i = 0; i < CLI_N_OPTIONS; i++)
        if (strcmp(cli_options[i].name, name) == 0)
            return i;
    return -1;
}

bool cli_has(const cli_args *a, const char *name) { return a->set[cli_opt_index(name)]; }
const char *cli_str(const cli_args *a, const char *name) { return a->str[cli_opt_index(name)]; }
uint64_t cli_num(const cli_args *a, const char *name) { return a->num[cli_opt_index(name)]; }

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

static hdm_jpeg_subsample parse_subsample(const char *s, bool *ok)
{
    static const char *const names[] = {"auto", "444", "422", "420"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0) {
            *ok = true;
            return (hdm_jpeg_subsample)i;
        }
    *ok = false;
    return HDM_JPEG_SUBSAMPLE_AUTO;
}

static hdm_tiff_compression parse_tiff_compression(const char *s, bool *ok)
{
    static const char *const names[] = {"deflate", "lzw", "zstd", "none", "jpeg"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *ok = true;
            return (hdm_tiff_compression)i;
        }
    *ok = false;
    return HDM_TIFF_DEFLATE;
}

/* A --keep list as the HDM_META_* bits it leaves out; ok false for an unknown name. */
static unsigned parse_keep(const char *s, bool *ok)
{
    static const char *const names[] = {"icc", "exif", "xmp", "color", "resolution"};
    unsigned keep = 0;
    *ok = true;
    for (const char *p = s;; p++) {
        size_t n = strcspn(p, ",");
        int found = -1;
        for (int i = 0; i < 5; i++)
            if (strlen(names[i]) == n && strncmp(p, names[i], n) == 0)
                found = i;
        if (found < 0)
            *ok = false;
        else
            keep |= 1u << found;
        p += n;
        if (!*p)
            break;
    }
    return HDM_META_ALL & ~keep;
}

/* #rrggbb (either case) or a name, as 0xRRGGBB. */
static uint32_t parse_colour(const char *s, bool *ok)
{
    *ok = true;
    if (strcmp(s, "white") == 0)
        return 0xffffff;
    if (strcmp(s, "black") == 0)
        return 0;
    *ok = s[0] == '#' && strlen(s) == 7 && strspn(s + 1, "0123456789abcdefABCDEF") == 6;
    return *ok ? (uint32_t)strtoul(s + 1, NULL, 16) : 0;
}

void cli_fill_options(const cli_args *a, hdm_options *o)
{
    hdm_options_init(o);
    if (cli_has(a, "max-pixels")) o->max_pixels = cli_num(a, "max-pixels");
    if (cli_has(a, "max-width")) o->max_width = (uint32_t)cli_num(a, "max-width");
    if (cli_has(a, "max-height")) o->max_height = (uint32_t)cli_num(a, "max-height");
    if (cli_has(a, "max-memory")) o->max_memory = cli_num(a, "max-memory");
    if (cli_has(a, "quality")) o->jpeg_quality = (int)cli_num(a, "quality");
    if (cli_has(a, "png-level")) o->png_level = (int)cli_num(a, "png-level");
    if (cli_has(a, "png-filter")) {
        bool ok;
        o->png_filter = parse_filter(cli_str(a, "png-filter"), &ok);
    }
    o->jpeg_progressive = cli_has(a, "jpeg-progressive");
    o->webp_lossless = cli_has(a, "webp-lossless");
    bool ok;
    if (cli_has(a, "jpeg-subsample"))
        o->jpeg_subsample = parse_subsample(cli_str(a, "jpeg-subsample"), &ok);
    if (cli_has(a, "tiff-compression"))
        o->tiff_compression = parse_tiff_compression(cli_str(a, "tiff-compression"), &ok);
    if (cli_has(a, "background"))
        o->background = parse_colour(cli_str(a, "background"), &ok);
    if (cli_has(a, "strip"))
        o->strip_meta = HDM_META_ALL;
    if (cli_has(a, "keep"))
        o->strip_meta = parse_keep(cli_str(a, "keep"), &ok);
    o->no_rotate = cli_has(a, "no-rotate");
    if (cli_has(a, "threads")) o->threads = (uint32_t)cli_num(a, "threads");
}

/* The output format: --format when given (it must agree with a file output's extension, which
 * cli_parse() checked), else the extension. */
hdm_format cli_output_format(const cli_args *a)
{
    const char *f = cli_str(a, "format");
    return f ? hdm_format_from_name(f) : hdm_format_from_name(cli_str(a, "output"));
}

/* ---- commands ---- */

#define WRITE_OPTS "output", "quality", "png-level", "png-filter", "jpeg-progressive", \
                   "jpeg-subsample", "tiff-compression", "background", "webp-lossless", \
                   "strip", "keep", "no-rotate"
#define LIMIT_OPTS "max-pixels", "max-width", "max-height", "max-memory"

static const char *const info_opts[] = {"json", "no-rotate", LIMIT_OPTS, "help", NULL};
static const char *const write_opts[] = {WRITE_OPTS, "format", LIMIT_OPTS, "threads", "help",
                                         NULL};
static const char *const batch_opts[] = {"out-dir", "name", "format", "jobs", "recursive",
                                         "resume", "shard", "report", "null", "quiet", "quality",
                                         "png-level", "png-filter", "jpeg-progressive",
                                         "jpeg-subsample", "tiff-compression", "background",
                                         "webp-lossless", "strip", "keep", "no-rotate",
                                         LIMIT_OPTS, "threads", "help", NULL};

/* The fixed commands; one more per operation is made from the library's table at start. */
cli_cmd cli_commands[32] = {
    {"info", "FILE...", "print size, channels, bit depth and format of each file (- reads "
     "standard input)", 1, -1,
     info_opts, CLI_INFO, NULL},
    {"run", "IMAGE -o OUT STEP...", "run several steps in one pass, one decode and one encode",
     2, -1, write_opts, CLI_RUN, NULL},
    {"batch", "STEP... -- INPUT...", "the same steps over many files, in parallel (INPUT: a "
     "file, a directory, or - for a list on stdin)", 1, -1, batch_opts, CLI_BATCH, NULL},
};
int cli_n_commands = 3;
static char synopses[32][96];

void cli_add_format_lists(void)
{
    char list[192];
    snprintf(output_help, sizeof output_help, "output file; its extension picks the format (%s)",
             cli_formats(list, sizeof list, true, ".", " ", " "));
    snprintf(format_help, sizeof format_help, "write this format (%s): needed with -o - or an "
             "OUT without such an extension; batch: instead of the input's",
             cli_formats(list, sizeof list, false, "", ", ", ", "));
}

void cli_add_op_commands(void)
{
    for (size_t i = 0; hdm_op_at(i) && cli_n_commands < 32; i++) {
        const hdm_op *op = hdm_op_at(i);
        int operands = 0;
        for (const char *s = op->operands; *s; s++)
            operands += (s == op->operands || s[-1] == ' ') && *s != ' ';
        snprintf(synopses[cli_n_commands], sizeof synopses[0], "IMAGE %s%s-o OUT", op->operands,
                 operands ? " " : "");
        cli_commands[cli_n_commands] = (cli_cmd){op->name, synopses[cli_n_commands], op->summary,
                                         1 + operands, 1 + operands, write_opts, CLI_OP, op};
        cli_n_commands++;
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

bool cli_accepts(const cli_cmd *cmd, int opt)
{
    for (const char *const *p = cmd->opts; *p; p++)
        if (strcmp(*p, cli_options[opt].name) == 0)
            return true;
    return false;
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
 * word is a prefix of; a unique prefix also beats a best distance of 2 ("bl" means blend, not
 * mul); NULL when there is no single answer. */
static const char *suggest(const char *word, const char *const *cands, size_t n)
{
    if (!*word)
        return NULL;
    const char *best = NULL, *pre = NULL;
    int bestd = 3, ties = 0;
    size_t npre = 0, lw = strlen(word);
    for (size_t i = 0; i < n; i++) {
        int d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
            ties = 1;
        } else if (d == bestd) {
            ties++;
        }
        if (strncmp(cands[i], word, lw) == 0) {
            pre = cands[i];
            npre++;
        }
    }
    if (npre == 1 && bestd >= 2)
        return pre;
    if (best && ties == 1)
        return best;
    return npre == 1 ? pre : NULL;
}

static const char *suggest_option(const cli_cmd *cmd, const char *name)
{
    const char *cands[CLI_N_OPTIONS + 64];
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
    for (int i = 0; i < cli_n_commands; i++)
        cands[n++] = cli_commands[i].name;
    cands[n++] = "help";
    return suggest(name, cands, n);
}

/* Plain decimal digits and nothing else: strtoull alone would also take leading blanks. */
static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || !*s || strspn(s, "0123456789") != strlen(s))
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
static bool take_value(const cli_cmd *cmd, const char *shown, const char *long_name,
                       const char *arg, int argc, char **argv, int *i, const char **val)
{
    if (*val)
        return true;
    if (*i + 1 >= argc || looks_like_option(argv[*i + 1])) {
        /* only the long form takes "=VALUE": "-o=X" would be the value "=X" */
        char alt[16] = "";
        if (shown[1] != '-')
            snprintf(alt, sizeof alt, " or %s%s", shown, arg);
        if (*i + 1 < argc)
            cli_say("%s: option '%s' needs a value (%s), not the option '%s' (for a value "
                    "starting with '-' write --%s=%s%s)", cmd->name, shown, arg, argv[*i + 1],
                    long_name, arg, alt);
        else
            cli_say("%s: option '%s' needs a value (%s)", cmd->name, shown, arg);
        return false;
    }
    *val = argv[++*i];
    return true;
}

/* Parses argv for cmd; returns -1 when fine, else an exit status (help printed: 0). a's arrays
 * are allocated here, to be released by args_free whatever the result. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a)
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
                k = cli_opt_index(name);
            }
            if (eq)
                val = eq + 1;
            snprintf(shown, sizeof shown, "--%s", name);
        } else {
            for (int j = 0; j < CLI_N_OPTIONS; j++)
                if (cli_options[j].short_name == s[1])
                    k = j;
            if (k >= 0 && s[2]) {
                if (cli_options[k].kind == OPT_FLAG) {
                    cli_say("%s: option '-%c' takes no value (give flags apart: '-%c -%c')",
                            cmd->name, s[1], s[1], s[2]);
                    return EXIT_USAGE;
                }
                if (s[2] == '=') {
                    cli_say("%s: short options take their value attached without '=': -%c%s, "
                            "or --%s=%s", cmd->name, s[1], cli_options[k].arg,
                            cli_options[k].name, cli_options[k].arg);
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
            if (param->arg &&
                !take_value(cmd, shown, param->name, param->arg, argc, argv, &i, &val))
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
        if (k < 0 || !cli_accepts(cmd, k)) {
            const char *hint = name[0] ? suggest_option(cmd, name) : NULL;
            if (hint)
                cli_say("%s: unknown option '%.100s' (did you mean '--%s'?)", cmd->name, s, hint);
            else
                cli_say("%s: unknown option '%.100s' (see 'hadamard %s --help')", cmd->name, s,
                        cmd->name);
            return EXIT_USAGE;
        }
        const cli_opt *o = &cli_options[k];
        if (o->kind == OPT_FLAG) {
            if (val) {
                cli_say("%s: option '--%s' takes no value", cmd->name, o->name);
                return EXIT_USAGE;
            }
        } else if (!take_value(cmd, shown, o->name, o->arg, argc, argv, &i, &val)) {
            return EXIT_USAGE;
        }
        if (strcmp(o->name, "help") == 0)
            return 0; /* the caller prints the help: the text is help.c's, over these tables */
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
        if (strcmp(o->name, "jpeg-subsample") == 0) {
            bool ok;
            parse_subsample(val, &ok);
            if (!ok) {
                cli_say("%s: unknown JPEG subsampling '%s' (auto, 444, 422, 420)", cmd->name,
                        val);
                return EXIT_USAGE;
            }
        }
        if (strcmp(o->name, "tiff-compression") == 0) {
            bool ok;
            parse_tiff_compression(val, &ok);
            if (!ok) {
                cli_say("%s: unknown TIFF compression '%s' (deflate, lzw, zstd, none, jpeg)",
                        cmd->name, val);
                return EXIT_USAGE;
            }
        }
        if (strcmp(o->name, "background") == 0) {
            bool ok;
            parse_colour(val, &ok);
            if (!ok) {
                cli_say("%s: --background needs #rrggbb, white or black, not '%s'", cmd->name,
                        val);
                return EXIT_USAGE;
            }
        }
        if (strcmp(o->name, "keep") == 0) {
            bool ok;
            parse_keep(val, &ok);
            if (!ok) {
                cli_say("%s: --keep takes a comma list of icc, exif, xmp, color, resolution, "
                        "not '%s'", cmd->name, val);
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
    if (a->set[cli_opt_index("strip")] && a->set[cli_opt_index("keep")]) {
        cli_say("%s: --strip and --keep cannot be given together", cmd->name);
        return EXIT_USAGE;
    }
    /* A command that writes needs an output whose format is known, checked before any work. */
    if (cli_accepts(cmd, cli_opt_index("output"))) {
        const char *out = cli_str(a, "output"), *fmt = cli_str(a, "format");
        if (!out) {
            cli_say("%s: no output file (give -o OUT)", cmd->name);
            return EXIT_USAGE;
        }
        char list[192];
        if (fmt && hdm_format_from_name(fmt) == HDM_FORMAT_UNKNOWN) {
            cli_say("%s: unknown --format '%s' (%s)", cmd->name, fmt,
                    cli_formats(list, sizeof list, true, "", ", ", " or "));
            return EXIT_USAGE;
        }
        hdm_format named = hdm_format_named(out); /* by its extension, read-only ones too */
        if (strcmp(out, "-") == 0) {
            if (!fmt) {
                cli_say("%s: -o - writes standard output, which has no extension: give "
                        "--format FMT (%s)", cmd->name,
                        cli_formats(list, sizeof list, false, "", ", ", " or "));
                return EXIT_USAGE;
            }
        } else if (!fmt && (named == HDM_FORMAT_UNKNOWN ||
                            hdm_format_from_name(out) == HDM_FORMAT_UNKNOWN)) {
            /* with --format a name without a known extension ("out", "/dev/null") is written
             * in that format */
            cli_say("%s: unknown output format (use %s, or give --format FMT)", out,
                    cli_formats(list, sizeof list, true, ".", ", ", " or "));
            return EXIT_USAGE;
        } else if (fmt && named != HDM_FORMAT_UNKNOWN && hdm_format_from_name(fmt) != named) {
            cli_say("%s: --format %s differs from the format its extension names", out, fmt);
            return EXIT_USAGE;
        }
    }
    return -1;
}

int cli_unknown_command(const char *c)
{
    const char *hint = suggest_command(c);
    if (hint)
        cli_say("unknown command '%.100s' (did you mean '%s'?)", c, hint);
    else
        cli_say("unknown command '%.100s' (see 'hadamard --help')", c);
    return EXIT_USAGE;
}

const cli_cmd *cli_find_command(const char *name)
{
    for (int i = 0; i < cli_n_commands; i++)
        if (strcmp(cli_commands[i].name, name) == 0)
            return &cli_commands[i];
    return NULL;
}
