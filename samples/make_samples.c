/* SPDX-License-Identifier: MIT */
/* make_samples.c — draws the shipped sample images with the library itself */
#include <hadamard.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { W = 384, H = 256 };

/* A small deterministic generator, so the samples are the same on every machine. */
static uint32_t rng = 12345;
static double noise(void)
{
    rng = rng * 1664525u + 1013904223u;
    return (double)(rng >> 8) / (double)(1u << 24) - 0.5;
}

static double clamp01(double v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

/* A photo-like scene: sky gradient, rolling hills, a sun, and a little grain. */
static void scene(double x, double y, double rgb[3])
{
    double u = x / W, v = y / H;
    double hill = 0.62 + 0.08 * sin(u * 7.0 + 1.3) + 0.04 * sin(u * 17.0);
    double sun = exp(-(pow(u - 0.72, 2) + pow(v - 0.28, 2)) / 0.004);
    if (v < hill) {
        rgb[0] = 0.35 + 0.5 * v + 0.6 * sun;
        rgb[1] = 0.55 + 0.35 * v + 0.5 * sun;
        rgb[2] = 0.95 - 0.2 * v + 0.1 * sun;
    } else {
        double d = (v - hill) * 3.0, t = 0.5 + 0.5 * sin(u * 40.0 + d * 9.0);
        rgb[0] = 0.20 + 0.15 * t - 0.1 * d;
        rgb[1] = 0.45 + 0.20 * t - 0.15 * d;
        rgb[2] = 0.15 + 0.05 * t;
    }
    for (int c = 0; c < 3; c++)
        rgb[c] = clamp01(rgb[c] + 0.03 * noise());
}

static int save(hdm_image *img, const char *dir, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    hdm_error err;
    if (hdm_save(img, path, NULL, &err) != HDM_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    hdm_image_free(img);
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    hdm_image *photo, *photo16, *ramp, *disc, *stripes;
    if (hdm_image_new(W, H, 3, HDM_U8, &photo) || hdm_image_new(W / 2, H / 2, 3, HDM_U16, &photo16) ||
        hdm_image_new(W, H, 1, HDM_U8, &ramp) || hdm_image_new(W, H, 1, HDM_U8, &disc) ||
        hdm_image_new(W / 2, H / 2, 1, HDM_U16, &stripes))
        return 1;
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            double rgb[3];
            scene(x, y, rgb);
            for (int c = 0; c < 3; c++) {
                ((uint8_t *)hdm_row(photo, c, y))[x] = (uint8_t)lround(rgb[c] * 255);
            }
            ((uint8_t *)hdm_row(ramp, 0, y))[x] = (uint8_t)(x * 255 / (W - 1));
            /* a soft-edged disc: 1 inside, a 12-pixel fall-off */
            double r = hypot(x - W / 2.0, y - H / 2.0), e = clamp01((100 - r) / 12 + 0.5);
            ((uint8_t *)hdm_row(disc, 0, y))[x] = (uint8_t)lround(e * 255);
        }
    /* the 16-bit pair is half size: 16-bit grain compresses poorly */
    for (uint32_t y = 0; y < H / 2; y++)
        for (uint32_t x = 0; x < W / 2; x++) {
            double rgb[3];
            scene(x * 2.0, y * 2.0, rgb);
            for (int c = 0; c < 3; c++)
                ((uint16_t *)hdm_row(photo16, c, y))[x] = (uint16_t)lround(rgb[c] * 65535);
            double s = 0.5 + 0.5 * sin(y * 0.5);
            ((uint16_t *)hdm_row(stripes, 0, y))[x] = (uint16_t)lround(s * 65535);
        }
    return save(photo, dir, "photo.png") || save(photo16, dir, "photo16.png") ||
           save(ramp, dir, "gradient.png") || save(disc, dir, "circle.png") ||
           save(stripes, dir, "stripes16.png");
}
