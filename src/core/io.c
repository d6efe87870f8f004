/* SPDX-License-Identifier: MIT */
/* io.c — reading inputs whole, and outputs that are either complete or absent */
#define _GNU_SOURCE /* O_TMPFILE, linkat */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
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
                         "(max_memory)",
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

/* The temporary sits beside the destination so rename() is atomic (same file system). Its name
 * is bounded whatever the destination's length (a 255-byte output name must still work): a dot,
 * at most 32 bytes of the destination's name to recognise it by, ".hadamard-tmp-", then the
 * creating host (and PID namespace) and pid, so that a later run can tell a stale one (its
 * process dead, and untouched for STALE_AGE_S) from one being written, even in a directory
 * shared over NFS, and a random tag. */
enum { TEMP_STEM = 32 };
#define TEMP_TAG ".hadamard-tmp-"

/* A short id of this host and PID namespace: FNV-1a of its name and of the inode of
 * /proc/self/ns/pid. A pid means something only within its namespace, so a run in another one
 * (a container with the same host name, "unshare --pid") must not judge our pids dead. */
uint32_t hdm__host_id(void)
{
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = '\0';
    uint32_t h = 2166136261u;
    for (const char *c = host; *c; c++)
        h = (h ^ (unsigned char)*c) * 16777619u;
    struct stat st;
    uint64_t ns = stat("/proc/self/ns/pid", &st) == 0 ? (uint64_t)st.st_ino : 0;
    for (int i = 0; i < 8; i++, ns >>= 8)
        h = (h ^ (unsigned char)(ns & 0xff)) * 16777619u;
    return h;
}

static char *temp_name(const char *dir, const char *base)
{
    static atomic_uint counter;
    size_t stem = strlen(base);
    if (stem > TEMP_STEM) {
        stem = TEMP_STEM;
        while (stem > 0 && ((unsigned char)base[stem] & 0xc0) == 0x80)
            stem--; /* never cut a UTF-8 sequence */
    }
    size_t n = strlen(dir) + stem + 80;
    char *res = malloc(n);
    if (!res)
        return NULL;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned r = (unsigned)ts.tv_nsec ^ ((unsigned)ts.tv_sec << 7) ^
                 (atomic_fetch_add(&counter, 1) * 2654435761u);
    snprintf(res, n, "%s/.%.*s" TEMP_TAG "%08x-%ld-%08x", dir, (int)stem, base, hdm__host_id(),
             (long)getpid(), r);
    return res;
}

/* True for a name this library makes (".STEM.hadamard-tmp-HOST-PID-TAG") from this host whose
 * creating process no longer exists. */
static bool stale_temp(const char *name, uint32_t host)
{
    if (name[0] != '.')
        return false;
    const char *t = NULL;
    for (const char *s = strstr(name, TEMP_TAG); s; s = strstr(s + 1, TEMP_TAG))
        t = s;
    if (!t)
        return false;
    t += strlen(TEMP_TAG);
    unsigned h, tag;
    long pid;
    int used = 0;
    if (strlen(t) < 20 || sscanf(t, "%8x-%ld-%8x%n", &h, &pid, &tag, &used) != 3 ||
        t[used] != '\0' || strspn(t, "0123456789abcdef-") != strlen(t) || t[8] != '-')
        return false;
    if (h != host || pid <= 0 || pid > INT32_MAX || (pid_t)pid == getpid())
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* A temporary is removed only when also untouched this long: a run writes its temporary as it
 * goes, which keeps its mtime fresh, so even a pid misjudged (a namespace /proc cannot show, a
 * pid reused) cannot cost a live run its output. */
enum { STALE_AGE_S = 10 * 60 };

/* Removes the stale temporaries of killed runs from dir, once per directory per process (the
 * last directory is remembered, so a batch into one directory scans it once). */
static void clean_stale(const char *dir)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static char *last;
    pthread_mutex_lock(&lock);
    bool done = last && strcmp(last, dir) == 0;
    if (!done) {
        free(last);
        last = strdup(dir);
    }
    pthread_mutex_unlock(&lock);
    if (done)
        return;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
    if (!d) {
        if (dfd >= 0)
            close(dfd);
        return;
    }
    uint32_t host = hdm__host_id();
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (stale_temp(e->d_name, host) && fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISREG(st.st_mode) && now - st.st_mtime > STALE_AGE_S)
            unlinkat(dfd, e->d_name, 0);
    }
    closedir(d);
}

/* HADAMARD_NAMED_TEMP=1 makes every output use a named temporary, as on a file system without
 * O_TMPFILE (read once; for tests of that path). */
static bool force_named(void)
{
    static atomic_int cached = -1;
    int v = atomic_load(&cached);
    if (v < 0) {
        const char *s = getenv("HADAMARD_NAMED_TEMP");
        v = s && *s && strcmp(s, "0") != 0;
        atomic_store(&cached, v);
    }
    return v;
}

