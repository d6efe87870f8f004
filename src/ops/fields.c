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

/* ---- placement fields, shared by every op with an operand ---- */

static const char *const fit_names[] = {"stretch", "contain", "cover"};
static const char *const filter_names[HDM__RS_COUNT] = {"lanczos3", "bicubic", "bilinear",
                                                         "nearest", "box"};
static const char *const gravity_names[9] = {"nw", "n", "ne", "w", "center", "e",
                                             "sw", "s", "se"};

void hdm__place_init(hdm__place *p)
{
    memset(p, 0, sizeof *p);
    p->gravity = -1;
    p->outside = -1;
}

/* The index of v among names, or -1 with the message (the choices and a did-you-mean). */
static int pick(const char *op, const char *key, const char *v, const char *const *names,
                size_t n, hdm_status *st, hdm_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v, names[i]) == 0)
            return (int)i;
    char list[96] = "", hint[64];
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                 names[i]);
    *st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unknown %s '%s' (%s)%s", op, key, v, list,
                    hdm__did_you_mean(v, strlen(v), names, n, hint, sizeof hint));
    return -1;
}

/* "X,Y": two whole numbers, each within ±2^31 (beyond any image's size). */
static bool parse_xy(const char *v, int64_t *x, int64_t *y)
{
    const char *comma = strchr(v, ',');
    if (!comma || strchr(comma + 1, ','))
        return false;
    int64_t out[2];
    const char *part[2] = {v, comma + 1};
    size_t len[2] = {(size_t)(comma - v), strlen(comma + 1)};
    for (int k = 0; k < 2; k++) {
        const char *s = part[k];
        size_t i = 0;
        bool neg = false;
        if (i < len[k] && (s[i] == '-' || s[i] == '+'))
            neg = s[i++] == '-';
        if (i == len[k])
            return false;
        int64_t n = 0;
        for (; i < len[k]; i++) {
            if (s[i] < '0' || s[i] > '9' || n > ((int64_t)1 << 31))
                return false;
            n = n * 10 + (s[i] - '0');
        }
        if (n > ((int64_t)1 << 31))
            return false;
        out[k] = neg ? -n : n;
    }
    *x = out[0];
    *y = out[1];
    return true;
}

hdm_status hdm__place_field(hdm__place *p, const char *op, hdm__outside_kind kind,
                            const char *field, bool *taken, hdm_error *err)
{
    return hdm__place_field_named(p, op, "", kind, field, taken, err);
}

hdm_status hdm__place_field_named(hdm__place *p, const char *op, const char *prefix,
                                  hdm__outside_kind kind, const char *field, bool *taken,
                                  hdm_error *err)
{
    static const char *const keys[] = {"fit", "resample", "at", "gravity", "offset", "outside"};
    *taken = false;
    size_t np = strlen(prefix);
    if (strncmp(field, prefix, np) != 0)
        return HDM_OK;
    field += np;
    const char *v = NULL;
    int key = -1;
    for (int k = 0; k < 6 && key < 0; k++)
        if ((v = hdm__field_value(field, keys[k])))
            key = k;
    if (key == 5 && kind != HDM__OUTSIDE_VALUE)
        return HDM_OK; /* not this op's: the op says so as for any other field */
    if (key < 0 && strcmp(field, "tile") != 0)
        return HDM_OK;
    *taken = true;
    bool twice = key == 0 ? p->fit != HDM__FIT_NONE : key == 1 ? p->resample_set
               : key == 2 ? p->at_set : key == 3 ? p->gravity >= 0 : key == 4 ? p->offset_set
               : key == 5 ? p->outside >= 0 : p->tile;
    if (twice)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s%s given twice", op, prefix,
                         key < 0 ? "tile" : keys[key]);
    char key_named[32];
    snprintf(key_named, sizeof key_named, "%s%s", prefix, key < 0 ? "tile" : keys[key]);
    p->any = true;
    hdm_status st = HDM_OK;
    int i;
    switch (key) {
    case 0:
        if ((i = pick(op, key_named, v, fit_names, 3, &st, err)) < 0)
            return st;
        p->fit = (hdm__fit)(i + 1);
        break;
    case 1:
        snprintf(key_named, sizeof key_named, "%sresample filter", prefix);
        if ((i = pick(op, key_named, v, filter_names, HDM__RS_COUNT, &st, err)) < 0)
            return st;
        p->resample = (hdm__rfilter)i;
        p->resample_set = true;
        break;
    case 2:
    case 4:
        if (!parse_xy(v, &p->x, &p->y))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s must be two whole numbers X,Y "
                             "(pixels, negative allowed, at most 2147483648 either way), not "
                             "'%s'", op, key_named, v);
        if (key == 2)
            p->at_set = true;
        else
            p->offset_set = true;
        break;
    case 3:
        if ((i = pick(op, key_named, v, gravity_names, 9, &st, err)) < 0)
            return st;
        p->gravity = i;
        break;
    case 5:
        if (strcmp(v, "0") && strcmp(v, "1"))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %s must be 0 or 1, not '%s'", op,
                             key_named, v);
        p->outside = v[0] - '0';
        break;
    default:
        p->tile = true;
        break;
    }
    return HDM_OK;
}

hdm_status hdm__place_check(const hdm__place *p, const char *op, hdm_error *err)
{
    return hdm__place_check_named(p, op, "", "operand", err);
}

hdm_status hdm__place_check_named(const hdm__place *p, const char *op, const char *prefix,
                                  const char *noun, hdm_error *err)
{
    const char *x = prefix;
    if (p->at_set && (p->gravity >= 0 || p->offset_set))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %sat places the %s by itself; give "
                         "either %sat, or %sgravity and %soffset", op, x, noun, x, x, x);
    if (p->resample_set && p->fit == HDM__FIT_NONE)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: %sresample needs %sfit (the %s is "
                         "resampled only to fit the image)", op, x, x, noun);
    return HDM_OK;
}
