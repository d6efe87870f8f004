/* SPDX-License-Identifier: MIT */
/* batch.c — the same steps over many files: jobs, resume, shards, a report, clean stops */
#define _XOPEN_SOURCE 700 /* realpath */
#include "cli/batch.h"
#include "cli/messages.h"
#include "cli/resume.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { CANCELLED = 130, USAGE = 2, FAIL = 1 };

static char *dup_or_empty(const char *s) { return strdup(s ? s : ""); }
static const char *base_name(const char *p);

static int push(batch_plan *l, const char *input, const char *rel_dir, const char *root,
                bool walked, bool image)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 256;
        batch_item *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    batch_item *it = &l->v[l->n];
    memset(it, 0, sizeof *it);
    it->input = strdup(input);
    it->rel_dir = dup_or_empty(rel_dir);
    it->root = dup_or_empty(root);
    it->walked = walked;
    it->image = image;
    /* the shard key: a walked file's path below its root, whatever the root is called on this
     * machine; a named file's path as given */
    const char *base = walked ? base_name(input) : input;
    size_t kl = strlen(it->rel_dir) + strlen(base) + 2;
    if ((it->key = malloc(kl)))
        snprintf(it->key, kl, "%s%s%s", walked ? it->rel_dir : "",
                 walked && *it->rel_dir ? "/" : "", base);
    if (!it->input || !it->rel_dir || !it->root || !it->key) {
        free(it->input);
        free(it->rel_dir);
        free(it->root);
        free(it->key);
        return -1;
    }
    l->n++;
    return 0;
}

static void free_item(batch_item *it)
{
    free(it->input);
    free(it->output);
    free(it->rel_dir);
    free(it->root);
    free(it->key);
    free(it->error);
}

void batch_plan_free(batch_plan *l)
{
    for (size_t i = 0; i < l->n; i++)
        free_item(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- a set of files by device and inode (directories walked; inputs and operands) ---- */

typedef struct file_id {
    dev_t dev;
    ino_t ino;
} file_id;

typedef struct id_set {
    file_id *v;
    bool *used;
    size_t cap, n;
} id_set;

static size_t id_hash(file_id id, size_t cap)
{
    uint64_t h = (uint64_t)id.dev * 0x9e3779b97f4a7c15u ^ (uint64_t)id.ino * 0xc2b2ae3d27d4eb4fu;
    return (size_t)(h ^ h >> 29) & (cap - 1);
}

static bool id_has(const id_set *s, file_id id)
{
    if (!s->cap)
        return false;
    for (size_t i = id_hash(id, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (!s->used[i])
            return false;
        if (s->v[i].dev == id.dev && s->v[i].ino == id.ino)
            return true;
    }
}

/* Adds id; returns 1 if it was new, 0 if present, -1 out of memory. */
static int id_add(id_set *s, file_id id)
{
    if (id_has(s, id))
        return 0;
    if (2 * (s->n + 1) > s->cap) {
        id_set g = {.cap = s->cap ? s->cap * 2 : 64};
        g.v = malloc(g.cap * sizeof *g.v);
        g.used = calloc(g.cap, 1);
        if (!g.v || !g.used) {
            free(g.v);
            free(g.used);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++)
            if (s->used[i])
                id_add(&g, s->v[i]);
        free(s->v);
        free(s->used);
        *s = g;
    }
    size_t i = id_hash(id, s->cap);
    while (s->used[i])
        i = (i + 1) & (s->cap - 1);
    s->used[i] = true;
    s->v[i] = id;
    s->n++;
    return 1;
}

static void id_free(id_set *s)
{
    free(s->v);
    free(s->used);
}

static bool file_id_of(const char *path, file_id *id)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    *id = (file_id){st.st_dev, st.st_ino};
    return true;
}

/* ---- paths ---- */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* An absolute path with "." and ".." and repeated slashes resolved by the letters alone. */
static char *lexical_abs(const char *p)
{
    char cwd[PATH_MAX] = "";
    if (p[0] != '/' && !getcwd(cwd, sizeof cwd))
        cwd[0] = '\0';
    size_t len = strlen(cwd) + strlen(p) + 3;
    char *in = malloc(len), *out = malloc(len);
    if (!in || !out) {
        free(in);
        free(out);
        return NULL;
    }
    snprintf(in, len, "%s/%s", cwd, p);
    size_t n = 0;
    for (char *c = in, *next; *c; c = next) {
        while (*c == '/')
            c++;
        if (!*c)
            break;
        next = strchr(c, '/');
        size_t clen = next ? (size_t)(next - c) : strlen(c);
        if (!next)
            next = c + clen;
        if (clen == 1 && c[0] == '.')
            continue;
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            while (n > 0 && out[n - 1] != '/')
                n--;
            if (n > 0)
                n--;
            continue;
        }
        out[n++] = '/';
        memcpy(out + n, c, clen);
        n += clen;
    }
    if (n == 0)
        out[n++] = '/';
    out[n] = '\0';
    free(in);
    return out;
}

/* The path a file has or would have: its directory resolved (symlinks too) where it exists,
 * its own name kept, so an output that does not exist yet compares with an input. */
static char *norm_path(const char *p)
{
    char *lex = lexical_abs(p);
    if (!lex)
        return NULL;
    char *slash = strrchr(lex, '/');
    if (slash == lex)
        return lex;
    *slash = '\0';
    char real[PATH_MAX];
    char *res = NULL;
    if (realpath(lex, real)) {
        size_t len = strlen(real) + strlen(slash + 1) + 2;
        res = malloc(len);
        if (res)
            snprintf(res, len, "%s%s%s", real, strcmp(real, "/") ? "/" : "", slash + 1);
        free(lex);
        return res;
    }
    *slash = '/';
    return lex;
}

/* The base name of the directory p resolves to ({root}). */
static char *dir_base(const char *p)
{
    char real[PATH_MAX];
    if (realpath(p, real))
        return strdup(base_name(real));
    char *lex = lexical_abs(p);
    char *res = lex ? strdup(base_name(lex)) : NULL;
    free(lex);
    return res;
}

static char *parent_of(const char *p)
{
    const char *s = strrchr(p, '/');
    if (!s)
        return strdup(".");
    if (s == p)
        return strdup("/");
    return strndup(p, (size_t)(s - p));
}

/* ---- choosing inputs ---- */

static bool hidden_or_temp(const char *name)
{
    return name[0] == '.' || strstr(name, ".hadamard-tmp-") != NULL;
}

/* The format a file's first bytes show, by hdm_format_sniff; errno set when unreadable. */
static hdm_format sniff_file(const char *path, int *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    *err = 0;
    if (fd < 0) {
        *err = errno;
        return HDM_FORMAT_UNKNOWN;
    }
    unsigned char head[64];
    ssize_t n;
    do
        n = read(fd, head, sizeof head);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        *err = errno;
    close(fd);
    return n > 0 ? hdm_format_sniff(head, (size_t)n) : HDM_FORMAT_UNKNOWN;
}

typedef struct walker {
    batch_plan *l;
    const batch_config *cfg;
    id_set visited;
    bool have_out;
    file_id out_dir;
    const char *root_name;
    bool in_out; /* walking the out-dir below a root: its files are listed as skipped */
} walker;

/* A file or directory found by a walk that cannot be read: it fails as itself (no output),
 * told on stderr and in the report when the run starts. Returns 0 or -1 (out of memory). */
static int fail_found(walker *w, const char *path, const char *rel, const char *what, int err)
{
    if (push(w->l, path, rel, w->root_name, true, false) != 0)
        return -1;
    batch_item *it = &w->l->v[w->l->n - 1];
    char msg[512];
    if (err)
        snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
    else
        snprintf(msg, sizeof msg, "%s", what);
    it->status = BATCH_FAILED;
    return (it->error = strdup(msg)) ? 0 : -1;
}

/* Returns 0, -1 on out of memory, or CANCELLED. */
static int walk(walker *w, const char *root, const char *rel, int depth)
{
    char path[4096];
    snprintf(path, sizeof path, "%s%s%s", root, *rel && strcmp(root, "/") ? "/" : "", rel);
    DIR *d = opendir(path);
    if (!d) /* fails as that directory; the rest of the tree still runs */
        return fail_found(w, path, rel, "cannot read directory", errno);
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (errno = 0, e = readdir(d))) {
        if (*w->cfg->cancel) {
            rc = CANCELLED;
            break;
        }
        if (hidden_or_temp(e->d_name))
            continue; /* ".", "..", hidden files and our own temporaries are never taken */
        char child[4096], crel[4096];
        int n1 = snprintf(child, sizeof child, "%s%s%s", path, strcmp(path, "/") ? "/" : "",
                          e->d_name);
        int n2 = snprintf(crel, sizeof crel, "%s%s%s", rel, *rel ? "/" : "", e->d_name);
        if (n1 < 0 || n2 < 0 || (size_t)n1 >= sizeof child || (size_t)n2 >= sizeof crel) {
            cli_say("%s/%s: path too long; skipped", path, e->d_name);
            continue;
        }
        struct stat st;
        if (w->in_out) {
            if (stat(child, &st) != 0)
                continue;
            if (S_ISDIR(st.st_mode)) {
                int fresh = depth < 64 ? id_add(&w->visited, (file_id){st.st_dev, st.st_ino}) : 0;
                rc = fresh < 0 ? -1 : fresh ? walk(w, root, crel, depth + 1) : 0;
            } else if (S_ISREG(st.st_mode)) {
                /* not taken, but not dropped silently either (this batch's own outputs among
                 * them are taken out again once the outputs are named) */
                rc = push(w->l, child, rel, w->root_name, true, false);
                if (rc == 0) {
                    batch_item *it = &w->l->v[w->l->n - 1];
                    it->status = BATCH_SKIPPED;
                    it->in_out_dir = true;
                    if (!(it->error = strdup("in the output directory")))
                        rc = -1;
                }
            }
            continue;
        }
        if (stat(child, &st) != 0) {
            struct stat ls;
            if (errno != ENOENT)
                rc = fail_found(w, child, rel, "cannot read", errno);
            else if (lstat(child, &ls) == 0 && S_ISLNK(ls.st_mode))
                rc = fail_found(w, child, rel, "a symbolic link to nothing", 0);
            continue; /* else gone since readdir */
        }
        if (S_ISDIR(st.st_mode)) {
            file_id id = {st.st_dev, st.st_ino};
            if (!w->cfg->recursive || depth >= 64)
                continue;
            /* the out-dir below a root: our outputs, never inputs; what else is there is
             * listed as skipped */
            bool out = w->have_out && id.dev == w->out_dir.dev && id.ino == w->out_dir.ino;
            int fresh = id_add(&w->visited, id);
            w->in_out = out;
            if (fresh < 0)
                rc = -1;
            else if (fresh)
                rc = walk(w, root, crel, depth + 1);
            w->in_out = false;
        } else if (S_ISREG(st.st_mode)) {
            int err;
            hdm_format f = sniff_file(child, &err);
            if (err) { /* a file we cannot read is a failure, not a file we do not read */
                rc = fail_found(w, child, rel, "cannot read", err);
            } else if (st.st_size == 0) {
                rc = fail_found(w, child, rel, "empty file", 0);
            } else {
                rc = push(w->l, child, rel, w->root_name, true, f != HDM_FORMAT_UNKNOWN);
                if (rc == 0 && f == HDM_FORMAT_UNKNOWN) {
                    batch_item *it = &w->l->v[w->l->n - 1];
                    it->status = BATCH_SKIPPED;
                    if (!(it->error = strdup("not in a format hadamard reads")))
                        rc = -1;
                }
            }
        } else if (hdm_format_named(child) != HDM_FORMAT_UNKNOWN) {
            /* a FIFO or device under an image's name fails as that file, as when named, and is
             * never opened (a FIFO would block); under other names it is passed over */
            rc = fail_found(w, child, rel, "not a regular file", 0);
        }
    }
    if (rc == 0 && !e && errno)
        rc = fail_found(w, path, rel, "cannot read directory", errno);
    closedir(d);
    return rc;
}