static int open_unnamed(const char *dir)
{
#ifdef O_TMPFILE
    if (force_named())
        return -1;
    int fd = open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
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
    (void)dir;
    return -1;
#endif
}

/* Splits path into its directory and last component (both malloc'd). */
static bool split_path(const char *path, char **dir, char **base)
{
    const char *slash = strrchr(path, '/');
    if (slash && slash[1] == '\0')
        slash = NULL; /* "dir/": let open report it */
    if (!slash) {
        *dir = strdup(".");
        *base = strdup(path);
    } else {
        size_t dl = slash == path ? 1 : (size_t)(slash - path);
        *dir = malloc(dl + 1);
        if (*dir) {
            memcpy(*dir, path, dl);
            (*dir)[dl] = '\0';
        }
        *base = strdup(slash + 1);
    }
    if (*dir && *base)
        return true;
    free(*dir);
    free(*base);
    return false;
}

/* Gives an unnamed temporary its (short) temporary name, so it can be renamed over the
 * destination. */
static int link_unnamed(hdm__out *o)
{
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(o->f));
    for (int tries = 0; tries < 100; tries++) {
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0)
            return 0;
        if (errno != EEXIST)
            return errno;
        char *dir, *base;
        if (!split_path(o->path, &dir, &base))
            return ENOMEM;
        char *t = temp_name(dir, base);
        free(dir);
        free(base);
        if (!t)
            return ENOMEM;
        free(o->tmp);
        o->tmp = t;
    }
    return EEXIST;
}

static const char *errno_text(int e)
{
    return e == ENOMEM ? "out of memory" : strerror(e);
}

/* The file a destination names: symlinks followed (a dangling one to where it points), so the
 * real target is what gets replaced. *out is malloc'd; returns 0 or an errno. */
static int resolve(const char *path, char **out)
{
    char *cur = strdup(path);
    if (!cur)
        return ENOMEM;
    for (int hops = 0;; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode)) {
            *out = cur;
            return 0;
        }
        if (hops == 40) {
            free(cur);
            return ELOOP;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0) {
            int e = errno;
            free(cur);
            return e;
        }
        target[n] = '\0';
        char *next;
        if (target[0] == '/') {
            next = strdup(target);
        } else {
            const char *slash = strrchr(cur, '/');
            size_t dl = slash ? (size_t)(slash - cur) + 1 : 0;
            next = malloc(dl + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, dl);
                memcpy(next + dl, target, (size_t)n + 1);
            }
        }
        free(cur);
        if (!next)
            return ENOMEM;
        cur = next;
    }
}

static hdm_status open_fail(hdm__out *o, char *dir, char *base, hdm_status st)
{
    free(o->path);
    free(o->tmp);
    free(dir);
    free(base);
    memset(o, 0, sizeof *o);
    return st;
}

/* What is replaced keeps what it was: its permissions and, as far as we may, its owner. What
 * cannot be replaced faithfully, or that this process may not write, is refused before any
 * work. real is the destination with symlinks resolved, dir its directory; fills *st and
 * *existing for an existing destination. */
static hdm_status check_dest(const char *path, const char *real, const char *dir,
                             struct stat *st, bool *existing, hdm_error *err)
{
    *existing = stat(real, st) == 0;
    if (!*existing)
        return HDM_OK;
    if (S_ISDIR(st->st_mode))
        return hdm__fail(err, HDM_ERR_IO, path, "cannot write: is a directory");
    if (!S_ISREG(st->st_mode))
        return hdm__fail(err, HDM_ERR_IO, path, "cannot write: exists and is not a regular file");
    if (st->st_nlink > 1)
        return hdm__fail(err, HDM_ERR_IO, path,
                         "refusing to replace a file with %ju hard links "
                         "(the other names would keep the old contents)",
                         (uintmax_t)st->st_nlink);
    /* even root, whom access() lets write anything, does not replace a file marked read-only */
    if (!(st->st_mode & 0222))
        return hdm__fail(err, HDM_ERR_IO, path,
                         "refusing to replace a read-only file (it has no write permission)");
    /* rename() would replace a file we may not write, and the new one would be ours */
    if (faccessat(AT_FDCWD, real, W_OK, AT_EACCESS) != 0)
        return hdm__fail(err, HDM_ERR_IO, path, "no write permission; refusing to replace it");
    /* in a sticky directory (/tmp) only the owner of a file or of the directory may rename over
     * it: say so now rather than after all the work */
    struct stat ds;
    uid_t me = geteuid();
    if (me != 0 && stat(dir, &ds) == 0 && (ds.st_mode & S_ISVTX) && st->st_uid != me &&
        ds.st_uid != me)
        return hdm__fail(err, HDM_ERR_IO, path,
                         "owned by another user in a sticky directory; refusing to replace it");
    return HDM_OK;
}

