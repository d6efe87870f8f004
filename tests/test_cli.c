/* SPDX-License-Identifier: MIT */
/* test_cli.c — the hadamard command on real files: every command, option and bad input */
#include "cli_run.h"

#include <criterion/criterion.h>
#include <hadamard.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;
static cli_result r;

static void setup(void)
{
    dir = scratch_new();
    cr_assert(dir);
    copy_sample(dir, "photo.png");
    copy_sample(dir, "circle.png");
    copy_sample(dir, "gradient.png");
    copy_sample(dir, "photo16.png");
    copy_sample(dir, "stripes16.png");
}

static void teardown(void) { scratch_free(dir); }

TestSuite(cli, .init = setup, .fini = teardown);

static hdm_image *load(const char *name)
{
    hdm_image *img = NULL;
    hdm_error e;
    cr_assert_eq(hdm_load(at(dir, name), NULL, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

static void assert_same(const hdm_image *a, const hdm_image *b)
{
    cr_assert_eq(a->width, b->width);
    cr_assert_eq(a->height, b->height);
    cr_assert_eq(a->channels, b->channels);
    cr_assert_eq(a->depth, b->depth);
    for (uint32_t c = 0; c < a->channels; c++)
        for (uint32_t y = 0; y < a->height; y++)
            cr_assert(memcmp(hdm_row(a, c, y), hdm_row(b, c, y),
                             (size_t)a->width * a->depth) == 0,
                      "plane %u row %u differs", c, y);
}

/* A failed command: the status, one line on stderr naming what and starting "hadamard: ",
 * and no output or temporary left behind. */
static void assert_failed(int status, const char *needle, const char *out)
{
    cr_assert_eq(r.status, status, "status %d, stderr: %s", r.status, r.err);
    cr_assert_eq(lines(r.err), 1, "want one line, got: %s", r.err);
    cr_assert(strncmp(r.err, "hadamard: ", 10) == 0, "%s", r.err);
    cr_assert(strstr(r.err, needle), "'%s' not in: %s", needle, r.err);
    if (out)
        cr_assert(!exists(dir, out), "%s was left behind", out);
    cr_assert_eq(temp_files(dir), 0, "a temporary file was left behind");
}

Test(cli, help_and_version)
{
    CLI(&r, dir, "--help");
    cr_assert_eq(r.status, 0);
    for (size_t i = 0; hdm_op_at(i); i++)
        cr_assert(strstr(r.out, hdm_op_at(i)->name), "--help lacks %s", hdm_op_at(i)->name);
    cr_assert(strstr(r.out, "info") && strstr(r.out, "run"));
    CLI(&r, dir, "--version");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, hdm_version()));
    CLI(&r, dir, "mask", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "--invert") && strstr(r.out, "--alpha") && strstr(r.out, "-o"));
    CLI(&r, dir, "run", "--help");
    cr_assert_eq(r.status, 0);
    cr_assert(strstr(r.out, "mask:MASK"));
}

Test(cli, every_command_has_help)
{
    const char *cmds[] = {"info", "run"};
    for (size_t i = 0; i < 2; i++) {
        CLI(&r, dir, cmds[i], "--help");
        cr_assert_eq(r.status, 0, "%s --help", cmds[i]);
        cr_assert(strstr(r.out, "usage: hadamard"));
    }
    for (size_t i = 0; hdm_op_at(i); i++) {
        CLI(&r, dir, hdm_op_at(i)->name, "--help");
        cr_assert_eq(r.status, 0, "%s --help", hdm_op_at(i)->name);
        cr_assert(strstr(r.out, hdm_op_at(i)->syntax));
    }
}

Test(cli, no_arguments_and_unknown_command)
{
    CLI(&r, dir, "frobnicate");
    assert_failed(2, "unknown command 'frobnicate'", NULL);
    const char *none[] = {NULL};
    cli_run(&r, dir, none);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "usage:"));
}

