/* SPDX-License-Identifier: MIT */
/* fft.c — filter in the frequency domain: each colour plane's 2-D spectrum times a radial window
 *
 * The step holds the whole upstream image. Each colour plane in turn is extended by mirroring
 * (half-sample symmetric: ... c b a | a b c ... z y x | x y z ...) by at least
 * max(8, ⌈n/16⌉) samples a side, to the next size whose only factors are 2, 3 and 5 (even for
 * the width, which the real transform needs), the extra going right and down; transformed
 * (KissFFT: real rows, then complex columns, each pass split between the cores), multiplied by
 * H(r), transformed back, cropped and written over the held plane. Only one plane's half
 * spectrum is held at a time. With an alpha that is not all opaque, colour is premultiplied by
 * it as it is read; for low and notch the alpha plane goes first, filtered into falpha, and the
 * colour is divided by it on the way out. */
#include "kernel/kernel.h"
#include "ops/fftconv.h"
#include "ops/ops.h"

#include <kiss_fft.h>
#include <kiss_fftr.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum fpass { P_LOW, P_HIGH, P_BAND, P_NOTCH, P_COUNT } fpass;
typedef enum fprofile { F_IDEAL, F_GAUSSIAN, F_BUTTERWORTH, F_COUNT } fprofile;

static const char *const pass_names[P_COUNT] = {"low", "high", "band", "notch"};
static const char *const profile_names[F_COUNT] = {"ideal", "gaussian", "butterworth"};

typedef struct fft_args {
    fpass pass;
    fprofile profile;
    double f1, f2; /* cutoffs as fractions of Nyquist; f2 only for band and notch */
    double order;  /* butterworth's N */
    bool spectrum;
} fft_args;

/* ---- the window ---- */

/* The low-pass response at r (r² = r2) for cutoff f, r and f in fractions of Nyquist. Taken
 * through q = r/F, never F²: a tiny F would underflow F² to 0 and make DC 0/0. q is 0 at DC for
 * any F (low 1, high 0) and at most +inf past a double (low 0), so no response is NaN. */
static double low_response(double r2, double f, fprofile p, double order)
{
    double q = sqrt(r2) / f;
    switch (p) {
    case F_IDEAL: return sqrt(r2) <= f ? 1 : 0;
    case F_GAUSSIAN: return exp(-0.5 * q * q);
    default: return 1 / (1 + pow(q, 2 * order)); /* (r/F)^(2N) */
    }
}

/* The gaussian's factor along one axis, exp(−v²/2F²), through v/F as above. */
static double gauss_axis(double v, double f)
{
    double q = fabs(v) / f;
    return exp(-0.5 * q * q);
}

/* H(r): low L_F, high 1 − L_F, band L_F2·(1 − L_F), notch 1 − L_F2·(1 − L_F). */
static double response(const fft_args *a, double r2)
{
    double l1 = low_response(r2, a->f1, a->profile, a->order);
    switch (a->pass) {
    case P_LOW: return l1;
    case P_HIGH: return 1 - l1;
    default: {
        double band = low_response(r2, a->f2, a->profile, a->order) * (1 - l1);
        return a->pass == P_BAND ? band : 1 - band;
    }
    }
}

/* ---- padding (to hdm__fft_fast_size) ---- */

/* How far each side is mirrored at least: max(8, ⌈n/16⌉). */
static uint32_t margin(uint32_t n)
{
    uint32_t m = n / 16 + (n % 16 != 0);
    return m > 8 ? m : 8;
}

/* The source index a padded index i − before reads: half-sample symmetric, period 2n. */
static uint32_t mirror(int64_t i, uint32_t n)
{
    int64_t p = 2 * (int64_t)n;
    i %= p;
    if (i < 0)
        i += p;
    return (uint32_t)(i < n ? i : p - 1 - i);
}

/* ---- the source ---- */

enum { BLOCK = 16 }; /* columns transformed together (one gather per block of spectrum rows) */
enum { MAX_LANES = 8 };

