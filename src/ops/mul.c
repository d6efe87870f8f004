/* mul.c — the normalised Hadamard product of two images, a 1-channel operand broadcasting */
#include "kernel/kernel.h"
#include "ops/operand.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

typedef struct mul_op {
    hdm__op base;
    hdm__operand b;
} mul_op;

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

static hdm_status mul_apply(hdm__op *op, const hdm_image *in, hdm_image *out, uint32_t y,
                            uint32_t rows, hdm_error *err)
{
    mul_op *m = (mul_op *)op;
    hdm_status st = hdm__operand_read(&m->b, y, rows, err);
    if (st)
        return st;
    const hdm_image *b = m->b.strip;
    for (uint32_t c = 0; c < out->channels; c++) {
        uint32_t ca = in->channels == 1 ? 0 : c, cb = b->channels == 1 ? 0 : c;
        for (uint32_t r = 0; r < rows; r++) {
            void *d = hdm_row(out, c, r);
            const void *a = hdm_row(in, ca, r);
            if (in->depth != out->depth) {
                hdm__convert_row(d, out->depth, a, in->depth, out->width);
                a = d;
            }
            mul_row(d, a, hdm_row(b, cb, r), out->depth, out->width);
        }
    }
    return HDM_OK;
}

static void mul_free(hdm__op *op)
{
    mul_op *m = (mul_op *)op;
    hdm__operand_free(&m->b);
    free(m);
}

hdm_status hdm__op_mul(const hdm_info *in, const char *in_path, hdm__source *operand, hdm__op **out, hdm_error *err)
{
    *out = NULL;
    const hdm_info binfo = operand->info, *bi = &binfo; /* kept: operand closes on failure */
    hdm_status st = hdm__check_same_size(in, in_path, bi, operand->path, err);
    if (st) {
        hdm__source_close(operand);
        return st;
    }
    if (in->channels != bi->channels && in->channels != 1 && bi->channels != 1) {
        hdm__fail(err, HDM_ERR_SHAPE, operand->path,
                  "has %u channels, %s has %u (channel counts must match, or one operand be "
                  "gray)", bi->channels, in_path, in->channels);
        hdm__source_close(operand);
        return HDM_ERR_SHAPE;
    }
    mul_op *m = calloc(1, sizeof *m);
    if (!m) {
        hdm__source_close(operand);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    m->base.in_info = *in;
    m->base.out_info = *in;
    m->base.out_info.channels = in->channels > bi->channels ? in->channels : bi->channels;
    m->base.out_info.depth = hdm__deeper(in->depth, bi->depth);
    m->base.apply = mul_apply;
    m->base.free = mul_free;
    m->b.src = operand;
    m->base.held = operand->held;
    m->b.depth = m->base.out_info.depth;
    *out = &m->base;
    return HDM_OK;
}

/* ---- the step: mul:B ---- */

static hdm_status mul_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    if (n != 1 || strchr(f[0], '=') || !*f[0])
        return n > 1 ? hdm__bad_field(&hdm__mul_def, f[1], err)
                     : hdm__fail(err, HDM_ERR_ARG, NULL, "mul: needs one operand file (%s)",
                                 hdm__mul_def.pub.syntax);
    char *path = hdm__strdup(f[0]);
    if (!path)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    *args = path;
    return HDM_OK;
}

static hdm_status mul_open(const void *args, hdm__source *up, const char *in_path,
                           const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    hdm__source *b;
    hdm__op *op;
    hdm_status st = hdm__source_open(args, opt, &b, err);
    if (!st)
        st = hdm__op_mul(&up->info, in_path, b, &op, err);
    if (st) {
        hdm__source_close(up);
        return st;
    }
    return hdm__op_source(up, op, out, err);
}

static const char *mul_operand(const void *args) { return args; }

const hdm__opdef hdm__mul_def = {
    .pub = {
        .name = "mul",
        .operands = "B",
        .syntax = "mul:B",
        .summary = "the normalised Hadamard product round(a·b/M) with image B",
        .params = (const hdm_param[]){{NULL, NULL, NULL, NULL}},
    },
    .parse = mul_parse,
    .open = mul_open,
    .free_args = free,
    .operand = mul_operand,
};