Test(cli, info)
{
    CLI(&r, dir, "info", "photo.png", "circle.png", "photo16.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert(strstr(r.out, "photo.png: 384x256, 3 channels (RGB), 8-bit, png"), "%s", r.out);
    cr_assert(strstr(r.out, "circle.png: 384x256, 1 channel (gray), 8-bit, png"), "%s", r.out);
    cr_assert(strstr(r.out, "photo16.png: 192x128, 3 channels (RGB), 16-bit, png"), "%s", r.out);
}

Test(cli, info_goes_on_past_a_bad_file)
{
    CLI(&r, dir, "info", "missing.png", "photo.png");
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "hadamard: missing.png: cannot open"), "%s", r.err);
    cr_assert(strstr(r.out, "photo.png: 384x256"));
}

Test(cli, mask_matches_library)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "out.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    cr_assert_str_empty(r.err);
    hdm_image *a = load("photo.png"), *m = load("circle.png"), *want, *got = load("out.png");
    cr_assert_eq(hdm_mask(a, m, 0, NULL, &want, NULL), HDM_OK);
    assert_same(got, want);
    /* and the product itself, sample by sample: round(a·m/255) */
    for (uint32_t c = 0; c < 3; c++)
        for (uint32_t y = 0; y < a->height; y += 17)
            for (uint32_t x = 0; x < a->width; x++) {
                unsigned av = ((uint8_t *)hdm_row(a, c, y))[x];
                unsigned mv = ((uint8_t *)hdm_row(m, 0, y))[x];
                unsigned g = ((uint8_t *)hdm_row(got, c, y))[x];
                cr_assert_eq(g, (av * mv * 2 + 255) / 510);
            }
    hdm_image_free(a);
    hdm_image_free(m);
    hdm_image_free(want);
    hdm_image_free(got);
}

