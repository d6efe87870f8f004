/* SPDX-License-Identifier: MIT */
/* seeds.h — small valid files of every input format and depth, made in memory */
#ifndef HDM_SEEDS_H
#define HDM_SEEDS_H

#include <stdbool.h>
#include <stddef.h>

/* The i-th seed file: *name ("png-gray16.png") is static, *data is malloc'd (the caller's).
 * Returns false past the last seed, or (with *data NULL) if it could not be made. */
bool hdm_seed(size_t i, const char **name, unsigned char **data, size_t *size);

/* The seed called name, or false. */
bool hdm_seed_named(const char *name, unsigned char **data, size_t *size);

#endif