/* What one thread works with: its own rows and columns, and the real transforms' plans, which
 * keep scratch inside (the complex plans do not, so they are shared). */
typedef struct fft_lane {
    float *row;               /* nx reals */
    float *arow;              /* w reals: the alpha row colour is premultiplied by */
    kiss_fft_cpx *col, *col2; /* BLOCK × ny */
    kiss_fftr_cfg rf, ri;
} fft_lane;

typedef struct fft_source {
    hdm__source base;
    hdm__source *up;
    fft_args a;
    uint32_t w, h, ch, colour;
    uint32_t nx, ny, kx;   /* padded sizes, and nx/2 + 1 spectrum columns */
    uint32_t left, top;    /* where the image sits in the padded plane */
    hdm_image *hold;       /* the upstream image, then the result over it */
    hdm_image *spec_out;   /* --spectrum: the image served instead */
    kiss_fft_cpx *spec;    /* ny × kx: one plane's half spectrum */
    fft_lane lane[MAX_LANES];
    uint32_t lanes;
    double *ry2;           /* (2·fy)² for each spectrum row */
    double *gy1, *gy2;     /* gaussian: exp(−ry2/2F²) for F and F2 */
    kiss_fft_cfg cf, ci;
    const volatile int *cancel; /* the caller's flag, looked at between a plane's passes */
    bool premul;           /* colour filtered premultiplied by alpha (alpha not all opaque) */
    bool divide;           /* and divided back by the same-filtered alpha (H(0) = 1) */
    float *falpha;         /* w × h: that filtered alpha, never written out */
    bool done;
} fft_source;

/* A filtered alpha at or below this is taken as 0 (the colour there is 0): under one step of
 * 16-bit alpha, where the f32 transforms' rounding would be most of the quotient. */
#define ALPHA_FLOOR (1.0f / 65536)

static bool cancelled(const fft_source *f) { return hdm__cancelled(f->cancel); }

/* Padded rows [y0, y1) of plane c to their real transforms. */
static void rows_forward(fft_source *f, fft_lane *l, uint32_t c, uint32_t y0, uint32_t y1)
{
    const hdm_image *img = f->hold;
    for (uint32_t y = y0; y < y1; y++) {
        uint32_t sy = mirror((int64_t)y - f->top, f->h);
        hdm__convert_row(l->row + f->left, HDM_F32, hdm_row(img, c, sy), img->depth, f->w);
        if (f->premul && c < f->colour) {
            hdm__convert_row(l->arow, HDM_F32, hdm_row(img, f->colour, sy), img->depth, f->w);
            for (uint32_t x = 0; x < f->w; x++)
                l->row[f->left + x] *= l->arow[x];
        }
        for (uint32_t x = 0; x < f->left; x++)
            l->row[x] = l->row[f->left + mirror((int64_t)x - f->left, f->w)];
        for (uint32_t x = f->left + f->w; x < f->nx; x++)
            l->row[x] = l->row[f->left + mirror((int64_t)x - f->left, f->w)];
        kiss_fftr(l->rf, l->row, f->spec + (size_t)y * f->kx);
    }
}