/* Reads the "-" list from stdin: one path a line (blank lines ignored), or NUL-separated.
 * The list is untrusted: an entry is at most a path long and the whole list at most
 * max_memory bytes, so an endless stream (/dev/zero, "yes ''") ends as a usage error. */
static int read_list(walker *w)
{
    const batch_config *cfg = w->cfg;
    bool nul = cfg->null_list;
    int sep = nul ? '\0' : '\n';
    const char *unit = nul ? "entry" : "line";
    uint64_t limit = cfg->opt && cfg->opt->max_memory ? cfg->opt->max_memory : UINT64_MAX;
    char *buf = malloc(PATH_MAX + 1);
    if (!buf)
        return -1;
    uint64_t total = 0;
    size_t entry = 0, len = 0;
    bool has_nul = false, eof = false;
    int rc = 0;
    while (rc == 0 && !eof) {
        errno = 0;
        int c = getc_unlocked(stdin);
        if (c == EOF) {
            if (ferror(stdin)) {
                if (*cfg->cancel) {
                    rc = CANCELLED;
                } else if (errno == EINTR) {
                    clearerr(stdin);
                    continue;
                } else {
                    cli_say("-: cannot read the list on standard input: %s",
                            strerror(errno ? errno : EIO));
                    rc = FAIL;
                }
                break;
            }
            eof = true;
            if (len == 0 && !has_nul)
                break; /* the last entry ended with its separator */
            c = sep;
        } else if (++total > limit) {
            cli_say("-: the list on standard input is longer than max_memory (%llu bytes); "
                    "raise it with --max-memory", (unsigned long long)limit);
            rc = USAGE;
            break;
        }
        if ((total & 0xfff) == 0 && *cfg->cancel) {
            rc = CANCELLED;
            break;
        }
        if (c != sep) {
            if (len == PATH_MAX - 1) {
                cli_say("-: %s %zu of the list on standard input is longer than a path can be "
                        "(PATH_MAX, %d bytes)", unit, entry + 1, PATH_MAX);
                rc = USAGE;
                break;
            }
            has_nul |= c == '\0';
            buf[len++] = (char)c;
            continue;
        }
        entry++;
        if (!nul && len > 0 && buf[len - 1] == '\r')
            len--;
        buf[len] = '\0';
        if (has_nul) {
            cli_say("-: line %zu of the list on standard input holds a NUL byte, which no path "
                    "can (give -0 for a NUL-separated list)", entry);
            rc = USAGE;
        } else if (len == 0 && nul) {
            cli_say("-: empty entry %zu in the NUL-separated list on standard input", entry);
            rc = USAGE;
        } else if (len > 0) {
            char *parent = parent_of(buf), *root = parent ? dir_base(parent) : NULL;
            rc = root ? push(w->l, buf, "", root, false, true) : -1;
            free(parent);
            free(root);
        }
        len = 0;
        has_nul = false;
    }
    free(buf);
    return rc;
}

