/* SPDX-License-Identifier: MIT */
/* pool.c — worker threads that share out the parts of a task, for a job's whole run */
#include "core/core.h"

#include <pthread.h>
#include <stdlib.h>

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

hdm_status hdm__pool_new(uint32_t threads, hdm__pool **out)
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
    /* as many as start: a pool short of threads is slower, never wrong */
    while (p->nthreads < threads - 1 &&
           pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) == 0)
        p->nthreads++;
    *out = p;
    return HDM_OK;
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
