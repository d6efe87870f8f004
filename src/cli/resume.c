/* SPDX-License-Identifier: MIT */
/* resume.c — the record of finished outputs that batch --resume trusts, and the shard hash.
 *
 * A record file is text: a first line "hadamard resume records v2", then one line a finished
 * output, its fields separated by tabs:
 *   R recipe name key  in: size ino mtime(s ns) ctime(s ns)  out: size ino mtime ctime  check
 * recipe and check are 16 hex digits (check: FNV-1a of the line up to its own field), name
 * (the output below the out-dir) and key (the input's shard key) are their bytes in hex, the
 * rest decimal. A line cut short by a kill, or changed, fails its check and is not trusted. */
#include "cli/resume.h"
#include "cli/messages.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PREFIX ".hadamard-resume-"
#define MAGIC "hadamard resume records v2\n"
#define NFIELDS 17 /* R, recipe, name, key, 12 numbers, check */
#define NNUMS 12

uint64_t resume_hash(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

unsigned resume_shard_of(const char *key, unsigned n)
{
    uint64_t h = resume_hash(RESUME_HASH_SEED, key, strlen(key));
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    h ^= h >> 31;
    return (unsigned)(h % n);
}

/* What a file is, as far as a record can tell: a file replaced, moved over, rewritten or
 * touched back to an old time changes its ctime or inode even when size and mtime match. */
typedef struct file_mark {
    uint64_t size, ino, msec, mnsec, csec, cnsec;
} file_mark;

typedef struct record {
    char *name, *key;
    file_mark in, out;
    bool own;      /* read from this shard's file, or made by this run */
    size_t seq;    /* order: a later record of a name supersedes an earlier one */
} record;

typedef struct records {
    record *v;
    size_t n, cap;
} records;

struct resume_log {
    records read;       /* sorted by name once read; resume_done searches it without the lock */
    records made;       /* made by this run (under the lock), for compaction */
    uint64_t recipe;
    int fd;             /* this shard's record file once opened, or -1 */
    bool opened;        /* the open was tried (it is tried at the first record) */
    char *dir, *path;   /* the out-dir, and this shard's file in it */
    size_t own_lines;   /* lines of this shard's file, its own recipe's or not */
    bool write_failed;  /* said once */
    pthread_mutex_t lock;
};

static int by_name(const void *a, const void *b)
{
    return strcmp(((const record *)a)->name, ((const record *)b)->name);
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Hex digits (an even number of them, at least 2) to a string; NULL if not that. */
static char *unhex(const char *s, size_t n)
{
    if (n < 2 || n % 2)
        return NULL;
    char *out = malloc(n / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
            free(out);
            return NULL;
        }
        out[i / 2] = (char)(hi << 4 | lo);
    }
    out[n / 2] = '\0';
    return out;
}

static bool number(const char *s, size_t n, uint64_t *v)
{
    if (n == 0 || n > 20)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (UINT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return true;
}

static int add_record(records *rs, record *r, size_t seq)
{
    if (rs->n == rs->cap) {
        size_t cap = rs->cap ? rs->cap * 2 : 64;
        record *v = realloc(rs->v, cap * sizeof *v);
        if (!v)
            return -1;
        rs->v = v;
        rs->cap = cap;
    }
    r->seq = seq;
    rs->v[rs->n++] = *r;
    return 0;
}

/* One line without its '\n'; adds its record when it is whole and of this recipe. Returns -1
 * only when out of memory. */
static int parse_line(resume_log *log, const char *line, size_t len, bool own)
{
    const char *f[NFIELDS];
    size_t fl[NFIELDS], nf = 0;
    const char *p = line, *end = line + len;
    while (nf < NFIELDS) {
        const char *t = memchr(p, '\t', (size_t)(end - p));
        f[nf] = p;
        fl[nf] = t ? (size_t)(t - p) : (size_t)(end - p);
        nf++;
        if (!t)
            break;
        p = t + 1;
    }
    const size_t last = NFIELDS - 1;
    if (nf != NFIELDS || f[last] + fl[last] != end || fl[0] != 1 || f[0][0] != 'R' ||
        fl[1] != 16 || fl[last] != 16)
        return 0;
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64,
             resume_hash(RESUME_HASH_SEED, line, (size_t)(f[last] - line)));
    char recipe[17];
    snprintf(recipe, sizeof recipe, "%016" PRIx64, log->recipe);
    if (memcmp(f[last], want, 16) != 0 || memcmp(f[1], recipe, 16) != 0)
        return 0;
    record r = {.own = own};
    uint64_t *nums[NNUMS] = {&r.in.size,  &r.in.ino,  &r.in.msec,  &r.in.mnsec,
                             &r.in.csec,  &r.in.cnsec, &r.out.size, &r.out.ino,
                             &r.out.msec, &r.out.mnsec, &r.out.csec, &r.out.cnsec};
    for (int i = 0; i < NNUMS; i++)
        if (!number(f[4 + i], fl[4 + i], nums[i]))
            return 0;
    r.name = unhex(f[2], fl[2]);
    r.key = unhex(f[3], fl[3]);
    if (!r.name || !r.key || add_record(&log->read, &r, log->read.n) < 0) {
        bool oom = r.name && r.key;
        free(r.name);
        free(r.key);
        return oom ? -1 : 0; /* a malformed line is not trusted */
    }
    return 0;
}

/* Reads one record file of the out-dir; *budget is what may still be read. A file that does not
 * start with the header is not read further. */
static int read_records(resume_log *log, int dirfd, const char *dir, const char *name,
                        bool own, uint64_t *budget)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0; /* a symlink, gone, unreadable: nothing to trust */
    struct stat st;
    char head[sizeof MAGIC - 1];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof head ||
        pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
        memcmp(head, MAGIC, sizeof head) != 0) {
        close(fd);
        return 0;
    }
    if ((uint64_t)st.st_size > *budget) {
        cli_say("%s/%s: the resume records are larger than %" PRIu64 " bytes; not read (their "
                "files are redone)", dir, name, *budget);
        close(fd);
        return 0;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (!buf) {
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t k = read(fd, buf + got, size - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    close(fd);
    *budget -= got;
    int rc = 0;
    const char *p = buf + strlen(MAGIC), *end = buf + got;
    while (p < end && rc == 0) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break; /* a last line cut short */
        rc = parse_line(log, p, (size_t)(nl - p), own);
        log->own_lines += own;
        p = nl + 1;
    }
    free(buf);
    return rc;
}

static void say_cannot(const resume_log *log, const char *why)
{
    cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path, why);
}

