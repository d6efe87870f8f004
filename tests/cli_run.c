/* SPDX-License-Identifier: MIT */
/* cli_run.c — running the hadamard binary from tests: sandboxed children under a watchdog */
#include "cli_run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const cli_opts no_opts;

/* The environment with o's entries put in, built before fork: a child of a process that may
 * have threads must not allocate. */
static char **env_with(const char *const *extra)
{
    size_t n = 0, k = 0;
    while (environ[n])
        n++;
    while (extra[k])
        k++;
    char **env = calloc(n + k + 1, sizeof *env);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        bool replaced = false;
        for (size_t j = 0; j < k && !replaced; j++) {
            const char *eq = strchr(extra[j], '=');
            size_t len = eq ? (size_t)(eq - extra[j]) + 1 : strlen(extra[j]);
            replaced = strncmp(environ[i], extra[j], len) == 0;
        }
        if (!replaced)
            env[m++] = environ[i];
    }
    for (size_t j = 0; j < k; j++)
        env[m++] = (char *)extra[j];
    return env;
}

/* A file holding n bytes, read from its start, already unlinked. */
static int stdin_file(const void *data, size_t n)
{
    char path[] = "/tmp/hdm-cli-in-XXXXXX";
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return -1;
    unlink(path);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, (const char *)data + off, n - off);
        if (w <= 0) {
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static bool limit(int resource, rlim_t v)
{
    struct rlimit r = {v, v};
    return !v || setrlimit(resource, &r) == 0;
}

/* In the child, before stderr is redirected: why it gives up, on the test's own stderr, in one
 * write (no stdio after fork). */
static void child_cannot(const char *what)
{
    char msg[160] = "cli_run: the child cannot ";
    size_t n = strlen(msg), w = strlen(what);
    if (w > 100)
        w = 100;
    memcpy(msg + n, what, w);
    n += w;
    memcpy(msg + n, ", errno ", 8);
    n += 8;
    char digits[12];
    size_t k = 0;
    for (int e = errno; k == 0 || e; e /= 10)
        digits[k++] = (char)('0' + e % 10);
    while (k)
        msg[n++] = digits[--k];
    msg[n++] = '\n';
    ssize_t ignored = write(2, msg, n);
    (void)ignored;
    _exit(CLI_SKIP);
}

/* In the child: only system calls from here on. */
static void child_setup(const char *dir, const cli_opts *o, int in_fd, char **env)
{
    if (dir && chdir(dir) != 0)
        child_cannot("enter its directory");
    if (in_fd >= 0)
        dup2(in_fd, 0);
    if (o->ro_bind &&
        (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
         mount(o->ro_bind, o->ro_bind, NULL, MS_BIND, NULL) ||
         mount(NULL, o->ro_bind, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL)))
        child_cannot("make the read-only bind mount");
    if (!limit(RLIMIT_FSIZE, o->fsize) || !limit(RLIMIT_DATA, o->data) ||
        !limit(RLIMIT_AS, o->as) || !limit(RLIMIT_NPROC, o->nproc))
        child_cannot("set its resource limits");
    if (o->uid && (setgroups(0, NULL) || setgid(o->uid) || setuid(o->uid)))
        child_cannot("change its user");
    if (env)
        environ = env;
    alarm(o->timeout ? o->timeout : CLI_TIMEOUT);
}

pid_t cli_fork(const char *dir, const cli_opts *o)
{
    if (!o)
        o = &no_opts;
    int in_fd = o->in_fd > 0 ? o->in_fd
                : o->in    ? stdin_file(o->in, o->in_len)
                           : open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (in_fd < 0)
        return -1;
    char **env = o->env ? env_with(o->env) : NULL;
    pid_t pid = fork();
    if (pid == 0) {
        child_setup(dir, o, in_fd, env);
        return 0;
    }
    free(env);
    if (in_fd != o->in_fd)
        close(in_fd);
    return pid;
}

void cli_start(cli_child *c, const char *dir, const cli_opts *o, const char *const *args)
{
    size_t n = 0;
    while (args[n])
        n++;
    const char **argv = calloc(n + 2, sizeof *argv);
    argv[0] = HDM_BINARY_DIR "/hadamard";
    memcpy(argv + 1, args, n * sizeof *argv);
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    if (pipe2(po, O_CLOEXEC) != 0 || pipe2(pe, O_CLOEXEC) != 0)
        abort();
    pid_t pid = cli_fork(dir, o);
    if (pid == 0) {
        dup2(po[1], 1);
        dup2(pe[1], 2);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    if (pid < 0)
        abort();
    free(argv);
    close(po[1]);
    close(pe[1]);
    /* non-blocking: what the child leaves to a grandchild need not end before it is read */
    fcntl(po[0], F_SETFL, O_NONBLOCK);
    fcntl(pe[0], F_SETFL, O_NONBLOCK);
    *c = (cli_child){.pid = pid, .out = po[0], .err = pe[0], .whole_out = o && o->whole_out};
}

typedef struct sink {
    char *buf;
    size_t cap, len;     /* len: bytes kept in buf */
    size_t total;        /* bytes seen */
    unsigned char *all;  /* everything, when wanted */
    size_t all_cap;
} sink;

/* Reads what fd has now; false at its end. */
static bool take(int fd, sink *s)
{
    char chunk[65536];
    for (;;) {
        ssize_t k = read(fd, chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno == EAGAIN;
        if (k == 0)
            return false;
        size_t room = s->cap - 1 - s->len, keep = (size_t)k < room ? (size_t)k : room;
        memcpy(s->buf + s->len, chunk, keep);
        s->len += keep;
        if (s->all_cap) {
            while (s->total + (size_t)k > s->all_cap)
                s->all = realloc(s->all, s->all_cap *= 2);
            memcpy(s->all + s->total, chunk, (size_t)k);
        }
        s->total += (size_t)k;
    }
}

void cli_finish(cli_child *c, cli_result *r)
{
    sink out = {.buf = r->out, .cap = sizeof r->out}, err = {.buf = r->err, .cap = sizeof r->err};
    if (c->whole_out)
        out.all = malloc(out.all_cap = 1 << 16);
    struct pollfd p[2] = {{.fd = c->out, .events = POLLIN}, {.fd = c->err, .events = POLLIN}};
    sink *s[2] = {&out, &err};
    struct rusage ru = {0};
    bool exited = false;
    while (p[0].fd >= 0 || p[1].fd >= 0) {
        /* once the child has gone, only what is already written is read */
        if (!exited && wait4(c->pid, &r->wstatus, WNOHANG, &ru) == c->pid)
            exited = true;
        if (!exited)
            poll(p, 2, 50);
        for (int i = 0; i < 2; i++)
            if (p[i].fd >= 0 && (!take(p[i].fd, s[i]) || exited)) {
                close(p[i].fd);
                p[i].fd = -1;
            }
    }
    while (!exited) {
        pid_t w = wait4(c->pid, &r->wstatus, 0, &ru);
        exited = w == c->pid || (w < 0 && errno != EINTR);
    }
    r->out[out.len] = '\0';
    r->err[err.len] = '\0';
    r->out_len = out.total;
    r->whole_out = out.all;
    r->maxrss_kb = ru.ru_maxrss;
    r->status = WIFEXITED(r->wstatus) ? WEXITSTATUS(r->wstatus) : 128 + WTERMSIG(r->wstatus);
}

void cli_run_with(cli_result *r, const char *dir, const cli_opts *o, const char *const *args)
{
    cli_child c;
    cli_start(&c, dir, o, args);
    cli_finish(&c, r);
}

void cli_run(cli_result *r, const char *dir, const char *const *args)
{
    cli_run_with(r, dir, NULL, args);
}

bool cli_skipped(const cli_result *r)
{
    return WIFEXITED(r->wstatus) && WEXITSTATUS(r->wstatus) == CLI_SKIP;
}

bool cli_under_ci(void)
{
    const char *ci = getenv("CI");
    return ci && strcmp(ci, "true") == 0;
}

bool cli_has_cap(int cap)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    unsigned long long eff = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof line, f))
        found = sscanf(line, "CapEff: %llx", &eff) == 1;
    if (f)
        fclose(f);
    if (!found) /* no /proc: only root's euid says anything */
        return geteuid() == 0;
    return cap >= 0 && cap < 64 && (eff >> cap & 1);
}

