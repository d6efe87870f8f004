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

/* ---- operands of another size: placed, tiled or resampled, as the step asks ----
 * fields.c parses the fields every op with an operand takes; geometry.c brings the operand to
 * the image's shape (resample.c scales it) before the op sees it. */

typedef enum hdm__fit { HDM__FIT_NONE, HDM__FIT_STRETCH, HDM__FIT_CONTAIN, HDM__FIT_COVER } hdm__fit;

/* Resampling filters, by the names the fields give them. */
typedef enum hdm__rfilter {
    HDM__RS_LANCZOS3, HDM__RS_BICUBIC, HDM__RS_BILINEAR, HDM__RS_NEAREST, HDM__RS_BOX,
    HDM__RS_COUNT
} hdm__rfilter;

/* What a placed operand is where it does not cover the image. */
typedef enum hdm__outside_kind {
    HDM__OUTSIDE_VALUE, /* every sample 0 or M, as the step's outside says (mask, mul) */
    HDM__OUTSIDE_CLEAR, /* transparent: alpha 0, a plane added if it has none (a blend top) */
} hdm__outside_kind;

typedef struct hdm__place {
    bool any;              /* some placement field was given: the operand may differ in size */
    hdm__fit fit;
    hdm__rfilter resample; /* lanczos3 unless given */
    bool resample_set, tile, at_set, offset_set;
    int gravity;           /* 0..8: nw n ne w center e sw s se, row by row; -1: none given */
    int64_t x, y;          /* at=X,Y, else offset=X,Y (0,0 without) */
    int outside;           /* 0 or 1; -1: none given */
} hdm__place;

/* An empty placement: nothing given. */
void hdm__place_init(hdm__place *p);
/* If field is a placement field (fit=, resample=, at=, gravity=, offset=, tile, outside=),
 * records it in p and sets *taken; a bad or repeated value is HDM_ERR_ARG naming op. outside=
 * is one only for an op whose kind is HDM__OUTSIDE_VALUE (a top is transparent outside). */
hdm_status hdm__place_field(hdm__place *p, const char *op, hdm__outside_kind kind,
                            const char *field, bool *taken, hdm_error *err);
/* Checks the fields together once all are read: at with gravity or offset, resample without
 * fit. */
hdm_status hdm__place_check(const hdm__place *p, const char *op, hdm_error *err);
/* The same for a second operand's placement, whose fields all start with prefix ("mask-" for
 * blend's mask: mask-at=, mask-tile, …); messages name them so, and the operand as noun. */
hdm_status hdm__place_field_named(hdm__place *p, const char *op, const char *prefix,
                                  hdm__outside_kind kind, const char *field, bool *taken,
                                  hdm_error *err);
hdm_status hdm__place_check_named(const hdm__place *p, const char *op, const char *prefix,
                                  const char *noun, hdm_error *err);

/* The placement fields as an op's params (help, completion, the command's --at, --fit, …). */
#define HDM__PLACE_PARAMS                                                                      \
    {"fit", "MODE", "resample the operand to the image first: stretch (to its size), contain "  \
     "(inside it, aspect kept) or cover (over all of it, aspect kept); centred unless a "      \
     "gravity is given", "stretch contain cover"},                                              \
    {"resample", "FILTER", "the filter fit uses: lanczos3 (default), bicubic, bilinear, "       \
     "nearest, box", "lanczos3 bicubic bilinear nearest box"},                                  \
    {"at", "X,Y", "put the operand's top-left corner at image pixel X,Y (may be negative); "   \
     "not with gravity or offset", NULL},                                                       \
    {"gravity", "G", "align the operand to an edge, corner or the centre of the image "         \
     "(default nw, the top-left corner; center with fit)", "nw n ne w center e sw s se"},      \
    {"offset", "X,Y", "move it from where gravity put it, X right and Y down (without gravity: " \
     "from the top-left corner, or the centred place with fit)", NULL},                         \
    {"tile", NULL, "repeat the operand over the image from where it is placed (alone: from "    \
     "0,0, the top-left corner)", NULL}
/* and for an op whose operand has a value outside (mask, mul) */
#define HDM__OUTSIDE_PARAM(what)                                                               \
    {"outside", "0|1", "what the operand counts as where a placed one does not cover the "     \
     "image: 0, or 1 (full scale); default " what, "0 1"}

/* Brings operand to the image's size (in, named in_path) as p asks, for an op whose operand is
 * outside what kind says beyond it; premultiply: resample colour premultiplied by alpha. With
 * nothing asked it gives operand itself. Takes operand (closed on failure too). */
hdm_status hdm__place_open(const hdm__place *p, hdm__outside_kind kind, bool premultiply,
                           const hdm_info *in, const char *in_path, hdm__source *operand,
                           const hdm_options *opt, hdm__source **out, hdm_error *err);

/* A source giving up scaled to sw × sh by filter f (separable; its support widened by the
 * factor when shrinking, so shrinking averages; nearest stays a point sample), of which it gives
 * only the window of w × h pixels at x0, y0. Holds only the rows the vertical taps span, each
 * already filtered along x. With premultiply and an alpha plane, colour is filtered
 * premultiplied and divided back after. Refuses (HDM_ERR_LIMIT) what would hold more than
 * opt->max_memory with all that up holds. Takes up (closed on failure too). */
hdm_status hdm__resample_source(hdm__source *up, uint32_t sw, uint32_t sh, uint32_t x0,
                                uint32_t y0, uint32_t w, uint32_t h, hdm__rfilter f,
                                bool premultiply, const hdm_options *opt, hdm__source **out,
                                hdm_error *err);
/* The filter's kernel k(x) at scale 1 and its support radius (resample.c; tests use them). */
double hdm__rfilter_eval(hdm__rfilter f, double x);
double hdm__rfilter_support(hdm__rfilter f);

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
    /* Its operand may be placed or resampled (NULL: it must match the image): the step's
     * placement fields, what the operand is outside them, and whether it is resampled
     * premultiplied (a mask's alpha is ignored, so not a mask). */
    const hdm__place *(*place)(const void *args);
    hdm__outside_kind outside;
    bool resample_premultiplied;
    /* Its mask may be placed too, by fields of its own (NULL: it must match the image); a
     * mask is a value outside them (outside=, default 1) and resampled as a mask is. */
    const hdm__place *(*mask_place)(const void *args);
    /* An element-wise op's row maths for one input shape. */
    hdm_status (*make)(const void *args, const hdm__op_shape *shape, hdm__op **out,
                       hdm_error *err);
    /* Or: a source over up (filters hold a halo of rows). Takes up (closed on failure too). */
    hdm_status (*wrap)(const void *args, hdm__source *up, const hdm_options *opt,
                       hdm__source **out, hdm_error *err);
    /* Optional: a data file whose bytes the codec table knows as an image (at most
     * data_image_max bytes) is decoded by the pipeline and given here instead of take_data
     * (filter's image kernels). */
    hdm_status (*take_image)(void *args, const char *path, const hdm_image *img,
                             hdm_error *err);
    size_t data_image_max;
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
    hdm__place place;
    unsigned flags;
    struct hdm__fkernel *feather; /* a gaussian the mask is blurred by first, or NULL */
    double threshold;             /* < 0: none */
} hdm__mask_args;

typedef struct hdm__blend_args {
    char *path;
    char *mask;     /* the mask's path, or NULL (the API hands its mask image to the driver) */
    hdm__place place;
    hdm__place mask_place; /* the mask's own placement: the mask-at=, mask-fit=, … fields */
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
