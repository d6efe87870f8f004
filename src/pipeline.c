/* SPDX-License-Identifier: MIT */
/* pipeline.c — chains of steps over inputs opened through the codec table, run into outputs */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

hdm_status hdm__entry_options(const hdm_options *caller, hdm_options *out, hdm_error *err)
{
    hdm_status st = hdm__options_load(caller, out, err);
    if (!st && out->out_format != HDM_FORMAT_UNKNOWN && !hdm__format_writable(out->out_format))
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "hdm_options: out_format %d is not a format hadamard writes",
                         (int)out->out_format);
    return st;
}

hdm_status hdm__output_format(const char *path, hdm_format want, hdm_format *fmt,
                              hdm_error *err)
{
    /* named among every format ("x.gif" never holds PNG bytes); written only as one that is
     * written, and by an extension, not a bare name (a file called "png" is no PNG) */
    hdm_format named = hdm_format_named(path);
    *fmt = named != HDM_FORMAT_UNKNOWN ? hdm_format_from_name(path) : HDM_FORMAT_UNKNOWN;
    if (want != HDM_FORMAT_UNKNOWN) {
        if (named != HDM_FORMAT_UNKNOWN && named != want)
            return hdm__fail(err, HDM_ERR_FORMAT, path,
                             "output format %s differs from the format its extension names",
                             hdm_format_name(want));
        *fmt = want;
        return HDM_OK;
    }
    if (*fmt == HDM_FORMAT_UNKNOWN) {
        char list[256];
        hdm__output_extensions(list, sizeof list);
        return hdm__fail(err, HDM_ERR_FORMAT, path, "unknown output format (use %s)", list);
    }
    return HDM_OK;
}

hdm_status hdm__encode(hdm__source *src, hdm_format fmt, const hdm_options *opt, hdm__bytes *b,
                       const char *path, hdm_error *err)
{
    hdm__sink *sink = NULL;
    hdm_status st = hdm__sink_open(fmt, &src->info, opt, &src->meta, b, path, &sink, err);
    if (!st)
        st = hdm__stream_run(src, sink, opt, err);
    hdm__sink_close(sink);
    hdm__source_close(src);
    return st;
}

hdm_status hdm__write_file(hdm__source *src, hdm_format fmt, const char *path,
                           const hdm_options *opt, hdm_error *err)
{
    hdm__out o;
    hdm_status st = hdm__out_open(&o, path, err);
    if (st) {
        hdm__source_close(src);
        return st;
    }
    hdm__bytes b = {.out = &o};
    st = hdm__encode(src, fmt, opt, &b, path, err);
    if (st) {
        hdm__out_abort(&o);
        return st;
    }
    return hdm__out_commit(&o, err);
}

/* ---- the public pipeline: a list of parsed steps ---- */

typedef struct step {
    const hdm__opdef *def;
    void *args;
} step;

struct hdm_pipeline {
    step *steps;
    size_t n, cap;
};

/* The files step s reads besides its input: its operand image, its data file and its mask
 * image (any may be NULL). */
enum { STEP_FILES = 3 };
static void step_files(const step *s, const char *f[STEP_FILES])
{
    f[0] = s->def->operand ? s->def->operand(s->args) : NULL;
    f[1] = s->def->data_file ? s->def->data_file(s->args) : NULL;
    f[2] = s->def->mask_operand ? s->def->mask_operand(s->args) : NULL;
}

hdm_status hdm_pipeline_new(hdm_pipeline **out)
{
    if (!out)
        return HDM_ERR_ARG;
    *out = calloc(1, sizeof **out);
    return *out ? HDM_OK : HDM_ERR_NOMEM;
}

void hdm_pipeline_free(hdm_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        p->steps[i].def->free_args(p->steps[i].args);
    free(p->steps);
    free(p);
}

size_t hdm_pipeline_length(const hdm_pipeline *p) { return p ? p->n : 0; }

size_t hdm_pipeline_files(const hdm_pipeline *p, const char **paths, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; p && i < p->n; i++) {
        const char *f[STEP_FILES];
        step_files(&p->steps[i], f);
        for (int k = 0; k < STEP_FILES; k++) {
            if (!f[k])
                continue;
            if (paths && n < cap)
                paths[n] = f[k];
            n++;
        }
    }
    return n;
}

/* A data file's bytes that are an image: decoded (with the default limits, as no job's options
 * are known yet when a step is added) and handed to the op. */
