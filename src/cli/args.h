/* SPDX-License-Identifier: MIT */
/* args.h — the command line's tables (options, commands) and the parser that reads argv */
#ifndef HDM_CLI_ARGS_H
#define HDM_CLI_ARGS_H

#include "hadamard.h"

#include <stdbool.h>
#include <stdint.h>

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

enum { CLI_N_OPTIONS = 29 };             /* entries of cli_options (checked where it is filled) */
extern const cli_opt cli_options[];

/* What a parsed command line holds. */
typedef struct cli_args {
    const char **pos; /* as many as argv holds; freed by cli_args_free */
    int npos;
    int dashdash;   /* npos when "--" was met, or -1 */
    bool set[CLI_N_OPTIONS];
    const char *str[CLI_N_OPTIONS];
    uint64_t num[CLI_N_OPTIONS];
    /* an operation's own parameters, as step fields: "name" or "name=value" */
    char **fields;
    int nfields;
} cli_args;

void cli_args_free(cli_args *a);

/* The index of the option named (without "--") in cli_options, or -1. */
int cli_opt_index(const char *name);

/* Whether the option named was given, its string value, its number (for the options' names). */
bool cli_has(const cli_args *a, const char *name);
const char *cli_str(const cli_args *a, const char *name);
uint64_t cli_num(const cli_args *a, const char *name);

/* ---- commands ---- */

/* Which runner a command has: the fixed ones, or a one-step run of an operation. */
typedef enum cli_kind { CLI_INFO, CLI_RUN, CLI_BATCH, CLI_OP } cli_kind;

typedef struct cli_cmd {
    const char *name;
    const char *synopsis;       /* positional arguments */
    const char *summary;
    int min_pos, max_pos;       /* positional argument counts (max -1: any) */
    const char *const *opts;    /* option names it accepts, NULL-terminated */
    cli_kind kind;
    const hdm_op *op;           /* for an operation's command: its table entry */
} cli_cmd;

/* The fixed commands, then one per operation of the library's table once
 * cli_add_op_commands() ran. */
extern cli_cmd cli_commands[];
extern int cli_n_commands;
void cli_add_op_commands(void);
/* Fills the option help that lists the formats (--output's, --format's) from the library's
 * codec table; called once at start, before any help is printed. */
void cli_add_format_lists(void);

/* The command named, or NULL. */
const cli_cmd *cli_find_command(const char *name);

/* Says an unknown command (with a "did you mean" when one is close); returns EXIT_USAGE. */
int cli_unknown_command(const char *name);

/* Whether cmd accepts the option at index opt of cli_options. */
bool cli_accepts(const cli_cmd *cmd, int opt);

/* Parses argv for cmd; returns -1 when fine, 0 when --help was asked (the caller prints
 * cli_cmd_help), else an exit status, the reason said by cli_say. a's arrays are allocated
 * here, to be released by cli_args_free whatever the result. */
int cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_args *a);

/* The library's options as the command line sets them (limits, writing settings); no cancel
 * flag. */
void cli_fill_options(const cli_args *a, hdm_options *o);

/* The output format: --format when given (it must agree with a file output's extension, which
 * cli_parse checked), else the extension. */
hdm_format cli_output_format(const cli_args *a);

#endif
