/* ops.c — the table of operations and the helpers their step parsers share */
#include "ops/ops.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Adding an operation: one file defining its hdm__opdef, and one line here. */
static const hdm__opdef *const table[] = {
    &hdm__mul_def,
    &hdm__mask_def,
    &hdm__blend_def,
    &hdm__window_def,
    &hdm__filter_def,
};

const hdm_op *hdm_op_at(size_t i)
{
    return i < sizeof table / sizeof table[0] ? &table[i]->pub : NULL;
}

const hdm__opdef *hdm__op_find(const char *name)
{
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(table[i]->pub.name, name) == 0)
            return table[i];
    return NULL;
}

hdm_status hdm__check_held(uint64_t held, const hdm_options *opt, const char *path,
                           hdm_error *err)
{
    if (held <= opt->max_memory)
        return HDM_OK;
    return hdm__fail(err, HDM_ERR_LIMIT, path,
                     "this job needs about %llu bytes held at once, above the memory limit of "
                     "%llu (max_memory)", (unsigned long long)held,
                     (unsigned long long)opt->max_memory);
}

const char *hdm__field_value(const char *field, const char *key)
{
    size_t k = strlen(key);
    return strncmp(field, key, k) == 0 && field[k] == '=' ? field + k + 1 : NULL;
}

bool hdm__parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v))
        return false;
    *out = v;
    return true;
}

hdm_status hdm__bad_field(const hdm__opdef *def, const char *field, hdm_error *err)
{
    return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: unexpected field '%s' (the step is %s)",
                     def->pub.name, field, def->pub.syntax);
}

char *hdm__strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}
