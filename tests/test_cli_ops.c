/* SPDX-License-Identifier: MIT */
/* test_cli_ops.c — the blend, window, filter, fft and mask options of the built hadamard command */
#include "ops_test.h"

#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static char err_text[4096];

/* Makes a fresh directory with base.png (RGB 8-bit 20×15), top.png (RGBA), gray.png, small.png
 * (other size), smallg.png (gray, other size) and k.txt; cd-free: every path is absolute. */
static void setup_dir(void)
{
    strcpy(dir, "/tmp/hdm-cli-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    rng_seed(77);
    struct { const char *name; uint32_t w, h, ch; hdm_depth d; } f[] = {
        {"base.png", 20, 15, 3, HDM_U8}, {"top.png", 20, 15, 4, HDM_U8},
        {"gray.png", 20, 15, 1, HDM_U16}, {"small.png", 10, 15, 3, HDM_U8},
        {"smallg.png", 12, 7, 1, HDM_U8},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, f[i].name);
        hdm_image *img = make_image(f[i].w, f[i].h, f[i].ch, f[i].d, FILL_RANDOM);
        cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
        hdm_image_free(img);
    }
    char path[128];
    snprintf(path, sizeof path, "%s/k.txt", dir);
    FILE *k = fopen(path, "w");
    fputs("1 2 1\n2 4 2\n1 2 1\n", k);
    fclose(k);
    snprintf(path, sizeof path, "%s/kbad.txt", dir);
    k = fopen(path, "w");
    fputs("1,2,x\n", k);
    fclose(k);
    snprintf(path, sizeof path, "%s/knul.txt", dir);
    k = fopen(path, "w");
    fwrite("1 2\0 3\n", 1, 7, k);
    fclose(k);
}

static void teardown_dir(void)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs `hadamard ARGS` in dir (ARGS may use the files by bare name); returns the exit status
 * and keeps stderr in err_text. */
static int run(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s/hadamard' %s >out.txt 2>err.txt", dir,
             HDM_BINARY_DIR, args);
    int st = system(cmd);
    char path[128];
    snprintf(path, sizeof path, "%s/err.txt", dir);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(err_text, 1, sizeof err_text - 1, f) : 0;
    err_text[n] = '\0';
    if (f)
        fclose(f);
    cr_assert(WIFEXITED(st), "%s: did not exit", args);
    return WEXITSTATUS(st);
}

static bool exists(const char *name)
{
    char path[128];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return stat(path, &sb) == 0;
}

static void expect_ok(const char *args)
{
    int rc = run(args);
    cr_assert_eq(rc, 0, "%s: exit %d: %s", args, rc, err_text);
    cr_assert(exists("out.png"), "%s: no output", args);
    char path[128];
    snprintf(path, sizeof path, "%s/out.png", dir);
    remove(path);
}

/* A usage error: exit 2, one line on stderr starting "hadamard: ", no output file. */
static void expect_usage(const char *args, const char *mentions)
{
    int rc = run(args);
    cr_assert_eq(rc, 2, "%s: exit %d, not 2: %s", args, rc, err_text);
    cr_assert_eq(strncmp(err_text, "hadamard: ", 10), 0, "%s: stderr '%s'", args, err_text);
    char *nl = strchr(err_text, '\n');
    cr_assert(nl && nl[1] == '\0', "%s: not one line: '%s'", args, err_text);
    cr_assert(strstr(err_text, mentions), "%s: '%s' does not mention '%s'", args, err_text,
              mentions);
    cr_assert(!exists("out.png"), "%s: output created", args);
}

TestSuite(ops_cli, .init = setup_dir, .fini = teardown_dir);

Test(ops_cli, blend_options)
{
    expect_ok("blend base.png top.png -o out.png");
    expect_ok("blend base.png top.png -o out.png --mode screen --opacity 0.5");
    expect_ok("blend base.png gray.png -o out.png --mode soft-light --linear");
    expect_ok("blend base.png top.png -o out.png --mode=color-dodge --opacity=1");
    expect_ok("run base.png -o out.png blend:overlay:top.png:0.3:linear");
    expect_ok("blend base.png top.png -o out.png --op source-atop");
    expect_ok("blend base.png top.png -o out.png --mode multiply --op=destination-in");
    expect_ok("blend base.png top.png -o out.png --op DstIn --opacity 0.5");
    expect_ok("blend base.png top.png -o out.png --op plus");
    expect_ok("blend base.png top.png -o out.png --op SRCATOP --mask gray.png");
    expect_ok("blend base.png top.png -o out.png --mask gray.png --linear");
    expect_ok("run base.png -o out.png blend:multiply:top.png:op=source-atop");
    expect_ok("run base.png -o out.png blend:top.png:mask=gray.png:op=Xor:0.5");
}

static hdm_image *load_in_dir(const char *name)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hdm_image *img = NULL;
    hdm_error e = {0};
    cr_assert_eq(hdm_load(path, NULL, &img, &e), HDM_OK, "%s", e.message);
    return img;
}

/* What the command writes is what the library computes: the operator, its alias and the mask
 * reach hdm_composite's maths unchanged, by option and by step. */