/* Blocks [b0, b1) of spectrum columns forward; with filter, times H and back too. */
static void columns(fft_source *f, fft_lane *l, bool filter, uint32_t b0, uint32_t b1)
{
    uint32_t nx = f->nx, ny = f->ny, kx = f->kx;
    double scale = 1.0 / ((double)nx * ny);
    for (uint32_t k0 = b0 * BLOCK; k0 < kx && k0 < b1 * BLOCK; k0 += BLOCK) {
        uint32_t nb = kx - k0 < BLOCK ? kx - k0 : BLOCK;
        for (uint32_t y = 0; y < ny; y++) {
            const kiss_fft_cpx *s = f->spec + (size_t)y * kx + k0;
            for (uint32_t b = 0; b < nb; b++)
                l->col[(size_t)b * ny + y] = s[b];
        }
        for (uint32_t b = 0; b < nb; b++) {
            kiss_fft_cpx *in = l->col + (size_t)b * ny, *out = l->col2 + (size_t)b * ny;
            kiss_fft(f->cf, in, out);
            if (!filter) {
                memcpy(in, out, ny * sizeof *in);
                continue;
            }
            double fx = 2.0 * (k0 + b) / nx, rx2 = fx * fx;
            if (f->a.profile == F_GAUSSIAN) {
                /* separable: exp(−(x² + y²)/2F²) = exp(−x²/2F²)·exp(−y²/2F²), one exp a column */
                double x1 = gauss_axis(fx, f->a.f1);
                double x2 = f->a.f2 > 0 ? gauss_axis(fx, f->a.f2) : 0;
                for (uint32_t y = 0; y < ny; y++) {
                    double l1 = x1 * f->gy1[y], band = x2 * f->gy2[y] * (1 - l1);
                    double r = f->a.pass == P_LOW    ? l1
                               : f->a.pass == P_HIGH ? 1 - l1
                               : f->a.pass == P_BAND ? band
                                                     : 1 - band;
                    float g = (float)(r * scale);
                    out[y].r *= g;
                    out[y].i *= g;
                }
            } else {
                for (uint32_t y = 0; y < ny; y++) {
                    float g = (float)(response(&f->a, rx2 + f->ry2[y]) * scale);
                    out[y].r *= g;
                    out[y].i *= g;
                }
            }
            kiss_fft(f->ci, out, in);
        }
        for (uint32_t y = 0; y < ny; y++) {
            kiss_fft_cpx *d = f->spec + (size_t)y * kx + k0;
            for (uint32_t b = 0; b < nb; b++)
                d[b] = l->col[(size_t)b * ny + y];
        }
    }
}

/* Rows [y0, y1) of the filtered plane c back over the held one: inverse rows, cropped; the
 * filtered alpha into falpha instead, the colour divided by it; f32 negatives to 0 (integers
 * clamp to 0..1 as they convert). */
static void rows_inverse(fft_source *f, fft_lane *l, uint32_t c, uint32_t y0, uint32_t y1)
{
    for (uint32_t y = y0; y < y1; y++) {
        float *p = l->row + f->left;
        kiss_fftri(l->ri, f->spec + (size_t)(y + f->top) * f->kx, l->row);
        if (c == f->colour) {
            float *fa = f->falpha + (size_t)y * f->w;
            for (uint32_t x = 0; x < f->w; x++)
                fa[x] = p[x] > ALPHA_FLOOR ? p[x] : 0;
            continue;
        }
        if (f->divide)
            hdm__kern()->unpremul_f32(p, p, f->falpha + (size_t)y * f->w, f->w);
        if (f->hold->depth == HDM_F32)
            for (uint32_t x = 0; x < f->w; x++)
                p[x] = p[x] > 0 ? p[x] : 0;
        hdm__convert_row(hdm_row(f->hold, c, y), f->hold->depth, p, HDM_F32, f->w);
    }
}

/* One pass over a plane, its rows or column blocks split between the lanes. Every item is
 * computed the same way whichever lane takes it, so the result does not depend on their number. */
typedef enum pass_kind { ROWS_FORWARD, COLUMNS, ROWS_INVERSE } pass_kind;

typedef struct fft_job {
    fft_source *f;
    fft_lane *l;
    pass_kind kind;
    uint32_t c, lo, hi;
    bool filter;
    pthread_t thread;
} fft_job;

static void *job_run(void *p)
{
    fft_job *j = p;
    if (j->kind == ROWS_FORWARD)
        rows_forward(j->f, j->l, j->c, j->lo, j->hi);
    else if (j->kind == COLUMNS)
        columns(j->f, j->l, j->filter, j->lo, j->hi);
    else
        rows_inverse(j->f, j->l, j->c, j->lo, j->hi);
    return NULL;
}

