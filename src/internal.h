/* internal.h — what the library's modules share and no caller sees */
#ifndef HDM_INTERNAL_H
#define HDM_INTERNAL_H

#include "hadamard.h"

#include <stdbool.h>
#include <stdio.h>

/* How many statuses and formats there are (kept out of the public enums, where a count would be
 * one more value a caller could pass). */
#define HDM__STATUS_COUNT ((int)HDM_ERR_INTERRUPTED + 1)
#define HDM__FORMAT_COUNT ((int)HDM_FORMAT_PNM + 1)

/* ---- errors ---- */

/* Records status and a printf-style message in err (if any) and returns status. A path, when
 * given, is put first: "PATH: message". */
hdm_status hdm__fail(hdm_error *err, hdm_status st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The options in force: the caller's (copied field by field up to their size) over defaults. */
void hdm__options_get(const hdm_options *caller, hdm_options *out);
/* The same, then checked: HDM_ERR_ARG for a field out of its range (png_level,
 * png_filter, jpeg_quality). Every public entry point taking options goes through it. */
hdm_status hdm__options_load(const hdm_options *caller, hdm_options *out, hdm_error *err);

/* ---- images ---- */

/* Checks info against the limits in opt (pixels, width, height, memory for one whole image)
 * and says which limit and how to raise it. */
hdm_status hdm__check_limits(const hdm_info *info, const hdm_options *opt, const char *path,
                             hdm_error *err);

/* fmt is a format this library writes (an output extension selects it). */
bool hdm__format_writable(hdm_format fmt);

/* A caller's image is usable: sizes, depth, stride and plane pointers in order. */
bool hdm__image_valid(const hdm_image *img);

/* Makes *strip a buffer of at least rows rows of width × channels samples of depth d,
 * reallocating only when it is too short (its contents are then undefined). path names the
 * file in a failure's message. */
hdm_status hdm__strip_reserve(hdm_image **strip, uint32_t width, uint32_t rows,
                              uint32_t channels, hdm_depth d, const char *path, hdm_error *err);

/* Copies rows [sy, sy + rows) of every plane of src to rows [dy, …) of dst (same width,
 * channels and depth). */
void hdm__copy_rows(hdm_image *dst, uint32_t dy, const hdm_image *src, uint32_t sy,
                    uint32_t rows);


/* Converts one row of n samples between depths through the kernel (same depth: copy). */
void hdm__convert_row(void *dst, hdm_depth dd, const void *src, hdm_depth sd, size_t n);

/* ---- files ---- */

/* Reads a whole file into memory (caller frees). Refuses a directory or one above max bytes. */
hdm_status hdm__read_file(const char *path, uint64_t max, void **data, size_t *size,
                          hdm_error *err);

/* An output written to a temporary file beside its destination and renamed into place by
 * hdm__out_commit only when complete and synced; hdm__out_abort removes the temporary. */
typedef struct hdm__out {
    FILE *f;
    char *path;      /* destination */
    char *tmp;       /* temporary beside it: ".STEM.hadamard-tmp-HOST-PID-TAG" (io.c) */
    bool unnamed;    /* an O_TMPFILE not yet linked in: nothing to remove on abort */
    bool failed;     /* a write failed (errno kept in err_no) */
    int err_no;
} hdm__out;

hdm_status hdm__out_open(hdm__out *o, const char *path, hdm_error *err);
/* Appends bytes; failures are remembered and reported by commit. */
void hdm__out_write(hdm__out *o, const void *data, size_t n);
hdm_status hdm__out_commit(hdm__out *o, hdm_error *err);
void hdm__out_abort(hdm__out *o);

/* A short id of this host and PID namespace, written into named temporaries so a later run
 * removes only the stale ones whose pid it can judge (a directory may be shared over NFS, or
 * with a container). */
uint32_t hdm__host_id(void);

/* True if the two paths name the same existing file (device and inode). */
bool hdm__same_file(const char *a, const char *b);

/* ---- codecs: sources and sinks of strips ---- */

/* A source yields an image's rows top to bottom into planar strips. */
typedef struct hdm__source hdm__source;
struct hdm__source {
    hdm_info info;
    const char *path;
    /* Fills rows [next, next + rows) into strip rows 0..rows-1. The strip has info's width and
     * channels and its own depth; samples are converted to it when it differs from info.depth. */
    hdm_status (*read)(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err);
    void (*close)(hdm__source *s);
    uint32_t next; /* the next row read will fill */
    hdm_image *scratch; /* rows in the source's own depth when a strip asks for another;
                         * freed by hdm__source_close */
    uint64_t held;      /* bytes held while open: its own and those of every source it pulls
                         * from (upstream, operands), checked against max_memory */
};

/* Opens a file as a source, choosing the decoder from its first bytes; checks limits. */
hdm_status hdm__source_open(const char *path, const hdm_options *opt, hdm__source **out,
                            hdm_error *err);
/* Reads a file's header only (no pixels decoded), checking it against the limits. */
hdm_status hdm__info_open(const char *path, const hdm_options *opt, hdm_info *out,
                          hdm_error *err);
/* Opens an in-memory buffer (borrowed; must outlive the source). name is used in messages. */
hdm_status hdm__source_open_memory(const void *data, size_t size, const char *name,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err);
void hdm__source_close(hdm__source *s);
hdm_status hdm__source_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err);

/* A source over a decoded image held whole (the stb formats, interlaced PNG, memory images). */
hdm_status hdm__source_from_image(hdm_image *img, bool owned, const char *path,
                                  hdm_format fmt, hdm__source **out);

/* Format detection from leading bytes. */
hdm_format hdm__detect(const unsigned char *head, size_t n);