static int gather(batch_plan *l, const batch_config *cfg, const struct stat *out_st)
{
    walker w = {.l = l, .cfg = cfg, .have_out = out_st != NULL};
    if (out_st)
        w.out_dir = (file_id){out_st->st_dev, out_st->st_ino};
    int rc = 0;
    for (size_t i = 0; i < cfg->ninputs && rc == 0; i++) {
        const char *in = cfg->inputs[i];
        struct stat st;
        if (*cfg->cancel) {
            rc = CANCELLED;
        } else if (strcmp(in, "-") == 0) {
            rc = read_list(&w);
        } else if (stat(in, &st) == 0 && S_ISDIR(st.st_mode)) {
            char root[4096];
            snprintf(root, sizeof root, "%s", in);
            size_t n = strlen(root);
            while (n > 1 && root[n - 1] == '/')
                root[--n] = '\0';
            char *name = dir_base(root);
            int fresh = name ? id_add(&w.visited, (file_id){st.st_dev, st.st_ino}) : -1;
            w.root_name = name;
            if (fresh < 0)
                rc = -1;
            else if (fresh)
                rc = walk(&w, root, "", 0); /* the root itself is walked even as out-dir */
            free(name);
        } else {
            /* a named file is taken whatever its name; a missing one fails as that file */
            char *parent = parent_of(in), *root = parent ? dir_base(parent) : NULL;
            rc = root ? push(l, in, "", root, false, true) : -1;
            free(parent);
            free(root);
        }
    }
    id_free(&w.visited);
    if (rc < 0)
        cli_say("out of memory");
    return rc < 0 ? FAIL : rc;
}

/* ---- output names ---- */

static void split_name(const char *input, const char **base, size_t *stem_len,
                       const char **ext)
{
    *base = base_name(input);
    const char *dot = strrchr(*base, '.');
    *stem_len = dot && dot != *base ? (size_t)(dot - *base) : strlen(*base);
    *ext = dot && dot != *base ? dot + 1 : "";
}

/* Expands the name template: {stem} {ext} {dir} {root}. NULL when the result is empty or has
 * a "." or ".." part, which would leave the out-dir or name it. */
static char *expand(const char *tmpl, const batch_item *it, const char *format)
{
    const char *base, *in_ext;
    size_t stem_len;
    split_name(it->input, &base, &stem_len, &in_ext);
    size_t cap = 256, n = 0;
    char *buf = malloc(cap);
    for (const char *t = tmpl; buf && *t;) {
        const char *val = t;
        size_t len = 1, skip = 1;
        if ((t[0] == '{' && t[1] == '{') || (t[0] == '}' && t[1] == '}'))
            skip = 2; /* a literal brace */
        else if (strncmp(t, "{stem}", 6) == 0)
            val = base, len = stem_len, skip = 6;
        else if (strncmp(t, "{ext}", 5) == 0)
            val = format ? format : in_ext, len = strlen(val), skip = 5;
        else if (strncmp(t, "{dir}", 5) == 0)
            val = it->rel_dir, len = strlen(val), skip = 5;
        else if (strncmp(t, "{root}", 6) == 0)
            val = it->root, len = strlen(val), skip = 6;
        if (n + len + 1 > cap) {
            while (n + len + 1 > cap)
                cap *= 2;
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
        }
        memcpy(buf + n, val, len);
        n += len;
        t += skip;
    }
    if (!buf)
        return NULL;
    buf[n] = '\0';
    /* "{dir}/x" with an empty dir: drop the slashes that would start at the root, and the
     * doubled ones, so one name is spelled one way */
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        if (buf[i] != '/' || (o > 0 && buf[o - 1] != '/'))
            buf[o++] = buf[i];
    while (o > 0 && buf[o - 1] == '/')
        o--;
    buf[o] = '\0';
    bool bad = o == 0;
    for (char *c = buf; !bad && *c;) {
        size_t clen = strcspn(c, "/");
        bad = (clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.');
        c += clen;
        if (*c == '/')
            c++;
    }
    if (bad) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* The formats written, for messages: "png, jpg, jpeg, bmp, tga or hdr". */
static const char *writes(char *buf, size_t cap)
{
    return cli_formats(buf, cap, true, "", ", ", " or ");
}

/* Edit distance of two short words (at most 32 letters), for "did you mean". */
static int small_distance(const char *a, size_t la, const char *b, size_t lb)
{
    if (la > 32 || lb > 32)
        return 99;
    int row[33];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

bool batch_check_names(const char *name, const char *format, char *msg, size_t cap)
{
    char list[192];
    if (format && hdm_format_from_name(format) == HDM_FORMAT_UNKNOWN) {
        snprintf(msg, cap, "batch: unknown --format '%s' (%s)", format,
                 writes(list, sizeof list));
        return false;
    }
    if (!*name) {
        snprintf(msg, cap, "batch: --name is empty");
        return false;
    }
    /* a literal ".." part would put outputs outside the out-dir */
    for (const char *c = name; *c;) {
        size_t clen = strcspn(c, "/");
        if (clen == 2 && c[0] == '.' && c[1] == '.') {
            snprintf(msg, cap, "batch: --name '%s' leaves the output directory (no '..')", name);
            return false;
        }
        c += clen;
        if (*c == '/')
            c++;
    }
    /* The output format is the name's extension: what follows the last placeholder. Every
     * '{' or '}' is a placeholder's or doubled: a misspelt one is never written literally. */
    const char *tail = name, *p, *last = NULL;
    bool ends_ext = false;
    for (p = name; *p;) {
        static const char *const ph[] = {"{stem}", "{ext}", "{dir}", "{root}"};
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            p += 2;
            continue;
        }
        if (*p == '}') {
            snprintf(msg, cap, "batch: a lone '}' in --name '%s' (write }} for a literal one)",
                     name);
            return false;
        }
        if (*p != '{') {
            p++;
            continue;
        }
        size_t k = 0;
        for (; k < 4; k++)
            if (strncmp(p, ph[k], strlen(ph[k])) == 0)
                break;
        if (k == 4) {
            size_t plen = strcspn(p + 1, "{}/");
            if (p[1 + plen] != '}' || plen > 32) {
                snprintf(msg, cap, "batch: an unclosed '{' in --name '%s' (placeholders are "
                         "{stem} {ext} {dir} {root}; write {{ for a literal brace)", name);
                return false;
            }
            int best = 3;
            size_t bk = 0;
            for (size_t j = 0; j < 4; j++) {
                int d = small_distance(p + 1, plen, ph[j] + 1, strlen(ph[j]) - 2);
                if (d < best)
                    best = d, bk = j;
            }
            char hint[32] = "";
            if (best <= 2)
                snprintf(hint, sizeof hint, " (did you mean %s?)", ph[bk]);
            snprintf(msg, cap, "batch: unknown placeholder %.*s in --name%s; placeholders are "
                     "{stem} {ext} {dir} {root}, and {{ or }} writes a brace", (int)plen + 2, p,
                     hint);
            return false;
        }
        tail = p + strlen(ph[k]);
        ends_ext = k == 1;
        last = p;
        p = tail;
    }
    const char *dot = strrchr(tail, '.');
    if (dot && strchr(dot, '/'))
        dot = NULL;
    /* "{stem}{ext}" has no dot before the extension: the format could not be read back */
    if (!dot && (!ends_ext || *tail || last == name || last[-1] != '.')) {
        snprintf(msg, cap, "batch: --name '%s' gives no extension to pick the format from (end "
                 "it with .{ext} or one of %s)", name, writes(list, sizeof list));
        return false;
    }
    if (!dot)
        return true; /* ends with {ext}: --format's, or each input's own */
    hdm_format lit = hdm_format_from_name(dot + 1);
    if (lit == HDM_FORMAT_UNKNOWN) {
        snprintf(msg, cap, "batch: --name '%s' ends in '%s', not a format hadamard writes (%s)",
                 name, dot, writes(list, sizeof list));
        return false;
    }
    if (format && hdm_format_from_name(format) != lit) {
        snprintf(msg, cap, "batch: --format %s and --name '%s' disagree (the name's extension "
                 "picks the format: drop one or make them match)", format, name);
        return false;
    }
    return true;
}

static int by_input(const void *a, const void *b)
{
    const batch_item *x = a, *y = b;
    /* to-run items first, then those skipped before the run; each part sorted by input */
    bool sx = x->status == BATCH_SKIPPED, sy = y->status == BATCH_SKIPPED;
    if (sx != sy)
        return sx - sy;
    return strcmp(x->input, y->input);
}

typedef struct keyed {
    char *key;
    size_t i;
} keyed;

static int by_key(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

/* The first entry of the sorted v whose key is not below key (n if none). */
static size_t lower_bound(const keyed *v, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool has_key(const keyed *v, size_t n, const char *key, size_t *at)
{
    size_t lo = lower_bound(v, n, key);
    if (lo < n && strcmp(v[lo].key, key) == 0) {
        if (at)
            *at = v[lo].i;
        return true;
    }
    return false;
}

/* Whether key is in v for an item other than self. */
static bool other_has_key(const keyed *v, size_t n, const char *key, size_t self)
{
    for (size_t lo = lower_bound(v, n, key); lo < n && strcmp(v[lo].key, key) == 0; lo++)
        if (v[lo].i != self)
            return true;
    return false;
}

static char *id_key(file_id id)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%llx:%llx", (unsigned long long)id.dev,
             (unsigned long long)id.ino);
    return strdup(buf);
}

static void free_keys(keyed *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i].key);
    free(v);
}

