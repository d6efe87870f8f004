/* SPDX-License-Identifier: MIT */
/* resume.h — the record of finished outputs that batch --resume trusts, and the stable hash
 * that assigns files to shards */
#ifndef HDM_CLI_RESUME_H
#define HDM_CLI_RESUME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* FNV-1a (64-bit) of n bytes, continuing from h (start with RESUME_HASH_SEED). */
#define RESUME_HASH_SEED UINT64_C(0xcbf29ce484222325)
uint64_t resume_hash(uint64_t h, const void *p, size_t n);

/* The shard (0..n-1) of a file: FNV-1a of its key, mixed by splitmix64's finaliser, modulo n.
 * The same key gives the same shard on every machine, whatever else is in the listing. */
unsigned resume_shard_of(const char *key, unsigned n);

/* The records of one output directory: every ".hadamard-resume-*" file in it is read, and this
 * shard's own one is opened for appending. Records made by another recipe are ignored. */
typedef struct resume_log resume_log;

/* Reads the records of out_dir made with recipe (at most max_bytes of them), and opens this
 * shard's file (".hadamard-resume-K-of-N") to add to. A record file that cannot be read or
 * created is said once on stderr and the batch goes on (what it cannot trust it redoes).
 * Returns NULL only when out of memory. */
resume_log *resume_open(const char *out_dir, unsigned shard, unsigned nshards, uint64_t recipe,
                        uint64_t max_bytes);

/* True when a record says this output (name: its path below the out-dir) was made by this
 * recipe from this input (key, and in: its size and time now) and the file there now is the
 * one that was made (out: its size, time and inode now). */
bool resume_done(const resume_log *log, const char *name, const char *key,
                 const struct stat *in, const struct stat *out);

/* Adds a record for an output just made (in: the input as it was before it was read). One
 * write per record, so records of parallel jobs never mix; safe to call from several threads. */
void resume_record(resume_log *log, const char *name, const char *key, const struct stat *in,
                   const struct stat *out);

/* Syncs this shard's record file and frees everything; NULL is a no-op. */
void resume_close(resume_log *log);

#endif