Test(ops_cli, op_and_mask_match_the_library)
{
    hdm_image *base = load_in_dir("base.png"), *top = load_in_dir("top.png");
    hdm_image *gray = load_in_dir("gray.png");
    struct { const char *args; hdm_blend_mode mode; hdm_composite_op op; bool mask; } c[] = {
        {"blend base.png top.png -o o.png --mode multiply --op source-atop",
         HDM_BLEND_MULTIPLY, HDM_OP_SOURCE_ATOP, false},
        {"blend base.png top.png -o o.png --mode normal --op DstIn --mask gray.png",
         HDM_BLEND_NORMAL, HDM_OP_DESTINATION_IN, true},
        {"run base.png -o o.png blend:screen:top.png:op=xor:mask=gray.png",
         HDM_BLEND_SCREEN, HDM_OP_XOR, true},
        {"blend base.png top.png -o o.png --mode normal --op clear",
         HDM_BLEND_NORMAL, HDM_OP_CLEAR, false},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        cr_assert_eq(run(c[i].args), 0, "%s: %s", c[i].args, err_text);
        hdm_image *got = load_in_dir("o.png"), *want;
        cr_assert_eq(hdm_composite(base, top, c[i].mask ? gray : NULL, c[i].mode, c[i].op, 1, 0,
                                   NULL, &want, NULL), HDM_OK);
        cr_assert_eq(got->channels, want->channels, "%s", c[i].args);
        cr_assert_eq(got->depth, want->depth, "%s", c[i].args);
        for (uint32_t ch = 0; ch < want->channels; ch++)
            for (uint32_t y = 0; y < want->height; y++)
                cr_assert_eq(memcmp(hdm_row(got, ch, y), hdm_row(want, ch, y),
                                    (size_t)want->width * want->depth), 0, "%s: plane %u row %u",
                             c[i].args, ch, y);
        hdm_image_free(got);
        hdm_image_free(want);
    }
    hdm_image_free(base);
    hdm_image_free(top);
    hdm_image_free(gray);
}

Test(ops_cli, bad_ops_and_masks)
{
    expect_usage("blend base.png top.png -o out.png --op nope", "unknown operator 'nope'");
    expect_usage("blend base.png top.png -o out.png --op sorce-atop",
                 "did you mean 'source-atop'?");
    expect_usage("blend base.png top.png -o out.png --op DstAtp", "did you mean 'DstAtop'?");
    expect_usage("blend base.png top.png -o out.png --op", "needs a value");
    expect_usage("run base.png -o out.png blend:top.png:op=destination-inn",
                 "did you mean 'destination-in'?");
    expect_usage("run base.png -o out.png blend:top.png:op=xor:op=clear", "op given twice");
    expect_usage("blend base.png top.png -o out.png --mask", "needs a value");
    expect_usage("run base.png -o out.png blend:top.png:mask=", "names no file");
    /* a mask of another size, a missing one, a colour one: exit 1, nothing written */
    const char *fails[][2] = {
        {"blend base.png top.png -o out.png --mask small.png", "10x15"},
        {"blend base.png top.png -o out.png --mask none.png", "none.png"},
        {"run base.png -o out.png blend:top.png:mask=top.png", "mask is not gray"},
    };
    for (size_t i = 0; i < sizeof fails / sizeof fails[0]; i++) {
        int rc = run(fails[i][0]);
        cr_assert_eq(rc, 1, "%s: exit %d: %s", fails[i][0], rc, err_text);
        cr_assert(strncmp(err_text, "hadamard: ", 10) == 0 && strstr(err_text, fails[i][1]),
                  "%s: %s", fails[i][0], err_text);
        cr_assert(!exists("out.png"), "%s: output left", fails[i][0]);
    }
    /* the output may not overwrite the mask */
    int rc = run("blend base.png top.png -o gray.png --mask gray.png");
    cr_assert_neq(rc, 0, "overwrote the mask");
    cr_assert(strstr(err_text, "same file"), "%s", err_text);
}

Test(ops_cli, window_options)
{
    expect_ok("window base.png -o out.png");
    expect_ok("window top.png -o out.png --type kaiser:6 --strength 0.7");
    expect_ok("window gray.png -o out.png --type gaussian:0.3");
    expect_ok("run base.png -o out.png window:tukey:0.25:strength=0.5");
}

Test(ops_cli, filter_options)
{
    expect_ok("filter base.png -o out.png --kernel gaussian:1.5");
    expect_ok("filter top.png -o out.png --kernel box:5 --border mirror");
    expect_ok("filter base.png -o out.png --kernel sobel-x --border zero");
    expect_ok("filter base.png -o out.png --kernel '0,-1,0;-1,5,-1;0,-1,0' --border wrap");
    expect_ok("filter base.png -o out.png --kernel @k.txt");
    expect_ok("filter base.png -o out.png --kernel sobel-x --signed abs");
    expect_ok("run base.png -o out.png filter:laplacian:signed=offset");
    expect_ok("run base.png -o out.png filter:box:3 filter:emboss:border=mirror");
}