/* What the template lacks that would tell a and b apart. */
static void collision_hint(const char *tmpl, const batch_item *a, const batch_item *b,
                           char *hint, size_t cap)
{
    const char *ba, *bb, *ea, *eb;
    size_t la, lb;
    split_name(a->input, &ba, &la, &ea);
    split_name(b->input, &bb, &lb, &eb);
    const char *missing[4];
    int n = 0;
    if (!strstr(tmpl, "{dir}") && strcmp(a->rel_dir, b->rel_dir) != 0)
        missing[n++] = "{dir}";
    if (!strstr(tmpl, "{root}") && strcmp(a->root, b->root) != 0)
        missing[n++] = "{root}";
    if (!strstr(tmpl, "{stem}") && (la != lb || memcmp(ba, bb, la) != 0))
        missing[n++] = "{stem}";
    if (!strstr(tmpl, "{ext}") && strcmp(ea, eb) != 0)
        missing[n++] = "{ext}";
    if (n == 0) {
        snprintf(hint, cap, "rename one of them");
        return;
    }
    size_t o = (size_t)snprintf(hint, cap, "add ");
    for (int i = 0; i < n && o < cap; i++)
        o += (size_t)snprintf(hint + o, cap - o, "%s%s", i ? (i == n - 1 ? " or " : ", ") : "",
                              missing[i]);
    if (o < cap)
        snprintf(hint + o, cap - o, " to --name, or rename one of them");
}

/* The files a step's fields may name: each field after the step's name (with '\:' and '\\'
 * unescaped as the step parser does), and for "@FILE" or "key=@FILE" the FILE. Appends
 * malloc'd strings to *v; returns -1 when out of memory. */
bool batch_step_field(const char **at, char *buf, size_t cap)
{
    const char *c = *at;
    if (!c)
        return false;
    size_t k = 0;
    for (c++; *c && *c != ':'; c++) {
        if (*c == '\\' && (c[1] == ':' || c[1] == '\\'))
            c++;
        if (k + 1 < cap)
            buf[k++] = *c;
    }
    if (cap)
        buf[k] = '\0';
    *at = *c ? c : NULL;
    return true;
}

static int step_paths(const char *step, char ***v, size_t *n, size_t *cap)
{
    size_t len = strlen(step);
    char *field = malloc(len + 1);
    if (!field)
        return -1;
    for (const char *c = strchr(step, ':'); batch_step_field(&c, field, len + 1);) {
        /* a field, an @FILE, a NAME=@FILE, or a NAME=FILE (blend's mask=M) */
        const char *at_ = strstr(field, "=@"), *eq = strchr(field, '=');
        const char *cand[4] = {field, field[0] == '@' ? field + 1 : NULL, at_ ? at_ + 2 : NULL,
                               eq && !at_ ? eq + 1 : NULL};
        for (int j = 0; j < 4; j++) {
            if (!cand[j] || !*cand[j])
                continue;
            if (*n == *cap) {
                size_t nc = *cap ? *cap * 2 : 16;
                char **g = realloc(*v, nc * sizeof *g);
                if (!g) {
                    free(field);
                    return -1;
                }
                *v = g;
                *cap = nc;
            }
            if (!((*v)[*n] = strdup(cand[j]))) {
                free(field);
                return -1;
            }
            ++*n;
        }
    }
    free(field);
    return 0;
}

