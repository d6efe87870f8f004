/* SPDX-License-Identifier: MIT */
/* cli_run.h — run the built hadamard binary in a scratch directory and capture what it says */
#ifndef HDM_CLI_RUN_H
#define HDM_CLI_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

/* How a child is run. All zero (or a NULL pointer) is: stdin from /dev/null, no limits, the
 * caller's user, a watchdog of CLI_TIMEOUT seconds. */
typedef struct cli_opts {
    const void *in;          /* stdin holds these in_len bytes (a file), unless NULL */
    size_t in_len;
    int in_fd;               /* stdin is this descriptor when > 0 (in is then ignored) */
    rlim_t fsize, data, as;  /* RLIMIT_FSIZE, RLIMIT_DATA, RLIMIT_AS; 0 = none */
    rlim_t nproc;            /* RLIMIT_NPROC (with uid, an unused one); 0 = none */
    uid_t uid;               /* become this user and group before exec (root only); 0 = stay */
    const char *ro_bind;     /* make this directory a read-only bind mount in a private mount
                                namespace, read-only even for root */
    const char *const *env;  /* NULL-ended "NAME=value" entries added to the environment */
    unsigned timeout;        /* alarm() in the child, seconds; 0 = CLI_TIMEOUT */
    bool whole_out;          /* keep all of stdout in whole_out (malloc'd, the caller frees) */
} cli_opts;

enum {
    CLI_TIMEOUT = 120, /* a hang becomes a SIGALRM exit, which fails the test */
    CLI_SKIP = 77,     /* the child's exit status when it could not set up what opts ask */
    CLI_NOBODY = 65534,
};

typedef struct cli_result {
    int status;             /* exit status, or 128 + signal */
    int wstatus;            /* the same as waitpid gave it */
    long maxrss_kb;         /* the child's peak resident size */
    char out[16384];        /* stdout (its start, when longer) */
    char err[1 << 17];      /* stderr */
    unsigned char *whole_out; /* with opts.whole_out: all of stdout */
    size_t out_len;         /* bytes on stdout in all */
} cli_result;

/* Runs HDM_BINARY_DIR/hadamard with the NULL-terminated args in directory dir. */
void cli_run(cli_result *r, const char *dir, const char *const *args);
#define CLI(r, dir, ...) cli_run((r), (dir), (const char *const[]){__VA_ARGS__, NULL})
/* The same with options (NULL: the defaults). */
void cli_run_with(cli_result *r, const char *dir, const cli_opts *o, const char *const *args);
#define CLI_WITH(r, dir, o, ...)                                                               \
    cli_run_with((r), (dir), (o), (const char *const[]){__VA_ARGS__, NULL})

/* A child running hadamard, for tests that signal it or watch it while it runs. */
typedef struct cli_child {
    pid_t pid;
    int out, err; /* read ends of its stdout and stderr */
    bool whole_out;
} cli_child;
void cli_start(cli_child *c, const char *dir, const cli_opts *o, const char *const *args);
#define CLI_START(c, dir, o, ...)                                                              \
    cli_start((c), (dir), (o), (const char *const[]){__VA_ARGS__, NULL})
/* Reads what it says until it exits, and how it ended. */
void cli_finish(cli_child *c, cli_result *r);

/* fork() with o applied in the child (directory dir unless NULL, stdin, limits, user,
 * environment, watchdog): 0 in the child, the child's pid in the parent. A child that cannot
 * apply o exits with CLI_SKIP. */
pid_t cli_fork(const char *dir, const cli_opts *o);
/* The child exited with CLI_SKIP. */
bool cli_skipped(const cli_result *r);

/* A test that cannot set up what it needs is skipped, saying why, only when the reason is a
 * limit of the machine that README's "When a test may skip" lists; under CI=true any other
 * reason fails the test (the project's machines can set up everything), elsewhere it is a
 * skip with a warning. */
bool cli_under_ci(void);
/* This process has capability cap (CAP_SETUID, ...) in its effective set. */
bool cli_has_cap(int cap);
/* A child that exited with CLI_SKIP under options o hit a listed limit of the machine: o asks to
 * change user without CAP_SETUID and CAP_SETGID, for a bind mount without CAP_SYS_ADMIN, or for a
 * resource limit above one's hard limit (raising it needs CAP_SYS_RESOURCE). */
bool cli_cannot_here(const cli_opts *o);
/* Ends the test for a set-up it cannot do: listed (see above) skips, else as cli_under_ci says.
 * The reason is a printf format with its arguments, starting with a string literal. */
#define CLI_CANNOT(listed, ...)                                                                \
    do {                                                                                       \
        if (!(listed) && cli_under_ci())                                                       \
            cr_assert_fail("skipped under CI=true, which README does not allow: " __VA_ARGS__); \
        cr_log_warn("skipped: " __VA_ARGS__);                                                  \
        cr_skip_test(__VA_ARGS__);                                                             \
    } while (0)
/* Reads fd to its end into buf (NUL-terminated, cut at cap - 1 bytes) and closes it. */
void cli_drain(int fd, char *buf, size_t cap);

/* A new empty scratch directory (removed with its files by scratch_free). */
char *scratch_new(void);
void scratch_free(char *dir);
/* dir/name, in one of 8 buffers used in turn (so a few can be alive at once) */
const char *at(const char *dir, const char *name);
bool exists(const char *dir, const char *name);
/* Number of entries in dir whose name contains "hadamard-tmp" (stale temporaries). */
int temp_files(const char *dir);
/* Copies a sample image into dir. */
void copy_sample(const char *dir, const char *name);
/* The whole file in a new buffer (size in *n), NULL if unreadable. */
unsigned char *slurp(const char *path, size_t *n);
/* Count of lines in s. */
int lines(const char *s);

#endif