Test(ops_cli, fft_options)
{
    expect_ok("fft base.png -o out.png --pass low --cutoff 0.1 --profile gaussian");
    expect_ok("fft top.png -o out.png --pass high --cutoff 8px --profile butterworth:3");
    expect_ok("fft gray.png -o out.png --pass band --cutoff 0.1,0.5 --profile ideal");
    expect_ok("fft base.png -o out.png --pass notch --cutoff=16px,4px");
    expect_ok("fft base.png -o out.png --spectrum");
    expect_ok("run base.png -o out.png fft:low:0.1:gaussian window:hann");
    expect_ok("run base.png -o out.png filter:box:3 fft:band:0.1,0.4:butterworth:2");
    /* the spectrum is of the padded plane: 20 + 2·8 = 36 wide, 15 + 16 = 31 → 32 tall */
    cr_assert_eq(run("fft base.png -o spec.png --spectrum"), 0, "%s", err_text);
    char path[128];
    snprintf(path, sizeof path, "%s/spec.png", dir);
    hdm_image *img;
    cr_assert_eq(hdm_load(path, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(img->width, 36);
    cr_assert_eq(img->height, 32);
    hdm_image_free(img);
}

Test(ops_cli, mask_options)
{
    expect_ok("mask base.png gray.png -o out.png --feather 2");
    expect_ok("mask base.png gray.png -o out.png --threshold 0.5 --invert");
    expect_ok("mask base.png gray.png -o out.png --feather 1.5 --threshold 0.4 --alpha");
    expect_ok("run base.png -o out.png mask:gray.png:feather=1:threshold=0.5");
}

Test(ops_cli, bad_values)
{
    expect_usage("blend base.png top.png -o out.png --mode nope", "nope");
    expect_usage("blend base.png top.png -o out.png --opacity 1.5", "opacity");
    expect_usage("blend base.png top.png -o out.png --opacity -0.5", "opacity");
    expect_usage("blend base.png top.png -o out.png --opacity half", "opacity");
    expect_usage("blend base.png top.png -o out.png --linear=yes", "linear");
    expect_usage("window base.png -o out.png --type nope", "nope");
    expect_usage("window base.png -o out.png --type gaussian:0", "SIGMA");
    expect_usage("window base.png -o out.png --type gaussian:-1", "SIGMA");
    expect_usage("window base.png -o out.png --type tukey:2", "ALPHA");
    expect_usage("window base.png -o out.png --strength 1.1", "strength");
    expect_usage("filter base.png -o out.png", "kernel");
    expect_usage("filter base.png -o out.png --kernel nope", "nope");
    expect_usage("filter base.png -o out.png --kernel box:4", "odd");
    expect_usage("filter base.png -o out.png --kernel gaussian:0", "sigma");
    expect_usage("filter base.png -o out.png --kernel gaussian:-1", "sigma");
    expect_usage("filter base.png -o out.png --kernel sobel-x --signed absolute",
                 "unknown signed mode 'absolute' (clamp, abs or offset)");
    expect_usage("filter base.png -o out.png --kernel '1,2;3'", "row");
    expect_usage("filter base.png -o out.png --kernel '1,a,3'", "not a number");
    expect_usage("filter base.png -o out.png --kernel box:3 --border tile", "tile");
    /* an output named for a format is not written in another, read-only formats included */
    expect_usage("window base.png -o out.gif --format png", "differs from the format");
    expect_usage("window base.png -o out.ppm --format jpg", "differs from the format");
    expect_usage("filter base.png -o out.png --kernel @", "'@' names no kernel file");
    expect_usage("run base.png -o out.png filter:@", "'@' names no kernel file");
    /* a bare name is no extension: "png" is a file name, not the PNG format */
    expect_usage("window base.png -o png", "png: unknown output format");
    cr_assert(!exists("png"), "a file named png was written");
    cr_assert_eq(run("window base.png -o png --format png"), 0, "%s", err_text);
    cr_assert(exists("png"), "--format png did not write the file named png");
    /* what is wrong inside a kernel file is said as the step's, with the file named */
    expect_usage("filter base.png -o out.png --kernel @kbad.txt",
                 "hadamard: filter: kbad.txt: 'x' is not a number");
    expect_usage("run base.png -o out.png filter:@kbad.txt", "filter: kbad.txt: 'x'");
    expect_usage("filter base.png -o out.png --kernel @knul.txt",
                 "filter: knul.txt: kernel file holds a NUL byte");
    expect_usage("mask base.png gray.png -o out.png --feather 0", "feather");
    expect_usage("mask base.png gray.png -o out.png --feather -2", "feather");
    expect_usage("mask base.png gray.png -o out.png --threshold 2", "threshold");
    expect_usage("run base.png -o out.png blend:nope:top.png", "nope");
    expect_usage("run base.png -o out.png filter:box:2", "odd");
    expect_usage("fft base.png -o out.png --cutoff 0.1", "needs a pass");
    expect_usage("fft base.png -o out.png --pass lwo --cutoff 0.1", "did you mean 'low'");
    expect_usage("fft base.png -o out.png --pass low --cutoff 0", "cutoff");
    expect_usage("fft base.png -o out.png --pass low --cutoff 8pix", "cutoff");
    expect_usage("fft base.png -o out.png --pass band --cutoff 0.1", "two cutoffs");
    expect_usage("fft base.png -o out.png --pass band --cutoff 0.5,0.1", "below");
    expect_usage("fft base.png -o out.png --pass low --cutoff 0.1 --profile gausian",
                 "did you mean 'gaussian'");
    expect_usage("fft base.png -o out.png --pass low --cutoff 0.1 --profile butterworth:0",
                 "order");
    expect_usage("fft base.png -o out.png --pass low --cutoff 0.1 --spectrum", "spectrum");
    expect_usage("fft base.png -o out.png --pass low --cutof 0.1", "did you mean '--cutoff'");
    expect_usage("fft base.png -o out.png --spectrum=yes", "takes no value");
    expect_usage("run base.png -o out.png fft:hihg:0.1", "did you mean 'high'");
    /* cutoffs that pass or stop every bin (radius √2 is the corner) are refused, the range said,
     * as options and as step fields */
    const char *beyond[][2] = {
        {"--pass high --cutoff 100", "fft:high:100"},
        {"--pass band --cutoff 2,3 --profile ideal", "fft:band:2,3:ideal"},
        {"--pass low --cutoff 0.5px", "fft:low:0.5px"},
        {"--pass low --cutoff 1e9", "fft:low:cutoff=1e9"},
        {"--pass low --cutoff 1e30", "fft:low:1e30"},
        {"--pass low --cutoff 1.4143", "fft:low:1.4143"},
        {"--pass notch --cutoff 0.2,1.5", "fft:notch:0.2,1.5"},
        {"--pass low --cutoff 1.4px", "fft:low:1.4px"}};
    for (size_t i = 0; i < sizeof beyond / sizeof beyond[0]; i++) {
        char args[160];
        snprintf(args, sizeof args, "fft base.png -o out.png %s", beyond[i][0]);
        expect_usage(args, "above 0 and below sqrt 2");
        snprintf(args, sizeof args, "run base.png -o out.png %s", beyond[i][1]);
        expect_usage(args, "above 0 and below sqrt 2");
    }
    /* just inside the range, and cutoffs so small that F² underflows */
    expect_ok("fft base.png -o out.png --pass low --cutoff 1.414 --profile ideal");
    expect_ok("fft base.png -o out.png --pass high --cutoff 1.42px");
    expect_ok("fft base.png -o out.png --pass low --cutoff 1e-200 --profile butterworth");
    expect_ok("run base.png -o out.png fft:high:1e300px");
}

/* The spectrum's size limit names the padded spectrum, not the image, as what is too large. */
Test(ops_cli, fft_spectrum_limit_names_the_spectrum)
{
    cr_assert_eq(run("fft base.png -o out.png --spectrum --max-pixels 400"), 1, "%s", err_text);
    cr_assert(strstr(err_text, "the spectrum of 20x15 is 36x32 (padded), 1152 pixels, above "
                               "the limit of 400"), "%s", err_text);
    cr_assert(strstr(err_text, "--max-pixels"), "%s", err_text);
    cr_assert(!exists("out.png"));
    cr_assert_eq(run("fft base.png -o out.png --spectrum --max-width 30"), 1, "%s", err_text);
    cr_assert(strstr(err_text, "the spectrum of 20x15 is 36x32 (padded), width 36"), "%s",
              err_text);
    cr_assert(!exists("out.png"));
    expect_ok("fft base.png -o out.png --spectrum --max-pixels 1152");
}

/* A colour mask is refused at the row where it stops being gray, feathered or not: the check
 * runs on the mask as stored, before the blur spreads that row into its neighbours. */
Test(ops_cli, colour_mask_named_at_its_own_row)
{
    hdm_image *m = make_image(20, 15, 3, HDM_U8, FILL_MID);
    ((uint8_t *)hdm_row(m, 0, 9))[3] = 200; /* row 9 is red-tinged, every other row gray */
    char path[128];
    snprintf(path, sizeof path, "%s/tinted.png", dir);
    cr_assert_eq(hdm_save(m, path, NULL, NULL), HDM_OK);
    hdm_image_free(m);
    const char *runs[] = {"mask base.png tinted.png -o out.png",
                          "mask base.png tinted.png -o out.png --feather 1",
                          "mask base.png tinted.png -o out.png --feather 3",
                          "run base.png -o out.png mask:tinted.png:feather=2:invert"};
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        int rc = run(runs[i]);
        cr_assert_eq(rc, 1, "%s: exit %d: %s", runs[i], rc, err_text);
        cr_assert(strstr(err_text, "tinted.png: mask is not gray (its colour channels differ in "
                                   "row 9)"), "%s: %s", runs[i], err_text);
        cr_assert(!exists("out.png"), "%s: output left", runs[i]);
    }
}

Test(ops_cli, blend_size_mismatch)
{
    int rc = run("blend base.png small.png -o out.png");
    cr_assert_eq(rc, 1, "exit %d: %s", rc, err_text);
    cr_assert(strncmp(err_text, "hadamard: ", 10) == 0 && strstr(err_text, "10x15") &&
              strstr(err_text, "20x15"), "%s", err_text);
    cr_assert(!exists("out.png"));
}

Test(ops_cli, help_lists_params)
{
    struct { const char *cmd, *words[3]; } h[] = {
        {"blend --help", {"--mode", "--opacity", "--linear"}},
        {"blend --help", {"--op", "source-atop", "--mask"}},
        {"window --help", {"--type", "--strength", "kaiser"}},
        {"filter --help", {"--kernel", "--border", "sobel-x"}},
        {"mask --help", {"--feather", "--threshold", "--invert"}},
        {"fft --help", {"--pass", "--cutoff", "butterworth"}},
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        cr_assert_eq(run(h[i].cmd), 0);
        char path[128], out[8192];
        snprintf(path, sizeof path, "%s/out.txt", dir);
        FILE *f = fopen(path, "r");
        size_t n = fread(out, 1, sizeof out - 1, f);
        out[n] = '\0';
        fclose(f);
        for (int w = 0; w < 3; w++)
            cr_assert(strstr(out, h[i].words[w]), "%s lacks %s", h[i].cmd, h[i].words[w]);
    }
}

/* ---- operands of another size: the placement options of mask, mul and blend ---- */

Test(ops_cli, placement_options)
{
    expect_ok("mask base.png smallg.png -o out.png --at -3,-2");
    expect_ok("mask base.png smallg.png -o out.png --gravity se --offset -1,-1 --outside 0");
    expect_ok("mask base.png smallg.png -o out.png --tile --invert --feather 1");
    expect_ok("mask base.png smallg.png -o out.png --fit cover --resample bicubic");
    expect_ok("mul base.png small.png -o out.png --fit contain --gravity n");
    expect_ok("mul base.png small.png -o out.png --at=5,0 --outside=1");
    expect_ok("blend base.png small.png -o out.png --mode normal --gravity center");
    expect_ok("blend base.png top.png -o out.png --fit stretch --resample nearest");
    expect_ok("blend base.png small.png -o out.png --fit contain --resample box --opacity 0.5");
    expect_ok("run base.png -o out.png mask:smallg.png:fit=cover:resample=bilinear "
              "mul:small.png:tile:at=-4,3 blend:screen:small.png:gravity=e:offset=0,2");
}

/* A placed blend top that does not cover the base gives the output an alpha plane, opaque
 * over an opaque base. */
Test(ops_cli, placed_top_adds_alpha)
{
    cr_assert_eq(run("blend base.png small.png -o out.png --mode normal --at 12,0"), 0, "%s",
                 err_text);
    char path[128];
    snprintf(path, sizeof path, "%s/out.png", dir);
    hdm_image *img;
    cr_assert_eq(hdm_load(path, NULL, &img, NULL), HDM_OK);
    cr_assert_eq(img->channels, 4);
    for (uint32_t y = 0; y < 15; y++)
        for (uint32_t x = 0; x < 20; x++)
            cr_assert_eq(raw(img, 3, x, y), 255);
    hdm_image_free(img);
}

Test(ops_cli, placement_bad_values)
{
    expect_usage("mask base.png smallg.png -o out.png --fit strech", "did you mean 'stretch'?");
    expect_usage("mask base.png smallg.png -o out.png --fit cover --resample lanczos",
                 "did you mean 'lanczos3'?");
    expect_usage("mask base.png smallg.png -o out.png --gravity centre", "did you mean 'center'?");
    expect_usage("mul base.png small.png -o out.png --at 3", "at must be two whole numbers");
    expect_usage("mul base.png small.png -o out.png --offset 1,x", "offset must be two whole");
    expect_usage("mask base.png smallg.png -o out.png --outside 2", "outside must be 0 or 1");
    expect_usage("mask base.png smallg.png -o out.png --at 1,1 --gravity se", "either at, or");
    expect_usage("mask base.png smallg.png -o out.png --resample box", "resample needs fit");
    expect_usage("blend base.png small.png -o out.png --outside 1", "outside");
    expect_usage("blend base.png small.png -o out.png --fit covr", "did you mean 'cover'?");
    expect_usage("mask base.png smallg.png -o out.png --tile --tile", "tile given twice");
    expect_usage("run base.png -o out.png mask:smallg.png:gravity=middle", "gravity 'middle'");
    /* and without placement, another size is refused as before, the way out named */
    int rc = run("mask base.png smallg.png -o out.png");
    cr_assert_eq(rc, 1, "exit %d: %s", rc, err_text);
    cr_assert(strstr(err_text, "does not match") && strstr(err_text, "fit"), "%s", err_text);
    cr_assert(!exists("out.png"));
}

/* README's batch recipe, with fit=cover, over a folder of photos of mixed sizes: every photo
 * is masked, each keeping its own size. */
Test(ops_cli, readme_batch_recipe_on_mixed_sizes)
{
    static const uint32_t sizes_[][2] = {{20, 15}, {31, 9}, {8, 40}, {64, 48}, {15, 15}};
    char path[256];
    snprintf(path, sizeof path, "%s/photos", dir);
    cr_assert_eq(mkdir(path, 0777), 0);
    for (size_t i = 0; i < sizeof sizes_ / sizeof sizes_[0]; i++) {
        snprintf(path, sizeof path, "%s/photos/p%zu.png", dir, i);
        hdm_image *img = make_image(sizes_[i][0], sizes_[i][1], 3, HDM_U8, FILL_RANDOM);
        cr_assert_eq(hdm_save(img, path, NULL, NULL), HDM_OK);
        hdm_image_free(img);
    }
    snprintf(path, sizeof path, "%s/vignette.png", dir);
    hdm_image *v = make_image(30, 20, 1, HDM_U8, FILL_RANDOM);
    cr_assert_eq(hdm_save(v, path, NULL, NULL), HDM_OK);
    hdm_image_free(v);
    /* as README writes it, with fit=cover */
    int rc = run("batch --out-dir out/ -r --name '{dir}/{stem}-masked.{ext}' --report log.jsonl "
                 "mask:vignette.png:invert:fit=cover filter:gaussian:1 -- photos/");
    cr_assert_eq(rc, 0, "exit %d: %s", rc, err_text);
    for (size_t i = 0; i < sizeof sizes_ / sizeof sizes_[0]; i++) {
        snprintf(path, sizeof path, "%s/out/p%zu-masked.png", dir, i);
        hdm_info info;
        cr_assert_eq(hdm_info_read(path, NULL, &info, NULL), HDM_OK, "no %s", path);
        cr_assert(info.width == sizes_[i][0] && info.height == sizes_[i][1], "%s is %ux%u", path,
                  info.width, info.height);
    }
    /* without fit the same folder fails for every photo of another size than the mask */
    rc = run("batch --out-dir out2/ -r mask:vignette.png:invert -- photos/");
    cr_assert_eq(rc, 1, "exit %d: %s", rc, err_text);
    cr_assert(strstr(err_text, "does not match"), "%s", err_text);
}

/* A large operand is resampled as it is read: fitting a 6000×6000 mask (36 MB decoded) to a
 * small image holds a few of its rows, not it. (With PNG, --max-memory below an operand's
 * decoded size is refused when the file is opened, so the bound is shown by the peak
 * resident size.) */
Test(ops_cli, large_operand_streamed)
{
    /* made in a child, so this process (whose pages a forked child starts with) stays small */
    pid_t g = fork();
    if (g == 0) {
        hdm_image *m;
        if (hdm_image_new(6000, 6000, 1, HDM_U8, &m))
            _exit(1);
        for (uint32_t y = 0; y < 6000; y++)
            memset(hdm_row(m, 0, y), (int)(y * 255 / 5999), 6000);
        char path[128];
        snprintf(path, sizeof path, "%s/big.png", dir);
        _exit(hdm_save(m, path, NULL, NULL) ? 1 : 0);
    }
    int st;
    cr_assert_eq(waitpid(g, &st, 0), g);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "could not write big.png");
    pid_t c = fork();
    if (c == 0) {
        if (chdir(dir) == 0)
            execl(HDM_BINARY_DIR "/hadamard", "hadamard", "mask", "base.png", "big.png", "-o",
                  "out.png", "--fit", "cover", (char *)NULL);
        _exit(127);
    }
    struct rusage ru;
    cr_assert_eq(wait4(c, &st, 0, &ru), c);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "hadamard failed");