/* PNG source: streams rows through libpng (whole image only when interlaced). */
hdm_status hdm__png_source(FILE *f, const char *path, const hdm_options *opt,
                           hdm__source **out, hdm_error *err);
hdm_status hdm__png_source_memory(const void *data, size_t size, const char *name,
                                  const hdm_options *opt, hdm__source **out, hdm_error *err);
/* Header readers; they take f. */
hdm_status hdm__png_info(FILE *f, const char *path, const hdm_options *opt, hdm_info *out,
                         hdm_error *err);
hdm_status hdm__stb_info(FILE *f, const char *path, const hdm_options *opt, hdm_info *out,
                         hdm_error *err);
/* stb_image source: decodes the whole image (after checking its header against the limits). */
hdm_status hdm__stb_source(const void *data, size_t size, const char *path,
                           const hdm_options *opt, hdm__source **out, hdm_error *err);

/* A sink takes an image's rows top to bottom and encodes them into an hdm__out. */
typedef struct hdm__sink hdm__sink;
struct hdm__sink {
    hdm_info info;   /* what is written: width, height, channels, depth the strips must have */
    hdm_status (*write)(hdm__sink *k, const hdm_image *strip, uint32_t rows, hdm_error *err);
    hdm_status (*finish)(hdm__sink *k, hdm_error *err); /* encodes what is left */
    void (*close)(hdm__sink *k);
    const char *path;
    uint64_t held;   /* bytes held while open (a whole-image encoder: the image) */
};

/* Byte output for encoders: a file being written, or a growing memory buffer. */
typedef struct hdm__bytes {
    hdm__out *out;     /* file, or NULL for memory */
    unsigned char *mem;
    size_t len, cap;
    bool failed;
} hdm__bytes;
void hdm__bytes_put(hdm__bytes *b, const void *data, size_t n);
/* Why putting bytes failed: the file's error ("File too large") or "out of memory". */
const char *hdm__bytes_error(const hdm__bytes *b);

/* The depth a format stores for samples of depth d (PNG: u8/u16, HDR: f32, others u8). */
hdm_depth hdm__format_depth(hdm_format fmt, hdm_depth d);

/* Opens a sink writing format fmt into b, for an image described by in (depth is adjusted to
 * what the format holds: sink->info says what strips must be). */
hdm_status hdm__sink_open(hdm_format fmt, const hdm_info *in, const hdm_options *opt,
                          hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err);
void hdm__sink_close(hdm__sink *k);

hdm_status hdm__png_sink(const hdm_info *info, const hdm_options *opt, hdm__bytes *b,
                         const char *path, hdm__sink **out, hdm_error *err);
hdm_status hdm__stb_sink(hdm_format fmt, const hdm_info *info, const hdm_options *opt,
                         hdm__bytes *b, const char *path, hdm__sink **out, hdm_error *err);

/* ---- ops ---- */

/* An element-wise op transforms strips in step with its input: row y of the output depends
 * only on row y of the input (and of the op's own operands, read in lockstep). Ops that need
 * neighbouring rows (filters) are sources over their upstream instead, holding a halo. */
typedef struct hdm__op hdm__op;
struct hdm__op {
    hdm_info in_info, out_info;
    /* Produces out (out_info's channels and depth, rows rows) from in (in_info's). y is the
     * first row's index in the image. */
    hdm_status (*apply)(hdm__op *op, const hdm_image *in, hdm_image *out, uint32_t y,
                        uint32_t rows, hdm_error *err);
    void (*free)(hdm__op *op);
    uint64_t held;   /* bytes its operands hold (their sources' held) */
};

/* Ops built from steps: operand sources are taken (closed on failure too); shapes checked
 * against in, whose file in_path names in messages. */
hdm_status hdm__op_mul(const hdm_info *in, const char *in_path, hdm__source *operand,
                       hdm__op **out, hdm_error *err);
hdm_status hdm__op_mask(const hdm_info *in, const char *in_path, hdm__source *mask,
                        unsigned flags, hdm__op **out, hdm_error *err);
/* The same with a threshold T in [0, 1] making the mask binary first (T < 0: none). */
hdm_status hdm__op_mask_ex(const hdm_info *in, const char *in_path, hdm__source *mask,
                           unsigned flags, double threshold, hdm__op **out, hdm_error *err);

/* A source giving op's output over the rows of up. Takes up and op (freed on failure too). */
hdm_status hdm__op_source(hdm__source *up, hdm__op *op, hdm__source **out, hdm_error *err);

/* The output format path's extension names, or HDM_ERR_FORMAT saying which ones exist. */
/* The format to write path in: want (opt->out_format) unless HDM_FORMAT_UNKNOWN, else the
 * extension's; an extension naming another format than want is refused. */
hdm_status hdm__output_format(const char *path, hdm_format want, hdm_format *fmt,
                              hdm_error *err);

/* Encodes every row of src as fmt into b. Takes src (closed on every path). */
hdm_status hdm__encode(hdm__source *src, hdm_format fmt, const hdm_options *opt, hdm__bytes *b,
                       const char *path, hdm_error *err);

/* Encodes src into path through a temporary output, renamed into place only on success.
 * Takes src. */
hdm_status hdm__write_file(hdm__source *src, hdm_format fmt, const char *path,
                           const hdm_options *opt, hdm_error *err);

/* Pulls every row of src, strip by strip, into sink, converting to the sink's depth, then
 * finishes the sink. Closes nothing. */
hdm_status hdm__pipeline_run(hdm__source *src, hdm__sink *sink, const hdm_options *opt,
                             hdm_error *err);

#endif