/* Opens (or makes) this shard's record file for appending; -1 and said once if it cannot. A
 * file cut short before its header was whole (a kill, a crash before it was synced) is taken
 * as ours and its header completed. */
static int open_own(resume_log *log)
{
    int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    if (fd >= 0) {
        if (write(fd, MAGIC, strlen(MAGIC)) == (ssize_t)strlen(MAGIC))
            return fd;
        int e = errno;
        close(fd);
        unlink(log->path);
        say_cannot(log, strerror(e ? e : EIO));
        return -1;
    }
    if (errno != EEXIST) {
        say_cannot(log, strerror(errno));
        return -1;
    }
    fd = open(log->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        say_cannot(log, errno == ELOOP ? "it is a symbolic link; left alone" : strerror(errno));
        return -1;
    }
    struct stat st;
    char head[sizeof MAGIC - 1];
    ssize_t got = fstat(fd, &st) == 0 && S_ISREG(st.st_mode)
                      ? pread(fd, head, sizeof head, 0) : -1;
    bool ours = got >= 0 && memcmp(head, MAGIC, (size_t)got) == 0; /* whole, or cut short */
    if (!ours) {
        close(fd);
        say_cannot(log, S_ISREG(st.st_mode) ? "a file there is not hadamard's record; left alone"
                                             : "not a regular file; left alone");
        return -1;
    }
    const char *rest = got < (ssize_t)sizeof head ? &MAGIC[got] : NULL;
    char last = '\n';
    if (!rest && pread(fd, &last, 1, st.st_size - 1) != 1)
        last = '\n';
    /* complete a cut-short header, or end a last line cut short, so the next record starts on
     * a line of its own */
    const char *fix = rest ? rest : last != '\n' ? "\n" : NULL;
    if (fix && write(fd, fix, strlen(fix)) != (ssize_t)strlen(fix)) {
        int e = errno;
        close(fd);
        say_cannot(log, strerror(e ? e : EIO));
        return -1;
    }
    return fd;
}

