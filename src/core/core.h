/* SPDX-License-Identifier: MIT */
/* core.h — the ground floor: images, sizes and limits, status and messages, files */
#ifndef HDM_CORE_H
#define HDM_CORE_H

#include "hadamard.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>

/* How many statuses and formats there are (kept out of the public enums, where a count would be
 * one more value a caller could pass). */
#define HDM__STATUS_COUNT ((int)HDM_ERR_INTERRUPTED + 1)
#define HDM__FORMAT_COUNT ((int)HDM_FORMAT_TIFF + 1)

/* ---- errors ---- */

/* Records status and a printf-style message in err (if any) and returns status. A path, when
 * given, is put first: "PATH: message". */
hdm_status hdm__fail(hdm_error *err, hdm_status st, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Puts a printf-style prefix before the message already in err ("step 'x': ", "filter: "),
 * as hdm__fail would make it (fitted to the message's size), with status st. */
void hdm__fail_prefix(hdm_error *err, hdm_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The options in force: the caller's (copied field by field up to their size) over defaults. */
void hdm__options_get(const hdm_options *caller, hdm_options *out);
/* The same, then checked: HDM_ERR_ARG for a field out of its range (png_level,
 * png_filter, jpeg_quality, threads). threads 0 is resolved here to hdm__cores_available(), so
 * the options a job runs with always say how many threads it has (1: the calling thread
 * alone). Every public entry point taking options goes through it. */
hdm_status hdm__options_load(const hdm_options *caller, hdm_options *out, hdm_error *err);

/* ---- cores ---- */

/* The most threads a job may be given (hdm_options.threads): beyond it is a mistake, not a
 * machine. */
#define HDM__MAX_THREADS 1024

/* The cores this process may run on: its affinity mask (sched_getaffinity), lowered to its
 * cgroup's CPU quota when one is set (cgroup v2 cpu.max, else v1 cpu.cfs_quota_us over
 * cfs_period_us, each rounded up to a whole core); at least 1, at most HDM__MAX_THREADS. */
uint32_t hdm__cores_available(void);
/* The cores a cgroup v2 cpu.max line ("200000 100000", "max 100000") allows, rounded up; 0 for
 * no limit or text that is not such a line. */
uint32_t hdm__cgroup2_quota(const char *text);
/* The same for cgroup v1's cpu.cfs_quota_us and cpu.cfs_period_us ("-1": no limit). */
uint32_t hdm__cgroup1_quota(const char *quota_text, const char *period_text);

/* Whether a cancel flag is raised: the caller's (hdm_options.cancel, looked at on the caller's
 * thread only) or a read-ahead source's own, an atomic_int handed to its upstream in that
 * field's type; either is read as an atomic, so a flag one thread raises is seen by another
 * without a race. */
_Static_assert(sizeof(atomic_int) == sizeof(int) && ATOMIC_INT_LOCK_FREE == 2,
               "an int flag read as an atomic_int");
static inline bool hdm__cancelled(const volatile int *flag)
{
    return flag && atomic_load_explicit((const volatile atomic_int *)flag, memory_order_relaxed);
}

/* Starts fn(arg) on a new thread (pthread_create's defaults) only if the address space keeps
 * room beside its stack for the job's own allocations; 0 when started, -1 when not (the
 * caller then does without it). Every thread the library starts is started here. */
int hdm__thread_start(pthread_t *t, void *(*fn)(void *), void *arg);

/* Worker threads kept for a job's run, sharing out the parts of each task given them. */
typedef struct hdm__pool hdm__pool;
/* A pool of threads − 1 workers (the caller of hdm__pool_run is the last thread); *out is NULL
 * for threads <= 1 (every task then runs on its caller). HDM_ERR_NOMEM. */
hdm_status hdm__pool_new(uint32_t threads, hdm__pool **out);
/* Stops and joins the workers; NULL is a no-op. */
void hdm__pool_free(hdm__pool *p);
/* Threads that run a task's parts: the workers that started, plus the caller. */
uint32_t hdm__pool_threads(const hdm__pool *p);
/* Calls fn(ctx, i) once for every i in [0, parts), on the workers and the calling thread, and
 * returns when all are done. Several threads may run tasks on one pool at once. fn must not
 * fail in a way the parts cannot each record. */
void hdm__pool_run(hdm__pool *p, uint32_t parts, void (*fn)(void *ctx, uint32_t part),
                   void *ctx);

/* ---- images ---- */

/* HDM_ERR_LIMIT, naming the limit and its field, when the bytes a job holds at once (its
 * sources' and sink's held, its strips) are above opt->max_memory. */
hdm_status hdm__check_held(uint64_t held, const hdm_options *opt, const char *path,
                           hdm_error *err);

/* Checks info against the limits in opt on its size alone (width, height, pixels) and says
 * which limit it is above: for a decoder that streams, holding no whole image. */
hdm_status hdm__check_size(const hdm_info *info, const hdm_options *opt, const char *path,
                           hdm_error *err);

/* Checks info against the limits in opt (pixels, width, height, memory for one whole image)
 * and says which limit and how to raise it. */
hdm_status hdm__check_limits(const hdm_info *info, const hdm_options *opt, const char *path,
                             hdm_error *err);

/* A caller's image is usable: sizes, depth, stride and plane pointers in order. */
bool hdm__image_valid(const hdm_image *img);

/* hdm_image_new, with a failure's message (naming path) in err. */
hdm_status hdm__image_new(uint32_t width, uint32_t height, uint32_t channels, hdm_depth d,
                          hdm_image **out, const char *path, hdm_error *err);

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

/* Moves one row between a codec's interleaved layout (width × channels samples of img's depth,
 * channel fastest, starting on a multiple of the sample size) and row y of img's planes, through
 * the kernel's layout primitive for the depth. f32 samples are moved bit for bit. */
void hdm__row_to_planes(hdm_image *img, uint32_t y, const void *interleaved);
void hdm__row_from_planes(void *interleaved, const hdm_image *img, uint32_t y);

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

/* Copies a string into new memory (NULL when out of memory). */
char *hdm__strdup(const char *s);

#endif
