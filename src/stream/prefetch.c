/* SPDX-License-Identifier: MIT */
/* prefetch.c — a source read ahead on a thread of its own, a chunk of rows ahead of its reader */
#include "stream/stream.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* Two chunks of rows: while the reader copies out of one, the thread decodes the next into the
 * other. A chunk is the reader's until it has taken its last row, then the thread's again. A
 * failed read is kept with its chunk and given to the reader when it reaches that chunk, so the
 * rows before it still arrive as they would unthreaded, and the message is the decoder's. */
typedef struct chunk {
    hdm_image *img;  /* rows in the source's own depth */
    uint32_t first;  /* its first row's index in the image */
    uint32_t rows;
    bool ready;      /* filled (or failed) and not yet all taken */
    hdm_status st;
    hdm_error err;
} chunk;

struct hdm__prefetch {
    hdm__source base;
    hdm__source *up;
    const volatile int *cancel; /* the caller's flag: read on the reader's thread only */
    atomic_int stop; /* raised by the reader when it sees cancel: the flag of the thread and of
                      * up (opened with it as its cancel by hdm__prefetch_new's caller) */
    uint32_t chunk_rows;
    chunk buf[2];
    unsigned head;      /* the chunk the reader takes from next */
    pthread_mutex_t lock;
    pthread_cond_t changed;
    pthread_t thread;
    bool started, stopping;
    bool flag_given; /* up was opened with stop as its cancel flag */
    bool direct; /* no reading ahead (no room, no gain, no thread): up is read on the reader's
                  * thread */
};
typedef struct hdm__prefetch prefetch;