static hdm_status take_image(const hdm__opdef *def, const char *path, const void *data,
                             size_t size, void *args, hdm_error *err)
{
    hdm_options opt;
    hdm_status st = hdm__entry_options(NULL, &opt, err);
    hdm__source *src;
    hdm_image *img = NULL;
    if (!st)
        st = hdm__source_open_memory(data, size, path, &opt, &src, err);
    if (!st)
        st = hdm__run_to_image(src, &opt, &img, err);
    if (!st)
        st = def->take_image(args, path, img, err);
    hdm_image_free(img);
    return st;
}

/* Reads a step's data file (a kernel's "@FILE") through core's file reader and hands it to the
 * op: as an image when the op takes one and the codec table knows the bytes, else as text. The
 * op parses text or samples, never files. */
static hdm_status read_data(const hdm__opdef *def, const char *path, void *args, hdm_error *err)
{
    /* The cap is the file's own, not max_memory: say so, or the reader raises the wrong
     * limit. */
    size_t cap = def->take_image && def->data_image_max > def->data_max ? def->data_image_max
                                                                        : def->data_max;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > cap)
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "%s file of %lld bytes is larger than %zu MiB, the most a %s file may "
                         "be", def->data_noun, (long long)sb.st_size, cap >> 20,
                         def->data_noun);
    void *data;
    size_t size;
    hdm_status st = hdm__read_file(path, cap, &data, &size, err);
    if (st)
        return st;
    if (def->take_image && hdm__detect(data, size) != HDM_FORMAT_UNKNOWN) {
        st = take_image(def, path, data, size, args, err);
        free(data);
        if (st) /* "filter: disc.png: corrupt PNG: …" */
            hdm__fail_prefix(err, st, "%s: ", def->pub.name);
        return st;
    }
    if (size > def->data_max) {
        free(data);
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "%s file of %zu bytes is larger than %zu MiB, the most a %s file may "
                         "be (unless it is an image)", def->data_noun, size,
                         def->data_max >> 20, def->data_noun);
    }
    char *text = realloc(data, size + 1);
    if (!text) {
        free(data);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    text[size] = '\0';
    if (strlen(text) != size)
        st = hdm__fail(err, HDM_ERR_ARG, path, "%s file holds a NUL byte", def->data_noun);
    else
        st = def->take_data(args, path, text, err);
    free(text);
    if (st == HDM_ERR_ARG) /* the file's content is the step's: "filter: k.txt: …" */
        hdm__fail_prefix(err, st, "%s: ", def->pub.name);
    return st;
}

hdm_status hdm_pipeline_add_fields(hdm_pipeline *p, const char *op, const char *const *fields,
                                   size_t n, hdm_error *err)
{
    if (!p || !op || (n && !fields))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_add_fields: NULL argument");
    for (size_t i = 0; i < n; i++)
        if (!fields[i])
            return hdm__fail(err, HDM_ERR_ARG, NULL,
                             "hdm_pipeline_add_fields: field %zu of '%.100s' is NULL", i, op);
    const hdm__opdef *def = hdm__op_find(op);
    if (!def) {
        const char *names[32];
        size_t k = 0;
        for (const hdm_op *o; k < 32 && (o = hdm_op_at(k)); k++)
            names[k] = o->name;
        char hint[96];
        /* the hint reads "; did you mean 'x'?": shown here in brackets */
        if (*hdm__did_you_mean(op, strlen(op), names, k, hint, sizeof hint))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "unknown operation '%.200s' (%s)", op,
                             hint + 2);
        return hdm__fail(err, HDM_ERR_ARG, NULL, "unknown operation '%.200s'", op);
    }
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        step *s = realloc(p->steps, cap * sizeof *s);
        if (!s)
            return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
        p->steps = s;
        p->cap = cap;
    }
    void *args = NULL;
    hdm_status st = def->parse(fields, n, &args, err);
    const char *data = !st && def->data_file ? def->data_file(args) : NULL;
    if (data)
        st = read_data(def, data, args, err);
    if (st) {
        if (args)
            def->free_args(args);
        return st;
    }
    p->steps[p->n++] = (step){def, args};
    return HDM_OK;
}

