/* SPDX-License-Identifier: MIT */
/* resume.c — the record of finished outputs that batch --resume trusts, and the shard hash.
 *
 * A record file is text: a first line "hadamard resume records v1", then one line a finished
 * output, its fields separated by tabs:
 *   R recipe name key in_size in_sec in_nsec out_size out_sec out_nsec out_ino check
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
#define MAGIC "hadamard resume records v1\n"

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

typedef struct record {
    char *name, *key;
    uint64_t in_size, in_sec, in_nsec, out_size, out_sec, out_nsec, out_ino;
} record;

struct resume_log {
    record *v;
    size_t n, cap;
    uint64_t recipe;
    int fd;            /* this shard's record file, or -1 */
    char *path;        /* its name, for messages */
    bool write_failed; /* said once */
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

/* One line without its '\n'; adds its record when it is whole and of this recipe. Returns -1
 * only when out of memory. */
static int parse_line(resume_log *log, const char *line, size_t len)
{
    const char *f[12];
    size_t fl[12], nf = 0;
    const char *p = line, *end = line + len;
    while (nf < 12) {
        const char *t = memchr(p, '\t', (size_t)(end - p));
        f[nf] = p;
        fl[nf] = t ? (size_t)(t - p) : (size_t)(end - p);
        nf++;
        if (!t)
            break;
        p = t + 1;
    }
    if (nf != 12 || f[11] + fl[11] != end || fl[0] != 1 || f[0][0] != 'R' || fl[1] != 16 ||
        fl[11] != 16)
        return 0;
    char want[17];
    snprintf(want, sizeof want, "%016" PRIx64,
             resume_hash(RESUME_HASH_SEED, line, (size_t)(f[11] - line)));
    char recipe[17];
    snprintf(recipe, sizeof recipe, "%016" PRIx64, log->recipe);
    if (memcmp(f[11], want, 16) != 0 || memcmp(f[1], recipe, 16) != 0)
        return 0;
    record r = {0};
    uint64_t *nums[] = {&r.in_size, &r.in_sec, &r.in_nsec, &r.out_size, &r.out_sec, &r.out_nsec,
                        &r.out_ino};
    for (int i = 0; i < 7; i++)
        if (!number(f[4 + i], fl[4 + i], nums[i]))
            return 0;
    r.name = unhex(f[2], fl[2]);
    r.key = unhex(f[3], fl[3]);
    if (!r.name || !r.key) {
        free(r.name);
        free(r.key);
        return 0; /* a malformed line, or out of memory: either way not trusted */
    }
    if (log->n == log->cap) {
        size_t cap = log->cap ? log->cap * 2 : 64;
        record *v = realloc(log->v, cap * sizeof *v);
        if (!v) {
            free(r.name);
            free(r.key);
            return -1;
        }
        log->v = v;
        log->cap = cap;
    }
    log->v[log->n++] = r;
    return 0;
}

/* Reads one record file of the out-dir; *budget is what may still be read. */
static int read_records(resume_log *log, int dirfd, const char *dir, const char *name,
                        uint64_t *budget)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0; /* a symlink, gone, unreadable: nothing to trust */
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < (off_t)strlen(MAGIC)) {
        close(fd);
        return 0;
    }
    if ((uint64_t)st.st_size > *budget) {
        cli_say("%s/%s: the resume records are larger than --max-memory; not read (their "
                "files are redone)", dir, name);
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
    if (got >= strlen(MAGIC) && memcmp(buf, MAGIC, strlen(MAGIC)) == 0) {
        const char *p = buf + strlen(MAGIC), *end = buf + got;
        while (p < end && rc == 0) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                break; /* a last line cut short */
            rc = parse_line(log, p, (size_t)(nl - p));
            p = nl + 1;
        }
    }
    free(buf);
    return rc;
}

