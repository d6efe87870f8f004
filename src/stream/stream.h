/* SPDX-License-Identifier: MIT */
/* stream.h — sources and sinks of strips, the adapters over whole images, encoder bytes */
#ifndef HDM_STREAM_H
#define HDM_STREAM_H

#include "core/core.h"
#include "stream/meta.h"

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
    hdm__meta meta;     /* what the file carries beside the pixels; freed by hdm__source_close */
};

void hdm__source_close(hdm__source *s);
/* Reads the next rows rows into strip, converting to strip's depth when it differs. */
hdm_status hdm__source_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err);

/* A source over a decoded image held whole (the stb formats, interlaced PNG, memory images).
 * owned: the source frees img when closed (img is freed on failure too). path names it in
 * messages ("(memory)" when NULL). */
hdm_status hdm__source_from_image(hdm_image *img, bool owned, const char *path,
                                  hdm_format fmt, hdm__source **out, hdm_error *err);

/* A source yielding up's pixels turned upright for EXIF Orientation o (2..8: mirrored, turned
 * by 180° or 90°, transposed, transversed; EXIF 2.32 tag 274), 5..8 with width and height
 * swapped. 2 streams row by row; the others read up whole on the first read (counted in held,
 * and refused with HDM_ERR_LIMIT naming up's file above opt->max_memory before anything is
 * allocated), stopping between rows when opt->cancel is raised. Takes up's metadata with
 * orientation 1 (its EXIF blob is left as it was). Takes up (closed on failure too). */
hdm_status hdm__source_orient(hdm__source *up, uint32_t o, const hdm_options *opt,
                              hdm__source **out, hdm_error *err);

/* Whether s is a source over an image held whole (hdm__source_from_image): reading it ahead
 * would only copy what is already decoded. */
bool hdm__source_is_whole(const hdm__source *s);

/* A source giving up's rows, read on a thread of its own a chunk ahead of the reader (two
 * chunks of ~256 KiB, counted in held), so a decoder runs beside whatever consumes its rows. A
 * failure of up is given to the reader where it would have met it; opt->cancel, looked at by
 * the reader only, stops the thread between chunks (through a flag of the source's own);
 * closing joins the thread. No thread to be had, up is read on the reader's. When the chunks
 * would take more than a 64th
 * of what opt->max_memory leaves beside up->held, *out is up itself. Takes up (closed on
 * failure too). */
hdm_status hdm__prefetch_source(hdm__source *up, const hdm_options *opt, hdm__source **out,
                                hdm_error *err);

/* The same in two steps, so that up, and every decoder under it that may run on the read-ahead
 * thread, never looks at the caller's flag: hdm__prefetch_new first, then up opened with
 * hdm__prefetch_flag as its opt->cancel (NULL when the caller gave none), then
 * hdm__prefetch_start takes p and up. The reader alone looks at the caller's flag and raises
 * the source's own when it sees it; reading ahead left out, up is read through p on the
 * reader's thread, which does the same. hdm__prefetch_discard frees a p that took no up. */
typedef struct hdm__prefetch hdm__prefetch;
hdm_status hdm__prefetch_new(const hdm_options *opt, hdm__prefetch **out, hdm_error *err);
const volatile int *hdm__prefetch_flag(hdm__prefetch *p);
void hdm__prefetch_discard(hdm__prefetch *p);
hdm_status hdm__prefetch_start(hdm__prefetch *p, hdm__source *up, const hdm_options *opt,
                               hdm__source **out, hdm_error *err);

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

void hdm__sink_close(hdm__sink *k);

/* A sink collecting the rows described by info into a new image (taken by hdm__image_sink_take
 * once the rows are in). */
hdm_status hdm__image_sink(const hdm_info *info, const char *path, hdm__sink **out,
                           hdm_error *err);
hdm_image *hdm__image_sink_take(hdm__sink *k);

/* Pulls every row of src, strip by strip, into sink, converting to the sink's depth, then
 * finishes the sink. Refuses a job holding more than opt->max_memory; stops with
 * HDM_ERR_INTERRUPTED when opt->cancel is raised. Closes nothing. */
hdm_status hdm__stream_run(hdm__source *src, hdm__sink *sink, const hdm_options *opt,
                           hdm_error *err);

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

#endif