hdm_status hdm__out_open(hdm__out *o, const char *path, hdm_error *err)
{
    memset(o, 0, sizeof *o);
    char *dir = NULL, *base = NULL;
    int e = resolve(path, &o->path);
    if (e)
        return open_fail(o, dir, base,
                         hdm__fail(err, e == ENOMEM ? HDM_ERR_NOMEM : HDM_ERR_IO, path,
                                   "cannot write: %s", errno_text(e)));
    if (!split_path(o->path, &dir, &base)) {
        dir = base = NULL;
        return open_fail(o, dir, base, hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory"));
    }
    struct stat st;
    bool existing = false;
    hdm_status cs = check_dest(path, o->path, dir, &st, &existing, err);
    if (cs)
        return open_fail(o, dir, base, cs);
    clean_stale(dir);
    /* An unnamed temporary (O_TMPFILE) vanishes by itself if the process dies, even by SIGKILL;
     * it gets a name only at commit. Where the file system lacks it, a named one is used. */
    int fd = open_unnamed(dir);
    if (fd >= 0) {
        o->unnamed = true;
        o->tmp = temp_name(dir, base);
        if (!o->tmp) {
            close(fd);
            return open_fail(o, dir, base, hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory"));
        }
    }
    for (int tries = 0; tries < 100 && fd < 0; tries++) {
        free(o->tmp);
        o->tmp = temp_name(dir, base);
        if (!o->tmp) {
            errno = ENOMEM;
            break;
        }
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        e = errno;
        hdm_status st2 = e == ENOMEM ? HDM_ERR_NOMEM : HDM_ERR_IO;
        return open_fail(o, dir, base,
                         hdm__fail(err, st2, path, "cannot create: %s", errno_text(e)));
    }
    if (existing) {
        /* best effort: an unprivileged user may keep only the group, or neither */
        if (fchown(fd, st.st_uid, st.st_gid) != 0)
            (void)!fchown(fd, (uid_t)-1, st.st_gid);
        (void)!fchmod(fd, st.st_mode & 07777);
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        close(fd);
        free(dir);
        free(base);
        hdm__out_abort(o);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    setvbuf(o->f, NULL, _IOFBF, 1 << 20);
    free(dir);
    free(base);
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
    /* A new destination gets the unnamed file linked straight in: no moment exists at which a
     * kill could leave it under a temporary name. An existing one is replaced by rename. */
    bool placed = false;
    if (!e && o->unnamed) {
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(o->f));
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->path, AT_SYMLINK_FOLLOW) == 0)
            placed = true;
        else if (errno != EEXIST)
            e = errno;
        else if (!(e = link_unnamed(o)))
            o->unnamed = false; /* it has a name now: abort must remove it */
    }
    int closed = fclose(o->f);
    o->f = NULL;
    if (!e && closed != 0) {
        e = errno ? errno : EIO;
        if (placed)
            unlink(o->path); /* it was new: absent again, as before the call */
    }
    if (!e && !placed && rename(o->tmp, o->path) != 0)
        e = errno;
    if (e) {
        hdm_status st = hdm__fail(err, HDM_ERR_IO, o->path, "write failed: %s", errno_text(e));
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

/* ---- the public face of the output rules ---- */

hdm_status hdm_output_check(const char *path, hdm_error *err)
{
    if (!path || !*path)
        return hdm__fail(err, HDM_ERR_ARG, path, "no output path given");
    char *real = NULL, *dir = NULL, *base = NULL;
    int e = resolve(path, &real);
    if (e)
        return hdm__fail(err, e == ENOMEM ? HDM_ERR_NOMEM : HDM_ERR_IO, path,
                         "cannot write: %s", errno_text(e));
    if (!split_path(real, &dir, &base)) {
        free(real);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    struct stat st, ds;
    bool existing;
    hdm_status res = check_dest(path, real, dir, &st, &existing, err);
    if (!res && stat(dir, &ds) != 0)
        res = hdm__fail(err, HDM_ERR_IO, path, "cannot write: directory %s: %s", dir,
                        strerror(errno));
    else if (!res && !S_ISDIR(ds.st_mode))
        res = hdm__fail(err, HDM_ERR_IO, path, "cannot write: %s is not a directory", dir);
    /* the temporary is created beside the destination, then renamed over it */
    else if (!res && faccessat(AT_FDCWD, dir, W_OK | X_OK, AT_EACCESS) != 0)
        res = hdm__fail(err, HDM_ERR_IO, path, "cannot write: no write permission in %s", dir);
    free(real);
    free(dir);
    free(base);
    return res;
}

hdm_status hdm_write_file(const char *path, const void *data, size_t size, hdm_error *err)
{
    if (!path || !*path || (!data && size))
        return hdm__fail(err, HDM_ERR_ARG, path, "hdm_write_file: %s",
                         !path || !*path ? "no path given" : "NULL data");
    hdm__out o;
    hdm_status st = hdm__out_open(&o, path, err);
    if (st)
        return st;
    hdm__out_write(&o, data, size);
    return hdm__out_commit(&o, err);
}