Test(cli, mask_invert_and_alpha)
{
    hdm_image *a = load("photo.png"), *m = load("circle.png"), *want, *got;
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--invert", "-o", "inv.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    got = load("inv.png");
    cr_assert_eq(hdm_mask(a, m, HDM_MASK_INVERT, NULL, &want, NULL), HDM_OK);
    assert_same(got, want);
    hdm_image_free(got);
    hdm_image_free(want);

    CLI(&r, dir, "mask", "photo.png", "circle.png", "--alpha", "--output=cut.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    got = load("cut.png");
    cr_assert_eq(got->channels, 4);
    cr_assert(memcmp(hdm_row(got, 3, 0), hdm_row(m, 0, 0), (size_t)m->width * m->height) == 0,
              "the alpha plane of a cut-out is the mask");
    cr_assert(memcmp(hdm_row(got, 0, 0), hdm_row(a, 0, 0), (size_t)a->width * a->height) == 0,
              "colour is untouched by --alpha");
    hdm_image_free(got);
    hdm_image_free(a);
    hdm_image_free(m);
}

Test(cli, mul_broadcasts_and_keeps_16_bit)
{
    CLI(&r, dir, "mul", "photo.png", "gradient.png", "-o", "m8.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    hdm_image *a = load("photo.png"), *b = load("gradient.png"), *want, *got = load("m8.png");
    cr_assert_eq(hdm_mul(a, b, NULL, &want, NULL), HDM_OK);
    assert_same(got, want);
    hdm_image_free(a);
    hdm_image_free(b);
    hdm_image_free(want);
    hdm_image_free(got);

    CLI(&r, dir, "mul", "photo16.png", "stripes16.png", "-o", "m16.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    got = load("m16.png");
    cr_assert_eq(got->depth, HDM_U16);
    a = load("photo16.png");
    b = load("stripes16.png");
    cr_assert_eq(hdm_mul(a, b, NULL, &want, NULL), HDM_OK);
    assert_same(got, want);
    hdm_image_free(a);
    hdm_image_free(b);
    hdm_image_free(want);
    hdm_image_free(got);
}

Test(cli, output_formats_follow_the_extension)
{
    const char *outs[] = {"o.jpg", "o.jpeg", "o.bmp", "o.tga", "o.hdr", "O.PNG"};
    const char *fmts[] = {"jpeg", "jpeg", "bmp", "tga", "hdr", "png"};
    for (int i = 0; i < 6; i++) {
        CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", outs[i]);
        cr_assert_eq(r.status, 0, "%s: %s", outs[i], r.err);
        hdm_info info;
        cr_assert_eq(hdm_info_read(at(dir, outs[i]), NULL, &info, NULL), HDM_OK);
        cr_assert_str_eq(hdm_format_name(info.format), fmts[i]);
        cr_assert_eq(info.width, 384);
        cr_assert_eq(info.height, 256);
    }
    /* BMP and TGA hold 8-bit exactly */
    hdm_image *png, *bmp;
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "o.png");
    png = load("o.png");
    bmp = load("o.bmp");
    assert_same(png, bmp);
    hdm_image_free(png);
    hdm_image_free(bmp);
}

Test(cli, jpeg_quality_changes_size)
{
    CLI(&r, dir, "mask", "photo.png", "gradient.png", "--quality", "20", "-o", "lo.jpg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "mask", "photo.png", "gradient.png", "--quality=98", "-o", "hi.jpg");
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat lo, hi;
    cr_assert_eq(stat(at(dir, "lo.jpg"), &lo), 0);
    cr_assert_eq(stat(at(dir, "hi.jpg"), &hi), 0);
    cr_assert_lt(lo.st_size * 2, hi.st_size);
}

Test(cli, png_level_and_filter_options)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--png-level", "0", "-o", "l0.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--png-level", "9", "--png-filter", "paeth",
        "-o", "l9.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    struct stat a, b;
    stat(at(dir, "l0.png"), &a);
    stat(at(dir, "l9.png"), &b);
    cr_assert_gt(a.st_size, b.st_size);
    hdm_image *x = load("l0.png"), *y = load("l9.png");
    assert_same(x, y);
    hdm_image_free(x);
    hdm_image_free(y);
}

Test(cli, run_fuses_steps_like_separate_commands)
{
    CLI(&r, dir, "run", "photo.png", "-o", "fused.png", "mask:circle.png:invert",
        "mul:gradient.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--invert", "-o", "s1.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    CLI(&r, dir, "mul", "s1.png", "gradient.png", "-o", "s2.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    size_t n1, n2;
    unsigned char *f1 = slurp(at(dir, "fused.png"), &n1), *f2 = slurp(at(dir, "s2.png"), &n2);
    cr_assert(f1 && f2 && n1 == n2 && memcmp(f1, f2, n1) == 0, "fused output differs");
    free(f1);
    free(f2);
}

/* ---- bad input: a clear one-line message, the right status, nothing left behind ---- */

Test(cli, missing_input)
{
    CLI(&r, dir, "mask", "nope.png", "circle.png", "-o", "out.png");
    assert_failed(1, "nope.png: cannot open: No such file or directory", "out.png");
    CLI(&r, dir, "mask", "photo.png", "nomask.png", "-o", "out.png");
    assert_failed(1, "nomask.png: cannot open", "out.png");
}

Test(cli, directory_as_input)
{
    mkdir(at(dir, "adir"), 0755);
    CLI(&r, dir, "mask", "adir", "circle.png", "-o", "out.png");
    assert_failed(1, "adir: is a directory", "out.png");
}

Test(cli, sizes_that_differ_name_both)
{
    CLI(&r, dir, "mul", "photo.png", "photo16.png", "-o", "out.png");
    assert_failed(1, "192x128", "out.png");
    cr_assert(strstr(r.err, "384x256"), "%s", r.err);
    cr_assert(strstr(r.err, "photo16.png") && strstr(r.err, "photo.png"), "%s", r.err);
}

Test(cli, channel_counts_that_cannot_broadcast)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--alpha", "-o", "rgba.png");
    cr_assert_eq(r.status, 0);
    CLI(&r, dir, "mul", "photo.png", "rgba.png", "-o", "out.png");
    assert_failed(1, "channels", "out.png");
}

Test(cli, colour_mask_refused_unless_gray)
{
    CLI(&r, dir, "mask", "photo.png", "photo.png", "-o", "out.png");
    assert_failed(1, "mask is not gray", "out.png");
    /* a colour file whose three channels are equal is accepted */
    CLI(&r, dir, "mul", "circle.png", "photo.png", "-o", "rgbish.png");
    cr_assert_eq(r.status, 0);
    CLI(&r, dir, "mul", "gradient.png", "gradient.png", "-o", "g2.png");
    hdm_image *g = load("g2.png"), *rgb;
    cr_assert_eq(hdm_image_new(g->width, g->height, 3, HDM_U8, &rgb), HDM_OK);
    for (int c = 0; c < 3; c++)
        memcpy(rgb->plane[c], g->plane[0], (size_t)g->width * g->height);
    cr_assert_eq(hdm_save(rgb, at(dir, "graymask.png"), NULL, NULL), HDM_OK);
    CLI(&r, dir, "mask", "photo.png", "graymask.png", "-o", "ok.png");
    cr_assert_eq(r.status, 0, "%s", r.err);
    hdm_image_free(g);
    hdm_image_free(rgb);
}

Test(cli, corrupt_and_truncated_input)
{
    size_t n;
    unsigned char *b = slurp(at(dir, "photo.png"), &n);
    FILE *f = fopen(at(dir, "trunc.png"), "wb");
    fwrite(b, 1, n / 2, f);
    fclose(f);
    CLI(&r, dir, "mask", "trunc.png", "circle.png", "-o", "out.png");
    assert_failed(1, "trunc.png: corrupt PNG", "out.png");
    b[n / 3] ^= 0x55; /* a flipped byte inside IDAT: libpng's CRC check refuses it */
    f = fopen(at(dir, "flip.png"), "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    CLI(&r, dir, "mask", "flip.png", "circle.png", "-o", "out.png");
    assert_failed(1, "flip.png: corrupt PNG", "out.png");
    free(b);
    f = fopen(at(dir, "empty.png"), "wb");
    fclose(f);
    CLI(&r, dir, "info", "empty.png");
    assert_failed(1, "empty.png: file is empty", NULL);
    f = fopen(at(dir, "text.png"), "wb");
    fputs("this is not an image\n", f);
    fclose(f);
    CLI(&r, dir, "mask", "text.png", "circle.png", "-o", "out.png");
    assert_failed(1, "text.png: not an image in a format hadamard reads", "out.png");
}

Test(cli, absurd_size_in_header_is_refused_before_work)
{
    /* a BMP header claiming 100000 x 100000 in a 60-byte file */
    unsigned char bmp[60] = {'B', 'M'};
    bmp[10] = 54;
    bmp[14] = 40;
    unsigned w = 100000, h = 100000;
    memcpy(bmp + 18, &w, 4);
    memcpy(bmp + 22, &h, 4);
    bmp[26] = 1;
    bmp[28] = 24;
    FILE *f = fopen(at(dir, "huge.bmp"), "wb");
    fwrite(bmp, 1, sizeof bmp, f);
    fclose(f);
    CLI(&r, dir, "info", "huge.bmp");
    assert_failed(1, "huge.bmp: 100000x100000 is 10000000000 pixels, above the limit", NULL);
    cr_assert(strstr(r.err, "--max-pixels"), "the message says how to raise it: %s", r.err);
}

Test(cli, limits_on_the_command_line)
{
    CLI(&r, dir, "info", "--max-pixels", "1000", "photo.png");
    assert_failed(1, "photo.png: 384x256 is 98304 pixels, above the limit of 1000", NULL);
    CLI(&r, dir, "info", "--max-width", "100", "photo.png");
    assert_failed(1, "width 384 exceeds the limit of 100 (raise it with --max-width)", NULL);
    CLI(&r, dir, "info", "--max-height", "100", "photo.png");
    assert_failed(1, "height 256 exceeds the limit of 100", NULL);
    CLI(&r, dir, "mask", "--max-pixels", "1000", "photo.png", "circle.png", "-o", "o.png");
    assert_failed(1, "above the limit", "o.png");
    CLI(&r, dir, "info", "--max-pixels", "98304", "photo.png");
    cr_assert_eq(r.status, 0, "a limit equal to the size accepts it");
}

Test(cli, output_naming_an_input_is_refused)
{
    size_t n1, n2;
    unsigned char *before = slurp(at(dir, "photo.png"), &n1);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "./photo.png");
    assert_failed(1, "refusing to overwrite", NULL);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "circle.png");
    assert_failed(1, "refusing to overwrite", NULL);
    cr_assert_eq(link(at(dir, "photo.png"), at(dir, "hard.png")), 0);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "hard.png");
    assert_failed(1, "refusing to overwrite", NULL);
    unsigned char *after = slurp(at(dir, "photo.png"), &n2);
    cr_assert(n1 == n2 && memcmp(before, after, n1) == 0, "the input was changed");
    free(before);
    free(after);
}