#ifndef __SANITIZE_ADDRESS__ /* ASan's shadow and quarantine stay resident */
    cr_assert_lt(ru.ru_maxrss, 36000 / 4, "peak %ld KB for a 36 MB operand", ru.ru_maxrss);
#endif
    /* and the result is the ramp, scaled to cover: darker at the top than at the bottom */
    char path[128];
    snprintf(path, sizeof path, "%s/out.png", dir);
    hdm_image *out, *base;
    cr_assert_eq(hdm_load(path, NULL, &out, NULL), HDM_OK);
    snprintf(path, sizeof path, "%s/base.png", dir);
    cr_assert_eq(hdm_load(path, NULL, &base, NULL), HDM_OK);
    for (uint32_t x = 0; x < 20; x++) {
        uint32_t m0 = raw(out, 0, x, 0) * 255 / (raw(base, 0, x, 0) | 1);
        uint32_t m1 = raw(out, 0, x, 14) * 255 / (raw(base, 0, x, 14) | 1);
        cr_assert(raw(out, 0, x, 0) <= raw(base, 0, x, 0) / 4 + 1 &&
                  raw(out, 0, x, 14) + 2 >= raw(base, 0, x, 14) * 3 / 4,
                  "column %u: %u of %u at the top, %u of %u at the bottom (%u, %u)", x,
                  raw(out, 0, x, 0), raw(base, 0, x, 0), raw(out, 0, x, 14),
                  raw(base, 0, x, 14), m0, m1);
    }
    hdm_image_free(out);
    hdm_image_free(base);
}