static void run_pass(fft_source *f, pass_kind kind, uint32_t c, bool filter)
{
    uint32_t n = kind == ROWS_FORWARD ? f->ny : kind == ROWS_INVERSE ? f->h
                                                                       : (f->kx + BLOCK - 1) / BLOCK;
    fft_job jobs[MAX_LANES];
    bool started[MAX_LANES] = {false};
    for (uint32_t i = 0; i < f->lanes; i++) {
        jobs[i] = (fft_job){f, &f->lane[i], kind, c, (uint32_t)((uint64_t)n * i / f->lanes),
                            (uint32_t)((uint64_t)n * (i + 1) / f->lanes), filter, 0};
        /* a thread that cannot start leaves its share to this one */
        started[i] = i > 0 && hdm__thread_start(&jobs[i].thread, job_run, &jobs[i]) == 0;
    }
    for (uint32_t i = 0; i < f->lanes; i++)
        if (!started[i])
            job_run(&jobs[i]);
    for (uint32_t i = 1; i < f->lanes; i++)
        if (started[i])
            pthread_join(jobs[i].thread, NULL);
}

/* log(1 + |F|), centred (DC at (nx/2, ny/2) as numpy's fftshift puts it), scaled by its
 * largest value to 0..1, into plane c of the spectrum image. */
static void spectrum_plane(fft_source *f, uint32_t c)
{
    uint32_t nx = f->nx, ny = f->ny, kx = f->kx;
    double top = 0;
    for (size_t i = 0; i < (size_t)ny * kx; i++) {
        double m = log1p(hypot(f->spec[i].r, f->spec[i].i));
        top = m > top ? m : top;
    }
    double s = top > 0 ? 1 / top : 0;
    for (uint32_t y = 0; y < ny; y++) {
        uint32_t ky = (y + ny - ny / 2) % ny;
        for (uint32_t x = 0; x < nx; x++) {
            uint32_t k = (x + nx - nx / 2) % nx, yy = ky;
            if (k >= kx) { /* the other half: F(k, ky) = conj F(nx − k, ny − ky) */
                k = nx - k;
                yy = (ny - ky) % ny;
            }
            const kiss_fft_cpx *v = f->spec + (size_t)yy * kx + k;
            f->lane[0].row[x] = (float)(log1p(hypot(v->r, v->i)) * s);
        }
        hdm__convert_row(hdm_row(f->spec_out, c, y), f->spec_out->depth, f->lane[0].row,
                         HDM_F32, nx);
    }
}

/* Whether every alpha sample of the held image is at full scale: then premultiplying by it and
 * dividing by its (constant) filtered plane would change only the rounding, so neither is done
 * and the colour is exactly that of the image without alpha. */
static bool all_opaque(fft_source *f)
{
    float *row = f->lane[0].row;
    for (uint32_t y = 0; y < f->h; y++) {
        hdm__convert_row(row, HDM_F32, hdm_row(f->hold, f->colour, y), f->hold->depth, f->w);
        for (uint32_t x = 0; x < f->w; x++)
            if (!(row[x] >= 1.0f))
                return false;
    }
    return true;
}

static hdm_status fft_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    fft_source *f = (fft_source *)s;
    if (!f->done) {
        hdm_status st = hdm__source_read(f->up, f->hold, f->h, err);
        if (st)
            return st;
        if (f->colour < f->ch && !f->a.spectrum) {
            f->premul = !all_opaque(f);
            f->divide = f->premul && (f->a.pass == P_LOW || f->a.pass == P_NOTCH);
        }
        /* the alpha plane first when the colour is divided by it */
        uint32_t planes = f->colour + f->divide;
        for (uint32_t i = 0; i < planes; i++) {
            uint32_t c = f->divide ? (i + f->colour) % (f->colour + 1) : i;
            if (cancelled(f))
                return hdm__fail(err, HDM_ERR_INTERRUPTED, s->path, "interrupted");
            run_pass(f, ROWS_FORWARD, c, false);
            run_pass(f, COLUMNS, c, !f->a.spectrum);
            if (cancelled(f))
                return hdm__fail(err, HDM_ERR_INTERRUPTED, s->path, "interrupted");
            if (f->a.spectrum)
                spectrum_plane(f, c);
            else
                run_pass(f, ROWS_INVERSE, c, false);
        }
        if (f->a.spectrum && f->colour < f->ch) { /* no alpha to keep: opaque */
            float *one = f->lane[0].row;
            for (uint32_t x = 0; x < f->nx; x++)
                one[x] = 1.0f;
            for (uint32_t y = 0; y < f->ny; y++)
                hdm__convert_row(hdm_row(f->spec_out, f->colour, y), f->spec_out->depth, one,
                                 HDM_F32, f->nx);
        }
        f->done = true;
        free(f->spec); /* what serving rows does not need */
        f->spec = NULL;
    }
    const hdm_image *src = f->a.spectrum ? f->spec_out : f->hold;
    for (uint32_t c = 0; c < f->ch; c++)
        for (uint32_t r = 0; r < rows; r++)
            memcpy(hdm_row(strip, c, r), hdm_row(src, c, s->next + r),
                   (size_t)src->width * src->depth);
    return HDM_OK;
}

