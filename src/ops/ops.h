/* SPDX-License-Identifier: MIT */
/* ops.h — what an operation supplies (its table entry, parser and row maths) and the op driver */
#ifndef HDM_OPS_H
#define HDM_OPS_H

#include "stream/stream.h"

/* An element-wise op: row y of its output depends only on row y of its input and of its
 * operand (if it has one). The op driver (driver.c) reads both, strip by strip, in the depths
 * the op asks for, and hands them to apply. */
typedef struct hdm__op hdm__op;
struct hdm__op {
    hdm_info out_info;      /* what apply writes: width, height, channels, depth */
    hdm_depth in_depth;     /* the depth apply wants its input rows in */
    hdm_depth operand_depth; /* and its operand's rows (unused without one) */
    hdm_depth mask_depth;    /* and its mask's rows (unused without one) */
    /* The mask's rows for the strip apply is given (the driver sets it before each call), or
     * NULL for a step without a mask. */
    hdm_image *mask;
    /* Produces rows rows of out from in and operand (NULL without one; the op may change
     * its rows in place). y is the first row's index in the image. */
    hdm_status (*apply)(hdm__op *op, const hdm_image *in, hdm_image *operand, hdm_image *out,
                        uint32_t y, uint32_t rows, hdm_error *err);
    void (*free)(hdm__op *op);
};

/* What an element-wise op is made for: its input and, for a two-input op, its operand, with the
 * names messages give them. The sizes already match (the driver checked). */
typedef struct hdm__op_shape {
    hdm_info in;
    const char *in_path;
    hdm_info operand;         /* zero without an operand */
    const char *operand_path; /* NULL without an operand */
    hdm_info mask;            /* zero without a mask */
    const char *mask_path;    /* NULL without a mask */
} hdm__op_shape;

/* The deeper of two depths (f32 deepest): mixed depths promote. */
static inline hdm_depth hdm__deeper(hdm_depth a, hdm_depth b) { return a > b ? a : b; }

/* An operation: the public entry plus what its file supplies. An element-wise op gives make
 * (and the driver does the rest); an op that needs neighbouring rows gives wrap instead. */
typedef struct hdm__opdef {
    hdm_op pub;
    /* Validates a step's fields into a new args object *args (freed by free_args). Errors are
     * HDM_ERR_ARG with a message naming the field. */
    hdm_status (*parse)(const char *const *fields, size_t n, void **args, hdm_error *err);
    void (*free_args)(void *args);
    /* The image the step reads besides its input, or NULL: the pipeline opens it through the
     * codec table and the driver hands it to the op in step. */
    const char *(*operand)(const void *args);
    /* A second image the step reads, a mask limiting it (blend's mask=M), or NULL: opened and
     * checked like the operand, read in step, and handed to apply as op->mask. */
    const char *(*mask_operand)(const void *args);
    /* A text file the step reads (a kernel's "@FILE"), or NULL: the pipeline reads it (at most
     * data_max bytes, no NUL) when the step is added and gives it to take_data. */
    const char *(*data_file)(const void *args);
    size_t data_max;
    const char *data_noun; /* what the file holds, for messages: "kernel" */
    hdm_status (*take_data)(void *args, const char *path, const char *text, hdm_error *err);
    /* Optional: wraps the operand before the op reads it (mask's feather). Takes operand. */
    hdm_status (*prepare_operand)(const void *args, hdm__source *operand,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err);
    /* An element-wise op's row maths for one input shape. */
    hdm_status (*make)(const void *args, const hdm__op_shape *shape, hdm__op **out,
                       hdm_error *err);
    /* Or: a source over up (filters hold a halo of rows). Takes up (closed on failure too). */
    hdm_status (*wrap)(const void *args, hdm__source *up, const hdm_options *opt,
                       hdm__source **out, hdm_error *err);
} hdm__opdef;

/* The op driver: the step def with args over up, reading operand (NULL for a step without one)
 * in step. Checks the operand's size, builds the op and a source giving its output. Takes up
 * and operand (closed on failure too). */
hdm_status hdm__step_open(const hdm__opdef *def, const void *args, hdm__source *up,
                          hdm__source *operand, const hdm_options *opt, hdm__source **out,
                          hdm_error *err);
/* The same with a mask (NULL for none), checked and read like the operand. Takes mask too. */
hdm_status hdm__step_open_masked(const hdm__opdef *def, const void *args, hdm__source *up,
                                 hdm__source *operand, hdm__source *mask,
                                 const hdm_options *opt, hdm__source **out, hdm_error *err);

/* What the API's in-memory calls fill to run an op without parsing a step (path NULL). */
typedef struct hdm__mask_args {
    char *path;
    unsigned flags;
    struct hdm__fkernel *feather; /* a gaussian the mask is blurred by first, or NULL */
    double threshold;             /* < 0: none */
} hdm__mask_args;

typedef struct hdm__blend_args {
    char *path;
    char *mask;     /* the mask's path, or NULL (the API hands its mask image to the driver) */
    unsigned mode;  /* hdm_blend_mode */
    unsigned op;    /* hdm_composite_op */
    double opacity;
    bool linear;
} hdm__blend_args;

/* Every op file defines one; ops.c lists them in the table. */
extern const hdm__opdef hdm__mul_def, hdm__mask_def;
extern const hdm__opdef hdm__blend_def, hdm__window_def, hdm__filter_def, hdm__fft_def;

const hdm__opdef *hdm__op_find(const char *name);

/* ---- field helpers for parse() ---- */

/* If field is "key=VALUE", returns VALUE, else NULL. */
const char *hdm__field_value(const char *field, const char *key);
/* Strict number parsing: the whole string, finite (a value too small for a double reads as
 * the nearest one, possibly 0). */
bool hdm__parse_double(const char *s, double *out);
/* Why hdm__parse_double refused s: "is out of range" for a number beyond a double, else
 * "is not a number". */
const char *hdm__number_problem(const char *s);
/* "; did you mean 'NAME'?" for the one of the n names closest to the len bytes at word (by
 * edit distance, close enough to be a slip), or "" — written into buf (cap bytes). */
const char *hdm__did_you_mean(const char *word, size_t len, const char *const *names, size_t n,
                              char *buf, size_t cap);
/* The message for a field no parameter takes. */
hdm_status hdm__bad_field(const hdm__opdef *def, const char *field, hdm_error *err);

#endif