static void free_strs(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Operand files of the steps: every path a field names that is an existing file, not a
 * directory. (The pipeline does not list its operands, so the step strings are read again.) */
static int operand_files(const batch_config *cfg, id_set *ids, keyed **paths, size_t *np)
{
    *paths = NULL;
    *np = 0;
    char **cand = NULL;
    size_t ncand = 0, ccap = 0;
    int rc = 0;
    for (size_t i = 0; i < cfg->nsteps && !rc; i++)
        rc = step_paths(cfg->steps[i], &cand, &ncand, &ccap);
    if (!rc && ncand && !(*paths = calloc(ncand, sizeof **paths)))
        rc = -1;
    for (size_t i = 0; i < ncand && !rc; i++) {
        struct stat st;
        if (stat(cand[i], &st) != 0 || S_ISDIR(st.st_mode))
            continue;
        char *key = norm_path(cand[i]);
        if (!key || id_add(ids, (file_id){st.st_dev, st.st_ino}) < 0) {
            free(key);
            rc = -1;
            break;
        }
        (*paths)[*np] = (keyed){key, i};
        ++*np;
    }
    free_strs(cand, ncand);
    return rc;
}

/* The report must not be any file this batch gathered (taken, skipped or failed), an
 * operand, an output (any shard's), or the list read from standard input: by device and
 * inode where it exists, by resolved path for files not there yet. */
static const char *report_clash(const batch_config *cfg, const batch_plan *plan,
                                const id_set *op_ids, const keyed *ops, size_t nops,
                                const file_id *list_id)
{
    struct stat st;
    bool exists = stat(cfg->report, &st) == 0;
    file_id rid = {st.st_dev, st.st_ino};
    if (!exists)
        rid = (file_id){0};
    char *key = norm_path(cfg->report);
    if (!key)
        return "(out of memory)";
    const char *clash = NULL;
    for (size_t i = 0; i < plan->n && !clash; i++) {
        const batch_item *it = &plan->v[i];
        for (int k = 0; k < 2 && !clash; k++) {
            const char *p = k ? it->output : it->input;
            if (!p)
                continue;
            file_id id = {0};
            char *pk = norm_path(p);
            if ((exists && file_id_of(p, &id) && id.dev == rid.dev && id.ino == rid.ino) ||
                (pk && strcmp(pk, key) == 0))
                clash = k                               ? "an output of this batch"
                        : it->status == BATCH_SKIPPED ? "a skipped input of this batch"
                                                      : "an input of this batch";
            free(pk);
        }
    }
    if (!clash && ((exists && id_has(op_ids, rid)) || has_key(ops, nops, key, NULL)))
        clash = "an operand of the steps";
    if (!clash && exists && list_id && list_id->dev == rid.dev && list_id->ino == rid.ino)
        clash = "the list on standard input";
    free(key);
    return clash;
}

static int prepare(const batch_config *cfg, batch_plan *plan, const struct stat *out_st)
{
    int rc = gather(plan, cfg, out_st);
    if (rc)
        return rc;
    if (plan->n)
        qsort(plan->v, plan->n, sizeof *plan->v, by_input);
    size_t nrun = 0;
    while (nrun < plan->n && plan->v[nrun].status != BATCH_SKIPPED)
        nrun++;
    size_t od_len = strlen(cfg->out_dir);
    while (od_len > 1 && cfg->out_dir[od_len - 1] == '/')
        od_len--;
    for (size_t i = 0; i < nrun; i++) {
        batch_item *it = &plan->v[i];
        if (it->status == BATCH_FAILED)
            continue; /* found but unreadable: no output */
        char *name = expand(cfg->name, it, cfg->format);
        if (!name) {
            it->status = BATCH_FAILED;
            it->error = strdup("--name gives this input an empty name, or one with a '.' or "
                               "'..' part");
            continue;
        }
        size_t len = od_len + strlen(name) + 2;
        it->output = malloc(len);
        if (it->output) {
            snprintf(it->output, len, "%.*s%s%s", (int)od_len, cfg->out_dir,
                     strcmp(cfg->out_dir, "/") ? "/" : "", name);
            it->name_off = strlen(it->output) - strlen(name);
        }
        free(name);
        if (!it->output)
            return -1;
    }

    /* Files this batch writes are never its inputs: a walked file that is the output of
     * another input (a previous run into the input tree) is skipped, a named one refused. */
    keyed *outs = calloc(nrun ? nrun : 1, sizeof *outs);
    keyed *ins = calloc(nrun ? nrun : 1, sizeof *ins);
    keyed *out_ids = calloc(nrun ? nrun : 1, sizeof *out_ids); /* existing outputs */
    keyed *ops = NULL;
    size_t nops = 0, nouts = 0, nout_ids = 0;
    id_set in_ids = {0}, op_ids = {0};
    /* the list read from standard input is a file this batch must not write either */
    file_id list_id = {0};
    bool have_list = false;
    for (size_t i = 0; i < cfg->ninputs && !have_list; i++) {
        struct stat st;
        if (strcmp(cfg->inputs[i], "-") == 0 && fstat(STDIN_FILENO, &st) == 0 &&
            !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
            list_id = (file_id){st.st_dev, st.st_ino};
            have_list = true;
        }
    }
    rc = outs && ins && out_ids ? 0 : -1;
    for (size_t i = 0; i < nrun && !rc; i++) {
        batch_item *it = &plan->v[i];
        file_id id = {0};
        if (!it->output)
            continue;
        if (!(outs[nouts].key = norm_path(it->output)))
            rc = -1;
        outs[nouts++].i = i;
        if (!rc && file_id_of(it->output, &id)) {
            if (!(out_ids[nout_ids].key = id_key(id)))
                rc = -1;
            out_ids[nout_ids++].i = i;
        }
    }
    if (!rc) {
        qsort(outs, nouts, sizeof *outs, by_key);
        qsort(out_ids, nout_ids, sizeof *out_ids, by_key);
    }
    for (size_t i = 0; i < nrun && !rc; i++) {
        batch_item *it = &plan->v[i];
        if (!(ins[i].key = norm_path(it->input))) {
            rc = -1;
            break;
        }
        ins[i].i = i;
        file_id id = {0};
        bool has_id = file_id_of(it->input, &id);
        if (!it->walked)
            continue;
        /* its own output is no reason: that is refused below as an output over an input */
        char *ik = has_id ? id_key(id) : NULL;
        bool other = (ik && other_has_key(out_ids, nout_ids, ik, i)) ||
                     other_has_key(outs, nouts, ins[i].key, i);
        free(ik);
        if (other) {
            it->status = BATCH_SKIPPED;
            free(it->output);
            it->output = NULL;
            if (!(it->error = strdup("an output of this batch")))
                rc = -1;
        }
    }
    /* the skipped outputs drop out: rebuild the lists over what still runs */
    if (!rc) {
        size_t k = 0;
        for (size_t i = 0; i < nouts; i++) {
            if (plan->v[outs[i].i].status == BATCH_SKIPPED)
                free(outs[i].key);
            else
                outs[k++] = outs[i];
        }
        nouts = k;
        /* the files found in the out-dir that this batch writes are its outputs, not skipped
         * inputs: they drop out of the plan */
        k = nrun;
        for (size_t i = nrun; i < plan->n; i++) {
            batch_item *it = &plan->v[i];
            char *key = it->in_out_dir ? norm_path(it->input) : NULL;
            if (it->in_out_dir && !key)
                rc = -1;
            if (key && has_key(outs, nouts, key, NULL))
                free_item(it);
            else
                plan->v[k++] = *it;
            free(key);
        }
        plan->n = k;
        for (size_t i = 0; i < nrun; i++) {
            file_id id = {0};
            if (plan->v[i].status != BATCH_SKIPPED && file_id_of(plan->v[i].input, &id) &&
                id_add(&in_ids, id) < 0)
                rc = -1;
        }
        /* a gathered file in no format we read is no output of ours either: never written */
        for (size_t i = nrun; i < plan->n; i++) {
            file_id id = {0};
            if (file_id_of(plan->v[i].input, &id) && id_add(&in_ids, id) < 0)
                rc = -1;
        }
    }
    if (!rc)
        rc = operand_files(cfg, &op_ids, &ops, &nops);
    if (rc < 0) {
        cli_say("out of memory");
        rc = FAIL;
        goto done;
    }
    if (ops)
        qsort(ops, nops, sizeof *ops, by_key);

    /* Two inputs writing one output would lose one of them: refuse before any work, over the
     * whole list so that shards on different machines cannot lose a file either. */
    for (size_t i = 1; i < nouts && !rc; i++)
        if (strcmp(outs[i - 1].key, outs[i].key) == 0) {
            const batch_item *a = &plan->v[outs[i - 1].i], *b = &plan->v[outs[i].i];
            char hint[160];
            collision_hint(cfg->name, a, b, hint, sizeof hint);
            cli_say("%s and %s would both be written to %s (%s)", a->input, b->input, b->output,
                    hint);
            rc = USAGE;
        }
    /* An output must be no input and no operand: by device and inode where it exists, by its
     * resolved path where it does not yet (it might be read later in this same batch). */
    qsort(ins, nrun, sizeof *ins, by_key);
    for (size_t i = 0; i < nouts && !rc; i++) {
        const batch_item *it = &plan->v[outs[i].i];
        file_id id = {0};
        bool exists = file_id_of(it->output, &id);
        size_t at;
        bool is_in = (exists && id_has(&in_ids, id)) ||
                     (has_key(ins, nrun, outs[i].key, &at) &&
                      plan->v[at].status != BATCH_SKIPPED);
        bool is_op = (exists && id_has(&op_ids, id)) || has_key(ops, nops, outs[i].key, NULL);
        bool is_list = exists && have_list && id.dev == list_id.dev && id.ino == list_id.ino;
        if (is_in || is_op || is_list) {
            cli_say("%s: the output of %s would overwrite %s; refusing (choose another "
                    "--out-dir or --name)", it->output, it->input,
                    is_in ? "an input of this batch" : is_op ? "an operand of the steps"
                                                             : "the list on standard input");
            rc = USAGE;
        }
    }
    const char *clash = !rc && cfg->report
                            ? report_clash(cfg, plan, &op_ids, ops, nops,
                                           have_list ? &list_id : NULL)
                            : NULL;
    if (clash) {
        cli_say("%s: the report would overwrite %s; refusing", cfg->report, clash);
        rc = USAGE;
    }
    if (rc)
        goto done;

    /* A file's shard is a hash of its key (its path below its root), not its place in a
     * listing: machines that list the inputs a moment apart still agree on every file they
     * both see. The files skipped before the run are split the same way, each listed in one
     * report. */
    size_t kept = 0;
    plan->total_run = 0;
    for (size_t i = 0; i < plan->n; i++) {
        batch_item *it = &plan->v[i];
        if (it->status != BATCH_SKIPPED)
            plan->total_run++;
        if (resume_shard_of(it->key, cfg->shard_count) == cfg->shard_index)
            plan->v[kept++] = *it;
        else
            free_item(it);
    }
    plan->n = kept;
    if (plan->n)
        qsort(plan->v, plan->n, sizeof *plan->v, by_input);
done:
    free_keys(outs, nouts);
    free_keys(ins, nrun);
    free_keys(ops, nops);
    free_keys(out_ids, nout_ids);
    id_free(&in_ids);
    id_free(&op_ids);
    return rc;
}

int batch_prepare(const batch_config *cfg, batch_plan *plan)
{
    memset(plan, 0, sizeof *plan);
    char msg[1024];
    if (!batch_check_names(cfg->name, cfg->format, msg, sizeof msg)) {
        cli_say("%s", msg);
        return USAGE;
    }
    if (cfg->shard_count == 0 || cfg->shard_index >= cfg->shard_count) {
        cli_say("batch: --shard needs K/N with 0 <= K < N");
        return USAGE;
    }
    if (!*cfg->out_dir) {
        cli_say("batch: --out-dir is empty");
        return USAGE;
    }
    struct stat out_st;
    bool have_out = stat(cfg->out_dir, &out_st) == 0;
    if ((have_out && !S_ISDIR(out_st.st_mode)) || (!have_out && errno == ENOTDIR)) {
        cli_say("%s: --out-dir %s", cfg->out_dir, have_out ? "is not a directory"
                                                            : "goes through a file");
        return USAGE;
    }
    int rc = prepare(cfg, plan, have_out ? &out_st : NULL);
    if (rc) {
        batch_plan_free(plan);
        return rc;
    }
    return -1;
}

/* Makes path and the directories above it that are missing. *made, if given, is set to the
 * length of the shortest leading part of path that this call created (0: none). */
static int mkdirs_made(const char *path, size_t *made)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", path);
    if (made)
        *made = 0;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/' || p[-1] == '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) == 0) {
            if (made && !*made)
                *made = (size_t)(p - buf);
        } else if (errno != EEXIST) {
            return -1;
        }
        *p = '/';
    }
    struct stat st;
    if (mkdir(buf, 0777) == 0) {
        if (made && !*made)
            *made = strlen(buf);
    } else if (errno != EEXIST || stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        return -1;
    }
    return 0;
}