static void fft_close(hdm__source *s)
{
    fft_source *f = (fft_source *)s;
    hdm__source_close(f->up);
    hdm_image_free(f->hold);
    hdm_image_free(f->spec_out);
    free(f->spec);
    for (uint32_t i = 0; i < MAX_LANES; i++) {
        free(f->lane[i].row);
        free(f->lane[i].arow);
        free(f->lane[i].col);
        free(f->lane[i].col2);
        kiss_fftr_free(f->lane[i].rf);
        kiss_fftr_free(f->lane[i].ri);
    }
    free(f->ry2);
    free(f->gy1);
    free(f->gy2);
    free(f->falpha);
    kiss_fft_free(f->cf);
    kiss_fft_free(f->ci);
    free(f);
}

/* Bytes a real plan of size nx (rplan) and a complex one of ny (cplan) take, as KissFFT
 * reports them. */
static void plan_bytes(uint32_t nx, uint32_t ny, uint64_t *rplan, uint64_t *cplan)
{
    size_t a = 0, b = 0;
    kiss_fftr_alloc((int)nx, 0, NULL, &a);
    kiss_fft_alloc((int)ny, 0, NULL, &b);
    *rplan = a;
    *cplan = b;
}

/* One lane a core, up to MAX_LANES. */
static uint32_t lanes_wanted(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores < 1 ? 1 : cores > MAX_LANES ? MAX_LANES : (uint32_t)cores;
}

/* The spectrum image, nx × ny, within the size limits; said as the padded spectrum of w × h. */
static hdm_status spectrum_size(uint32_t w, uint32_t h, uint32_t nx, uint32_t ny,
                                const hdm_options *opt, const char *path, hdm_error *err)
{
    uint64_t px = (uint64_t)nx * ny;
    if (nx > opt->max_width)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "the spectrum of %ux%u is %ux%u (padded), "
                         "width %u above the limit of %u (max_width)", w, h, nx, ny, nx,
                         opt->max_width);
    if (ny > opt->max_height)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "the spectrum of %ux%u is %ux%u (padded), "
                         "height %u above the limit of %u (max_height)", w, h, nx, ny, ny,
                         opt->max_height);
    if (px > opt->max_pixels)
        return hdm__fail(err, HDM_ERR_LIMIT, path, "the spectrum of %ux%u is %ux%u (padded), "
                         "%llu pixels, above the limit of %llu (max_pixels)", w, h, nx, ny,
                         (unsigned long long)px, (unsigned long long)opt->max_pixels);
    return HDM_OK;
}