/* ---- blend's mask placed on its own: --mask-at, --mask-fit, …, and mask-... step fields ---- */

static void expect_same_as(const char *args, const hdm_image *want)
{
    cr_assert_eq(run(args), 0, "%s: %s", args, err_text);
    hdm_image *got = load_in_dir("o.png");
    tu_assert_same(got, want, args);
    hdm_image_free(got);
}

/* What the command writes for each mask placement, by option, by run step and by batch, is
 * what hdm_composite_placed computes. */
Test(ops_cli, blend_mask_placement_matches_the_library)
{
    hdm_image *base = load_in_dir("base.png"), *top = load_in_dir("top.png");
    hdm_image *small = load_in_dir("small.png"), *mask = load_in_dir("smallg.png");
    struct {
        const char *opts, *fields;
        bool small_top; /* small.png at 5,0 as the top, else top.png */
        hdm_fit fit;
        hdm_resample rs;
        hdm_gravity g;
        int64_t x, y;
        int tile, outside;
    } c[] = {
        {"--mask-at -3,-2", "mask-at=-3,-2", false, HDM_FIT_NONE, 0, HDM_GRAVITY_NW, -3, -2, 0,
         1},
        {"--mask-gravity center --mask-offset 1,-1 --mask-outside 0",
         "mask-gravity=center:mask-offset=1,-1:mask-outside=0", false, HDM_FIT_NONE, 0,
         HDM_GRAVITY_CENTER, 1, -1, 0, 0},
        {"--mask-tile --mask-gravity se", "mask-tile:mask-gravity=se", false, HDM_FIT_NONE, 0,
         HDM_GRAVITY_SE, 0, 0, 1, 1},
        {"--mask-fit cover --mask-resample bicubic", "mask-fit=cover:mask-resample=bicubic",
         false, HDM_FIT_COVER, HDM_RESAMPLE_BICUBIC, 0, 0, 0, 0, 1},
        {"--mask-fit contain --mask-outside=0", "mask-fit=contain:mask-outside=0", false,
         HDM_FIT_CONTAIN, 0, 0, 0, 0, 0, 0},
        {"--mask-fit stretch", "mask-fit=stretch", false, HDM_FIT_STRETCH, 0, 0, 0, 0, 0, 1},
        {"--at 5,0 --mask-gravity s", "at=5,0:mask-gravity=s", true, HDM_FIT_NONE, 0,
         HDM_GRAVITY_S, 0, 0, 0, 1},
    };
    hdm_placement tp;
    hdm_placement_init(&tp);
    tp.gravity = HDM_GRAVITY_NW;
    tp.x = 5;
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        hdm_placement mp;
        hdm_placement_init(&mp);
        mp.fit = c[i].fit;
        mp.resample = c[i].rs;
        mp.gravity = c[i].g;
        mp.x = c[i].x;
        mp.y = c[i].y;
        mp.tile = c[i].tile;
        mp.outside = c[i].outside;
        hdm_image *want;
        hdm_error e = {0};
        cr_assert_eq(hdm_composite_placed(base, c[i].small_top ? small : top,
                                          c[i].small_top ? &tp : NULL, mask, &mp,
                                          HDM_BLEND_SCREEN, HDM_OP_SOURCE_OVER, 0.8, 0, NULL,
                                          &want, &e), HDM_OK, "%s: %s", c[i].opts, e.message);
        const char *t = c[i].small_top ? "small.png" : "top.png";
        char args[512];
        snprintf(args, sizeof args, "blend base.png %s -o o.png --mode screen --opacity 0.8 "
                 "--mask smallg.png %s", t, c[i].opts);
        expect_same_as(args, want);
        snprintf(args, sizeof args, "run base.png -o o.png blend:screen:%s:0.8:mask=smallg.png:"
                 "%s", t, c[i].fields);
        expect_same_as(args, want);
        snprintf(args, sizeof args, "batch --out-dir b%zu -q --name o.png blend:screen:%s:0.8:"
                 "mask=smallg.png:%s -- base.png", i, t, c[i].fields);
        cr_assert_eq(run(args), 0, "%s: %s", args, err_text);
        char path[64];
        snprintf(path, sizeof path, "b%zu/o.png", i);
        hdm_image *got = load_in_dir(path);
        tu_assert_same(got, want, args);
        hdm_image_free(got);
        hdm_image_free(want);
    }
    hdm_image_free(base);
    hdm_image_free(top);
    hdm_image_free(small);
    hdm_image_free(mask);
}