static int mkdirs(const char *path) { return mkdirs_made(path, NULL); }

/* Removes the empty directories below dir, deepest first (an output's {dir}s made for inputs
 * that then failed); a directory holding anything stays, as rmdir leaves it. */
static void prune_empty(const char *dir, int depth)
{
    DIR *d = depth < 64 ? opendir(dir) : NULL;
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char sub[4096];
        struct stat st;
        if (snprintf(sub, sizeof sub, "%s/%s", dir, e->d_name) >= (int)sizeof sub ||
            lstat(sub, &st) != 0 || !S_ISDIR(st.st_mode))
            continue;
        prune_empty(sub, depth + 1);
        rmdir(sub);
    }
    closedir(d);
}

/* The output directory, when this batch created it (made: the length of the part of its path
 * that was new) and wrote nothing into it, goes again, and so do the parents made with it: a
 * batch whose inputs all failed leaves no trace. A directory that was there before, or that
 * holds anything, stays. */
static void remove_if_unused(const char *out_dir, size_t made)
{
    if (!made)
        return;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", out_dir);
    prune_empty(buf, 0);
    size_t n = strlen(buf);
    while (n > 1 && buf[n - 1] == '/')
        buf[--n] = '\0';
    while (n >= made && rmdir(buf) == 0) {
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf)
            break;
        while (slash > buf && slash[-1] == '/')
            slash--;
        *slash = '\0';
        n = (size_t)(slash - buf);
    }
}

