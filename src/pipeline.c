/* pipeline.c — runs a chain of sources strip by strip into a sink */
#include "internal.h"
#include "ops/ops.h"

#include <stdlib.h>
#include <string.h>

/* Rows per strip: enough to amortise per-call overhead, few enough that a strip of every plane
 * stays in L2 (the whole pipeline then holds a few strips, never the image). */
static uint32_t strip_rows(const hdm_info *info, const hdm_options *opt)
{
    if (opt->strip_rows)
        return opt->strip_rows;
    size_t row = (size_t)info->width * HDM_MAX_CHANNELS * sizeof(float);
    size_t rows = ((size_t)256 << 10) / (row ? row : 1);
    return rows < 1 ? 1 : rows > 64 ? 64 : (uint32_t)rows;
}

/* ---- an element-wise op as a source over its upstream ---- */

typedef struct op_source {
    hdm__source base;
    hdm__source *up;
    hdm__op *op;
    hdm_image *in; /* upstream rows, grown to the largest strip asked for */
} op_source;

static hdm_status op_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    op_source *o = (op_source *)s;
    const hdm_info *ui = &o->up->info;
    hdm_status st = hdm__strip_reserve(&o->in, ui->width, rows, ui->channels, ui->depth,
                                       s->path, err);
    if (!st)
        st = hdm__source_read(o->up, o->in, rows, err);
    if (st)
        return st;
    return o->op->apply(o->op, o->in, strip, s->next, rows, err);
}

static void op_close(hdm__source *s)
{
    op_source *o = (op_source *)s;
    hdm__source_close(o->up);
    o->op->free(o->op);
    hdm_image_free(o->in);
    free(o);
}

hdm_status hdm__op_source(hdm__source *up, hdm__op *op, hdm__source **out, hdm_error *err)
{
    op_source *o = calloc(1, sizeof *o);
    if (!o) {
        hdm_status st = hdm__fail(err, HDM_ERR_NOMEM, up->path, "out of memory");
        hdm__source_close(up); /* up->path dies with up: the message is made first */
        op->free(op);
        return st;
    }
    o->up = up;
    o->op = op;
    o->base.info = op->out_info;
    o->base.info.format = up->info.format;
    o->base.held = up->held + op->held;
    o->base.path = up->path;
    o->base.read = op_read;
    o->base.close = op_close;
    *out = &o->base;
    return HDM_OK;
}

/* ---- the runner ---- */

hdm_status hdm__pipeline_run(hdm__source *src, hdm__sink *sink, const hdm_options *opt,
                             hdm_error *err)
{
    const hdm_info *in = &src->info;
    if (in->width != sink->info.width || in->height != sink->info.height ||
        in->channels != sink->info.channels)
        return hdm__fail(err, HDM_ERR_ARG, sink->path, "sink does not match its source");
    uint32_t rows = strip_rows(in, opt);
    if (rows > in->height)
        rows = in->height;
    /* Everything the job holds, counted before its strips are taken */
    size_t a = 0, b = 0;
    hdm_size_bytes(in->width, rows, in->channels, in->depth, &a);
    if (sink->info.depth != in->depth)
        hdm_size_bytes(in->width, rows, in->channels, sink->info.depth, &b);
    /* named after the job's input: what is held is for its sake, whatever the output */
    hdm_status st = hdm__check_held(src->held + sink->held + a + b, opt, src->path, err);
    if (st)
        return st;
    /* The source fills a strip in its own depth; the sink's depth, if other, is made here. */
    hdm_image *strip = NULL, *conv = NULL;
    st = hdm_image_new(in->width, rows, in->channels, in->depth, &strip);
    if (!st && sink->info.depth != in->depth)
        st = hdm_image_new(in->width, rows, in->channels, sink->info.depth, &conv);
    if (st) {
        hdm_image_free(strip);
        return hdm__fail(err, st, sink->path, "cannot allocate strips: %s", hdm_strerror(st));
    }
    for (uint32_t y = 0; y < in->height && !st; y += rows) {
        uint32_t n = in->height - y < rows ? in->height - y : rows;
        if (opt->cancel && *opt->cancel) {
            st = hdm__fail(err, HDM_ERR_INTERRUPTED, sink->path, "interrupted");
            break;
        }
        st = hdm__source_read(src, strip, n, err);
        if (st)
            break;
        const hdm_image *out = strip;
        if (conv) {
            for (uint32_t c = 0; c < in->channels; c++)
                for (uint32_t r = 0; r < n; r++)
                    hdm__convert_row(hdm_row(conv, c, r), conv->depth, hdm_row(strip, c, r),
                                     strip->depth, in->width);
            out = conv;
        }
        st = sink->write(sink, out, n, err);
    }
    if (!st)
        st = sink->finish(sink, err);
    hdm_image_free(strip);
    hdm_image_free(conv);
    return st;
}

