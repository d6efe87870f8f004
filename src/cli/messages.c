/* messages.c — the command's one-line messages, and the check that stdout got everything */
#include "cli/messages.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

static FILE *sink;

void cli_say_to(FILE *f) { sink = f; }

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
    fprintf(sink ? sink : stderr, "hadamard: %s\n", msg);
}

/* Everything printed on stdout (info, help, the man page) must have reached it: a full disk
 * or a closed pipe is a failure said on stderr, not a silent success. */
int cli_close_stdout(int rc)
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
