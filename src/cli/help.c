/* SPDX-License-Identifier: MIT */
/* help.c — usage, each command's help, the man page and bash completion, all made from the
 * tables of args.c so they cannot disagree with what the parser accepts */
#include "cli/help.h"
#include "cli/messages.h"

#include <string.h>

void cli_usage(FILE *f)
{
    fprintf(f, "usage: hadamard COMMAND [ARGS] [OPTIONS]\n\n"
               "Element-wise (Hadamard) image products, exact to the last bit.\n\ncommands:\n");
    for (int i = 0; i < cli_n_commands; i++)
        fprintf(f, "  %-6s %-22s %s\n", cli_commands[i].name, cli_commands[i].synopsis,
                cli_commands[i].summary);
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

void cli_cmd_help(const cli_cmd *cmd)
{
    /* Options go before a "--": after it every argument is an input. */
    if (strstr(cmd->synopsis, " -- "))
        printf("usage: hadamard %s [OPTIONS] %s\n\n%s\n\noptions (before the --):\n", cmd->name,
               cmd->synopsis, cmd->summary);
    else
        printf("usage: hadamard %s %s [OPTIONS]\n\n%s\n\noptions:\n", cmd->name, cmd->synopsis,
               cmd->summary);
    for (const char *const *p = cmd->opts; *p; p++) {
        const cli_opt *o = &cli_options[cli_opt_index(*p)];
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
    if (cmd->kind == CLI_RUN) {
        printf("\nsteps, run in order in one pass (fields after the name split at ':'; write\n"
               "'\\:' for a ':' inside a field and '\\\\' for a backslash, as in\n"
               "mask:C\\:/masks/m.png:invert):\n");
        for (size_t i = 0; hdm_op_at(i); i++)
            printf("  %-34s %s\n", hdm_op_at(i)->syntax, hdm_op_at(i)->summary);
    }
    if (cli_accepts(cmd, cli_opt_index("output")))
        printf("\nIMAGE - reads standard input; -o - writes standard output, in the format\n"
               "--format names (required then); it is written only once complete. Other\n"
               "operands (MASK, TOP, a @FILE kernel) must be files.\n");
    printf("\n%s", option_forms);
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

void cli_print_man(void)
{
    printf(".TH HADAMARD 1 \"\" \"hadamard %s\" \"User Commands\"\n", hdm_version());
    puts(".SH NAME\nhadamard \\- element\\-wise (Hadamard) image products: masks, blends, "
         "windows, filters");
    puts(".SH SYNOPSIS\n.B hadamard\n.I COMMAND\n[\\fIARGS\\fR] [\\fIOPTIONS\\fR]");
    puts(".SH DESCRIPTION\nEach operation is an element\\-wise product of channel planes. "
         "Integer products are exact: every sample is round(a\\(mub/M), M = 255 or 65535. "
         "Outputs are written to a temporary file and renamed into place only when complete.");
    puts(".SH COMMANDS");
    for (int i = 0; i < cli_n_commands; i++) {
        const cli_cmd *c = &cli_commands[i];
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
            const cli_opt *opt = &cli_options[cli_opt_index(*o)];
            char sh[3] = {'-', opt->short_name, 0};
            man_option(opt->short_name ? sh : NULL, opt->name, opt->arg, opt->help);
        }
    }
    puts(".SH EXIT STATUS\n0 on success, 1 when a file failed, 2 for a usage error, "
         "130 when stopped by SIGINT or SIGTERM.");
    puts(".SH ENVIRONMENT\n.TP\n.B HADAMARD_CPU\nforce a kernel variant: scalar, sse2, avx2, "
         "avx512 or neon (refused if the CPU lacks it).");
}

void cli_print_completion(void)
{
    puts("# bash completion for hadamard, generated by 'hadamard --completion'");
    puts("_hadamard() {");
    puts("  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} opts=''");
    fputs("  if [ \"$COMP_CWORD\" -eq 1 ]; then\n    COMPREPLY=($(compgen -W '--help --version",
          stdout);
    for (int i = 0; i < cli_n_commands; i++)
        printf(" %s", cli_commands[i].name);
    puts("' -- \"$cur\")); return; fi");
    puts("  case $prev in");
    puts("    -o|--output|--out-dir|--report) COMPREPLY=($(compgen -f -- \"$cur\")); return;;");
    puts("    --png-filter) COMPREPLY=($(compgen -W 'none sub up avg paeth adaptive' -- "
         "\"$cur\")); return;;");
    puts("    --jpeg-subsample) COMPREPLY=($(compgen -W 'auto 444 422 420' -- \"$cur\")); "
         "return;;");
    puts("    --tiff-compression) COMPREPLY=($(compgen -W 'deflate lzw zstd none jpeg' -- "
         "\"$cur\")); return;;");
    puts("    --background) COMPREPLY=($(compgen -W 'white black' -- \"$cur\")); return;;");
    char list[192];
    printf("    --format) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return;;\n",
           cli_formats(list, sizeof list, true, "", " ", " "));
    for (size_t i = 0; hdm_op_at(i); i++)
        for (const hdm_param *p = hdm_op_at(i)->params; p->name; p++)
            if (p->choices)
                printf("    --%s) COMPREPLY=($(compgen -W '%s' -- \"$cur\")); return;;\n",
                       p->name, p->choices);
    puts("  esac");
    puts("  case ${COMP_WORDS[1]} in");
    for (int i = 0; i < cli_n_commands; i++) {
        printf("    %s) opts='", cli_commands[i].name);
        for (const char *const *o = cli_commands[i].opts; *o; o++)
            printf("%s--%s", o == cli_commands[i].opts ? "" : " ", *o);
        if (cli_commands[i].op)
            for (const hdm_param *p = cli_commands[i].op->params; p->name; p++)
                printf(" --%s", p->name);
        puts("';;");
    }
    puts("  esac");
    puts("  if [[ $cur == -* ]]; then COMPREPLY=($(compgen -W \"$opts\" -- \"$cur\"));");
    puts("  else COMPREPLY=($(compgen -f -- \"$cur\")); fi");
    puts("}");
    puts("complete -o filenames -F _hadamard hadamard");
}