static bool above_hard(int resource, rlim_t v)
{
    struct rlimit r;
    return v && getrlimit(resource, &r) == 0 && r.rlim_max != RLIM_INFINITY && v > r.rlim_max;
}

bool cli_cannot_here(const cli_opts *o)
{
    if (!o)
        return false;
    enum { CAP_SETGID_ = 6, CAP_SETUID_ = 7, CAP_SYS_ADMIN_ = 21 };
    return (o->uid && (!cli_has_cap(CAP_SETUID_) || !cli_has_cap(CAP_SETGID_))) ||
           (o->ro_bind && !cli_has_cap(CAP_SYS_ADMIN_)) || above_hard(RLIMIT_FSIZE, o->fsize) ||
           above_hard(RLIMIT_DATA, o->data) || above_hard(RLIMIT_AS, o->as) ||
           above_hard(RLIMIT_NPROC, o->nproc);
}

void cli_drain(int fd, char *buf, size_t cap)
{
    size_t n = 0;
    ssize_t k;
    while (n + 1 < cap && ((k = read(fd, buf + n, cap - 1 - n)) > 0 || (k < 0 && errno == EINTR)))
        if (k > 0)
            n += (size_t)k;
    buf[n] = '\0';
    close(fd);
}

char *scratch_new(void)
{
    char *d = strdup("/tmp/hdm-test-XXXXXX");
    return mkdtemp(d);
}

static int rm_one(const char *p, const struct stat *s, int flag, struct FTW *f)
{
    (void)s;
    (void)flag;
    (void)f;
    chmod(p, 0700);
    return remove(p);
}

void scratch_free(char *dir)
{
    if (!dir)
        return;
    chmod(dir, 0700);
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

const char *at(const char *dir, const char *name)
{
    static _Thread_local char buf[8][1024];
    static _Thread_local int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

bool exists(const char *dir, const char *name)
{
    struct stat st;
    return stat(at(dir, name), &st) == 0;
}

int temp_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += strstr(e->d_name, "hadamard-tmp") != NULL;
    if (d)
        closedir(d);
    return n;
}

unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    *n = b ? fread(b, 1, (size_t)len, f) : 0;
    fclose(f);
    return b;
}

void copy_sample(const char *dir, const char *name)
{
    size_t n;
    unsigned char *b = slurp(at(HDM_SOURCE_DIR "/samples", name), &n);
    FILE *f = b ? fopen(at(dir, name), "wb") : NULL;
    if (f) {
        fwrite(b, 1, n, f);
        fclose(f);
    }
    free(b);
}

int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}