/* The placement defaults the help and README give: no gravity is the top-left corner (an
 * offset alone is measured from it, a tile alone starts there), a fitted operand is centred;
 * the same for a blend's mask by its own options. Each pair writes the same pixels. */
Test(ops_cli, placement_defaults_as_documented)
{
    static const char *const same[][2] = {
        {"mul base.png smallg.png --offset 3,2", "mul base.png smallg.png --at 3,2"},
        {"mul base.png smallg.png --offset 3,2",
         "mul base.png smallg.png --gravity nw --offset 3,2"},
        {"mul base.png smallg.png --tile", "mul base.png smallg.png --tile --at 0,0"},
        {"mask base.png smallg.png --fit contain",
         "mask base.png smallg.png --fit contain --gravity center"},
        {"mask base.png smallg.png --fit contain --offset 1,1",
         "mask base.png smallg.png --fit contain --gravity center --offset 1,1"},
        {"mask base.png smallg.png --fit cover --tile",
         "mask base.png smallg.png --fit cover --tile --gravity center"},
        {"blend base.png top.png --mask smallg.png --mask-offset 2,1",
         "blend base.png top.png --mask smallg.png --mask-at 2,1"},
        {"blend base.png top.png --mask smallg.png --mask-tile",
         "blend base.png top.png --mask smallg.png --mask-tile --mask-at 0,0"},
        {"blend base.png top.png --mask smallg.png --mask-fit contain",
         "blend base.png top.png --mask smallg.png --mask-fit contain --mask-gravity center"},
    };
    char args[512];
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        hdm_image *img[2];
        for (int k = 0; k < 2; k++) {
            snprintf(args, sizeof args, "%s -o o%d.png", same[i][k], k);
            int rc = run(args);
            cr_assert_eq(rc, 0, "%s: exit %d: %s", args, rc, err_text);
            snprintf(args, sizeof args, "o%d.png", k);
            img[k] = load_in_dir(args);
        }
        tu_assert_same(img[0], img[1], same[i][0]);
        hdm_image_free(img[0]);
        hdm_image_free(img[1]);
    }
    /* and the defaults matter: another gravity places it elsewhere */
    cr_assert_eq(run("mul base.png smallg.png --offset 3,2 -o o0.png"), 0, "%s", err_text);
    cr_assert_eq(run("mul base.png smallg.png --gravity center --offset 3,2 -o o1.png"), 0,
                 "%s", err_text);
    hdm_image *a = load_in_dir("o0.png"), *b = load_in_dir("o1.png");
    cr_assert(!tu_same(a, b), "the gravity changed nothing");
    hdm_image_free(a);
    hdm_image_free(b);
    /* the help says them */
    cr_assert_eq(run("blend --help"), 0, "%s", err_text);
    static char help[32768];
    char path[128];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    help[fread(help, 1, sizeof help - 1, f)] = '\0';
    fclose(f);
    static const char *const says[] = {
        "centred unless a gravity is given", "(default nw, the top-left corner; center with fit)",
        "(without gravity: from the top-left corner", "(alone: from 0,0, the top-left corner)",
        "centred unless a mask-gravity is given", "center with mask-fit)",
        "(without mask-gravity: from the top-left corner", "not with gravity or offset",
    };
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        cr_assert(strstr(help, says[i]), "blend --help does not say '%s'", says[i]);
}