static hdm_status fft_wrap(const void *args, hdm__source *up, const hdm_options *opt,
                           hdm__source **out, hdm_error *err)
{
    const fft_args *a = args;
    const hdm_info *ui = &up->info;
    uint32_t w = ui->width, h = ui->height;
    uint32_t nx = (uint32_t)hdm__fft_fast_size((uint64_t)w + 2 * margin(w), true);
    uint32_t ny = (uint32_t)hdm__fft_fast_size((uint64_t)h + 2 * margin(h), false);
    uint64_t kx = nx / 2 + 1;
    /* counted before anything is taken: the held image, one half spectrum, the tables, the
     * plans, each lane's rows, columns and plans (and the spectrum image) */
    uint32_t lanes = lanes_wanted();
    uint64_t rplan, cplan;
    plan_bytes(nx, ny, &rplan, &cplan);
    bool alpha = ui->channels == 2 || ui->channels == 4;
    uint64_t lane = ((uint64_t)nx + w) * sizeof(float) + 2ull * BLOCK * ny * sizeof(kiss_fft_cpx) +
                    2 * rplan;
    uint64_t own = (uint64_t)w * h * ui->channels * ui->depth + kx * ny * sizeof(kiss_fft_cpx) +
                   3ull * ny * sizeof(double) + 2 * cplan + lanes * lane;
    if (a->spectrum)
        own += (uint64_t)nx * ny * ui->channels * ui->depth;
    else if (alpha)
        own += (uint64_t)w * h * sizeof(float); /* the filtered alpha */
    uint64_t held = own > UINT64_MAX - up->held ? UINT64_MAX : own + up->held;
    hdm_info made = *ui; /* the spectrum is of the padded plane: within the size limits too */
    if (a->spectrum) {
        made.width = nx;
        made.height = ny;
    }
    hdm_status st = hdm__check_held(held, opt, up->path, err);
    if (!st && a->spectrum)
        st = spectrum_size(w, h, nx, ny, opt, up->path, err);
    if (st) {
        hdm__source_close(up);
        return st;
    }
    fft_source *f = calloc(1, sizeof *f);
    if (!f) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    f->up = up;
    f->a = *a;
    f->w = w;
    f->h = h;
    f->ch = ui->channels;
    f->colour = f->ch == 2 || f->ch == 4 ? f->ch - 1 : f->ch;
    f->nx = nx;
    f->ny = ny;
    f->kx = (uint32_t)kx;
    f->left = margin(w);
    f->top = margin(h);
    f->base.info = made;
    f->cancel = opt->cancel;
    f->base.path = up->path;
    f->base.held = held;
    f->base.read = fft_read;
    f->base.close = fft_close;
    bool ok = hdm_image_new(w, h, f->ch, ui->depth, &f->hold) == HDM_OK &&
              (!a->spectrum ||
               hdm_image_new(nx, ny, f->ch, ui->depth, &f->spec_out) == HDM_OK) &&
              (f->spec = malloc(kx * ny * sizeof *f->spec)) &&
              (f->ry2 = malloc(ny * sizeof *f->ry2)) &&
              (f->gy1 = malloc(ny * sizeof *f->gy1)) &&
              (f->gy2 = malloc(ny * sizeof *f->gy2)) &&
              (a->spectrum || !alpha ||
               (f->falpha = malloc((size_t)w * h * sizeof *f->falpha))) &&
              (f->cf = kiss_fft_alloc((int)ny, 0, NULL, NULL)) &&
              (f->ci = kiss_fft_alloc((int)ny, 1, NULL, NULL));
    f->lanes = lanes;
    for (uint32_t i = 0; ok && i < lanes; i++) {
        fft_lane *l = &f->lane[i];
        ok = (l->row = malloc(nx * sizeof *l->row)) &&
             (l->arow = malloc(w * sizeof *l->arow)) &&
             (l->col = malloc((size_t)BLOCK * ny * sizeof *l->col)) &&
             (l->col2 = malloc((size_t)BLOCK * ny * sizeof *l->col2)) &&
             (l->rf = kiss_fftr_alloc((int)nx, 0, NULL, NULL)) &&
             (l->ri = kiss_fftr_alloc((int)nx, 1, NULL, NULL));
    }
    if (!ok) {
        fft_close(&f->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    for (uint32_t y = 0; y < ny; y++) {
        /* numpy's fftfreq: k/n up to n/2, then (k − n)/n; times 2 for a fraction of Nyquist */
        double fy = 2.0 * (y <= ny / 2 ? (double)y : (double)y - ny) / ny;
        f->ry2[y] = fy * fy;
        f->gy1[y] = a->f1 > 0 ? gauss_axis(fy, a->f1) : 0;
        f->gy2[y] = a->f2 > 0 ? gauss_axis(fy, a->f2) : 0;
    }
    *out = &f->base;
    return HDM_OK;
}

/* ---- the step: fft:PASS[:CUTOFF[:PROFILE[:N]]] or fft:spectrum ---- */

/* A cutoff is a radius r in fractions of Nyquist, 0 < F < √2: r reaches √2 only at the corner
 * (half a cycle a pixel along both axes), so from √2 on an ideal low-pass would keep every bin
 * and a high-pass none. As a period P in pixels (F = 2/P), P > √2. */
#define MAX_CUTOFF 1.4142135623730951

/* A cutoff: a fraction of Nyquist, or "Ppx", a period of P pixels (the fraction 2/P). */
static bool parse_cutoff(const char *s, double *out)
{
    size_t len = strlen(s);
    char num[64];
    bool px = len > 2 && strcmp(s + len - 2, "px") == 0;
    if (len >= sizeof num)
        return false;
    snprintf(num, sizeof num, "%.*s", (int)(px ? len - 2 : len), s);
    double v;
    if (!hdm__parse_double(num, &v) || !(v > 0) || !isfinite(v))
        return false;
    *out = px ? 2 / v : v;
    return *out > 0 && *out < MAX_CUTOFF;
}

static hdm_status set_cutoffs(fft_args *a, const char *s, hdm_error *err)
{
    const char *comma = strchr(s, ',');
    char one[64];
    size_t len = comma ? (size_t)(comma - s) : strlen(s);
    snprintf(one, sizeof one, "%.*s", (int)(len < sizeof one ? len : sizeof one - 1), s);
    if (len >= sizeof one || !parse_cutoff(one, &a->f1) ||
        (comma && !parse_cutoff(comma + 1, &a->f2)))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: cutoff '%s' must be F or F,F2, each a "
                         "fraction of Nyquist above 0 and below sqrt 2 = 1.41421356 (the corner "
                         "frequency) or a period in pixels above sqrt 2 ('8px')", s);
    if (!comma)
        a->f2 = 0;
    return HDM_OK;
}

static int find_name(const char *s, size_t len, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
            return i;
    return -1;
}

/* "ideal", "gaussian", "butterworth" or "butterworth:N"; order is the N given apart, or NULL. */
static hdm_status set_profile(fft_args *a, const char *s, const char *order, hdm_error *err)
{
    const char *colon = strchr(s, ':');
    size_t len = colon ? (size_t)(colon - s) : strlen(s);
    int p = find_name(s, len, profile_names, F_COUNT);
    if (p < 0) {
        char hint[64];
        return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: unknown profile '%.*s' (ideal, gaussian "
                         "or butterworth[:N])%s", (int)len, s,
                         hdm__did_you_mean(s, len, profile_names, F_COUNT, hint, sizeof hint));
    }
    a->profile = (fprofile)p;
    if (colon)
        order = colon + 1;
    if (order && p != F_BUTTERWORTH)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: profile %s takes no order",
                         profile_names[p]);
    a->order = 2;
    if (order && (!hdm__parse_double(order, &a->order) || !(a->order > 0) || a->order > 100))
        return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: butterworth order N must be a number "
                         "above 0 and at most 100, not '%s'", order);
    return HDM_OK;
}

