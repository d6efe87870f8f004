/* SPDX-License-Identifier: MIT */
/* cli_assert.h — what a CLI test checks of a finished run (Criterion assertions) */
#ifndef HDM_CLI_ASSERT_H
#define HDM_CLI_ASSERT_H

#include "cli_run.h"

/* The promise for a refusal: not killed by a signal (the watchdog's included), exit status
 * code, exactly one line on stderr starting "hadamard: " and containing each of the NULL-ended
 * words (a path it must name, a cause it must give). */
void cli_expect_refusal(const cli_result *r, int code, ...);
#define CLI_REFUSED(r, code, ...) cli_expect_refusal((r), (code), __VA_ARGS__, (const char *)NULL)
/* Exit status 0. */
void cli_expect_ok(const cli_result *r);
/* No file in dir is a temporary, and out is absent (old NULL) or holds exactly old. */
void cli_expect_no_leftovers(const char *dir, const char *out, const char *old);
/* Nothing but the count names is in dir: no output, no temporary. */
void cli_expect_only(const char *dir, const char *const *names, size_t count);

#endif