Test(cli, failure_leaves_an_existing_output_untouched)
{
    FILE *f = fopen(at(dir, "out.png"), "wb");
    fputs("precious", f);
    fclose(f);
    CLI(&r, dir, "mul", "photo.png", "photo16.png", "-o", "out.png");
    cr_assert_eq(r.status, 1);
    size_t n;
    unsigned char *b = slurp(at(dir, "out.png"), &n);
    cr_assert(b && n == 8 && memcmp(b, "precious", 8) == 0);
    free(b);
    cr_assert_eq(temp_files(dir), 0);
}

Test(cli, unwritable_output)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "no/such/dir/out.png");
    assert_failed(1, "no/such/dir/out.png: cannot create: No such file or directory", NULL);
    mkdir(at(dir, "d.png"), 0755);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "d.png");
    assert_failed(1, "d.png: cannot write: is a directory", NULL);
}

Test(cli, usage_errors_exit_2_before_any_work)
{
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "out.gif");
    assert_failed(2, "out.gif: unknown output format", "out.gif");
    CLI(&r, dir, "mask", "photo.png", "circle.png");
    assert_failed(2, "no output file", NULL);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--bogus", "-o", "o.png");
    assert_failed(2, "unknown option '--bogus'", "o.png");
    CLI(&r, dir, "mask", "photo.png", "-o", "o.png");
    assert_failed(2, "expected IMAGE MASK -o OUT", "o.png");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--quality", "0", "-o", "o.jpg");
    assert_failed(2, "--quality' needs a whole number from 1 to 100, not '0'", "o.jpg");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--quality", "9x", "-o", "o.jpg");
    assert_failed(2, "not '9x'", "o.jpg");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--png-filter", "best", "-o", "o.png");
    assert_failed(2, "unknown PNG filter 'best'", "o.png");
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o");
    assert_failed(2, "needs a value", NULL);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "--invert=yes", "-o", "o.png");
    assert_failed(2, "takes no value", "o.png");
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "mask:circle.png:sideways");
    assert_failed(2, "unexpected field 'sideways'", "o.png");
    CLI(&r, dir, "run", "photo.png", "-o", "o.png", "smear:3");
    assert_failed(2, "unknown operation 'smear'", "o.png");
}

Test(cli, unknown_cpu_request_is_refused)
{
    setenv("HADAMARD_CPU", "z80", 1);
    CLI(&r, dir, "info", "photo.png");
    unsetenv("HADAMARD_CPU");
    assert_failed(2, "HADAMARD_CPU=z80", NULL);
}

Test(cli, example_program_masks_a_file)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s/example_mask %s %s %s", HDM_BINARY_DIR,
             at(dir, "photo.png"), at(dir, "circle.png"), at(dir, "ex.png"));
    cr_assert_eq(system(cmd), 0);
    CLI(&r, dir, "mask", "photo.png", "circle.png", "-o", "cli.png");
    size_t n1, n2;
    unsigned char *a = slurp(at(dir, "ex.png"), &n1), *b = slurp(at(dir, "cli.png"), &n2);
    cr_assert(a && b && n1 == n2 && memcmp(a, b, n1) == 0);
    free(a);
    free(b);
}