/* ---- the report: JSON lines, written whole at the end as every output is written ---- */

/* Length of the valid UTF-8 sequence at s (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0. */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    else
        return 0;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

bool batch_json_str(FILE *f, const char *str)
{
    bool lossy = false;
    fputc('"', f);
    const unsigned char *s = (const unsigned char *)(str ? str : "");
    while (*s) {
        unsigned c = *s;
        size_t n = utf8_seq(s);
        if (n == 0) {
            fputs("\xEF\xBF\xBD", f); /* U+FFFD for a byte that is not UTF-8 */
            lossy = true;
            s++;
        } else if (c == '"' || c == '\\') {
            fprintf(f, "\\%c", c);
            s++;
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(f, "\\u%04x", c);
            s++;
        } else {
            fwrite(s, 1, n, f);
            s += n;
        }
    }
    fputc('"', f);
    return lossy;
}

void batch_json_hex(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        fprintf(f, "%02x", (unsigned char)*s);
    fputc('"', f);
}

void batch_report_line(FILE *f, const batch_item *it)
{
    static const char *const names[] = {"not-run", "ok", "failed", "skipped"};
    fputs("{\"input\":", f);
    bool lossy_in = batch_json_str(f, it->input);
    if (lossy_in) {
        fputs(",\"input_bytes\":", f);
        batch_json_hex(f, it->input);
    }
    fputs(",\"output\":", f);
    if (it->output) {
        if (batch_json_str(f, it->output)) {
            fputs(",\"output_bytes\":", f);
            batch_json_hex(f, it->output);
        }
    } else {
        fputs("null", f);
    }
    fprintf(f, ",\"status\":\"%s\",\"error\":", names[it->status & 3]);
    if (it->error)
        batch_json_str(f, it->error);
    else
        fputs("null", f);
    fprintf(f, ",\"milliseconds\":%.1f}\n", it->ms);
}

/* The reason in a library message "PATH: reason" about the report, without the path and a
 * leading "cannot write: " or "write failed: " that "cannot write the report: " already says. */
static const char *report_reason(const char *path, const char *msg)
{
    size_t n = strlen(path);
    if (strncmp(msg, path, n) == 0 && strncmp(msg + n, ": ", 2) == 0)
        msg += n + 2;
    static const char *const said[] = {"cannot write: ", "write failed: "};
    for (size_t i = 0; i < 2; i++)
        if (strncmp(msg, said[i], strlen(said[i])) == 0)
            return msg + strlen(said[i]);
    return msg;
}

/* Before any work: the report must be a regular file or none, one the library's output rules
 * would let us replace (not hard-linked, writable, in a directory we can write); that it is no
 * input, operand or output of the batch batch_prepare has checked. */
static int report_check(const batch_config *cfg)
{
    if (strncmp(base_name(cfg->report), ".hadamard-resume-", 17) == 0) {
        cli_say("%s: the report would overwrite --resume's records (a .hadamard-resume- name); "
                "refusing", cfg->report);
        return USAGE;
    }
    struct stat st;
    if (stat(cfg->report, &st) == 0 && !S_ISREG(st.st_mode)) {
        cli_say("%s: cannot write the report there: %s", cfg->report,
                S_ISDIR(st.st_mode) ? "it is a directory" : "not a regular file");
        return USAGE;
    }
    hdm_error e = {0};
    if (hdm_output_check(cfg->report, &e) != HDM_OK) {
        cli_say("%s: cannot write the report: %s", cfg->report,
                report_reason(cfg->report, e.message));
        return USAGE;
    }
    return 0;
}

/* Builds the whole report in memory and writes it as every output is written (a temporary
 * renamed into place when synced), so a failure or a kill leaves any earlier report whole. */
static int report_write(const char *path, const batch_plan *l)
{
    char *buf = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&buf, &size);
    if (!f) {
        cli_say("%s: cannot write the report: out of memory", path);
        return -1;
    }
    for (size_t i = 0; i < l->n; i++)
        batch_report_line(f, &l->v[i]);
    bool bad = ferror(f) != 0;
    if (fclose(f) != 0 || bad) {
        free(buf);
        cli_say("%s: cannot write the report: out of memory", path);
        return -1;
    }
    hdm_error e = {0};
    hdm_status st = hdm_write_file(path, buf, size, &e);
    free(buf);
    if (st != HDM_OK) {
        cli_say("%s: cannot write the report: %s (any earlier report there is unchanged)", path,
                report_reason(path, e.message));
        return -1;
    }
    return 0;
}

/* ---- running ---- */

typedef struct batch_run {
    const batch_config *cfg;
    hdm_options opt; /* cfg's, with each job's share of the threads */
    resume_log *log; /* with --resume: the records of finished outputs */
    batch_plan *items;
    atomic_size_t next;
    atomic_size_t done, ok, failed, skipped;
    pthread_mutex_t lock;   /* stderr lines and the progress line */
    double start;
    bool tty;
} batch_run;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void progress(batch_run *b, bool final)
{
    if (!b->tty || b->cfg->quiet)
        return;
    size_t done = atomic_load(&b->done), total = b->items->n;
    double t = now() - b->start, rate = t > 0 ? done / t : 0;
    double eta = rate > 0 ? (total - done) / rate : 0;
    int width = 30, fill = total ? (int)(width * done / total) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %zu/%zu  %.1f files/s  ETA %d:%02d  %zu failed%s", bar, done, total,
            rate, (int)eta / 60, (int)eta % 60, atomic_load(&b->failed), final ? "\n" : "");
    fflush(stderr);
}

/* What makes the outputs besides their inputs: the recipe main gave (version, steps, options)
 * and each operand file as it is now (path, size, time), so a changed mask redoes everything. */
static uint64_t recipe_hash(const batch_config *cfg)
{
    const char *r = cfg->recipe ? cfg->recipe : "";
    uint64_t h = resume_hash(RESUME_HASH_SEED, r, strlen(r) + 1);
    char **cand = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < cfg->nsteps; i++)
        if (step_paths(cfg->steps[i], &cand, &n, &cap) < 0)
            break; /* out of memory: fewer operands hashed, still this run's own recipe */
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(cand[i], &st) != 0 || S_ISDIR(st.st_mode))
            continue;
        uint64_t v[3] = {(uint64_t)st.st_size, (uint64_t)st.st_mtim.tv_sec,
                         (uint64_t)st.st_mtim.tv_nsec};
        h = resume_hash(h, cand[i], strlen(cand[i]) + 1);
        h = resume_hash(h, v, sizeof v);
    }
    free_strs(cand, n);
    return h;
}

