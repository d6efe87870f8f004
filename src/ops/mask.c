/* mask.c — multiply an image (or only its alpha) by a gray mask */
#include "kernel/kernel.h"
#include "ops/filter.h"
#include "ops/operand.h"
#include "ops/ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct mask_op {
    hdm__op base;
    hdm__operand m;
    unsigned flags;
    bool check_gray; /* a colour mask is accepted only where R = G = B */
    bool binary;     /* --threshold: m ≥ T·M → M, else 0 */
    uint16_t t_int;  /* the threshold as the least integer sample that passes */
    float t_f32;
} mask_op;

/* Makes plane 0 of the mask strip binary. */
static void threshold(mask_op *k, hdm_image *m, uint32_t rows)
{
    const hdm__kernel *kt = hdm__kern();
    for (uint32_t r = 0; r < rows; r++) {
        void *row = hdm_row(m, 0, r);
        switch (m->depth) {
        case HDM_U8: kt->threshold_u8(row, row, (uint8_t)k->t_int, m->width); break;
        case HDM_U16: kt->threshold_u16(row, row, k->t_int, m->width); break;
        case HDM_F32: kt->threshold_f32(row, row, k->t_f32, m->width); break;
        }
    }
}

static bool has_alpha(uint32_t channels) { return channels == 2 || channels == 4; }

static void product(void *dst, const void *a, const void *m, hdm_depth d, bool inv, size_t n)
{
    const hdm__kernel *k = hdm__kern();
    switch (d) {
    case HDM_U8: (inv ? k->mulinv_u8 : k->mul_u8)(dst, a, m, n); break;
    case HDM_U16: (inv ? k->mulinv_u16 : k->mul_u16)(dst, a, m, n); break;
    case HDM_F32: (inv ? k->mulinv_f32 : k->mul_f32)(dst, a, m, n); break;
    }
}

/* A new alpha plane for an opaque image: M · mask = mask, or M − mask inverted. */
static void alpha_from_mask(void *dst, const void *m, hdm_depth d, bool inv, size_t n)
{
    if (!inv) {
        memcpy(dst, m, n * (size_t)d);
        return;
    }
    for (size_t i = 0; i < n; i++)
        switch (d) {
        case HDM_U8: ((uint8_t *)dst)[i] = (uint8_t)(255u - ((const uint8_t *)m)[i]); break;
        case HDM_U16: ((uint16_t *)dst)[i] = (uint16_t)(65535u - ((const uint16_t *)m)[i]); break;
        case HDM_F32: ((float *)dst)[i] = 1.0f - ((const float *)m)[i]; break;
        }
}

static hdm_status mask_apply(hdm__op *op, const hdm_image *in, hdm_image *out, uint32_t y,
                             uint32_t rows, hdm_error *err)
{
    mask_op *k = (mask_op *)op;
    hdm_status st = hdm__operand_read(&k->m, y, rows, err);
    if (st)
        return st;
    const hdm_image *m = k->m.strip;
    size_t rowbytes = (size_t)m->width * m->depth;
    if (k->check_gray)
        for (uint32_t r = 0; r < rows; r++)
            if (memcmp(hdm_row(m, 0, r), hdm_row(m, 1, r), rowbytes) != 0 ||
                memcmp(hdm_row(m, 0, r), hdm_row(m, 2, r), rowbytes) != 0)
                return hdm__fail(err, HDM_ERR_SHAPE, k->m.src->path,
                                 "mask is not gray (its colour channels differ in row %u); "
                                 "convert it to grayscale first", y + r);
    if (k->binary)
        threshold(k, k->m.strip, rows);
    bool inv = k->flags & HDM_MASK_INVERT, alpha_only = k->flags & HDM_MASK_ALPHA;
    uint32_t alpha = out->channels - 1;
    for (uint32_t c = 0; c < out->channels; c++)
        for (uint32_t r = 0; r < rows; r++) {
            void *d = hdm_row(out, c, r);
            const void *mrow = hdm_row(m, 0, r);
            if (alpha_only && c == alpha && !has_alpha(in->channels)) {
                alpha_from_mask(d, mrow, out->depth, inv, out->width);
                continue;
            }
            hdm__convert_row(d, out->depth, hdm_row(in, c, r), in->depth, out->width);
            if (!alpha_only || c == alpha)
                product(d, d, mrow, out->depth, inv, out->width);
        }
    return HDM_OK;
}

static void mask_free(hdm__op *op)
{
    mask_op *k = (mask_op *)op;
    hdm__operand_free(&k->m);
    free(k);
}

hdm_status hdm__op_mask(const hdm_info *in, const char *in_path, hdm__source *mask, unsigned flags, hdm__op **out,
                        hdm_error *err)
{
    return hdm__op_mask_ex(in, in_path, mask, flags, -1, out, err);
}