hdm_status hdm__output_format(const char *path, hdm_format want, hdm_format *fmt,
                              hdm_error *err)
{
    *fmt = hdm_format_from_name(path);
    if (want != HDM_FORMAT_UNKNOWN) {
        if (*fmt != HDM_FORMAT_UNKNOWN && *fmt != want)
            return hdm__fail(err, HDM_ERR_FORMAT, path,
                             "output format %s differs from the format its extension names",
                             hdm_format_name(want));
        *fmt = want;
        return HDM_OK;
    }
    if (*fmt == HDM_FORMAT_UNKNOWN)
        return hdm__fail(err, HDM_ERR_FORMAT, path,
                         "unknown output format (use .png, .jpg, .jpeg, .bmp, .tga or .hdr)");
    return HDM_OK;
}

hdm_status hdm__encode(hdm__source *src, hdm_format fmt, const hdm_options *opt, hdm__bytes *b,
                       const char *path, hdm_error *err)
{
    hdm__sink *sink = NULL;
    hdm_status st = hdm__sink_open(fmt, &src->info, opt, b, path, &sink, err);
    if (!st)
        st = hdm__pipeline_run(src, sink, opt, err);
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
        const char *f = p->steps[i].def->operand(p->steps[i].args);
        if (!f)
            continue;
        if (paths && n < cap)
            paths[n] = f;
        n++;
    }
    return n;
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
    if (st)
        return st;
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
    if (st && err) {
        /* say which step the complaint is about */
        char msg[sizeof err->message];
        memcpy(msg, err->message, sizeof msg);
        hdm__fail(err, st, NULL, "step '%.200s': %s", text, msg);
    }
    free(copy);
    return st;
}

/* Wraps src in one source per step, so pulling from the result runs every step. */
static hdm_status open_chain(const hdm_pipeline *p, hdm__source *src, const char *in,
                             const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    for (size_t i = 0; i < p->n; i++) {
        hdm__source *next;
        hdm_status st = p->steps[i].def->open(p->steps[i].args, src, in, opt, &next, err);
        if (st)
            return st; /* open took src */
        src = next;
    }
    *out = src;
    return HDM_OK;
}

/* Refuses an output that is the same file as the input (in, NULL for memory) or an operand. */
static hdm_status check_not_input(const hdm_pipeline *p, const char *in, const char *out,
                                  hdm_error *err)
{
    for (size_t i = 0; i <= p->n; i++) {
        const char *f = i == 0 ? in : p->steps[i - 1].def->operand(p->steps[i - 1].args);
        if (f && hdm__same_file(f, out))
            return hdm__fail(err, HDM_ERR_SAME_FILE, out,
                             "output is the same file as the input %s; refusing to overwrite it",
                             f);
    }
    return HDM_OK;
}

/* Opens the input (a file, or encoded bytes in memory when path is NULL) and the chain of steps
 * over it. */
static hdm_status open_input(const hdm_pipeline *p, const char *path, const void *data,
                             size_t size, const hdm_options *opt, hdm__source **src,
                             hdm_error *err)
{
    const char *name = path ? path : "(memory)";
    hdm_status st = path ? hdm__source_open(path, opt, src, err)
                         : hdm__source_open_memory(data, size, name, opt, src, err);
    return st ? st : open_chain(p, *src, name, opt, src, err); /* takes *src */
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
    hdm_status st = hdm__options_load(caller, &opt, err);
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

/* ---- a sink that collects rows into an image in memory ---- */

typedef struct image_sink {
    hdm__sink base;
    hdm_image *img;
    uint32_t y;
} image_sink;

static hdm_status image_write(hdm__sink *k, const hdm_image *strip, uint32_t rows,
                              hdm_error *err)
{
    (void)err;
    image_sink *s = (image_sink *)k;
    hdm__copy_rows(s->img, s->y, strip, 0, rows);
    s->y += rows;
    return HDM_OK;
}

static hdm_status image_finish(hdm__sink *k, hdm_error *err)
{
    (void)k;
    (void)err;
    return HDM_OK;
}

static void image_close(hdm__sink *k) { (void)k; }

hdm_status hdm_pipeline_run_image(const hdm_pipeline *p, const hdm_image *in, hdm_image **out,
                                  const hdm_options *caller, hdm_error *err)
{
    if (!p || !in || !out)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_run_image: NULL argument");
    *out = NULL;
    if (!hdm__image_valid(in))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "hdm_pipeline_run_image: invalid image");
    hdm_options opt;
    hdm_status st = hdm__options_load(caller, &opt, err);
    if (st)
        return st;
    hdm__source *src;
    st = hdm__source_from_image((hdm_image *)in, false, "(image)", HDM_FORMAT_UNKNOWN, &src);
    if (st)
        return hdm__fail(err, st, NULL, "%s", hdm_strerror(st));
    st = open_chain(p, src, "(image)", &opt, &src, err);
    if (st)
        return st;
    image_sink k = {.base = {.info = src->info, .write = image_write, .finish = image_finish,
                             .close = image_close, .path = "(image)"}};
    st = hdm_image_new(src->info.width, src->info.height, src->info.channels, src->info.depth,
                       &k.img);
    if (st)
        hdm__fail(err, st, NULL, "%s", hdm_strerror(st));
    else
        st = hdm__pipeline_run(src, &k.base, &opt, err);
    hdm__source_close(src);
    if (st) {
        hdm_image_free(k.img);
        return st;
    }
    *out = k.img;
    return HDM_OK;
}