/* A mask's placement without a mask is named as the caller gave it: by its options on the
 * command line, by its fields in a step. */
Test(ops_cli, mask_placement_without_mask_speaks_options)
{
    static const char *const given[][2] = {
        {"--mask-at 3,3", "--mask-at 3,3"},         {"--mask-at=3,3", "--mask-at 3,3"},
        {"--mask-gravity se", "--mask-gravity se"}, {"--mask-offset 1,1", "--mask-offset 1,1"},
        {"--mask-tile", "--mask-tile"},             {"--mask-fit cover", "--mask-fit cover"},
        {"--mask-resample box", "--mask-resample box"}, {"--mask-outside 0", "--mask-outside 0"},
    };
    char args[256], says[256];
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++) {
        snprintf(args, sizeof args, "blend base.png top.png -o out.png %s", given[i][0]);
        snprintf(says, sizeof says, "hadamard: blend: %s places a mask, but no mask is given "
                 "(--mask M)\n", given[i][1]);
        expect_usage(args, says);
        cr_assert(!strstr(err_text, "mask="), "%s: %s", args, err_text);
    }
    expect_usage("run base.png -o out.png blend:top.png:mask-at=3,3",
                 "blend: mask-at=3,3 places a mask, but no mask is given (mask=M)");
}

Test(ops_cli, blend_mask_placement_bad_values)
{
    expect_usage("blend base.png top.png -o out.png --mask smallg.png --mask-fit covr",
                 "did you mean 'cover'?");
    expect_usage("blend base.png top.png -o out.png --mask-fit cover",
                 "places a mask, but no mask");
    expect_usage("blend base.png top.png -o out.png --mask smallg.png --mask-outside 3",
                 "mask-outside must be 0 or 1");
    expect_usage("blend base.png top.png -o out.png --mask smallg.png --mask-resample box",
                 "mask-resample needs mask-fit");
    expect_usage("blend base.png top.png -o out.png --mask smallg.png --mask-at 1,1 "
                 "--mask-gravity n", "either mask-at, or");
    expect_usage("blend base.png top.png -o out.png --mask smallg.png --mask-tiel",
                 "did you mean '--mask-tile'?");
    /* unplaced, a mask of another size is refused, the mask's own options named */
    int rc = run("blend base.png top.png -o out.png --mask smallg.png");
    cr_assert_eq(rc, 1, "exit %d: %s", rc, err_text);
    cr_assert(strstr(err_text, "smallg.png: size 12x7 does not match") &&
              strstr(err_text, "mask-fit"), "%s", err_text);
    cr_assert(!exists("out.png"));
    /* a larger mask is fine: placement cuts it */
    expect_ok("blend small.png top.png -o out.png --mask gray.png --mask-at -3,-1 --fit cover");
    /* a corrupt one is refused, named, nothing written */
    char path[128];
    snprintf(path, sizeof path, "%s/gray.png", dir);
    struct stat sb;
    cr_assert_eq(stat(path, &sb), 0);
    cr_assert_eq(truncate(path, sb.st_size / 2), 0);
    const char *corrupt[] = {
        "blend base.png top.png -o out.png --mask gray.png --mask-at -3,-1",
        "run base.png -o out.png blend:top.png:mask=gray.png:mask-fit=cover",
    };
    for (size_t i = 0; i < sizeof corrupt / sizeof corrupt[0]; i++) {
        rc = run(corrupt[i]);
        cr_assert_eq(rc, 1, "%s: exit %d: %s", corrupt[i], rc, err_text);
        cr_assert(strncmp(err_text, "hadamard: ", 10) == 0 && strstr(err_text, "gray.png: "),
                  "%s: %s", corrupt[i], err_text);
        cr_assert(!exists("out.png"), "%s: output left", corrupt[i]);
    }
}