/* Opens (or makes) this shard's record file for appending; -1 and said once if it cannot. */
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
        cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path,
                strerror(e ? e : EIO));
        return -1;
    }
    if (errno != EEXIST) {
        cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path,
                strerror(errno));
        return -1;
    }
    /* there already: add to it only if it is a regular file of ours */
    fd = open(log->path, O_RDWR | O_APPEND | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    char head[sizeof MAGIC - 1];
    bool ours = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
                pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head &&
                memcmp(head, MAGIC, sizeof head) == 0;
    if (!ours) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path,
                fd < 0 ? strerror(e) : "a file there is not hadamard's record; left alone");
        return -1;
    }
    /* a last line cut short by a kill ends here, so the next record starts on a line of its
     * own */
    char last;
    if (pread(fd, &last, 1, st.st_size - 1) == 1 && last != '\n' && write(fd, "\n", 1) != 1) {
        int e = errno;
        close(fd);
        cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path,
                strerror(e ? e : EIO));
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
    if (!(log->path = malloc(plen))) {
        resume_close(log);
        return NULL;
    }
    snprintf(log->path, plen, "%s/" PREFIX "%u-of-%u", out_dir, shard, nshards);

    int dirfd = open(out_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dirfd >= 0 ? fdopendir(dirfd) : NULL;
    if (!d && dirfd >= 0)
        close(dirfd);
    int rc = 0;
    uint64_t budget = max_bytes;
    struct dirent *e;
    while (d && rc == 0 && (e = readdir(d)))
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) == 0)
            rc = read_records(log, dirfd, out_dir, e->d_name, &budget);
    if (d)
        closedir(d);
    if (rc < 0) {
        resume_close(log);
        return NULL;
    }
    if (log->n)
        qsort(log->v, log->n, sizeof *log->v, by_name);
    log->fd = open_own(log);
    return log;
}

static bool same_time(uint64_t sec, uint64_t nsec, const struct timespec *t)
{
    return t->tv_sec >= 0 && sec == (uint64_t)t->tv_sec && nsec == (uint64_t)t->tv_nsec;
}

bool resume_done(const resume_log *log, const char *name, const char *key,
                 const struct stat *in, const struct stat *out)
{
    if (!log || !log->n || !S_ISREG(out->st_mode))
        return false;
    size_t lo = 0, hi = log->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(log->v[mid].name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < log->n && strcmp(log->v[i].name, name) == 0; i++) {
        const record *r = &log->v[i];
        if (strcmp(r->key, key) == 0 && r->in_size == (uint64_t)in->st_size &&
            same_time(r->in_sec, r->in_nsec, &in->st_mtim) &&
            r->out_size == (uint64_t)out->st_size &&
            same_time(r->out_sec, r->out_nsec, &out->st_mtim) &&
            r->out_ino == (uint64_t)out->st_ino)
            return true;
    }
    return false;
}

static void put_hex(FILE *f, const char *s)
{
    for (; *s; s++)
        fprintf(f, "%02x", (unsigned char)*s);
}

void resume_record(resume_log *log, const char *name, const char *key, const struct stat *in,
                   const struct stat *out)
{
    if (!log || log->fd < 0)
        return;
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f)
        return;
    fprintf(f, "R\t%016" PRIx64 "\t", log->recipe);
    put_hex(f, name);
    fputc('\t', f);
    put_hex(f, key);
    fprintf(f, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64
               "\t%" PRIu64 "\t",
            (uint64_t)in->st_size, (uint64_t)in->st_mtim.tv_sec, (uint64_t)in->st_mtim.tv_nsec,
            (uint64_t)out->st_size, (uint64_t)out->st_mtim.tv_sec,
            (uint64_t)out->st_mtim.tv_nsec, (uint64_t)out->st_ino);
    if (fclose(f) != 0 || !line) {
        free(line);
        return;
    }
    char tail[18];
    snprintf(tail, sizeof tail, "%016" PRIx64 "\n", resume_hash(RESUME_HASH_SEED, line, len));
    char *whole = realloc(line, len + sizeof tail);
    if (!whole) {
        free(line);
        return;
    }
    memcpy(whole + len, tail, sizeof tail);
    size_t n = len + 17;
    pthread_mutex_lock(&log->lock);
    ssize_t w = write(log->fd, whole, n); /* O_APPEND: one line, whole or not at all */
    if (w != (ssize_t)n && !log->write_failed) {
        log->write_failed = true;
        cli_say("%s: cannot record finished outputs: %s (--resume will redo them)", log->path,
                w < 0 ? strerror(errno) : "short write");
    }
    pthread_mutex_unlock(&log->lock);
    free(whole);
}

void resume_close(resume_log *log)
{
    if (!log)
        return;
    if (log->fd >= 0) {
        fsync(log->fd);
        close(log->fd);
    }
    for (size_t i = 0; i < log->n; i++) {
        free(log->v[i].name);
        free(log->v[i].key);
    }
    free(log->v);
    free(log->path);
    pthread_mutex_destroy(&log->lock);
    free(log);
}