resume_log *resume_open(const char *out_dir, unsigned shard, unsigned nshards, uint64_t recipe,
                        uint64_t max_bytes)
{
    resume_log *log = calloc(1, sizeof *log);
    if (!log)
        return NULL;
    log->recipe = recipe;
    log->fd = -1;
    pthread_mutex_init(&log->lock, NULL);
    size_t plen = strlen(out_dir) + sizeof PREFIX + 48;
    if (!(log->path = malloc(plen)) || !(log->dir = strdup(out_dir))) {
        resume_close(log);
        return NULL;
    }
    snprintf(log->path, plen, "%s/" PREFIX "%u-of-%u", out_dir, shard, nshards);
    const char *own_name = strrchr(log->path, '/') + 1;

    int dirfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
    if (!d && dirfd >= 0)
        close(dirfd);
    int rc = 0;
    /* records are the batch's own bookkeeping, not a job's: at least 1 GiB of them is read */
    uint64_t budget = max_bytes > (UINT64_C(1) << 30) ? max_bytes : UINT64_C(1) << 30;
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d)))
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0)
            rc = read_records(log, dirfd, out_dir, e->d_name,
                              strcmp(e->d_name, own_name) == 0, &budget);
    if (d)
        closedir(d);
    if (rc < 0) {
        resume_close(log);
        return NULL;
    }
    if (log->read.n)
        qsort(log->read.v, log->read.n, sizeof *log->read.v, by_name);
    return log;
}

static void mark_of(file_mark *m, const struct stat *st)
{
    m->size = (uint64_t)st->st_size;
    m->ino = (uint64_t)st->st_ino;
    m->msec = (uint64_t)st->st_mtim.tv_sec; /* before 1970 too: cast both ways the same */
    m->mnsec = (uint64_t)st->st_mtim.tv_nsec;
    m->csec = (uint64_t)st->st_ctim.tv_sec;
    m->cnsec = (uint64_t)st->st_ctim.tv_nsec;
}

static bool same_mark(const file_mark *a, const file_mark *b)
{
    return a->size == b->size && a->ino == b->ino && a->msec == b->msec &&
           a->mnsec == b->mnsec && a->csec == b->csec && a->cnsec == b->cnsec;
}

bool resume_done(const resume_log *log, const char *name, const char *key,
                 const struct stat *in, const struct stat *out)
{
    if (!log || !log->read.n || !S_ISREG(out->st_mode))
        return false;
    file_mark mi, mo;
    mark_of(&mi, in);
    mark_of(&mo, out);
    const record *v = log->read.v;
    size_t lo = 0, hi = log->read.n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < log->read.n && strcmp(v[i].name, name) == 0; i++) {
        const record *r = &v[i];
        if (strcmp(r->key, key) == 0 && same_mark(&r->in, &mi) && same_mark(&r->out, &mo))
            return true;
    }
    return false;
}

static void put_hex(FILE *f, const char *s)
{
    for (; *s; s++)
        fprintf(f, "%02x", (unsigned char)*s);
}

/* One record's line, '\n' included; NULL when out of memory. */
static char *record_line(uint64_t recipe, const record *r, size_t *n)
{
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f)
        return NULL;
    fprintf(f, "R\t%016" PRIx64 "\t", recipe);
    put_hex(f, r->name);
    fputc('\t', f);
    put_hex(f, r->key);
    const file_mark *m[2] = {&r->in, &r->out};
    for (int i = 0; i < 2; i++)
        fprintf(f, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64,
                m[i]->size, m[i]->ino, m[i]->msec, m[i]->mnsec, m[i]->csec, m[i]->cnsec);
    fputc('\t', f);
    if (fclose(f) != 0 || !line) {
        free(line);
        return NULL;
    }
    char tail[18];
    snprintf(tail, sizeof tail, "%016" PRIx64 "\n", resume_hash(RESUME_HASH_SEED, line, len));
    char *whole = realloc(line, len + sizeof tail);
    if (!whole) {
        free(line);
        return NULL;
    }
    memcpy(whole + len, tail, sizeof tail);
    *n = len + 17;
    return whole;
}

