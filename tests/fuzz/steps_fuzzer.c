/* SPDX-License-Identifier: MIT */
/* steps_fuzzer.c — the step grammar (hdm_pipeline_add) and the command-line parser
 *
 * The first byte chooses the parser. Steps: the rest is split at newlines, each line one step.
 * Command line: the second byte picks a command, the rest is split at NULs into its argv and
 * given to the CLI's own cli_parse() (src/cli/args.c linked in, as shipped), without exec and
 * without touching a file. Its messages go to a memory stream, each checked to be one line. */
#include "fuzz/fuzz.h"
#include "cli/args.h"
#include "cli/messages.h"

enum { MAX_PIECES = 200 };

/* Splits data at sep into NUL-terminated copies inside one allocation. */
static size_t split(const uint8_t *data, size_t size, char sep, char **copy, char **pieces)
{
    *copy = malloc(size + 1);
    if (!*copy)
        return 0;
    memcpy(*copy, data, size);
    (*copy)[size] = '\0';
    size_t n = 0;
    char *s = *copy, *end = *copy + size;
    while (n < MAX_PIECES) {
        pieces[n++] = s;
        char *c = memchr(s, sep, (size_t)(end - s));
        if (!c)
            break;
        *c = '\0';
        s = c + 1;
    }
    return n;
}

static void fuzz_steps(const uint8_t *data, size_t size)
{
    char *copy, *lines[MAX_PIECES];
    size_t n = split(data, size, '\n', &copy, lines);
    hdm_pipeline *p;
    if (!copy || hdm_pipeline_new(&p)) {
        free(copy);
        return;
    }
    size_t added = 0;
    for (size_t i = 0; i < n; i++) {
        hdm_error e = {0};
        hdm_status st = hdm_pipeline_add(p, lines[i], &e);
        if (st)
            hdm_fuzz_check_error(st, &e);
        else
            added++;
    }
    HDM_FUZZ_CHECK(hdm_pipeline_length(p) == added);
    /* The same pieces unsplit: the first line the operation, the rest its fields. */
    if (n > 0) {
        hdm_error e = {0};
        hdm_status st = hdm_pipeline_add_fields(p, lines[0], (const char *const *)lines + 1,
                                                n - 1, &e);
        if (st)
            hdm_fuzz_check_error(st, &e);
    }
    hdm_pipeline_free(p);
    free(copy);
}

static void fuzz_cli(const uint8_t *data, size_t size)
{
    if (size < 1)
        return;
    const cli_cmd *cmd = &cli_commands[data[0] % cli_n_commands];
    char *copy, *argv[MAX_PIECES];
    int argc = (int)split(data + 1, size - 1, '\0', &copy, argv);
    if (!copy)
        return;
    static cli_args a;
    char *said = NULL;
    size_t said_len = 0;
    FILE *f = open_memstream(&said, &said_len);
    HDM_FUZZ_CHECK(f);
    cli_say_to(f);
    int rc = cli_parse(cmd, argc, argv, &a);
    cli_say_to(NULL);
    HDM_FUZZ_CHECK(fclose(f) == 0);
    HDM_FUZZ_CHECK(rc == -1 || rc == 0 || rc == EXIT_USAGE || rc == EXIT_FAIL);
    /* a refusal says why, in one line; a command line taken (or --help) says nothing */
    HDM_FUZZ_CHECK((hdm_fuzz_count_said(said, said_len) > 0) == (rc > 0));
    free(said);
    if (rc == -1) {
        HDM_FUZZ_CHECK(a.npos >= cmd->min_pos);
        HDM_FUZZ_CHECK(cmd->max_pos < 0 || a.npos <= cmd->max_pos);
        if (cli_accepts(cmd, cli_opt_index("output")))
            HDM_FUZZ_CHECK(cli_output_format(&a) != HDM_FORMAT_UNKNOWN);
        hdm_options o;
        cli_fill_options(&a, &o);
        HDM_FUZZ_CHECK(o.max_pixels >= 1 && o.max_memory >= 1);
        /* An operation's fields must parse as its step would. */
        if (cmd->op) {
            const char **fields = malloc(((size_t)a.npos + (size_t)a.nfields + 1) *
                                         sizeof *fields);
            size_t nf = 0;
            for (int i = 1; fields && i < a.npos; i++)
                fields[nf++] = a.pos[i];
            for (int i = 0; fields && i < a.nfields; i++)
                fields[nf++] = a.fields[i];
            hdm_pipeline *p;
            if (fields && !hdm_pipeline_new(&p)) {
                hdm_error e = {0};
                hdm_status st = hdm_pipeline_add_fields(p, cmd->op->name, fields, nf, &e);
                if (st)
                    hdm_fuzz_check_error(st, &e);
                hdm_pipeline_free(p);
            }
            free(fields);
        }
    }
    cli_args_free(&a);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        cli_add_op_commands();
        ready = true;
    }
    if (size < 1)
        return 0;
    if (data[0] & 1)
        fuzz_cli(data + 1, size - 1);
    else
        fuzz_steps(data + 1, size - 1);
    return 0;
}