static hdm_status fft_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    fft_args a = {P_LOW, F_GAUSSIAN, 0, 0, 2, false};
    const char *pass = NULL, *cutoff = NULL, *profile = NULL, *order = NULL;
    for (size_t i = 0; i < n; i++) {
        const char *key = hdm__field_value(f[i], "pass")       ? "pass"
                          : hdm__field_value(f[i], "cutoff")   ? "cutoff"
                          : hdm__field_value(f[i], "profile")  ? "profile"
                                                               : NULL;
        bool bare = !strchr(f[i], '=');
        if (bare && strcmp(f[i], "spectrum") == 0) {
            if (a.spectrum)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: spectrum given twice");
            a.spectrum = true;
        } else if (key) {
            const char **slot = !strcmp(key, "pass")     ? &pass
                                : !strcmp(key, "cutoff") ? &cutoff
                                                         : &profile;
            if (*slot)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: %s given twice", key);
            *slot = hdm__field_value(f[i], key);
        } else if (bare && profile && !order && i > 0 &&
                   (f[i - 1] == profile || hdm__field_value(f[i - 1], "profile") == profile) &&
                   strncmp(profile, "butterworth", 11) == 0 && !strchr(profile, ':')) {
            order = f[i]; /* butterworth:N split at its ':' by the step grammar */
        } else if (bare && !pass && !cutoff && !profile) {
            pass = f[i];
        } else if (bare && !cutoff && !profile) {
            cutoff = f[i];
        } else if (bare && !profile) {
            profile = f[i];
        } else {
            return hdm__bad_field(&hdm__fft_def, f[i], err);
        }
    }
    if (pass) {
        int p = find_name(pass, strlen(pass), pass_names, P_COUNT);
        if (p < 0) {
            char hint[64];
            return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: unknown pass '%s' (low, high, band "
                             "or notch)%s", pass,
                             hdm__did_you_mean(pass, strlen(pass), pass_names, P_COUNT, hint,
                                               sizeof hint));
        }
        a.pass = (fpass)p;
    }
    hdm_status st;
    if (profile && (st = set_profile(&a, profile, order, err)))
        return st;
    if (!a.spectrum) {
        if (!pass)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: needs a pass (low, high, band or "
                             "notch) or spectrum (%s)", hdm__fft_def.pub.syntax);
        bool two = a.pass == P_BAND || a.pass == P_NOTCH;
        if ((st = set_cutoffs(&a, cutoff ? cutoff : two ? "0.25,0.5" : "0.5", err)))
            return st;
        if (two && !(a.f2 > 0))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: %s needs two cutoffs F,F2",
                             pass_names[a.pass]);
        if (!two && a.f2 > 0)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: %s takes one cutoff, not '%s'",
                             pass_names[a.pass], cutoff);
        if (two && !(a.f1 < a.f2))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: %s cutoffs F,F2 must have F below "
                             "F2 (as frequencies), not '%s'", pass_names[a.pass], cutoff);
    } else if (pass || cutoff || profile) {
        return hdm__fail(err, HDM_ERR_ARG, NULL, "fft: spectrum writes the spectrum itself and "
                         "takes no pass, cutoff or profile");
    }
    fft_args *p = malloc(sizeof *p);
    if (!p)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    *p = a;
    *args = p;
    return HDM_OK;
}

const hdm__opdef hdm__fft_def = {
    .pub = {
        .name = "fft",
        .operands = "",
        .syntax = "fft:PASS[:CUTOFF[:PROFILE[:N]]] or fft:spectrum",
        .summary = "filter in the frequency domain by a radial window (holds the whole image)",
        .params = (const hdm_param[]){
            {"pass", "P", "low, high, band (keeps F..F2) or notch (removes F..F2)",
             "low high band notch"},
            {"cutoff", "F[,F2]", "a fraction of Nyquist (radius in normalised frequency) above 0 "
             "and below sqrt 2 = 1.41421356 (the corner), or a period in pixels above sqrt 2 "
             "with 'px' (8px is 2/8 = 0.25); default 0.5, band and notch 0.25,0.5", NULL},
            {"profile", "PR", "ideal, gaussian (default) or butterworth[:N] (N = 2 by default)",
             "ideal gaussian butterworth"},
            {"spectrum", NULL, "write the centred log-magnitude spectrum (padded size) instead",
             NULL},
            {NULL, NULL, NULL, NULL}},
    },
    .parse = fft_parse,
    .free_args = free,
    .wrap = fft_wrap,
};
