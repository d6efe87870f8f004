/* io.c — reading inputs whole, and outputs that are either complete or absent */
#define _GNU_SOURCE /* O_TMPFILE, linkat */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

hdm_status hdm__read_file(const char *path, uint64_t max, void **data, size_t *size,
                          hdm_error *err)
{
    *data = NULL;
    *size = 0;
    /* without blocking: a FIFO's open would wait for a writer; refused before any read */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return hdm__fail(err, HDM_ERR_IO, path, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        bool dir = S_ISDIR(st.st_mode);
        close(fd);
        return hdm__fail(err, HDM_ERR_IO, path, dir ? "is a directory" : "not a regular file");
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "file of %lld bytes exceeds the memory limit of %llu bytes "
                         "(raise it with --max-memory)",
                         (long long)st.st_size, (unsigned long long)max);
    }
    size_t n = (size_t)st.st_size;
    unsigned char *buf = malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory reading %zu bytes", n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            int e = r < 0 ? errno : 0;
            free(buf);
            close(fd);
            return hdm__fail(err, HDM_ERR_IO, path, "read failed: %s",
                             e ? strerror(e) : "file shrank while reading");
        }
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *size = n;
    return HDM_OK;
}

bool hdm__same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The temporary sits beside the destination so rename() is atomic (same file system); its name
 * starts with a dot and carries ".hadamard-tmp-" so a stale one from a killed run is never
 * taken for an output. */
static char *temp_name(const char *path)
{
    static atomic_uint counter;
    char *d = strdup(path), *b = strdup(path);
    char *res = NULL;
    if (d && b) {
        const char *dir = dirname(d), *base = basename(b);
        size_t n = strlen(dir) + strlen(base) + 64;
        res = malloc(n);
        if (res) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            unsigned r = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 16) ^
                         (atomic_fetch_add(&counter, 1) * 2654435761u);
            snprintf(res, n, "%s/.%s.hadamard-tmp-%08x", dir, base, r);
        }
    }
    free(d);
    free(b);
    return res;
}

static int open_unnamed(const char *path)
{
#ifdef O_TMPFILE
    char *d = strdup(path);
    if (!d)
        return -1;
    int fd = open(dirname(d), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
    free(d);
    if (fd < 0)
        return -1;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (access(proc, F_OK) != 0) { /* linking it in at commit needs /proc */
        close(fd);
        return -1;
    }
    return fd;
#else
    (void)path;
    return -1;
#endif
}

/* Gives an unnamed temporary its temporary name, so it can be renamed over the destination. */
static int link_unnamed(hdm__out *o)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(o->f));
    for (int tries = 0; tries < 100; tries++) {
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        if (errno != EEXIST)
            return errno;
        char *t = temp_name(o->path);
        if (!t)
            return ENOMEM;
        free(o->tmp);
        o->tmp = t;
    }
    return EEXIST;
}

hdm_status hdm__out_open(hdm__out *o, const char *path, hdm_error *err)
{
    memset(o, 0, sizeof *o);
    o->path = strdup(path);
    if (!o->path)
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        free(o->path);
        o->path = NULL;
        return hdm__fail(err, HDM_ERR_IO, path, "cannot write: is a directory");
    }
    /* An unnamed temporary (O_TMPFILE) vanishes by itself if the process dies, even by SIGKILL;
     * it gets a name only at commit. Where the file system lacks it, a named one is used. */
    int fd = open_unnamed(path);
    if (fd >= 0) {
        o->unnamed = true;
        o->tmp = temp_name(path);
        if (!o->tmp) {
            close(fd);
            free(o->path);
            memset(o, 0, sizeof *o);
            return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
        }
    }
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        free(o->tmp);
        o->tmp = temp_name(path);
        if (!o->tmp)
            break;
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        free(o->path);
        memset(o, 0, sizeof *o);
        return hdm__fail(err, HDM_ERR_IO, path, "cannot create: %s", strerror(e));
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        hdm__out_abort(o);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    return HDM_OK;
}

void hdm__out_write(hdm__out *o, const void *data, size_t n)
{
    if (o->failed || n == 0)
        return;
    if (fwrite(data, 1, n, o->f) != n) {
        o->failed = true;
        o->err_no = errno ? errno : EIO;
    }
}

static void sync_dir(const char *path)
{
    char *d = strdup(path);
    if (!d)
        return;
    int fd = open(dirname(d), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd); /* best effort: some file systems refuse fsync on directories */
        close(fd);
    }
    free(d);
}

hdm_status hdm__out_commit(hdm__out *o, hdm_error *err)
{
    int e = 0;
    if (o->failed)
        e = o->err_no;
    else if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    else if (fsync(fileno(o->f)) != 0 && errno != EINVAL && errno != EROFS)
        e = errno;
    if (!e && o->unnamed) {
        e = link_unnamed(o);
        if (!e)
            o->unnamed = false; /* it has a name now: abort must remove it */
    }
    int closed = fclose(o->f);
    o->f = NULL;
    if (!e && closed != 0)
        e = errno ? errno : EIO;
    if (!e && rename(o->tmp, o->path) != 0)
        e = errno;
    if (e) {
        hdm_status st = hdm__fail(err, HDM_ERR_IO, o->path, "write failed: %s", strerror(e));
        hdm__out_abort(o);
        return st;
    }
    sync_dir(o->path);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
    return HDM_OK;
}

void hdm__out_abort(hdm__out *o)
{
    if (o->f)
        fclose(o->f);
    if (o->tmp && !o->unnamed)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
}
