/* SPDX-License-Identifier: MIT */
/* table.c — the table of operations */
#include "ops/ops.h"

#include <string.h>

/* Adding an operation: one file defining its hdm__opdef, and one line here. */
static const hdm__opdef *const table[] = {
    &hdm__mul_def,
    &hdm__mask_def,
    &hdm__blend_def,
    &hdm__window_def,
    &hdm__filter_def,
    &hdm__fft_def,
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