hdm_status hdm__op_mask_ex(const hdm_info *in, const char *in_path, hdm__source *mask,
                           unsigned flags, double thresh, hdm__op **out, hdm_error *err)
{
    *out = NULL;
    hdm_status st = hdm__check_same_size(in, in_path, &mask->info, mask->path, err);
    if (st) {
        hdm__source_close(mask);
        return st;
    }
    mask_op *k = calloc(1, sizeof *k);
    if (!k) {
        hdm__source_close(mask);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    k->flags = flags;
    k->check_gray = mask->info.channels >= 3;
    k->base.in_info = *in;
    k->base.out_info = *in;
    if ((flags & HDM_MASK_ALPHA) && !has_alpha(in->channels))
        k->base.out_info.channels = in->channels + 1;
    k->base.out_info.depth = hdm__deeper(in->depth, mask->info.depth);
    k->base.apply = mask_apply;
    k->base.free = mask_free;
    k->m.src = mask;
    k->base.held = mask->held;
    k->m.depth = k->base.out_info.depth;
    if (thresh >= 0) {
        /* the least integer m with m ≥ T·M, with slack for T·M's own rounding (0.2·255 is
         * 51.000000000000007 in double, and 51 should pass) */
        double m = k->m.depth == HDM_U8 ? 255 : 65535;
        k->binary = true;
        k->t_int = (uint16_t)ceil(thresh * m - 1e-9 * m);
        k->t_f32 = (float)thresh;
    }
    *out = &k->base;
    return HDM_OK;
}

/* ---- the step: mask:MASK[:invert][:alpha][:feather=SIGMA][:threshold=T] ---- */

typedef struct mask_args {
    char *path;
    unsigned flags;
    hdm__fkernel *feather; /* a gaussian the mask is blurred by first, or NULL */
    double threshold;      /* < 0: none */
} mask_args;

static void mask_args_free(void *p)
{
    mask_args *a = p;
    if (a) {
        free(a->path);
        hdm__fkernel_free(a->feather);
    }
    free(a);
}

static hdm_status mask_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    mask_args *a = calloc(1, sizeof *a);
    if (!a)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    a->threshold = -1;
    for (size_t i = 0; i < n; i++) {
        const char *v;
        double d;
        const char *twice = (hdm__field_value(f[i], "feather") && a->feather) ? "feather"
                            : (hdm__field_value(f[i], "threshold") && a->threshold >= 0)
                                ? "threshold"
                            : (strcmp(f[i], "invert") == 0 && (a->flags & HDM_MASK_INVERT))
                                ? "invert"
                            : (strcmp(f[i], "alpha") == 0 && (a->flags & HDM_MASK_ALPHA))
                                ? "alpha"
                                : NULL;
        if (twice) {
            mask_args_free(a);
            return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: %s given twice", twice);
        }
        if ((v = hdm__field_value(f[i], "feather")) && !a->feather) {
            hdm_status st = hdm__parse_double(v, &d)
                                ? hdm__fkernel_gaussian(d, &a->feather, err)
                                : hdm__fail(err, HDM_ERR_ARG, NULL, "'%s' %s", v,
                                            hdm__number_problem(v));
            if (st) {
                if (err && st == HDM_ERR_ARG) {
                    char msg[sizeof err->message];
                    memcpy(msg, err->message, sizeof msg);
                    hdm__fail(err, st, NULL, "mask: feather %s", msg);
                }
                mask_args_free(a);
                return st;
            }
        } else if ((v = hdm__field_value(f[i], "threshold")) && a->threshold < 0) {
            if (!hdm__parse_double(v, &a->threshold) || a->threshold < 0 || a->threshold > 1) {
                mask_args_free(a);
                return hdm__fail(err, HDM_ERR_ARG, NULL,
                                 "mask: threshold must be a number from 0 to 1, not '%s'", v);
            }
        } else if (strcmp(f[i], "invert") == 0)
            a->flags |= HDM_MASK_INVERT;
        else if (strcmp(f[i], "alpha") == 0)
            a->flags |= HDM_MASK_ALPHA;
        else if (!a->path && *f[i] && !strchr(f[i], '=')) {
            if (!(a->path = hdm__strdup(f[i]))) {
                mask_args_free(a);
                return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
            }
        } else if (!a->path && !*f[i]) { /* "mask:" */
            mask_args_free(a);
            return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: needs a mask file (%s)",
                             hdm__mask_def.pub.syntax);
        } else {
            mask_args_free(a);
            return hdm__bad_field(&hdm__mask_def, f[i], err);
        }
    }
    if (!a->path) {
        mask_args_free(a);
        return hdm__fail(err, HDM_ERR_ARG, NULL, "mask: needs a mask file (%s)",
                         hdm__mask_def.pub.syntax);
    }
    *args = a;
    return HDM_OK;
}

static hdm_status mask_open(const void *args, hdm__source *up, const char *in_path,
                            const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    const mask_args *a = args;
    hdm__source *m;
    hdm__op *op;
    hdm_status st = hdm__source_open(a->path, opt, &m, err);
    /* feathering blurs the mask's own samples: its alpha is ignored, so no premultiplying */
    if (!st && a->feather)
        st = hdm__filter_source(m, a->feather, HDM__BORDER_CLAMP, false, opt, &m, err);
    if (!st)
        st = hdm__op_mask_ex(&up->info, in_path, m, a->flags, a->threshold, &op, err);
    if (st) {
        hdm__source_close(up);
        return st;
    }
    return hdm__op_source(up, op, out, err);
}

static const char *mask_operand(const void *args) { return ((const mask_args *)args)->path; }

const hdm__opdef hdm__mask_def = {
    .pub = {
        .name = "mask",
        .operands = "MASK",
        .syntax = "mask:MASK[:invert][:alpha][:feather=SIGMA][:threshold=T]",
        .summary = "multiply every channel of the image (or only its alpha) by a gray mask",
        .params = (const hdm_param[]){
            {"invert", NULL, "use M - mask, the mask's complement", NULL},
            {"alpha", NULL, "multiply only the alpha plane, adding one if absent (a cut-out)", NULL},
            {"feather", "SIGMA", "blur the mask first with a gaussian of this sigma (pixels)", NULL},
            {"threshold", "T", "make the mask binary: M where mask >= T·M, else 0 (T in 0..1)", NULL},
            {NULL, NULL, NULL, NULL}},
    },
    .parse = mask_parse,
    .open = mask_open,
    .free_args = mask_args_free,
    .operand = mask_operand,
};
