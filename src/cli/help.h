/* SPDX-License-Identifier: MIT */
/* help.h — usage, each command's help, the man page and bash completion, from args.h's tables */
#ifndef HDM_CLI_HELP_H
#define HDM_CLI_HELP_H

#include "cli/args.h"

#include <stdio.h>

/* The list of commands and how to ask for more, on f. */
void cli_usage(FILE *f);

/* One command's usage, options and notes, on stdout. */
void cli_cmd_help(const cli_cmd *cmd);

/* The man page (roff) and the bash completion script, on stdout. */
void cli_print_man(void);
void cli_print_completion(void);

#endif
