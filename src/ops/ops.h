/* ops.h — what an operation supplies: its table entry, field parser and source builder */
#ifndef HDM_OPS_H
#define HDM_OPS_H

#include "internal.h"

/* An operation: the public entry plus the three functions every op file supplies. */
typedef struct hdm__opdef {
    hdm_op pub;
    /* Validates a step's fields into a new args object *args (freed by free_args). Errors are
     * HDM_ERR_ARG with a message naming the field. */
    hdm_status (*parse)(const char *const *fields, size_t n, void **args, hdm_error *err);
    /* Wraps up in this step's source. Takes up (closes it on failure too). in_path names the
     * image in messages. */
    hdm_status (*open)(const void *args, hdm__source *up, const char *in_path,
                       const hdm_options *opt, hdm__source **out, hdm_error *err);
    void (*free_args)(void *args);
    /* The files the step reads besides its input, or NULL (for same-file checks). */
    const char *(*operand)(const void *args);
} hdm__opdef;

/* Every op file defines one; ops.c lists them in the table. */
extern const hdm__opdef hdm__mul_def, hdm__mask_def;
extern const hdm__opdef hdm__blend_def, hdm__window_def, hdm__filter_def;

const hdm__opdef *hdm__op_find(const char *name);

/* HDM_ERR_LIMIT, naming the limit and its field, when the bytes a job holds at once (its
 * sources' and sink's held, its strips) are above opt->max_memory. */
hdm_status hdm__check_held(uint64_t held, const hdm_options *opt, const char *path,
                           hdm_error *err);

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
/* Copies a path into args-owned memory (NULL on failure). */
char *hdm__strdup(const char *s);

#endif