hdm_status hdm_pipeline_add(hdm_pipeline *p, const char *text, hdm_error *err)
{
    if (!p || !text)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_add: NULL argument");
    char *copy = hdm__strdup(text);
    const char *fields[32];
    if (!copy)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    /* Fields split at ':'; a field holds a ':' written "\:" and a backslash written "\\" (any
     * other backslash stays as it is, so most paths need no escaping). */
    size_t n = 0;
    char *name = copy, *w = copy;
    for (const char *r = copy; *r; r++) {
        if (*r == '\\' && (r[1] == ':' || r[1] == '\\')) {
            *w++ = *++r;
        } else if (*r == '\\' && r[1] == '\0') {
            /* a trailing "\" most likely lost the ':' or '\\' it was meant to escape */
            free(copy);
            return hdm__fail(err, HDM_ERR_ARG, NULL,
                             "step '%s': a '\\' at the end escapes nothing (write \\\\ for a "
                             "backslash)", text);
        } else if (*r == ':') {
            *w++ = '\0';
            if (n == sizeof fields / sizeof fields[0]) {
                free(copy);
                return hdm__fail(err, HDM_ERR_ARG, NULL, "step '%.200s' has too many fields",
                                 text);
            }
            fields[n++] = w;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
    hdm_status st = hdm_pipeline_add_fields(p, name, fields, n, err);
    if (st) /* say which step the complaint is about */
        hdm__fail_prefix(err, st, "step '%.200s': ", text);
    free(copy);
    return st;
}

/* Opens a file (path), or encoded bytes in memory when path is NULL, through the codec table.
 * With threads to spare, its decoder reads ahead on a thread of its own, so the image and every
 * operand decode side by side and beside the steps; the decoder is then given the read-ahead
 * source's own stop flag, so only this thread looks at the caller's. */
static hdm_status open_source(const char *path, const void *data, size_t size,
                              const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    if (opt->threads <= 1)
        return path ? hdm__source_open(path, opt, out, err)
                    : hdm__source_open_memory(data, size, "(memory)", opt, out, err);
    hdm__prefetch *pf;
    hdm_status st = hdm__prefetch_new(opt, &pf, err);
    if (st)
        return st;
    hdm_options o = *opt;
    o.cancel = hdm__prefetch_flag(pf);
    hdm__source *up;
    st = path ? hdm__source_open(path, &o, &up, err)
              : hdm__source_open_memory(data, size, "(memory)", &o, &up, err);
    if (st) {
        hdm__prefetch_discard(pf);
        return st;
    }
    return hdm__prefetch_start(pf, up, opt, out, err); /* takes pf and up */
}

/* Wraps src in one source per step, so pulling from the result runs every step; each step's
 * operand (and mask) is opened here, through the codec table, and handed to the op driver.
 * Takes src. */
static hdm_status open_chain(const hdm_pipeline *p, hdm__source *src, const hdm_options *opt,
                             hdm__source **out, hdm_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        const step *s = &p->steps[i];
        const char *f[STEP_FILES];
        step_files(s, f);
        hdm__source *operand = NULL, *mask = NULL, *next;
        hdm_status st = f[0] ? open_source(f[0], NULL, 0, opt, &operand, err) : HDM_OK;
        if (!st && f[2])
            st = open_source(f[2], NULL, 0, opt, &mask, err);
        if (st) {
            hdm__source_close(operand);
            hdm__source_close(src);
            return st;
        }
        st = hdm__step_open_masked(s->def, s->args, src, operand, mask, opt, &next, err);
        if (st)
            return st; /* the driver took src, operand and mask */
        src = next;
    }
    *out = src;
    return HDM_OK;
}

hdm_status hdm__run_to_image(hdm__source *src, const hdm_options *opt, hdm_image **out,
                             hdm_error *err)
{
    hdm__sink *k;
    hdm_status st = hdm__image_sink(&src->info, "(image)", &k, err);
    if (!st)
        st = hdm__stream_run(src, k, opt, err);
    hdm__source_close(src);
    if (!st)
        *out = hdm__image_sink_take(k);
    hdm__sink_close(k);
    return st;
}

/* Refuses an output that is the same file as the input (in, NULL for memory) or an operand. */
static hdm_status check_not_input(const hdm_pipeline *p, const char *in, const char *out,
                                  hdm_error *err)
{
    for (size_t i = 0; i <= p->n; i++) {
        const char *f[STEP_FILES] = {in, NULL, NULL};
        if (i > 0)
            step_files(&p->steps[i - 1], f);
        for (int k = 0; k < STEP_FILES; k++)
            if (f[k] && hdm__same_file(f[k], out))
                return hdm__fail(err, HDM_ERR_SAME_FILE, out, "output is the same file as the "
                                 "input %s; refusing to overwrite it", f[k]);
    }
    return HDM_OK;
}

/* Opens the input (a file, or encoded bytes in memory when path is NULL) and the chain of steps
 * over it. */
static hdm_status open_input(const hdm_pipeline *p, const char *path, const void *data,
                             size_t size, const hdm_options *opt, hdm__source **src,
                             hdm_error *err)
{
    hdm_status st = open_source(path, data, size, opt, src, err);
    if (st)
        return st;
    /* the input's metadata goes to the output: it rides on the last source of the chain */
    hdm__meta meta = {0};
    hdm__meta_move(&meta, &(*src)->meta);
    st = open_chain(p, *src, opt, src, err); /* takes *src */
    if (!st)
        hdm__meta_move(&(*src)->meta, &meta);
    hdm__meta_free(&meta);
    return st;
}

/* Encodes the chain into a new malloc'd buffer. */
static hdm_status encode_memory(hdm__source *src, hdm_format fmt, const hdm_options *opt,
                                void **out, size_t *out_size, hdm_error *err)
{
    hdm__bytes b = {0};
    hdm_status st = hdm__encode(src, fmt, opt, &b, "(memory output)", err);
    if (!st && b.failed)
        st = hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    if (st) {
        free(b.mem);
        return st;
    }
    *out = b.mem ? b.mem : malloc(1);
    *out_size = b.len;
    return *out ? HDM_OK : hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
}

static hdm_status check_out_format(const char *fn, hdm_format fmt, hdm_error *err)
{
    if (hdm__format_writable(fmt))
        return HDM_OK;
    return hdm__fail(err, HDM_ERR_FORMAT, NULL,
                     "%s: cannot write format %d (%s)", fn, (int)fmt, hdm_format_name(fmt));
}

/* Every run: from a file (in) or memory (data, size), to a file (out_path, the format from its
 * name or opt.out_format) or to memory (*out, *out_size in format fmt). fn names the public call
 * in messages about its arguments. */
static hdm_status run(const char *fn, const hdm_pipeline *p, const char *in, const void *data,
                      size_t size, const char *out_path, hdm_format fmt, void **out,
                      size_t *out_size, const hdm_options *caller, hdm_error *err)
{
    if (out)
        *out = NULL;
    if (out_size)
        *out_size = 0;
    if (!p || !(in || data) || !(out_path || (out && out_size)))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "%s: NULL argument", fn);
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    if (!st && out_path)
        st = hdm__output_format(out_path, opt.out_format, &fmt, err);
    if (!st && out_path)
        st = check_not_input(p, in, out_path, err);
    if (!st && !out_path)
        st = check_out_format(fn, fmt, err);
    hdm__source *src;
    if (!st)
        st = open_input(p, in, data, size, &opt, &src, err);
    if (st)
        return st;
    return out_path ? hdm__write_file(src, fmt, out_path, &opt, err)
                    : encode_memory(src, fmt, &opt, out, out_size, err);
}