void resume_record(resume_log *log, const char *name, const char *key, const struct stat *in,
                   const struct stat *out)
{
    if (!log)
        return;
    record r = {.name = strdup(name), .key = strdup(key), .own = true};
    mark_of(&r.in, in);
    mark_of(&r.out, out);
    size_t n = 0;
    char *line = r.name && r.key ? record_line(log->recipe, &r, &n) : NULL;
    pthread_mutex_lock(&log->lock);
    if (!log->opened) { /* at the first record, so a batch with nothing to record makes no file */
        log->opened = true;
        log->fd = open_own(log);
    }
    if (line && log->fd >= 0) {
        ssize_t w = write(log->fd, line, n); /* O_APPEND: one line, whole or not at all */
        if (w != (ssize_t)n && !log->write_failed) {
            log->write_failed = true;
            say_cannot(log, w < 0 ? strerror(errno) : "short write");
        }
        log->own_lines++;
    }
    /* kept apart from what resume_done reads without the lock, for compaction */
    if (!line || add_record(&log->made, &r, log->read.n + log->made.n) < 0) {
        free(r.name);
        free(r.key);
    }
    pthread_mutex_unlock(&log->lock);
    free(line);
}

static int by_name_then_seq(const void *a, const void *b)
{
    const record *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Rewrites this shard's file with only the last record of each output (of this recipe), when
 * most of its lines are superseded or another recipe's: reruns do not grow it without end. A
 * temporary renamed over it, so a kill leaves the old file or the new one, both whole. */
static void compact(resume_log *log)
{
    /* this shard's records, read and made, in the order they were written */
    size_t n = 0, live = 0;
    record *v = malloc((log->read.n + log->made.n + 1) * sizeof *v);
    record **keep = malloc((log->read.n + log->made.n + 1) * sizeof *keep);
    if (!v || !keep) {
        free(v);
        free(keep);
        return;
    }
    for (size_t i = 0; i < log->read.n; i++)
        if (log->read.v[i].own)
            v[n++] = log->read.v[i];
    for (size_t i = 0; i < log->made.n; i++)
        v[n++] = log->made.v[i];
    qsort(v, n, sizeof *v, by_name_then_seq);
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || strcmp(v[i].name, v[i + 1].name) != 0)
            keep[live++] = &v[i]; /* the last record of its name */
    if (log->own_lines <= 2 * live + 64) {
        free(v);
        free(keep);
        return;
    }
    size_t tlen = strlen(log->path) + 32;
    char *tmp = malloc(tlen);
    int fd = -1;
    if (tmp) {
        snprintf(tmp, tlen, "%s.tmp-%ld", log->path, (long)getpid());
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    }
    bool ok = fd >= 0 && write(fd, MAGIC, strlen(MAGIC)) == (ssize_t)strlen(MAGIC);
    for (size_t i = 0; ok && i < live; i++) {
        size_t n = 0;
        char *line = record_line(log->recipe, keep[i], &n);
        ok = line && write(fd, line, n) == (ssize_t)n;
        free(line);
    }
    ok = ok && fsync(fd) == 0;
    if (fd >= 0)
        close(fd);
    if (tmp && (!ok || rename(tmp, log->path) != 0))
        unlink(tmp);
    free(tmp);
    free(v);
    free(keep);
}

void resume_close(resume_log *log)
{
    if (!log)
        return;
    if (log->fd >= 0) {
        fsync(log->fd);
        close(log->fd);
        compact(log);
    }
    records *all[2] = {&log->read, &log->made};
    for (int k = 0; k < 2; k++) {
        for (size_t i = 0; i < all[k]->n; i++) {
            free(all[k]->v[i].name);
            free(all[k]->v[i].key);
        }
        free(all[k]->v);
    }
    free(log->path);
    free(log->dir);
    pthread_mutex_destroy(&log->lock);
    free(log);
}