static void fail_item(batch_run *b, batch_item *it, const char *msg)
{
    it->status = BATCH_FAILED;
    /* the report's words are those said on stderr: "(raise it with --max-memory)" */
    size_t cap = strlen(msg) + 64;
    if ((it->error = malloc(cap))) {
        snprintf(it->error, cap, "%s", msg);
        cli_words(it->error, cap);
    }
    atomic_fetch_add(&b->failed, 1);
    pthread_mutex_lock(&b->lock);
    if (b->tty && !b->cfg->quiet)
        fputc('\r', stderr);
    cli_say("%s", msg);
    pthread_mutex_unlock(&b->lock);
}

static void *worker(void *arg)
{
    batch_run *b = arg;
    const batch_config *cfg = b->cfg;
    for (;;) {
        if (*cfg->cancel)
            break;
        size_t i = atomic_fetch_add(&b->next, 1);
        if (i >= b->items->n)
            break;
        batch_item *it = &b->items->v[i];
        if (it->status != BATCH_PENDING)
            continue; /* skipped, or failed, before the run: counted at the start */
        double t0 = now();
        struct stat in_st, out_st;
        bool have_in = stat(it->input, &in_st) == 0;
        if (b->log && have_in && stat(it->output, &out_st) == 0 &&
            resume_done(b->log, it->output + it->name_off, it->key, &in_st, &out_st)) {
            it->status = BATCH_SKIPPED;
            it->error = strdup("done before (--resume)");
            atomic_fetch_add(&b->skipped, 1);
        } else {
            hdm_error e = {0};
            char *slash = strrchr(it->output, '/');
            hdm_status s = HDM_OK;
            if (slash && slash != it->output) {
                *slash = '\0';
                if (mkdirs(it->output) != 0)
                    s = (hdm_status)(e.status = HDM_ERR_IO),
                    snprintf(e.message, sizeof e.message, "%s: cannot create directory: %s",
                             it->output, strerror(errno));
                *slash = '/';
            }
            if (!s && hdm_format_from_name(it->output) == HDM_FORMAT_UNKNOWN) {
                /* only an input's own extension can get here: --name and --format are
                 * checked before the run */
                s = e.status = HDM_ERR_FORMAT;
                const char *base, *ext;
                size_t stem_len;
                split_name(it->input, &base, &stem_len, &ext);
                if (!*ext)
                    snprintf(e.message, sizeof e.message, "%s: has no extension to name an "
                             "output format (give --format)", it->input);
                else
                    snprintf(e.message, sizeof e.message, "%s: cannot write a .%s file "
                             "(give --format)", it->input, ext);
            }
            if (!s)
                s = hdm_pipeline_run_file(cfg->pipeline, it->input, it->output, &b->opt, &e);
            if (s == HDM_ERR_INTERRUPTED)
                it->status = BATCH_PENDING; /* not done: a rerun with --resume takes it */
            else if (s)
                fail_item(b, it, e.message);
            else {
                it->status = BATCH_OK;
                atomic_fetch_add(&b->ok, 1);
                if (b->log && have_in && stat(it->output, &out_st) == 0)
                    resume_record(b->log, it->output + it->name_off, it->key, &in_st, &out_st);
            }
        }
        it->ms = (now() - t0) * 1e3;
        if (it->status)
            atomic_fetch_add(&b->done, 1);
        pthread_mutex_lock(&b->lock);
        progress(b, false);
        pthread_mutex_unlock(&b->lock);
    }
    return NULL;
}

int batch_main(const batch_config *cfg)
{
    batch_plan l;
    int rc = batch_prepare(cfg, &l);
    if (rc >= 0)
        return rc;
    size_t made = 0;
    if (mkdirs_made(cfg->out_dir, &made) != 0) {
        int e = errno;
        cli_say("%s: cannot create output directory: %s", cfg->out_dir, strerror(e));
        batch_plan_free(&l);
        return e == ENOTDIR || e == EEXIST ? USAGE : FAIL;
    }
    /* after the out-dir is made, so that a report inside it (--report OUT/r.jsonl) has its
     * directory; refused, the out-dir made for it goes again */
    if (cfg->report && (rc = report_check(cfg)) != 0) {
        remove_if_unused(cfg->out_dir, made);
        batch_plan_free(&l);
        return rc;
    }

    batch_run b = {.cfg = cfg, .items = &l, .start = now(), .tty = isatty(2)};
    if (cfg->resume &&
        !(b.log = resume_open(cfg->out_dir, cfg->shard_index, cfg->shard_count,
                              recipe_hash(cfg), cfg->opt ? cfg->opt->max_memory : UINT64_MAX))) {
        cli_say("out of memory");
        batch_plan_free(&l);
        return FAIL;
    }
    pthread_mutex_init(&b.lock, NULL);
    for (size_t i = 0; i < l.n; i++) {
        batch_item *it = &l.v[i];
        if (it->status == BATCH_SKIPPED) {
            atomic_fetch_add(&b.skipped, 1);
            atomic_fetch_add(&b.done, 1);
        } else if (it->status == BATCH_FAILED) { /* no output name could be made */
            char msg[1200];
            snprintf(msg, sizeof msg, "%s: %s", it->input, it->error);
            free(it->error);
            it->error = NULL;
            fail_item(&b, it, msg);
            atomic_fetch_add(&b.done, 1);
        }
    }
    unsigned jobs = cfg->jobs ? cfg->jobs : 1;
    if (jobs > l.n && l.n)
        jobs = (unsigned)l.n;
    /* The threads (--threads, else the cores available) are shared between the jobs running
     * at once: each gets T/J, at least 1. Files in parallel scale best, so by default (J = the
     * cores) each job has one thread; a batch of fewer files than cores gives each file the
     * rest, and --jobs 1 gives the one job them all. */
    if (cfg->opt)
        b.opt = *cfg->opt;
    else
        hdm_options_init(&b.opt);
    unsigned total = b.opt.threads ? b.opt.threads : hdm_cores_available();
    b.opt.threads = total / jobs > 1 ? total / jobs : 1;
    pthread_t th[256];
    unsigned started = 0;
    for (; started < jobs && started < 256; started++)
        if (pthread_create(&th[started], NULL, worker, &b) != 0)
            break;
    if (started == 0)
        worker(&b);
    for (unsigned i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    progress(&b, true);
    pthread_mutex_destroy(&b.lock);
    resume_close(b.log);

    size_t ok = atomic_load(&b.ok), failed = atomic_load(&b.failed);
    size_t skipped = atomic_load(&b.skipped), not_run = l.n - ok - failed - skipped;
    int report_rc = cfg->report ? report_write(cfg->report, &l) : 0;
    if (!cfg->quiet) {
        char rest[64] = "";
        if (not_run)
            snprintf(rest, sizeof rest, ", %zu not run (interrupted)", not_run);
        fprintf(stderr, "hadamard: batch: %zu ok, %zu failed, %zu skipped%s in %.2f s\n", ok,
                failed, skipped, rest, now() - b.start);
    }
    batch_plan_free(&l);
    remove_if_unused(cfg->out_dir, made);
    if (*cfg->cancel)
        return CANCELLED;
    return failed || report_rc ? FAIL : 0;
}
