/* SPDX-License-Identifier: MIT */
/* cpus.c — how many cores this process may use: its affinity mask, then its cgroup's CPU quota */
#define _GNU_SOURCE
#include "core/core.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A quota of q µs of CPU time per period of p µs lets the group's threads run q/p cores' worth
 * at once; a fraction of a core still gets a thread of its own, hence the ceiling. */
static uint32_t quota_cores(unsigned long long quota, unsigned long long period)
{
    if (period == 0)
        return 0;
    unsigned long long n = quota / period + (quota % period != 0);
    return n < 1 ? 1 : n > HDM__MAX_THREADS ? HDM__MAX_THREADS : (uint32_t)n;
}

/* One unsigned decimal number at *s, blanks before it skipped; false if there is none. */
static bool read_number(const char **s, unsigned long long *out)
{
    while (**s == ' ' || **s == '\t')
        (*s)++;
    if (**s < '0' || **s > '9')
        return false;
    errno = 0;
    char *end;
    *out = strtoull(*s, &end, 10);
    if (errno)
        return false;
    *s = end;
    return true;
}

uint32_t hdm__cgroup2_quota(const char *text)
{
    /* cgroup v2 cpu.max (Documentation/admin-guide/cgroup-v2.rst): "$MAX $PERIOD", $MAX being
     * "max" for no limit */
    unsigned long long quota, period;
    const char *s = text;
    while (*s == ' ' || *s == '\t')
        s++;
    if (strncmp(s, "max", 3) == 0 || !read_number(&s, &quota) || !read_number(&s, &period))
        return 0;
    while (*s == ' ' || *s == '\t' || *s == '\n')
        s++;
    return *s ? 0 : quota_cores(quota, period);
}

uint32_t hdm__cgroup1_quota(const char *quota_text, const char *period_text)
{
    /* cgroup v1 cpu.cfs_quota_us is -1 for no limit */
    unsigned long long quota, period;
    const char *q = quota_text, *p = period_text;
    if (!read_number(&q, &quota) || !read_number(&p, &period))
        return 0;
    return quota_cores(quota, period);
}

/* The first line of a small file, or false. */
static bool read_line(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    bool ok = fgets(buf, (int)cap, f) != NULL;
    fclose(f);
    return ok;
}

/* The quota of the cgroup this process is in (v2 at the usual mount, else v1's cpu
 * controller), or 0 for none found. Only the process's own group is read (inside a container
 * it is the root of the mount); a quota set on an ancestor further up goes unseen. */
static uint32_t cgroup_quota(void)
{
    char a[128], b[128];
    if (read_line("/sys/fs/cgroup/cpu.max", a, sizeof a))
        return hdm__cgroup2_quota(a);
    if (read_line("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", a, sizeof a) &&
        read_line("/sys/fs/cgroup/cpu/cpu.cfs_period_us", b, sizeof b))
        return hdm__cgroup1_quota(a, b);
    return 0;
}

uint32_t hdm__cores_available(void)
{
    long n = 0;
#ifdef CPU_COUNT
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        n = CPU_COUNT(&set);
#endif
    if (n < 1)
        n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        n = 1;
    uint32_t q = cgroup_quota();
    if (q && q < n)
        n = q;
    return n > HDM__MAX_THREADS ? HDM__MAX_THREADS : (uint32_t)n;
}

unsigned hdm_cores_available(void) { return hdm__cores_available(); }