static void *prefetch_main(void *arg)
{
    prefetch *p = arg;
    const hdm_info *in = &p->up->info;
    unsigned tail = 0;
    uint32_t y = 0;
    pthread_mutex_lock(&p->lock);
    while (y < in->height) {
        chunk *c = &p->buf[tail];
        while (!p->stopping && c->ready)
            pthread_cond_wait(&p->changed, &p->lock);
        if (p->stopping)
            break;
        uint32_t n = in->height - y < p->chunk_rows ? in->height - y : p->chunk_rows;
        pthread_mutex_unlock(&p->lock);
        /* the chunk is the thread's alone while it is not ready */
        hdm_status st;
        if (atomic_load(&p->stop))
            st = hdm__fail(&c->err, HDM_ERR_INTERRUPTED, p->base.path, "interrupted");
        else
            st = hdm__source_read(p->up, c->img, n, &c->err);
        pthread_mutex_lock(&p->lock);
        c->first = y;
        c->rows = n;
        c->st = st;
        c->ready = true;
        pthread_cond_broadcast(&p->changed);
        if (st)
            break; /* nothing after a failure is read */
        y += n;
        tail ^= 1;
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static hdm_status prefetch_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    prefetch *p = (prefetch *)s;
    if (!p->started && !p->direct) {
        /* short of threads (or of room for a stack), reading ahead is only left out */
        if (hdm__thread_start(&p->thread, prefetch_main, p) == 0)
            p->started = true;
        else
            p->direct = true;
    }
    if (p->direct) {
        if (hdm__cancelled(p->cancel)) /* up looks at the source's flag, not the caller's */
            atomic_store(&p->stop, 1);
        return hdm__source_read(p->up, strip, rows, err);
    }
    uint32_t got = 0;
    pthread_mutex_lock(&p->lock);
    while (got < rows) {
        chunk *c = &p->buf[p->head];
        if (hdm__cancelled(p->cancel)) { /* the thread (and up on it) stops */
            atomic_store(&p->stop, 1);
            pthread_cond_broadcast(&p->changed);
            pthread_mutex_unlock(&p->lock);
            return hdm__fail(err, HDM_ERR_INTERRUPTED, s->path, "interrupted");
        }
        while (!c->ready)
            pthread_cond_wait(&p->changed, &p->lock);
        if (c->st) {
            hdm_status st = c->st;
            if (err)
                *err = c->err;
            pthread_mutex_unlock(&p->lock);
            return st;
        }
        pthread_mutex_unlock(&p->lock); /* a ready chunk is the reader's */
        uint32_t at = s->next + got - c->first;
        uint32_t take = c->rows - at < rows - got ? c->rows - at : rows - got;
        hdm__copy_rows(strip, got, c->img, at, take);
        got += take;
        pthread_mutex_lock(&p->lock);
        if (at + take == c->rows) { /* all taken: the thread's again */
            c->ready = false;
            p->head ^= 1;
            pthread_cond_broadcast(&p->changed);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return HDM_OK;
}

static void prefetch_close(hdm__source *s)
{
    prefetch *p = (prefetch *)s;
    if (p->started) {
        pthread_mutex_lock(&p->lock);
        p->stopping = true;
        pthread_cond_broadcast(&p->changed);
        pthread_mutex_unlock(&p->lock);
        pthread_join(p->thread, NULL); /* at most the chunk it is reading is waited for */
    }
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->changed);
    hdm__source_close(p->up);
    hdm_image_free(p->buf[0].img);
    hdm_image_free(p->buf[1].img);
    free(p);
}

hdm_status hdm__prefetch_new(const hdm_options *opt, hdm__prefetch **out, hdm_error *err)
{
    prefetch *p = calloc(1, sizeof *p);
    *out = p;
    if (!p)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    p->cancel = opt->cancel;
    atomic_init(&p->stop, 0);
    return HDM_OK;
}

const volatile int *hdm__prefetch_flag(hdm__prefetch *p)
{
    p->flag_given = true;
    return p->cancel ? (const volatile int *)&p->stop : NULL;
}

void hdm__prefetch_discard(hdm__prefetch *p) { free(p); }

hdm_status hdm__prefetch_start(hdm__prefetch *p, hdm__source *up, const hdm_options *opt,
                               hdm__source **out, hdm_error *err)
{
    *out = NULL;
    const hdm_info *in = &up->info;
    /* ~256 KiB of the source's own rows a chunk: a decoder's call and the hand-over cost
     * little beside it, and two of them stay small beside what a job holds */
    size_t row = 0;
    hdm_size_bytes(in->width, 1, in->channels, in->depth, &row);
    size_t n = ((size_t)256 << 10) / (row ? row : 1);
    uint32_t rows = n < 1 ? 1 : n > 256 ? 256 : (uint32_t)n;
    if (rows > in->height)
        rows = in->height;
    size_t bytes = 0;
    hdm_status st = hdm_size_bytes(in->width, rows, in->channels, in->depth, &bytes);
    /* Reading ahead is only faster, never needed: it takes no more than a 64th of what the
     * limit leaves, so a job that fits unthreaded still fits (but for a limit within a few
     * chunks of what it needs). A source decoded whole has nothing to read ahead. */
    uint64_t left = opt->max_memory > up->held ? opt->max_memory - up->held : 0;
    p->direct = hdm__source_is_whole(up) || (!st && 2 * (uint64_t)bytes > left / 64);
    if (p->direct && !p->flag_given) { /* up looks at the caller's flag itself */
        free(p);
        *out = up;
        return HDM_OK;
    }
    if (!p->direct && (st || hdm_image_new(in->width, rows, in->channels, in->depth,
                                           &p->buf[0].img) ||
                       hdm_image_new(in->width, rows, in->channels, in->depth,
                                     &p->buf[1].img))) {
        hdm_image_free(p->buf[0].img);
        free(p);
        st = hdm__fail(err, HDM_ERR_NOMEM, up->path, "out of memory");
        hdm__source_close(up);
        return st;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->changed, NULL);
    p->up = up;
    p->chunk_rows = rows;
    p->base.info = *in;
    p->base.path = up->path;
    p->base.held = up->held + (p->direct ? 0 : 2 * (uint64_t)bytes);
    p->base.read = prefetch_read;
    p->base.close = prefetch_close;
    hdm__meta_move(&p->base.meta, &up->meta);
    *out = &p->base;
    return HDM_OK;
}

hdm_status hdm__prefetch_source(hdm__source *up, const hdm_options *opt, hdm__source **out,
                                hdm_error *err)
{
    hdm__prefetch *p;
    hdm_status st = hdm__prefetch_new(opt, &p, err);
    if (st) {
        hdm__source_close(up);
        return st;
    }
    return hdm__prefetch_start(p, up, opt, out, err);
}
