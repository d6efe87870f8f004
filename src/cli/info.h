/* SPDX-License-Identifier: MIT */
/* info.h — what `hadamard info` prints of a file: a line of what it decodes to, then what it holds */
#ifndef HDM_CLI_INFO_H
#define HDM_CLI_INFO_H

#include "hadamard.h"

#include <stdbool.h>
#include <stdio.h>

/* The human form: the first line "NAME: WxH, N channels (LAYOUT), DEPTH, FORMAT" as always,
 * then an indented line for each thing the file holds beyond it (README, "Metadata").
 * no_rotate: the Orientation tag was not applied, so the size is the stored one. */
void info_print(FILE *f, const char *name, const hdm_file_info *d, bool no_rotate);
/* One JSON object on one line with every field of d. */
void info_print_json(FILE *f, const char *name, const hdm_file_info *d, bool no_rotate);
/* One JSON object on one line for a file that could not be read: its name and the message. */
void info_print_json_error(FILE *f, const char *name, const char *message);

#endif
