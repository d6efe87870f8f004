/* SPDX-License-Identifier: MIT */
/* mul.c — the normalised Hadamard product of two images, a 1-channel operand broadcasting */
#include "kernel/kernel.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

/* dst = a ∘ b for one row of n samples of depth d, through the kernel. */
static void mul_row(void *dst, const void *a, const void *b, hdm_depth d, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    switch (d) {
    case HDM_U8: k->mul_u8(dst, a, b, n); break;
    case HDM_U16: k->mul_u16(dst, a, b, n); break;
    case HDM_F32: k->mul_f32(dst, a, b, n); break;
    }
}

static hdm_status mul_apply(hdm__op *op, const hdm_image *in, hdm_image *b, hdm_image *out,
                            uint32_t y, uint32_t rows, hdm_error *err)
{
    (void)op;
    (void)y;
    (void)err;
    for (uint32_t c = 0; c < out->channels; c++) {
        uint32_t ca = in->channels == 1 ? 0 : c, cb = b->channels == 1 ? 0 : c;
        for (uint32_t r = 0; r < rows; r++)
            mul_row(hdm_row(out, c, r), hdm_row(in, ca, r), hdm_row(b, cb, r), out->depth,
                    out->width);
    }
    return HDM_OK;
}

static void mul_free(hdm__op *op) { free(op); }

/* Channel counts match, or one side is gray and broadcasts; both sides promote to the deeper
 * depth. */
static hdm_status mul_make(const void *args, const hdm__op_shape *sh, hdm__op **out,
                           hdm_error *err)
{
    (void)args;
    const hdm_info *in = &sh->in, *bi = &sh->operand;
    if (in->channels != bi->channels && in->channels != 1 && bi->channels != 1)
        return hdm__fail(err, HDM_ERR_SHAPE, sh->operand_path,
                         "has %u channels, %s has %u (channel counts must match, or one "
                         "operand be gray)", bi->channels, sh->in_path, in->channels);
    hdm__op *m = calloc(1, sizeof *m);
    if (!m)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    m->out_info = *in;
    m->out_info.channels = in->channels > bi->channels ? in->channels : bi->channels;
    m->out_info.depth = hdm__deeper(in->depth, bi->depth);
    m->in_depth = m->operand_depth = m->out_info.depth;
    m->apply = mul_apply;
    m->free = mul_free;
    *out = m;
    return HDM_OK;
}

/* ---- the step: mul:B, and the placement fields ---- */

typedef struct mul_args {
    char *path;
    hdm__place place;
} mul_args;

static void mul_args_free(void *p)
{
    mul_args *a = p;
    if (a)
        free(a->path);
    free(a);
}

static hdm_status mul_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    mul_args *a = calloc(1, sizeof *a);
    if (!a)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    hdm__place_init(&a->place);
    hdm_status st = HDM_OK;
    for (size_t i = 0; i < n && !st; i++) {
        bool taken;
        st = hdm__place_field(&a->place, "mul", HDM__OUTSIDE_VALUE, f[i], &taken, err);
        if (st || taken)
            continue;
        if (a->path || strchr(f[i], '=') || !*f[i])
            st = a->path ? hdm__bad_field(&hdm__mul_def, f[i], err)
                         : hdm__fail(err, HDM_ERR_ARG, NULL, "mul: needs one operand file (%s)",
                                     hdm__mul_def.pub.syntax);
        else if (!(a->path = hdm__strdup(f[i])))
            st = hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    if (!st && !a->path)
        st = hdm__fail(err, HDM_ERR_ARG, NULL, "mul: needs one operand file (%s)",
                       hdm__mul_def.pub.syntax);
    if (!st)
        st = hdm__place_check(&a->place, "mul", err);
    if (st) {
        mul_args_free(a);
        return st;
    }
    if (a->place.outside < 0) /* 1: the product's identity */
        a->place.outside = 1;
    *args = a;
    return HDM_OK;
}

static const char *mul_operand(const void *args) { return ((const mul_args *)args)->path; }

/* The in-memory hdm_mul gives no args: nothing placed. */
static const hdm__place *mul_place(const void *args)
{
    return args ? &((const mul_args *)args)->place : NULL;
}

const hdm__opdef hdm__mul_def = {
    .pub = {
        .name = "mul",
        .operands = "B",
        .syntax = "mul:B",
        .summary = "the normalised Hadamard product round(a·b/M) with image B",
        .params = (const hdm_param[]){
            HDM__PLACE_PARAMS,
            HDM__OUTSIDE_PARAM("1, the product's identity (the image unchanged)"),
            {NULL, NULL, NULL, NULL}},
    },
    .parse = mul_parse,
    .free_args = mul_args_free,
    .operand = mul_operand,
    .place = mul_place,
    .outside = HDM__OUTSIDE_VALUE,
    .resample_premultiplied = true,
    .make = mul_make,
};
