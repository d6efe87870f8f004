/* SPDX-License-Identifier: MIT */
/* pool.c — worker threads that share out the parts of a task, for a job's whole run */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "core/core.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>

/* A task being shared out: its parts are handed out in order, each to whichever thread asks
 * first (the submitter takes parts too), and the submitter waits until every part is done. It
 * lives on the submitter's stack. */
typedef struct task {
    void (*fn)(void *ctx, uint32_t part);
    void *ctx;
    uint32_t parts, next, done;
    struct task *later; /* the queue of tasks with parts still to hand out */
} task;

struct hdm__pool {
    pthread_mutex_t lock;
    pthread_cond_t work;     /* a task was queued, or the pool is stopping */
    pthread_cond_t finished; /* a part was done */
    task *queue, **tail;
    bool stopping;
    uint32_t nthreads;       /* workers started */
    pthread_t *threads;
};

/* The next part of the first queued task, dequeuing a task once its last part is handed out.
 * Lock held. */
static task *take(hdm__pool *p, uint32_t *part)
{
    task *t = p->queue;
    if (!t)
        return NULL;
    *part = t->next++;
    if (t->next == t->parts) {
        p->queue = t->later;
        if (!p->queue)
            p->tail = &p->queue;
    }
    return t;
}

/* Does one part of t and counts it. Lock held on entry and on return. */
static void run_part(hdm__pool *p, task *t, uint32_t part)
{
    pthread_mutex_unlock(&p->lock);
    t->fn(t->ctx, part);
    pthread_mutex_lock(&p->lock);
    if (++t->done == t->parts)
        pthread_cond_broadcast(&p->finished);
}

/* Address space a new thread must leave free beside its stack: a process bounded by RLIMIT_AS
 * (ulimit -v) that spent its room on stacks would fail the job's next allocation instead. */
enum { THREAD_MARGIN = 64 << 20 };

int hdm__thread_start(pthread_t *t, void *(*fn)(void *), void *arg)
{
    size_t stack = 8u << 20;
    pthread_attr_t a;
    if (pthread_attr_init(&a) == 0) {
        pthread_attr_getstacksize(&a, &stack);
        pthread_attr_destroy(&a);
    }
    /* a look, not a reservation: the room is mapped and given back at once */
    void *room = mmap(NULL, THREAD_MARGIN + stack, PROT_NONE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (room == MAP_FAILED)
        return -1;
    munmap(room, THREAD_MARGIN + stack);
    return pthread_create(t, NULL, fn, arg) == 0 ? 0 : -1;
}

static void *worker_main(void *arg)
{
    hdm__pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        uint32_t part;
        task *t = take(p, &part);
        if (t) {
            run_part(p, t, part);
            continue;
        }
        if (p->stopping)
            break;
        pthread_cond_wait(&p->work, &p->lock);
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

static hdm_status pool_start(uint32_t threads, hdm__pool **out)
{
    *out = NULL;
    if (threads <= 1)
        return HDM_OK;
    hdm__pool *p = calloc(1, sizeof *p);
    if (!p || !(p->threads = calloc(threads - 1, sizeof *p->threads))) {
        free(p);
        return HDM_ERR_NOMEM;
    }
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->work, NULL);
    pthread_cond_init(&p->finished, NULL);
    p->tail = &p->queue;
    while (p->nthreads < threads - 1 &&
           hdm__thread_start(&p->threads[p->nthreads], worker_main, p) == 0)
        p->nthreads++;
    *out = p;
    return HDM_OK;
}

hdm_status hdm__pool_new(uint32_t threads, hdm__pool **out)
{
    hdm_status st = pool_start(threads, out);
    if (st || !*out || (*out)->nthreads == threads - 1)
        return st;
    /* Short of threads: what stopped them (the process's threads, or address space for their
     * stacks) leaves nothing for the job's own allocations, so half of those that started are
     * given back; a pool short of threads is slower, never wrong. */
    uint32_t started = (*out)->nthreads;
    hdm__pool_free(*out);
    *out = NULL;
    if (started < 2)
        return HDM_OK; /* the caller's thread alone */
    st = pool_start(started / 2 + 1, out);
    if (!st && *out && (*out)->nthreads == 0) {
        hdm__pool_free(*out);
        *out = NULL;
    }
    return st;
}

void hdm__pool_free(hdm__pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_broadcast(&p->work);
    pthread_mutex_unlock(&p->lock);
    for (uint32_t i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->finished);
    free(p->threads);
    free(p);
}

uint32_t hdm__pool_threads(const hdm__pool *p) { return p ? p->nthreads + 1 : 1; }

void hdm__pool_run(hdm__pool *p, uint32_t parts, void (*fn)(void *ctx, uint32_t part),
                   void *ctx)
{
    if (!p || parts <= 1) {
        for (uint32_t i = 0; i < parts; i++)
            fn(ctx, i);
        return;
    }
    task t = {.fn = fn, .ctx = ctx, .parts = parts};
    pthread_mutex_lock(&p->lock);
    *p->tail = &t;
    p->tail = &t.later;
    pthread_cond_broadcast(&p->work);
    /* the submitter works too: on its own task first, never on another's (it would then wait
     * on a part it need not) */
    while (t.next < t.parts) {
        uint32_t part = t.next++;
        if (t.next == t.parts) { /* dequeue t: it may be anywhere in the queue */
            task **q = &p->queue;
            while (*q != &t)
                q = &(*q)->later;
            *q = t.later;
            if (!*q)
                p->tail = q;
        }
        run_part(p, &t, part);
    }
    while (t.done < t.parts)
        pthread_cond_wait(&p->finished, &p->lock);
    pthread_mutex_unlock(&p->lock);
}