/* "-" is standard input only as the IMAGE: as a mask, an operand or a kernel it is refused at
 * once, saying which, rather than looked for as a file called "-". */
Test(ops_cli, stdin_only_as_the_image)
{
    const char *why = "standard input can only be the IMAGE";
    struct { const char *args, *says; } c[] = {
        {"blend base.png top.png -o out.png --mask -", "blend: --mask -: "},
        {"blend base.png top.png -o out.png --mask=- --mask-fit cover", "blend: --mask -: "},
        {"blend - top.png -o out.png --mask - < base.png", "blend: --mask -: "},
        {"run base.png -o out.png blend:top.png:mask=-", "mask=-: "},
        {"run - -o out.png blend:top.png:mask=- < base.png", "mask=-: "},
        {"run base.png -o out.png blend:multiply:-", "step 'blend:multiply:-': "},
        {"filter base.png -o out.png --kernel @-", "filter: --kernel @-: "},
        {"run base.png -o out.png filter:kernel=@-", "kernel=@-: "},
        {"batch --out-dir bo blend:top.png:mask=- -- base.png", "mask=-: "},
        {"batch --out-dir bo filter:@- -- base.png", "@-: "},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++) {
        expect_usage(c[i].args, why);
        cr_assert(strstr(err_text, c[i].says), "%s: %s", c[i].args, err_text);
        cr_assert(!exists("bo"), "%s: made its out-dir", c[i].args);
    }
}
