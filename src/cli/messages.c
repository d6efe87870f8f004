/* SPDX-License-Identifier: MIT */
/* messages.c — the command's one-line messages, its format lists, and the check on stdout */
#include "cli/messages.h"

#include "hadamard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static FILE *sink;

void cli_say_to(FILE *f) { sink = f; }

/* The library names the hdm_options field of a limit it hit, "(max_pixels)"; the command says
 * how to raise it instead. */
void cli_words(char *msg, size_t cap)
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

/* Fits a message of len bytes in msg as the library fits its own: past MAX it keeps its start
 * (what it is about) and its end (the reason, the choices), "…" between, on UTF-8 bounds. */
static void shorten(char *msg, size_t len)
{
    enum { MAX = 1023, HEAD = 300 };
    static const char ell[] = "\xe2\x80\xa6";
    if (len <= MAX)
        return;
    size_t head = HEAD, tail = MAX - HEAD - (sizeof ell - 1);
    while (head > 0 && ((unsigned char)msg[head] & 0xc0) == 0x80)
        head--;
    while (tail > 0 && ((unsigned char)msg[len - tail] & 0xc0) == 0x80)
        tail--;
    memcpy(msg + head, ell, sizeof ell - 1);
    memmove(msg + head + sizeof ell - 1, msg + len - tail, tail + 1);
}

void cli_say(const char *fmt, ...)
{
    /* measured first, so nothing the library said is cut; room to spare for cli_words */
    enum { SPARE = 256 };
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    size_t cap = (n > 0 ? (size_t)n : 0) + SPARE;
    char local[2048];
    char *msg = cap <= sizeof local ? local : malloc(cap);
    if (!msg) {
        msg = local;
        cap = sizeof local;
    }
    va_start(ap, fmt);
    vsnprintf(msg, cap, fmt, ap);
    va_end(ap);
    cli_words(msg, cap);
    shorten(msg, strlen(msg));
    for (char *c = msg; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    fprintf(sink ? sink : stderr, "hadamard: %s\n", msg);
    if (msg != local)
        free(msg);
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

const char *cli_formats(char *buf, size_t cap, bool all, const char *dot, const char *sep,
                        const char *last)
{
    const char *ext[64];
    size_t n = 0, len = 0;
    const hdm_codec_info *c;
    for (size_t i = 0; (c = hdm_codec_at(i)); i++)
        for (const char *const *e = c->extensions; *e && n < 64; e++) {
            ext[n++] = *e;
            if (!all)
                break;
        }
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < cap; i++) {
        int k = snprintf(buf + len, cap - len, "%s%s%s", i == 0 ? "" : i + 1 == n ? last : sep,
                         dot, ext[i]);
        len += k > 0 ? (size_t)k : 0;
    }
    return buf;
}