hdm_status hdm_pipeline_run_file(const hdm_pipeline *p, const char *in, const char *out,
                                 const hdm_options *caller, hdm_error *err)
{
    return run("hdm_pipeline_run_file", p, in, NULL, 0, out, HDM_FORMAT_UNKNOWN, NULL, NULL,
               caller, err);
}

hdm_status hdm_pipeline_run_memory(const hdm_pipeline *p, const void *data, size_t size,
                                   hdm_format fmt, const hdm_options *caller, void **out,
                                   size_t *out_size, hdm_error *err)
{
    return run("hdm_pipeline_run_memory", p, NULL, data, size, NULL, fmt, out, out_size, caller,
               err);
}

hdm_status hdm_pipeline_run_file_to_memory(const hdm_pipeline *p, const char *in,
                                           hdm_format fmt, const hdm_options *caller,
                                           void **out, size_t *out_size, hdm_error *err)
{
    return run("hdm_pipeline_run_file_to_memory", p, in, NULL, 0, NULL, fmt, out, out_size,
               caller, err);
}

hdm_status hdm_pipeline_run_memory_to_file(const hdm_pipeline *p, const void *data,
                                           size_t size, const char *out,
                                           const hdm_options *caller, hdm_error *err)
{
    return run("hdm_pipeline_run_memory_to_file", p, NULL, data, size, out, HDM_FORMAT_UNKNOWN,
               NULL, NULL, caller, err);
}

hdm_status hdm_pipeline_run_image(const hdm_pipeline *p, const hdm_image *in,
                                  const hdm_options *caller, hdm_image **out, hdm_error *err)
{
    if (out)
        *out = NULL;
    if (!p || !in || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_run_image: NULL argument");
    if (!hdm__image_valid(in))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_run_image: invalid image");
    hdm_options opt;
    hdm_status st = hdm__entry_options(caller, &opt, err);
    hdm__source *src;
    if (!st)
        st = hdm__source_from_image((hdm_image *)in, false, "(image)", HDM_FORMAT_UNKNOWN, &src,
                                    err);
    if (!st)
        st = open_chain(p, src, &opt, &src, err);
    return st ? st : hdm__run_to_image(src, &opt, out, err);
}
