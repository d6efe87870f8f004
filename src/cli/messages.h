/* SPDX-License-Identifier: MIT */
/* messages.h — the command's one-line messages on stderr and its exit statuses */
#ifndef HDM_CLI_MESSAGES_H
#define HDM_CLI_MESSAGES_H

#include <stdbool.h>
#include <stdio.h>

/* What the command exits with besides 0 (and 130 when stopped by a signal). */
enum { EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* Prints "hadamard: MESSAGE" as one line on stderr: control characters show as '?', and a
 * limit the library names by its hdm_options field, "(max_pixels)", is named by the flag that
 * raises it, "(raise it with --max-pixels)". */
void cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Rewrites msg (a buffer of cap bytes) in the command's words, as cli_say says it: a limit
 * named by its hdm_options field, "(max_pixels)", is named by the flag that raises it. For a
 * message that is kept as well as said (the batch report). */
void cli_words(char *msg, size_t cap);

/* Sends cli_say's lines to f instead of stderr (NULL: back to stderr); for a test that reads
 * what was said. */
void cli_say_to(FILE *f);

/* The formats the library writes, in its codec table's order, for help and messages: each
 * one's output extensions (every one when all, else only its usual first one), each after dot,
 * sep between two and last before the final one. (true, ".", ", ", " or ") gives
 * ".png, .jpg, .jpeg, .bmp, .tga or .hdr". Returns buf. */
const char *cli_formats(char *buf, size_t cap, bool all, const char *dot, const char *sep,
                        const char *last);

/* Flushes and closes stdout; a write that did not reach it is said and turns a status of 0
 * into EXIT_FAIL. Returns the exit status. */
int cli_close_stdout(int rc);

#endif
