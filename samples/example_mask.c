/* SPDX-License-Identifier: MIT */
/* example_mask.c — mask a file with libhadamard in ten lines */
#include <hadamard.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s IMAGE MASK OUT\n", argv[0]);
        return 2;
    }
    hdm_pipeline *p;
    hdm_error err;
    const char *fields[] = {argv[2]};
    if (hdm_pipeline_new(&p) || hdm_pipeline_add_fields(p, "mask", fields, 1, &err) ||
        hdm_pipeline_run_file(p, argv[1], argv[3], NULL, &err)) {
        fprintf(stderr, "%s\n", err.message);
        hdm_pipeline_free(p);
        return 1;
    }
    hdm_pipeline_free(p);
    return 0;
}
