/* SPDX-License-Identifier: MIT */
/* fields.c — what the ops' step parsers share: field values, numbers, names, messages */
#include "ops/ops.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *hdm__field_value(const char *field, const char *key)
{
    size_t k = strlen(key);
    return strncmp(field, key, k) == 0 && field[k] == '=' ? field + k + 1 : NULL;
}

/* strtod, and whether it read all of s to a finite value. ERANGE is also how strtod reports
 * underflow (C11 7.22.1.3): a result no larger than DBL_MIN is a number rounded towards 0,
 * not an error; only an overflow (±HUGE_VAL) is out of range. */
/* A plain decimal number: an optional sign, digits with at most one '.', at least one digit,
 * an optional exponent. strtod also reads hex, "inf", "nan" and leading blanks, none of which
 * is a number a user means in a step or option. */
static bool plain_decimal(const char *s)
{
    size_t digits = 0;
    if (*s == '+' || *s == '-')
        s++;
    for (; *s >= '0' && *s <= '9'; s++)
        digits++;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            digits++;
    if (!digits)
        return false;
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-')
            s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    return *s == '\0';
}

static bool read_double(const char *s, double *out, bool *range)
{
    *range = false;
    if (!s || !plain_decimal(s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end)
        return false;
    if ((errno == ERANGE && fabs(v) > DBL_MIN) || (errno == 0 && isinf(v))) {
        *range = true;
        return false;
    }
    if ((errno && errno != ERANGE) || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool hdm__parse_double(const char *s, double *out)
{
    bool range;
    return read_double(s, out, &range);
}

const char *hdm__number_problem(const char *s)
{
    double v;
    bool range;
    read_double(s, &v, &range);
    return range ? "is out of range" : "is not a number";
}

static size_t min2(size_t a, size_t b) { return a < b ? a : b; }

/* Edit distance counting a swap of neighbours as one edit (the optimal string alignment form
 * of Damerau–Levenshtein), ASCII case folded; words longer than 63 bytes count as far off. */
static size_t edit_distance(const char *a, size_t na, const char *b, size_t nb)
{
    if (na > 63 || nb > 63)
        return SIZE_MAX;
    size_t d[3][64]; /* rows i − 2, i − 1 and i, used in turn */
    for (size_t j = 0; j <= nb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= na; i++) {
        size_t *cur = d[i % 3], *prev = d[(i - 1) % 3], *prev2 = d[(i + 1) % 3];
        cur[0] = i;
        for (size_t j = 1; j <= nb; j++) {
            int ai = tolower((unsigned char)a[i - 1]), bj = tolower((unsigned char)b[j - 1]);
            size_t v = min2(min2(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + (ai != bj));
            if (i > 1 && j > 1 && ai == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == bj)
                v = min2(v, prev2[j - 2] + 1);
            cur[j] = v;
        }
    }
    return d[na % 3][nb];
}

const char *hdm__did_you_mean(const char *word, size_t len, const char *const *names, size_t n,
                              char *buf, size_t cap)
{
    const char *pick = NULL;
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t nl = strlen(names[i]), d = edit_distance(word, len, names[i], nl);
        /* a slip: about one edit in three letters, at least one */
        if (d < best && d <= (nl / 3 > 1 ? nl / 3 : 1))
            best = d, pick = names[i];
    }
    if (!pick || best == 0 || !cap)
        return cap ? (buf[0] = '\0', buf) : "";
    snprintf(buf, cap, "; did you mean '%s'?", pick);
    return buf;
}

hdm_status hdm__bad_field(const hdm__opdef *def, const char *field, hdm_error *err)
{
    const char *names[32];
    size_t n = 0;
    for (const hdm_param *p = def->pub.params; p && p->name && n < 32; p++)
        names[n++] = p->name;
    char hint[96];
    hdm__did_you_mean(field, strcspn(field, "="), names, n, hint, sizeof hint);
    return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unexpected field '%s' (the step is %s)%s",
                     def->pub.name, field, def->pub.syntax, hint);
}
