/* SPDX-License-Identifier: MIT */
/* batch.h — the batch command's settings, filled by the option parser, and its plan */
#ifndef HDM_CLI_BATCH_H
#define HDM_CLI_BATCH_H

#include "hadamard.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct batch_config {
    const hdm_pipeline *pipeline;
    const hdm_options *opt;
    const char *const *steps;   /* the step strings the pipeline was built from (its operands) */
    size_t nsteps;
    const char *const *inputs;  /* files, directories, or "-" for a list on stdin */
    size_t ninputs;
    const char *out_dir;
    const char *name;           /* template: {stem} {ext} {dir} {root} */
    const char *format;         /* output extension, or NULL to keep the input's */
    const char *report;         /* JSON-lines report path, or NULL */
    const char *recipe;         /* what else makes an output (version, steps, the options that
                                 * change its bytes): --resume trusts only its own records */
    unsigned jobs;
    unsigned shard_index, shard_count;
    bool recursive, resume, quiet;
    bool null_list;             /* the "-" list is NUL-separated, not one path a line */
    const volatile int *cancel; /* raised by SIGINT/SIGTERM: take no new files */
} batch_config;

/* Runs the batch; returns the exit status (0 all ok, 1 some failed, 2 usage, 130 stopped). */
int batch_main(const batch_config *cfg);

/* ---- the plan, exposed for the fuzz target ---- */

enum { BATCH_PENDING, BATCH_OK, BATCH_FAILED, BATCH_SKIPPED };

typedef struct batch_item {
    char *input;
    char *output;    /* NULL for a file skipped before the run */
    char *rel_dir;   /* the input's directory below its root ("" for a named file) */
    char *root;      /* {root}: the root's base name, or the named file's parent's */
    char *key;       /* what decides its shard: its path below its root, or as named */
    size_t name_off; /* output + name_off: the output's name below the out-dir */
    int status;      /* BATCH_* */
    char *error;     /* why it failed or was skipped */
    double ms;
    bool walked;     /* found by a directory walk (not named) */
    bool image;      /* its first bytes are in a format we read (or it was named) */
    bool in_out_dir; /* found in the --out-dir below an input root: listed, never taken */
} batch_item;

typedef struct batch_plan {
    batch_item *v;   /* this shard's items, sorted by input */
    size_t n, cap;
    size_t total_run; /* items to run over every shard (before the shard filter) */
} batch_plan;

/* Everything before any work: checks the names, gathers and selects the inputs, names the
 * outputs, refuses collisions and outputs that are inputs or operands (over every shard), then
 * keeps this shard's part. Touches no file. Returns -1 when the batch may run, else the exit
 * status (2 usage, 1 out of memory, 130 cancelled), the reason said by cli_say. */
int batch_prepare(const batch_config *cfg, batch_plan *plan);
void batch_plan_free(batch_plan *plan);

/* Checks --name and --format together before any work; fills msg and returns false if wrong. */
bool batch_check_names(const char *name, const char *format, char *msg, size_t cap);

/* Writes s as a JSON string: valid UTF-8 is kept, control characters, '"' and '\\' escaped,
 * each byte that is not UTF-8 written as U+FFFD. Returns true if it had to replace one. */
bool batch_json_str(FILE *f, const char *s);
/* Writes s's bytes as a JSON string of hex digits: beside a batch_json_str that had to replace
 * a byte, so that a name that is not UTF-8 can still be found ("input_bytes"). */
void batch_json_hex(FILE *f, const char *s);

/* One report line (an object and '\n') for an item. */
void batch_report_line(FILE *f, const batch_item *it);

/* The next field of a step written as for run (fields split at each ':' not written "\:",
 * with '\:' and '\\' unescaped as the step parser does) into buf, cap bytes, cut to fit. Start
 * with *at at the ':' after the operation's name (strchr(step, ':')); each call moves it to the
 * next ':', NULL after the last field. False when there is no field left. */
bool batch_step_field(const char **at, char *buf, size_t cap);

#endif
