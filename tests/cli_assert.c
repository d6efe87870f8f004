/* SPDX-License-Identifier: MIT */
/* cli_assert.c — the checks CLI tests make of a run: a one-line refusal, success, no leftovers */
#include "cli_assert.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

void cli_expect_refusal(const cli_result *r, int code, ...)
{
    cr_assert(!WIFSIGNALED(r->wstatus), "killed by signal %d (a hang?); stderr: %s",
              WTERMSIG(r->wstatus), r->err);
    cr_assert(WIFEXITED(r->wstatus));
    cr_assert_eq(WEXITSTATUS(r->wstatus), code, "exit %d, not %d; stderr: %s",
                 WEXITSTATUS(r->wstatus), code, r->err);
    cr_assert(strncmp(r->err, "hadamard: ", 10) == 0, "stderr: %s", r->err);
    const char *nl = strchr(r->err, '\n');
    cr_assert(nl && nl[1] == '\0', "not exactly one line: %s", r->err);
    va_list ap;
    va_start(ap, code);
    for (const char *w; (w = va_arg(ap, const char *));)
        cr_assert(strstr(r->err, w), "message does not say '%s': %s", w, r->err);
    va_end(ap);
}

void cli_expect_ok(const cli_result *r)
{
    cr_assert(WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == 0,
              "status %d (signal %d); stderr: %s",
              WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : -1,
              WIFSIGNALED(r->wstatus) ? WTERMSIG(r->wstatus) : 0, r->err);
}

void cli_expect_no_leftovers(const char *dir, const char *out, const char *old)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_assert(!strstr(e->d_name, ".hadamard-tmp-"), "temporary left behind: %s", e->d_name);
    closedir(d);
    size_t n;
    unsigned char *got = slurp(out, &n);
    if (!old) {
        cr_assert_null(got, "%s was written", out);
        return;
    }
    cr_assert(got, "%s is gone", out);
    cr_assert(n == strlen(old) && memcmp(got, old, n) == 0, "%s was changed", out);
    free(got);
}

void cli_expect_only(const char *dir, const char *const *names, size_t count)
{
    DIR *d = opendir(dir);
    cr_assert(d);
    for (struct dirent *e; (e = readdir(d));) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < count; i++)
            known |= strcmp(e->d_name, names[i]) == 0;
        cr_assert(known, "%s was left behind", e->d_name);
    }
    closedir(d);
}
