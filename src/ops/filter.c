/* SPDX-License-Identifier: MIT */
/* filter.c — 2-D correlation with a kernel, as a source holding a halo of upstream rows */
#include "kernel/kernel.h"
#include "ops/fftconv.h"
#include "ops/filter.h"
#include "ops/ops.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_TAPS = 255 };          /* a written matrix's largest side */
/* Box and gaussian kernels may be as large as memory allows (the filter source checks what its
 * rows hold against max_memory); their radius is only kept within the largest image side that
 * can be asked for (2^20), beyond which more taps change nothing. */
enum { MAX_RADIUS = 1 << 20 };
#define MAX_SIGMA (MAX_RADIUS / 3.0)

/* ---- kernels ---- */

void hdm__fkernel_free(hdm__fkernel *k)
{
    if (!k)
        return;
    free(k->kx);
    free(k->ky);
    free(k->k);
    free(k);
}

static hdm__fkernel *kernel_new(uint32_t kw, uint32_t kh, bool separable)
{
    hdm__fkernel *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    k->kw = kw;
    k->kh = kh;
    k->cx = kw / 2; /* the anchor at the centre, as OpenCV's filter2D puts it */
    k->cy = kh / 2;
    k->separable = separable;
    if (separable) {
        k->kx = malloc(kw * sizeof *k->kx);
        k->ky = malloc(kh * sizeof *k->ky);
    } else {
        k->k = malloc((size_t)kw * kh * sizeof *k->k);
    }
    if (separable ? !k->kx || !k->ky : !k->k) {
        hdm__fkernel_free(k);
        return NULL;
    }
    return k;
}

hdm_status hdm__fkernel_gaussian(double sigma, hdm__fkernel **out, hdm_error *err)
{
    *out = NULL;
    if (!(sigma > 0) || sigma > MAX_SIGMA)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "gaussian sigma must be above 0 and at most %.2f (a radius of 3 sigma "
                         "up to 2^20), not %.15g", floor(MAX_SIGMA * 100) / 100, sigma);
    uint32_t r = (uint32_t)ceil(3 * sigma);
    hdm__fkernel *k = kernel_new(2 * r + 1, 2 * r + 1, true);
    if (!k)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    /* (d/σ)² rather than d²/σ²: for a tiny σ, σ² underflows to 0 and 0/0 would make the centre
     * tap NaN; this way the centre is exp(0) = 1 and the rest exp(-∞) = 0, the identity */
    double sum = 0;
    for (uint32_t i = 0; i <= 2 * r; i++) {
        double t = ((double)i - r) / sigma;
        sum += k->kx[i] = exp(-0.5 * t * t);
    }
    for (uint32_t i = 0; i <= 2 * r; i++)
        k->ky[i] = k->kx[i] /= sum;
    hdm__slide_fit(k->kx, r, &k->slide); /* r = 0 when no form is close enough */
    *out = k;
    return HDM_OK;
}

static hdm_status kernel_box(long size, hdm__fkernel **out, hdm_error *err)
{
    if (size < 1 || size > 2L * MAX_RADIUS + 1 || size % 2 == 0)
        return hdm__fail(err, HDM_ERR_ARG, NULL,
                         "box size must be an odd whole number from 1 to %ld, not %ld",
                         2L * MAX_RADIUS + 1, size);
    hdm__fkernel *k = kernel_new((uint32_t)size, (uint32_t)size, true);
    if (!k)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    for (long i = 0; i < size; i++)
        k->kx[i] = k->ky[i] = 1.0 / (double)size;
    hdm__slide_box((uint32_t)(size / 2), &k->slide);
    *out = k;
    return HDM_OK;
}

/* The fixed 3×3 kernels, as the usual image-processing texts give them. */
static const struct {
    const char *name;
    double k[9];
} fixed[] = {
    {"sharpen", {0, -1, 0, -1, 5, -1, 0, -1, 0}},
    {"laplacian", {0, 1, 0, 1, -4, 1, 0, 1, 0}},
    {"sobel-x", {-1, 0, 1, -2, 0, 2, -1, 0, 1}},
    {"sobel-y", {-1, -2, -1, 0, 0, 0, 1, 2, 1}},
    {"emboss", {-2, -1, 0, -1, 1, 1, 0, 1, 2}},
};

/* A matrix: numbers split by ',' or blanks, rows by ';' or newlines; every row as long. */
static hdm_status kernel_matrix(const char *text, const char *what, hdm__fkernel **out,
                                hdm_error *err)
{
    double *v = malloc(MAX_TAPS * MAX_TAPS * sizeof *v);
    if (!v)
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    uint32_t rows = 0, cols = 0, n = 0, in_row = 0;
    const char *s = text;
    hdm_status st = HDM_OK;
    bool entry_due = false; /* a ',' came after the last entry: another must follow */
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == ',' || *s == '\r') {
            if (*s == ',' && (entry_due || in_row == 0))
                goto empty;
            entry_due |= *s == ',';
            s++;
        }
        if (*s == ';' || *s == '\n' || *s == '\0') {
            if (entry_due)
                goto empty;
            if (in_row) {
                if (rows && in_row != cols) {
                    st = hdm__fail(err, HDM_ERR_ARG, NULL,
                                   "%s: row %u has %u numbers, row 1 has %u (rows must be as "
                                   "long as each other)", what, rows + 1, in_row, cols);
                    break;
                }
                cols = in_row;
                rows++;
                in_row = 0;
            }
            if (*s == '\0')
                break;
            s++;
            continue;
        }
        size_t len = strcspn(s, ",; \t\r\n\v\f");
        char num[64];
        double d;
        snprintf(num, sizeof num, "%.*s", (int)(len < sizeof num ? len : sizeof num - 1), s);
        const char *end = s + len;
        if (len >= sizeof num || !hdm__parse_double(num, &d)) {
            st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: '%.*s' %s", what,
                           (int)(len > 40 ? 40 : len), s,
                           len >= sizeof num ? "is not a number" : hdm__number_problem(num));
            break;
        }
        /* the taps are f32: an entry f32 cannot hold would become ±inf */
        if (fabs(d) > FLT_MAX) {
            st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: entry '%s' (row %u, column %u) is "
                           "beyond what a kernel holds (magnitude at most %g)", what, num,
                           rows + 1, in_row + 1, (double)FLT_MAX);
            break;
        }
        if (in_row == MAX_TAPS || rows == MAX_TAPS) {
            st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: a kernel is at most %d×%d", what,
                           MAX_TAPS, MAX_TAPS);
            break;
        }
        v[n++] = d;
        in_row++;
        entry_due = false;
        s = end;
        continue;
    empty:
        st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: empty entry in row %u, column %u", what,
                       rows + 1, in_row + 1);
        break;
    }
    if (!st && rows == 0)
        st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: no numbers (write rows like "
                       "\"0,-1,0;-1,5,-1;0,-1,0\")", what);
    /* every partial sum of taps times samples in [0, 1] is bounded by the magnitudes' sum */
    double mag = 0;
    for (uint32_t i = 0; !st && i < n; i++)
        mag += fabs(v[i]);
    if (!st && mag > FLT_MAX)
        st = hdm__fail(err, HDM_ERR_ARG, NULL, "%s: the entries' magnitudes add up to %g, "
                       "beyond what a kernel holds (at most %g)", what, mag, (double)FLT_MAX);
    hdm__fkernel *k = NULL;
    if (!st && !(k = kernel_new(cols, rows, false)))
        st = hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    if (!st)
        memcpy(k->k, v, (size_t)n * sizeof *v);
    free(v);
    *out = k;
    return st;
}

static const char kernel_names[] =
    "box:SIZE, gaussian:SIGMA, sharpen, laplacian, sobel-x, sobel-y, emboss, "
    "a matrix \"a,b,c;d,e,f;g,h,i\" or @FILE";

hdm_status hdm__fkernel_parse(const char *spec, hdm__fkernel **out, hdm_error *err)
{
    *out = NULL;
    if (spec[0] == '@')
        return hdm__fail(err, HDM_ERR_ARG, NULL, "a kernel file is read when its step is "
                         "added, not parsed here");
    if (strncmp(spec, "custom:", 7) == 0)
        return kernel_matrix(spec + 7, "kernel", out, err);
    if (strpbrk(spec, ",;") || (*spec && strspn(spec, "+-.0123456789eE ") == strlen(spec)))
        return kernel_matrix(spec, "kernel", out, err);
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
    if (len == 3 && strncmp(spec, "box", 3) == 0) {
        char *end;
        errno = 0;
        long size = arg && *arg ? strtol(arg, &end, 10) : 0;
        if (!arg || !*arg || *end || errno)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "box needs an odd size: box:SIZE, e.g. box:5");
        return kernel_box(size, out, err);
    }
    if (len == 8 && strncmp(spec, "gaussian", 8) == 0) {
        double sigma = 1.0;
        if (arg && !hdm__parse_double(arg, &sigma))
            return hdm__fail(err, HDM_ERR_ARG, NULL, "gaussian sigma '%s' %s (gaussian:SIGMA)",
                             arg, hdm__number_problem(arg));
        return hdm__fkernel_gaussian(sigma, out, err);
    }
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (strlen(fixed[i].name) == len && strncmp(spec, fixed[i].name, len) == 0) {
            if (arg)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "kernel %s takes no argument",
                                 fixed[i].name);
            hdm__fkernel *k = kernel_new(3, 3, false);
            if (!k)
                return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
            memcpy(k->k, fixed[i].k, sizeof fixed[i].k);
            *out = k;
            return HDM_OK;
        }
    static const char *const names[] = {"box", "gaussian", "custom", "sharpen", "laplacian",
                                        "sobel-x", "sobel-y", "emboss"};
    char hint[64];
    return hdm__fail(err, HDM_ERR_ARG, NULL, "unknown kernel '%s' (use %s)%s", spec,
                     kernel_names, hdm__did_you_mean(spec, len, names, sizeof names /
                                                     sizeof names[0], hint, sizeof hint));
}

/* ---- borders ---- */

static const char *const border_names[HDM__BORDER_COUNT] = {"clamp", "mirror", "wrap", "zero"};

int hdm__border_find(const char *name)
{
    for (int i = 0; i < HDM__BORDER_COUNT; i++)
        if (strcmp(name, border_names[i]) == 0)
            return i;
    return -1;
}

int64_t hdm__border_index(int64_t i, int64_t n, hdm__border b)
{
    if (i >= 0 && i < n)
        return i;
    switch (b) {
    case HDM__BORDER_CLAMP: return i < 0 ? 0 : n - 1;
    case HDM__BORDER_MIRROR: {
        if (n == 1)
            return 0;
        int64_t period = 2 * (n - 1);
        i %= period;
        if (i < 0)
            i += period;
        return i < n ? i : period - i;
    }
    case HDM__BORDER_WRAP: i %= n; return i < 0 ? i + n : i;
    default: return -1;
    }
}

/* ---- a kernel reaching past the image, folded ----
 *
 * Output x reads the sample at border index x + d for a tap at offset d = i − cx. Taps whose
 * reads are the same for every x of an image n wide can be added into one: with clamp, every
 * d < −(n − 1) reads column 0 wherever x is, as d = −(n − 1) does (and d > n − 1, column n − 1,
 * as d = n − 1); with zero, |d| ≥ n reads nothing; with wrap and mirror the index repeats every
 * n and 2(n − 1) columns, so d folds modulo that period. The taps are added in f64 before they become f32,
 * so the sum is the direct one's within rounding; the cost and memory no longer grow with a
 * kernel past twice the image (a box of 2^20 over a 1000-pixel row). */

/* New offsets of one axis: taps n around c over an image side s; *lo and *span give the folded
 * range d ∈ [lo, lo + span); map(d) is where offset d goes (−1: dropped). */
typedef struct fold_axis {
    int64_t lo, span, period; /* period > 0: modulo it, into [0, period) */
    int64_t keep_lo, keep_hi; /* clamp and zero: the offsets kept as they are */
    bool clamp;
} fold_axis;

static bool fold_plan(uint32_t n, uint32_t c, uint32_t s, hdm__border b, fold_axis *f)
{
    int64_t dmin = -(int64_t)c, dmax = (int64_t)n - 1 - c, side = s;
    memset(f, 0, sizeof *f);
    if (b == HDM__BORDER_WRAP || b == HDM__BORDER_MIRROR) {
        int64_t period = b == HDM__BORDER_WRAP ? side : side == 1 ? 1 : 2 * (side - 1);
        if (dmax - dmin + 1 <= period)
            return false;
        f->period = period;
        f->lo = 0;
        f->span = period;
        return true;
    }
    int64_t edge = side - 1; /* the last offset kept */
    if (dmin >= -edge && dmax <= edge)
        return false;
    f->clamp = b == HDM__BORDER_CLAMP;
    f->keep_lo = dmin > -edge ? dmin : -edge;
    f->keep_hi = dmax < edge ? dmax : edge;
    if (f->keep_lo > f->keep_hi) /* every tap reads outside a zero border: one tap of 0 */
        f->keep_lo = f->keep_hi = 0;
    f->lo = f->keep_lo;
    f->span = f->keep_hi - f->keep_lo + 1;
    return true;
}

/* Where tap offset d lands in the folded axis (an index from 0), or −1 for none. */
static int64_t fold_map(const fold_axis *f, int64_t d)
{
    if (f->period) {
        d %= f->period;
        return d < 0 ? d + f->period : d;
    }
    if (d < f->keep_lo)
        d = f->clamp ? f->keep_lo : INT64_MIN;
    else if (d > f->keep_hi)
        d = f->clamp ? f->keep_hi : INT64_MIN;
    return d == INT64_MIN ? -1 : d - f->lo;
}

/* One axis's taps folded into *out (f->span of them, anchor at −f->lo). */
static double *fold_taps(const double *t, uint32_t n, uint32_t c, const fold_axis *f)
{
    double *o = calloc((size_t)f->span, sizeof *o);
    if (o)
        for (uint32_t i = 0; i < n; i++) {
            int64_t j = fold_map(f, (int64_t)i - c);
            if (j >= 0)
                o[j] += t[i];
        }
    return o;
}

/* k folded for an image w × h with border b into *out, or *out NULL when no tap can be
 * folded; HDM_ERR_NOMEM. */
static hdm_status kernel_fold(const hdm__fkernel *k, uint32_t w, uint32_t h, hdm__border b,
                              hdm__fkernel **out)
{
    *out = NULL;
    fold_axis fx, fy;
    bool x = fold_plan(k->kw, k->cx, w, b, &fx), y = fold_plan(k->kh, k->cy, h, b, &fy);
    if (!x && !y)
        return HDM_OK;
    if (!x)
        fx = (fold_axis){.lo = -(int64_t)k->cx, .span = k->kw, .keep_lo = -(int64_t)k->cx,
                         .keep_hi = (int64_t)k->kw - 1 - k->cx};
    if (!y)
        fy = (fold_axis){.lo = -(int64_t)k->cy, .span = k->kh, .keep_lo = -(int64_t)k->cy,
                         .keep_hi = (int64_t)k->kh - 1 - k->cy};
    hdm__fkernel *f = calloc(1, sizeof *f);
    if (!f)
        return HDM_ERR_NOMEM;
    f->kw = (uint32_t)fx.span;
    f->kh = (uint32_t)fy.span;
    f->cx = (uint32_t)-fx.lo;
    f->cy = (uint32_t)-fy.lo;
    f->separable = k->separable;
    if (k->separable) {
        f->kx = fold_taps(k->kx, k->kw, k->cx, &fx);
        f->ky = fold_taps(k->ky, k->kh, k->cy, &fy);
    } else if ((f->k = calloc((size_t)f->kw * f->kh, sizeof *f->k))) {
        for (uint32_t j = 0; j < k->kh; j++) {
            int64_t jj = fold_map(&fy, (int64_t)j - k->cy);
            for (uint32_t i = 0; jj >= 0 && i < k->kw; i++) {
                int64_t ii = fold_map(&fx, (int64_t)i - k->cx);
                if (ii >= 0)
                    f->k[(size_t)jj * f->kw + ii] += k->k[(size_t)j * k->kw + i];
            }
        }
    }
    if (k->separable ? !f->kx || !f->ky : !f->k) {
        hdm__fkernel_free(f);
        return HDM_ERR_NOMEM;
    }
    *out = f;
    return HDM_OK;
}

/* ---- the filter source ----
 *
 * Upstream rows are read one at a time and "prepared" into a ring: converted to f32,
 * premultiplied if asked, padded left and right by the border rule, and — for a separable
 * kernel — already filtered along the row. An output row then sums kh ring rows, all of a
 * plane's taps in one resample_col_f32 call (each sample's sum in tap order, as a run of axpys
 * would give it, but without storing and loading the sums between taps). The ring holds kh + 1
 * rows, enough for every row one output needs. */

/* What a negative (or above-one) sum becomes: clamped (the default), its magnitude, or moved up
 * by mid-grey so zero reads as 0.5. */
typedef enum signed_mode { SIGNED_CLAMP, SIGNED_ABS, SIGNED_OFFSET, SIGNED_COUNT } signed_mode;
static const char *const signed_names[SIGNED_COUNT] = {"clamp", "abs", "offset"};

/* Output rows summed together, column block by column block (out_rows). */
enum { SUM_ROWS = 8 };
/* The bytes of those blocks' input rows (kh + SUM_ROWS − 1 of them) that the cache should hold
 * (half a core's L2 on today's x86 and Arm cores); a block is at least BLOCK_MIN samples. */
enum { BLOCK_BYTES = 1 << 20, BLOCK_MIN = 256 };

typedef struct filter_source {
    hdm__source base;
    hdm__source *up;
    hdm__border border;
    signed_mode sign;      /* colour planes only: alpha is always clamped */
    bool premul;           /* colour planes filtered premultiplied by the last (alpha) plane */
    bool keep_alpha;       /* premul with a zero-sum kernel (edges): alpha sums to 0, so it is
                            * kept as it is and the colour is the premultiplied response */
    uint32_t w, h, ch;
    uint32_t kw, kh, cx, cy;
    bool separable;
    float *kx, *ky, *k;    /* taps in f32 */
    size_t padlen;         /* w + kw − 1: a padded row */
    size_t rowlen;         /* floats per plane in a ring row: w (separable) or padlen */
    uint32_t cap;          /* ring rows */
    float *ring;           /* cap × ch × rowlen */
    int64_t *ring_row;     /* which input row each slot holds, −1 for none */
    float *pad;            /* ch × padlen scratch for a separable kernel's row pass */
    float *acc;            /* the FFT's ch × w sums of one output row */
    float *sums;           /* the direct sum's: nthreads × SUM_ROWS × ch × w */
    size_t block;          /* samples of a row summed for SUM_ROWS output rows at a time */
    int64_t sums_y0;       /* unthreaded: the first output row sums holds, −1 for none */
    uint32_t sums_rows;
    /* A thread's list of taps for one resample_col_f32 call: where each tap reads and its
     * weight (up to maxtaps), and the ring slot of each of an output row's kh input rows. */
    size_t maxtaps;
    const float **tap_at;  /* nthreads × maxtaps */
    float *tap_w;          /* nthreads × maxtaps */
    uint32_t *tap_slot;    /* nthreads × (kh + SUM_ROWS) */
    bool ky_live;          /* a separable kernel's column taps are all non-zero */
    float *zeros;          /* then w zeros: a zero border's rows */
    uint32_t nx;           /* a separable kernel's non-zero row taps: */
    uint32_t *x_at;        /* their offsets in a padded row */
    float *x_w;            /* and weights */
    hdm_image *one;        /* one upstream row in its own depth */
    hdm_image *hold;       /* wrap only: every upstream row */
    uint32_t next_in;      /* next upstream row to read */
    /* A gaussian or box kernel through sliding sums (slide.h): upstream rows kept as they are
     * in raw (cap rows, row i in slot i % cap; a wrap border's in hold), the columns' running
     * sums moved down a row at a time into vb, a band of rows, whose rows are then summed
     * along, HDM__SLIDE_LANES side by side, back into it. */
    hdm__slide_axis *sx, *sy;
    hdm_image *raw;
    float *st;             /* ch × (1 + 2T) × w: the columns' sums */
    float *vb;             /* ch × band × w, then summed along in place: bout is vb */
    float *sscr;           /* nthreads × slide_scratch() floats */
    uint32_t vnext;        /* the output row the columns' sums move to next */
    uint32_t sy0, srows;   /* the band being summed */
    bool restart;          /* the sums start afresh every SL_RESTART outputs (beyond 8 bits) */
    hdm__fftconv *fc;      /* a large kernel: bands of output rows through the FFT */
    uint32_t band;         /* output rows in a band */
    float *bout;           /* ch × band × w: the band's sums */
    int64_t band_y0;       /* the band bout holds, −1 for none */
    uint32_t band_rows;
    /* With threads (a wrap border excepted): a group of output rows at a time, their new
     * upstream rows read in one call and prepared in parallel, then the rows summed in
     * parallel, each thread with a pad and an acc of its own; the ring holds group rows more.
     * Each row is prepared and summed by the same code as unthreaded, so the same bits. */
    const volatile int *cancel; /* the caller's flag, read on the caller's thread: a large
                                 * kernel's rows take long, so it is asked for each */
    uint32_t nthreads, group;
    hdm__pool *pool;
    bool pool_tried;
    float *pads;           /* nthreads × ch × padlen */
    hdm_image *batch;      /* the group's new upstream rows (cap rows) */
    hdm_image *sstrip;     /* one group's share-out: */
    uint32_t sfirst, scount, sparts, sr0;
    hdm_status *sst;
    hdm_error *serr;
} filter_source;

static float *slot_plane(filter_source *f, uint32_t slot, uint32_t c)
{
    return f->ring + ((size_t)slot * f->ch + c) * f->rowlen;
}

/* Prepares upstream row i (its samples in src, a 1-row image or a row view) into slot, pad
 * being a separable kernel's ch × padlen scratch, on thread t's tap list. */
static void prepare(filter_source *f, uint32_t t, float *pad, const hdm_image *src,
                    uint32_t srow, uint32_t slot)
{
    const hdm__kernel *kt = hdm__kern();
    uint32_t left = f->cx, right = f->kw - 1 - f->cx;
    for (uint32_t c = 0; c < f->ch; c++) {
        float *p = (f->separable ? pad + (size_t)c * f->padlen : slot_plane(f, slot, c));
        hdm__convert_row(p + left, HDM_F32, hdm_row(src, c, srow), src->depth, f->w);
    }
    for (uint32_t c = 0; c < f->ch; c++) {
        float *p = (f->separable ? pad + (size_t)c * f->padlen : slot_plane(f, slot, c));
        if (f->premul && c + 1 < f->ch) {
            const float *a = (f->separable ? pad + (size_t)(f->ch - 1) * f->padlen
                                           : slot_plane(f, slot, f->ch - 1));
            kt->mul_f32(p + left, p + left, a + left, f->w);
        }
        /* the border, copied sample by sample: data movement, no maths */
        for (uint32_t x = 0; x < left; x++) {
            int64_t s = hdm__border_index((int64_t)x - left, f->w, f->border);
            p[x] = s < 0 ? 0.0f : p[left + s];
        }
        for (uint32_t x = 0; x < right; x++) {
            int64_t s = hdm__border_index((int64_t)f->w + x, f->w, f->border);
            p[left + f->w + x] = s < 0 ? 0.0f : p[left + s];
        }
        if (f->separable && f->keep_alpha && c + 1 == f->ch) {
            memcpy(slot_plane(f, slot, c), p + left, f->w * sizeof *p); /* alpha as it is */
        } else if (f->separable) {
            const float **at = f->tap_at + (size_t)t * f->maxtaps;
            for (uint32_t i = 0; i < f->nx; i++)
                at[i] = p + f->x_at[i];
            kt->resample_col_f32(slot_plane(f, slot, c), at, f->x_w, f->nx, f->w);
        }
    }
}

/* The ring slot holding input row i, reading upstream up to it if needed. */
static hdm_status fetch(filter_source *f, uint32_t i, uint32_t *slot, hdm_error *err)
{
    *slot = i % f->cap;
    if (f->ring_row[*slot] == (int64_t)i)
        return HDM_OK;
    if (f->hold) {
        prepare(f, 0, f->pad, f->hold, i, *slot);
        f->ring_row[*slot] = i;
        return HDM_OK;
    }
    if (i < f->next_in)
        return hdm__fail(err, HDM_ERR_ARG, f->base.path, "filter: row %u left the ring", i);
    while (f->next_in <= i) {
        hdm_status st = hdm__source_read(f->up, f->one, 1, err);
        if (st)
            return st;
        uint32_t s = f->next_in % f->cap;
        prepare(f, 0, f->pad, f->one, 0, s);
        f->ring_row[s] = f->next_in++;
    }
    return HDM_OK;
}

/* Half a 16-bit level: twice the FFT's error on any sum (test_ops_fftconv.c's raw error,
 * below a quarter of a level). */
#define ALPHA_FLOOR (0.5f / 65535.0f)

/* Output row r of strip from the sums in facc (ch × w): divided back by alpha, signed as asked,
 * converted. */
static void finish_row(filter_source *f, float *facc, hdm_image *strip, uint32_t r)
{
    const hdm__kernel *kt = hdm__kern();
    float *alpha = facc + (size_t)(f->ch - 1) * f->w;
    /* The FFT's sums are within ALPHA_FLOOR of the exact ones, whatever they sum: an alpha
     * sum no larger is nothing but that error (a window all transparent, whose exact sum is
     * 0), and dividing colour by it would give any colour. It is 0, so colour is 0 as
     * unpremul_f32 has it; an alpha so small rounds to 0 in 8 and 16 bits anyway. */
    if (f->fc && f->premul && !f->keep_alpha)
        for (uint32_t x = 0; x < f->w; x++)
            alpha[x] = alpha[x] <= ALPHA_FLOOR ? 0.0f : alpha[x];
    for (uint32_t c = 0; c < f->ch; c++) {
        float *acc = facc + (size_t)c * f->w;
        bool colour = !(f->premul && c + 1 == f->ch); /* alpha is not a signal */
        if (f->premul && !f->keep_alpha && c + 1 < f->ch)
            kt->unpremul_f32(acc, acc, alpha, f->w);
        if (colour && f->sign == SIGNED_ABS)
            kt->abs_f32(acc, acc, f->w);
        else if (colour && f->sign == SIGNED_OFFSET)
            kt->add_f32(acc, acc, 0.5f, f->w);
        hdm__convert_row(hdm_row(strip, c, r), strip->depth, acc, HDM_F32, f->w);
    }
}

/* The sums of output rows y0 … y0 + m − 1 (m ≤ SUM_ROWS) into thread t's sums (row r at
 * r × ch × w), on its tap list. Column block by column block, all m rows are summed before the next
 * block, so the kh + m − 1 input rows' block is read from memory once and then from the
 * core's cache; each sample's sum is the same whatever the block. read: rows not in the ring
 * are read from upstream; else (a share-out, every row already read) a missing one is an
 * error. */
static hdm_status out_rows(filter_source *f, uint32_t t, int64_t y0, uint32_t m, bool read,
                           hdm_error *err)
{
    const hdm__kernel *kt = hdm__kern();
    uint32_t *slot = f->tap_slot + (size_t)t * (f->kh + SUM_ROWS);
    for (uint32_t q = 0; q < f->kh + m - 1; q++) {
        int64_t yy = hdm__border_index(y0 - f->cy + q, f->h, f->border);
        slot[q] = UINT32_MAX; /* a zero border adds nothing */
        if (yy < 0)
            continue;
        hdm_status st = HDM_OK;
        if (f->hold) {
            /* a wrap border's rows are consecutive before they wrap: slotted by that
             * unwrapped index, they never share a slot while all are needed at once */
            int64_t u = (y0 - f->cy + q) % f->cap;
            slot[q] = (uint32_t)(u < 0 ? u + f->cap : u);
            if (f->ring_row[slot[q]] != yy) {
                prepare(f, t, f->pad, f->hold, (uint32_t)yy, slot[q]);
                f->ring_row[slot[q]] = yy;
            }
            continue;
        }
        slot[q] = (uint32_t)yy % f->cap;
        if (read)
            st = fetch(f, (uint32_t)yy, &slot[q], err);
        else if (f->ring_row[slot[q]] != yy)
            st = hdm__fail(err, HDM_ERR_ARG, f->base.path, "filter: row %u left the ring",
                           (uint32_t)yy);
        if (st)
            return st;
    }
    float *sums = f->sums + (size_t)t * SUM_ROWS * f->ch * f->w;
    const float **at = f->tap_at + (size_t)t * f->maxtaps;
    float *w = f->tap_w + (size_t)t * f->maxtaps;
    for (uint32_t c = 0; c < f->ch; c++) {
        if (f->keep_alpha && c + 1 == f->ch) { /* each row's own alpha, unfiltered */
            for (uint32_t r = 0; r < m; r++)
                memcpy(sums + ((size_t)r * f->ch + c) * f->w,
                       slot_plane(f, slot[r + f->cy], c) + (f->separable ? 0 : f->cx),
                       f->w * sizeof *sums);
            continue;
        }
        for (size_t x0 = 0; x0 < f->w; x0 += f->block) {
            size_t len = f->w - x0 < f->block ? f->w - x0 : f->block;
            if (f->ky_live) {
                /* every tap non-zero: the kernel sums the m rows together, a zero border's
                 * rows read as zeros (adding w·0 changes no sum) */
                float *dst[SUM_ROWS];
                for (uint32_t q = 0; q < f->kh + m - 1; q++)
                    at[q] = (slot[q] == UINT32_MAX ? f->zeros : slot_plane(f, slot[q], c)) + x0;
                for (uint32_t r = 0; r < m; r++)
                    dst[r] = sums + ((size_t)r * f->ch + c) * f->w + x0;
                kt->filter_cols_f32(dst, at, f->ky, f->kh, m, len);
                continue;
            }
            for (uint32_t r = 0; r < m; r++) {
                size_t n = 0;
                for (uint32_t j = 0; j < f->kh; j++) {
                    if (slot[r + j] == UINT32_MAX)
                        continue;
                    const float *src = slot_plane(f, slot[r + j], c) + x0;
                    if (f->separable) {
                        if (f->ky[j] != 0.0f)
                            at[n] = src, w[n++] = f->ky[j];
                        continue;
                    }
                    for (uint32_t i = 0; i < f->kw; i++) {
                        float k = f->k[(size_t)j * f->kw + i];
                        if (k != 0.0f)
                            at[n] = src + i, w[n++] = k;
                    }
                }
                kt->resample_col_f32(sums + ((size_t)r * f->ch + c) * f->w + x0, at, w, n,
                                     len);
            }
        }
    }
    return HDM_OK;
}

/* The band of output rows from y0 into f->bout, plane by plane: each plane's padded input rows
 * go through the plan as they are fetched (so a wrap border's rows may share a ring slot). */
static hdm_status fft_band(filter_source *f, uint32_t y0, hdm_error *err)
{
    uint32_t rows = f->h - y0 < f->band ? f->h - y0 : f->band;
    f->band_y0 = -1;
    for (uint32_t c = 0; c < f->ch; c++) {
        if (f->cancel && *f->cancel) /* a plane's band takes long */
            return hdm__fail(err, HDM_ERR_INTERRUPTED, f->base.path, "interrupted");
        float *o = f->bout + (size_t)c * f->band * f->w;
        uint32_t slot;
        hdm_status st = HDM_OK;
        if (f->keep_alpha && c + 1 == f->ch) { /* each row's own alpha, unfiltered */
            for (uint32_t r = 0; !st && r < rows; r++)
                if (!(st = fetch(f, y0 + r, &slot, err)))
                    memcpy(o + (size_t)r * f->w, slot_plane(f, slot, c) + f->cx,
                           f->w * sizeof *o);
            if (st)
                return st;
            continue;
        }
        for (uint32_t t = 0; t < rows + f->kh - 1; t++) {
            int64_t yy = hdm__border_index((int64_t)y0 + t - f->cy, f->h, f->border);
            if (yy >= 0 && (st = fetch(f, (uint32_t)yy, &slot, err)))
                return st;
            hdm__fftconv_put(f->fc, t, yy < 0 ? NULL : slot_plane(f, slot, c));
        }
        hdm__fftconv_run(f->fc, rows, o);
    }
    f->band_y0 = y0;
    f->band_rows = rows;
    return HDM_OK;
}

/* ---- sliding sums ---- */

enum { SL_T = HDM__SLIDE_TERMS, SL_S = 1 + 2 * HDM__SLIDE_TERMS, SL_L = HDM__SLIDE_LANES };
/* Running sums gather rounding as they go, about as the square root of their length: over
 * 8-bit samples that stays far below a level on any line (0.0003 of one after 800 samples,
 * so about 0.01 after 2^20), but over 16-bit ones it would pass a level on the longest lines
 * (0.08 of one after 800, 0.33 after 20000). So beyond 8 bits the sums start afresh from an
 * empty window every SL_RESTART outputs, down the columns and along the rows, at the same
 * places whatever the threads: the error stays that of a line SL_RESTART long. A restart
 * costs 2r steps (9% more at r = 180, σ = 60), which for any r is far below the direct sum's
 * 2r + 1 taps a sample. */
enum { SL_RESTART = 4096 }; /* a multiple of HDM__SLIDE_LANES, so restarts begin bands */

/* Floats of one thread's scratch for rows w wide, ch planes, a window of 2r + 1: an entering
 * and a leaving row of every plane, and HDM__SLIDE_LANES rows padded and their sums. */
static uint64_t slide_scratch(uint64_t w, uint64_t ch, uint64_t r)
{
    return 2 * ch * w + (w + 2 * r) * SL_L + w * SL_L;
}

/* Columns x0 … x1 of padded row k's planes into u (ch rows of w), in f32, colour premultiplied
 * if asked: as prepare converts them, so a row leaving the window takes away exactly what it
 * brought. Zeros for a zero border's rows and for none (k = INT64_MIN). */
static void slide_load(filter_source *f, float *u, int64_t k, uint32_t x0, uint32_t x1)
{
    const hdm__kernel *kt = hdm__kern();
    uint32_t n = x1 - x0;
    int64_t j = k == INT64_MIN ? -1 : hdm__border_index(k, f->h, f->border);
    const hdm_image *img = f->hold ? f->hold : f->raw;
    for (uint32_t c = 0; c < f->ch; c++) {
        float *d = u + (size_t)c * f->w + x0;
        if (j < 0) {
            memset(d, 0, n * sizeof *d);
            continue;
        }
        uint32_t row = f->hold ? (uint32_t)j : (uint32_t)(j % f->cap);
        const uint8_t *src = (const uint8_t *)hdm_row(img, c, row) + (size_t)x0 * img->depth;
        hdm__convert_row(d, HDM_F32, src, img->depth, n);
    }
    if (f->premul && j >= 0)
        for (uint32_t c = 0; c + 1 < f->ch; c++)
            kt->mul_f32(u + (size_t)c * f->w + x0, u + (size_t)c * f->w + x0,
                        u + (size_t)(f->ch - 1) * f->w + x0, n);
}

/* Part i of the band's columns (blocks of 16, so every part's vectors are whole): their sums
 * moved down to each of the band's rows, from the window's first row when the band is the
 * first, each row's sums into vb. A column's sums are the same whatever part it is in. */
static void slide_cols_part(void *ctx, uint32_t i)
{
    filter_source *f = ctx;
    const hdm__kernel *kt = hdm__kern();
    uint64_t blocks = (f->w + 15) / 16;
    uint32_t x0 = (uint32_t)(blocks * i / f->sparts * 16);
    uint32_t x1 = (uint32_t)(blocks * (i + 1) / f->sparts * 16);
    x1 = x1 < f->w ? x1 : f->w;
    if (x0 >= x1)
        return;
    float *ui = f->sscr + i * slide_scratch(f->w, f->ch, f->sx->r);
    float *uo = ui + (size_t)f->ch * f->w;
    int64_t r = f->sy->r, end = (int64_t)f->sy0 + f->srows;
    /* from an empty window: the image's first band, and a restart's */
    bool fresh = f->sy0 == 0 || (f->restart && f->sy0 % SL_RESTART == 0);
    for (uint32_t c = 0; fresh && c < f->ch; c++)
        for (int k = 0; k < SL_S; k++)
            memset(f->st + ((size_t)c * SL_S + k) * f->w + x0, 0, (x1 - x0) * sizeof *f->st);
    for (int64_t n = fresh ? (int64_t)f->sy0 - 2 * r : f->sy0; n < end; n++) {
        /* while the window fills, nothing leaves it */
        int64_t kin = n + r, kout = fresh && n <= (int64_t)f->sy0 ? INT64_MIN : n - r - 1;
        slide_load(f, ui, kin, x0, x1);
        slide_load(f, uo, kout, x0, x1);
        const float *ei = f->sy->e + (size_t)(kin + r) * 2 * SL_T;
        const float *eo = f->sy->e + (size_t)(kout == INT64_MIN ? 0 : kout + r) * 2 * SL_T;
        const float *p = f->sy->p + (size_t)(n >= 0 ? n : 0) * SL_S;
        bool filling = n < (int64_t)f->sy0; /* no output yet */
        for (uint32_t c = 0; c < f->ch; c++) {
            float *dst = filling ? NULL
                                 : f->vb + ((size_t)c * f->band + (size_t)(n - f->sy0)) * f->w + x0;
            kt->slide_cols_f32(f->st + (size_t)c * SL_S * f->w + x0, f->w, dst,
                               ui + (size_t)c * f->w + x0, uo + (size_t)c * f->w + x0, ei, eo,
                               p, x1 - x0);
        }
    }
}

/* Part i of the band's rows summed along: planes i, i + parts, …, HDM__SLIDE_LANES rows side
 * by side (the band's), padded by the border rule, back into vb (which is bout). */
static void slide_rows_part(void *ctx, uint32_t i)
{
    filter_source *f = ctx;
    const hdm__kernel *kt = hdm__kern();
    size_t r = f->sx->r, steps = f->w + 2 * r;
    float *u = f->sscr + i * slide_scratch(f->w, f->ch, r) + 2 * (size_t)f->ch * f->w;
    float *y = u + steps * SL_L;
    for (uint32_t c = i; c < f->ch; c += f->sparts) {
        const float *v = f->vb + (size_t)c * f->band * f->w;
        for (size_t t = 0; t < steps; t++) {
            int64_t j = hdm__border_index((int64_t)t - (int64_t)r, f->w, f->border);
            float *d = u + t * SL_L;
            for (uint32_t l = 0; l < SL_L; l++)
                d[l] = j >= 0 && l < f->srows ? v[(size_t)l * f->w + j] : 0.0f;
        }
        size_t seg = f->restart ? SL_RESTART : f->w; /* each segment from an empty window */
        for (size_t x0 = 0; x0 < f->w; x0 += seg)
            kt->slide_lines_f32(y + x0 * SL_L, u + x0 * SL_L, f->sx->e + x0 * 2 * SL_T,
                                f->sx->p + x0 * SL_S, r, f->w - x0 < seg ? f->w - x0 : seg);
        float *o = f->vb + (size_t)c * f->band * f->w;
        for (uint32_t l = 0; l < f->srows; l++)
            for (size_t x = 0; x < f->w; x++)
                o[(size_t)l * f->w + x] = y[x * SL_L + l];
    }
}

/* The band of output rows from y0 into f->bout by sliding sums: the upstream rows its window
 * reaches read into raw, the columns' sums moved down to it, its rows summed along. Bands come
 * in order, each the next. */
static hdm_status slide_band(filter_source *f, uint32_t y0, hdm_error *err)
{
    f->band_y0 = -1;
    if (f->cancel && *f->cancel)
        return hdm__fail(err, HDM_ERR_INTERRUPTED, f->base.path, "interrupted");
    if (y0 != f->vnext)
        return hdm__fail(err, HDM_ERR_ARG, f->base.path, "filter: row %u asked for after row %u",
                         y0, f->vnext);
    uint32_t rows = f->h - y0 < f->band ? f->h - y0 : f->band;
    int64_t last = (int64_t)y0 + rows - 1 + f->sy->r; /* the last upstream row it reads */
    last = last < f->h ? last : f->h - 1;
    while (!f->hold && (int64_t)f->next_in <= last) {
        hdm_status st = hdm__source_read(f->up, f->one, 1, err);
        if (st)
            return st;
        for (uint32_t c = 0; c < f->ch; c++)
            memcpy(hdm_row(f->raw, c, f->next_in % f->cap), hdm_row(f->one, c, 0),
                   (size_t)f->w * f->one->depth);
        f->next_in++;
    }
    f->sy0 = y0;
    f->srows = rows;
    uint32_t cols = (f->w + 15) / 16;
    f->sparts = f->nthreads < cols ? f->nthreads : cols;
    hdm__pool_run(f->pool, f->sparts, slide_cols_part, f);
    f->sparts = f->nthreads < f->ch ? f->nthreads : f->ch;
    hdm__pool_run(f->pool, f->sparts, slide_rows_part, f);
    f->vnext = y0 + rows;
    f->band_y0 = y0;
    f->band_rows = rows;
    return HDM_OK;
}

/* Part i of a group's new upstream rows (batch rows, image rows sfirst…) prepared into their
 * slots. */
static void prepare_part(void *ctx, uint32_t i)
{
    filter_source *f = ctx;
    uint32_t a = (uint32_t)((uint64_t)f->scount * i / f->sparts);
    uint32_t b = (uint32_t)((uint64_t)f->scount * (i + 1) / f->sparts);
    float *pad = f->pads ? f->pads + (size_t)i * f->ch * f->padlen : NULL;
    for (uint32_t k = a; k < b; k++)
        prepare(f, i, pad, f->batch, k, (f->sfirst + k) % f->cap);
}

/* Part i of a group's output rows (image rows sfirst…, strip rows sr0…) summed. */
static void sum_part(void *ctx, uint32_t i)
{
    filter_source *f = ctx;
    uint32_t a = (uint32_t)((uint64_t)f->scount * i / f->sparts);
    uint32_t b = (uint32_t)((uint64_t)f->scount * (i + 1) / f->sparts);
    float *sums = f->sums + (size_t)i * SUM_ROWS * f->ch * f->w;
    f->sst[i] = HDM_OK;
    for (uint32_t k = a; k < b && !f->sst[i]; k += SUM_ROWS) {
        uint32_t m = b - k < SUM_ROWS ? b - k : SUM_ROWS;
        if ((f->sst[i] = out_rows(f, i, (int64_t)f->sfirst + k, m, false, &f->serr[i])))
            break;
        for (uint32_t r = 0; r < m; r++)
            finish_row(f, sums + (size_t)r * f->ch * f->w, f->sstrip, f->sr0 + k + r);
    }
}

/* Parts for n rows of w × ch samples: one per thread, each at least PART_SAMPLES. */
static uint32_t parts_for(const filter_source *f, uint32_t n)
{
    uint64_t p = (uint64_t)n * f->w * f->ch / (1 << 14);
    p = p > f->nthreads ? f->nthreads : p < 1 ? 1 : p;
    return p > n ? (n ? n : 1) : (uint32_t)p;
}

/* rows output rows into strip, a group at a time, shared out on the pool. */
static hdm_status shared_read(filter_source *f, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    for (uint32_t r0 = 0; r0 < rows;) {
        if (f->cancel && *f->cancel)
            return hdm__fail(err, HDM_ERR_INTERRUPTED, f->base.path, "interrupted");
        uint32_t g = rows - r0 < f->group ? rows - r0 : f->group;
        int64_t y0 = (int64_t)f->base.next + r0, last = -1;
        for (uint32_t k = 0; k < g; k++) /* the last input row any of them reads */
            for (uint32_t j = 0; j < f->kh; j++) {
                int64_t yy = hdm__border_index(y0 + k - f->cy + j, f->h, f->border);
                last = yy > last ? yy : last;
            }
        if (last >= (int64_t)f->next_in) {
            uint32_t n = (uint32_t)(last + 1 - f->next_in);
            if (n > f->cap) /* the ring holds a group's rows: never, but never past batch */
                return hdm__fail(err, HDM_ERR_ARG, f->base.path, "filter: %u rows at once", n);
            hdm_status st = hdm__source_read(f->up, f->batch, n, err);
            if (st)
                return st;
            f->sfirst = f->next_in;
            f->scount = n;
            f->sparts = parts_for(f, n);
            hdm__pool_run(f->pool, f->sparts, prepare_part, f);
            for (uint32_t k = 0; k < n; k++)
                f->ring_row[(f->next_in + k) % f->cap] = f->next_in + k;
            f->next_in += n;
        }
        f->sstrip = strip;
        f->sfirst = (uint32_t)y0;
        f->scount = g;
        f->sr0 = r0;
        f->sparts = parts_for(f, g);
        hdm__pool_run(f->pool, f->sparts, sum_part, f);
        for (uint32_t i = 0; i < f->sparts; i++)
            if (f->sst[i]) {
                if (err)
                    *err = f->serr[i];
                return f->sst[i];
            }
        r0 += g;
    }
    return HDM_OK;
}

static hdm_status filter_read(hdm__source *s, hdm_image *strip, uint32_t rows, hdm_error *err)
{
    filter_source *f = (filter_source *)s;
    if (f->border == HDM__BORDER_WRAP && !f->hold) {
        hdm_status st = hdm_image_new(f->w, f->h, f->ch, f->up->info.depth, &f->hold);
        if (st)
            return hdm__fail(err, st, s->path, "filter: cannot hold the image for a wrap "
                             "border: %s", hdm_strerror(st));
        st = hdm__source_read(f->up, f->hold, f->h, err);
        if (st)
            return st;
    }
    if ((f->group || (f->sy && f->nthreads > 1)) && !f->pool_tried) {
        f->pool_tried = true;
        if (hdm__pool_new(f->nthreads, &f->pool) || !f->pool ||
            hdm__pool_threads(f->pool) < f->nthreads) {
            hdm__pool_free(f->pool); /* short of threads: unshared, as it was made for */
            f->pool = NULL;
        }
    }
    if (f->pool && f->group)
        return shared_read(f, strip, rows, err);
    for (uint32_t r = 0; r < rows && !f->bout; r++) {
        if (f->cancel && *f->cancel)
            return hdm__fail(err, HDM_ERR_INTERRUPTED, s->path, "interrupted");
        int64_t y = (int64_t)s->next + r;
        if (f->sums_y0 < 0 || y < f->sums_y0 || y >= f->sums_y0 + f->sums_rows) {
            /* SUM_ROWS rows at once, whatever the strips' height */
            f->sums_y0 = -1;
            uint32_t m = f->h - y < SUM_ROWS ? (uint32_t)(f->h - y) : SUM_ROWS;
            hdm_status st = out_rows(f, 0, y, m, true, err);
            if (st)
                return st;
            f->sums_y0 = y;
            f->sums_rows = m;
        }
        finish_row(f, f->sums + (size_t)(y - f->sums_y0) * f->ch * f->w, strip, r);
    }
    for (uint32_t r = 0; r < rows && f->bout; r++) {
        if (f->cancel && *f->cancel)
            return hdm__fail(err, HDM_ERR_INTERRUPTED, s->path, "interrupted");
        int64_t y = (int64_t)s->next + r;
        if (f->band_y0 < 0 || y < f->band_y0 || y >= f->band_y0 + f->band_rows) {
            uint32_t y0 = (uint32_t)(y - y % f->band);
            hdm_status st = f->sy ? slide_band(f, y0, err) : fft_band(f, y0, err);
            if (st)
                return st;
        }
        for (uint32_t c = 0; c < f->ch; c++)
            memcpy(f->acc + (size_t)c * f->w,
                   f->bout + ((size_t)c * f->band + (size_t)(y - f->band_y0)) * f->w,
                   f->w * sizeof *f->acc);
        finish_row(f, f->acc, strip, r);
    }
    return HDM_OK;
}

hdm__filter_path hdm__filter_used(const hdm__source *s)
{
    if (s->read != filter_read)
        return HDM__FILTER_AUTO;
    const filter_source *f = (const filter_source *)s;
    return f->sy ? HDM__FILTER_SLIDE : f->fc ? HDM__FILTER_FFT : HDM__FILTER_DIRECT;
}

static void filter_close(hdm__source *s)
{
    filter_source *f = (filter_source *)s;
    hdm__source_close(f->up);
    free(f->kx);
    free(f->ky);
    free(f->k);
    free(f->ring);
    free(f->ring_row);
    free(f->pad);
    free(f->acc);
    hdm_image_free(f->one);
    hdm_image_free(f->hold);
    hdm__fftconv_free(f->fc);
    hdm__slide_axis_free(f->sx);
    hdm__slide_axis_free(f->sy);
    hdm_image_free(f->raw);
    free(f->st);
    free(f->sscr);
    free(f->bout);
    hdm__pool_free(f->pool);
    free(f->pads);
    free(f->sums);
    free(f->tap_at);
    free(f->tap_w);
    free(f->tap_slot);
    free(f->x_at);
    free(f->x_w);
    free(f->zeros);
    hdm_image_free(f->batch);
    free(f->sst);
    free(f->serr);
    free(f);
}

static float *taps(const double *v, size_t n)
{
    float *t = malloc(n * sizeof *t);
    if (t)
        for (size_t i = 0; i < n; i++)
            t[i] = (float)v[i];
    return t;
}

/* A non-separable kernel's non-zero taps: what its direct sum costs per output sample. */
static uint64_t live_taps(const hdm__fkernel *k)
{
    uint64_t n = 0;
    for (size_t i = 0; i < (size_t)k->kw * k->kh; i++)
        n += k->k[i] != 0;
    return n;
}

/* Rows a group of output rows has with threads threads (0: no groups, unthreaded): as many
 * as a strip asks for (stream.c's 256 KiB of f32 rows a thread, up to 8), so the ring grows by
 * about what the strips already hold, but at least SUM_ROWS a thread, which out_rows sums
 * together. */
static uint32_t filter_group(const hdm_info *ui, uint32_t threads, hdm__border border)
{
    if (threads <= 1 || border == HDM__BORDER_WRAP)
        return 0;
    uint64_t rows = ((uint64_t)256 << 10) / ((uint64_t)ui->width * HDM_MAX_CHANNELS * 4);
    rows = (rows < SUM_ROWS ? SUM_ROWS : rows > 64 ? 64 : rows) * (threads > 8 ? 8 : threads);
    return rows < threads ? threads : rows > 256 ? 256 : (uint32_t)rows;
}

/* What a filter source over up holds: the ring, the row scratch, the taps and tap lists, one
 * upstream row, the FFT's plan and band when it uses one (with each thread's scratch); with
 * threads for the direct sum, the ring's group rows more, each thread's scratch and the
 * group's upstream rows; for a wrap border the whole upstream image; +∞ (UINT64_MAX) if that
 * overflows. */
static uint64_t filter_held(const hdm_info *ui, const hdm__fkernel *k, hdm__border border,
                            bool fft, uint32_t threads)
{
    uint64_t group = fft ? 0 : filter_group(ui, threads, border), t = group ? threads : 1;
    uint64_t w = ui->width, h = ui->height, ch = ui->channels, pad = w + k->kw - 1;
    uint64_t rows = k->kh + (group ? 1 + group : SUM_ROWS);
    uint64_t band = fft ? hdm__fftconv_band(k->kh, ui->height) : 0;
    if (fft)
        rows = band + k->kh;
    uint64_t cap = rows < h ? rows : h;
    bool sep = k->separable && !fft;
    uint64_t taps = sep ? (uint64_t)k->kw + k->kh : (uint64_t)k->kw * k->kh;
    if (pad > UINT32_MAX || cap * ch * pad > UINT64_MAX / 16 / t || taps > UINT64_MAX / 64 / t ||
        band * ch * w > UINT64_MAX / 16)
        return UINT64_MAX;
    uint64_t floats = cap * ch * (sep ? w : pad) + t * (sep ? ch * pad : 0) +
                      (fft ? 1 : t * SUM_ROWS) * ch * w + taps + band * ch * w;
    uint64_t held = floats * sizeof(float) + cap * sizeof(int64_t) + w * ch * ui->depth;
    /* the direct sum's tap lists: each thread's pointers, weights and row slots, and a
     * separable kernel's row taps (an upper bound: 16 bytes a tap each, SUM_ROWS slots more)
     * and row of zeros */
    if (!fft)
        held += (t + 1) * (taps + SUM_ROWS) * 16 + (sep ? w * sizeof(float) : 0);
    if (group)
        held += cap * w * ch * ui->depth;
    if (fft) {
        uint64_t plan = hdm__fftconv_bytes(ui->width, ui->height, k->kw, k->kh, threads);
        /* the taps in f64 while the plan is made */
        uint64_t more = plan > UINT64_MAX / 2 ? UINT64_MAX : plan + taps * sizeof(double);
        held = more > UINT64_MAX - held ? UINT64_MAX : held + more;
    }
    if (border == HDM__BORDER_WRAP) {
        size_t whole;
        if (hdm_size_bytes(ui->width, ui->height, ui->channels, ui->depth, &whole) ||
            held > UINT64_MAX - whole)
            return UINT64_MAX;
        held += whole;
    }
    return held;
}

/* What a filter source over up holds for sliding sums on threads threads: upstream rows for
 * the window and a band (for a wrap border the whole image instead), the columns' sums, the
 * band's column sums and output, a row's sums, each thread's scratch, both axes' phases and
 * one upstream row; +∞ (UINT64_MAX) if that overflows. */
static uint64_t slide_held(const hdm_info *ui, const hdm__fkernel *k, hdm__border border,
                           uint32_t threads)
{
    uint64_t w = ui->width, h = ui->height, ch = ui->channels, r = k->slide.r;
    uint64_t cap = 2 * r + SL_L + 2 < h ? 2 * r + SL_L + 2 : h;
    uint64_t row = w * ch * ui->depth;
    uint64_t floats = ch * w * (SL_S + SL_L + 1) + threads * slide_scratch(w, ch, r);
    uint64_t held = floats * sizeof(float) + hdm__slide_axis_bytes(k->slide.r, ui->width) +
                    hdm__slide_axis_bytes(k->slide.r, ui->height) + row;
    if (border == HDM__BORDER_WRAP) {
        size_t whole;
        if (hdm_size_bytes(ui->width, ui->height, ui->channels, ui->depth, &whole) ||
            held > UINT64_MAX - whole)
            return UINT64_MAX;
        return held + whole;
    }
    return held + cap * row; /* cap ≤ h: no more than the whole image, which has a size */
}

hdm_status hdm__filter_source(hdm__source *up, const hdm__fkernel *k, hdm__border border,
                              bool premultiply, const hdm_options *opt, hdm__source **out,
                              hdm_error *err)
{
    return hdm__filter_source_path(up, k, border, premultiply, HDM__FILTER_AUTO, opt, out, err);
}

static hdm_status filter_source_made(hdm__source *up, const hdm__fkernel *k, bool zero_sum,
                                     hdm__border border, bool premultiply,
                                     hdm__filter_path path, const hdm_options *opt,
                                     hdm__source **out, hdm_error *err);

/* Taps that add up to 0 (laplacian, sobel): alpha's sum would be 0 everywhere. Asked of the
 * kernel as given, not as folded: folding into a zero border drops taps. */
static bool kernel_zero_sum(const hdm__fkernel *k)
{
    double sum = 0, mag = 0;
    if (k->separable) {
        double sx = 0, sy = 0, mx = 0, my = 0;
        for (uint32_t i = 0; i < k->kw; i++)
            sx += k->kx[i], mx += fabs(k->kx[i]);
        for (uint32_t j = 0; j < k->kh; j++)
            sy += k->ky[j], my += fabs(k->ky[j]);
        sum = sx * sy;
        mag = mx * my;
    } else {
        for (size_t i = 0; i < (size_t)k->kw * k->kh; i++)
            sum += k->k[i], mag += fabs(k->k[i]);
    }
    return fabs(sum) <= 1e-9 * mag;
}

/* The kernel folded first where it reaches past the image (see kernel_fold), then made. */
hdm_status hdm__filter_source_path(hdm__source *up, const hdm__fkernel *k, hdm__border border,
                                   bool premultiply, hdm__filter_path path,
                                   const hdm_options *opt, hdm__source **out, hdm_error *err)
{
    *out = NULL;
    hdm__fkernel *folded;
    if (kernel_fold(k, up->info.width, up->info.height, border, &folded)) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    bool zero_sum = kernel_zero_sum(k);
    if (folded) {
        hdm_status st = filter_source_made(up, folded, zero_sum, border, premultiply, path, opt,
                                           out, err);
        hdm__fkernel_free(folded);
        return st;
    }
    return filter_source_made(up, k, zero_sum, border, premultiply, path, opt, out, err);
}

/* f's sliding sums for k (slide_held's list); false when out of memory. */
static bool slide_make(filter_source *f, const hdm__fkernel *k)
{
    size_t plane = (size_t)f->ch * f->w;
    f->band = SL_L;
    f->restart = f->up->info.depth != HDM_U8;
    f->cap = 2 * k->slide.r + SL_L + 2 < f->h ? 2 * k->slide.r + SL_L + 2 : f->h;
    return (f->sx = hdm__slide_axis_new(&k->slide, f->w)) &&
           (f->sy = hdm__slide_axis_new(&k->slide, f->h)) &&
           (f->st = calloc(plane * SL_S, sizeof *f->st)) &&
           (f->bout = f->vb = malloc(plane * f->band * sizeof *f->vb)) &&
           (f->acc = malloc(plane * sizeof *f->acc)) &&
           (f->sscr = malloc(f->nthreads * slide_scratch(f->w, f->ch, k->slide.r) *
                             sizeof *f->sscr)) &&
           hdm_image_new(f->w, 1, f->ch, f->up->info.depth, &f->one) == HDM_OK &&
           (f->border == HDM__BORDER_WRAP ||
            hdm_image_new(f->w, f->cap, f->ch, f->up->info.depth, &f->raw) == HDM_OK);
}

/* f's direct sum, or its FFT (filter_held's list); false when out of memory. */
static bool sum_make(filter_source *f, const hdm__fkernel *k, bool fft, uint32_t threads)
{
    uint32_t rows = f->kh + (f->group ? 1 + f->group : SUM_ROWS);
    bool ok = true;
    if (fft) {
        f->band = hdm__fftconv_band(f->kh, f->h);
        rows = f->band + f->kh;
        double *kd = k->k;
        if (k->separable && (kd = malloc((size_t)k->kw * k->kh * sizeof *kd)))
            for (uint32_t j = 0; j < k->kh; j++)
                for (uint32_t i = 0; i < k->kw; i++)
                    kd[(size_t)j * k->kw + i] = k->ky[j] * k->kx[i];
        ok = kd && (f->fc = hdm__fftconv_new(f->w, f->h, kd, f->kw, f->kh, threads)) &&
             (f->bout = malloc((size_t)f->ch * f->band * f->w * sizeof *f->bout));
        if (kd != k->k)
            free(kd);
    } else if (f->separable) {
        ok = (f->kx = taps(k->kx, k->kw)) && (f->ky = taps(k->ky, k->kh)) &&
             (f->pad = malloc((size_t)f->ch * f->padlen * sizeof *f->pad));
    } else {
        ok = (f->k = taps(k->k, (size_t)k->kw * k->kh)) != NULL;
    }
    f->cap = rows < f->h ? rows : f->h;
    size_t ring;
    ok = ok && hdm_size_bytes(f->cap, f->ch, 1, HDM_F32, &ring) == HDM_OK &&
         ring <= SIZE_MAX / f->rowlen && (f->ring = malloc(ring * f->rowlen)) &&
         (f->ring_row = malloc(f->cap * sizeof *f->ring_row)) &&
         (!fft || (f->acc = malloc((size_t)f->ch * f->w * sizeof *f->acc))) &&
         hdm_image_new(f->w, 1, f->ch, f->up->info.depth, &f->one) == HDM_OK;
    if (ok && !fft) {
        size_t t = f->nthreads;
        f->maxtaps = f->separable ? (f->kw > f->kh ? f->kw : f->kh) + SUM_ROWS
                                  : (size_t)f->kw * f->kh;
        ok = (f->tap_at = malloc(t * f->maxtaps * sizeof *f->tap_at)) &&
             (f->tap_w = malloc(t * f->maxtaps * sizeof *f->tap_w)) &&
             (f->tap_slot = malloc(t * (f->kh + SUM_ROWS) * sizeof *f->tap_slot)) &&
             (f->sums = malloc(t * SUM_ROWS * f->ch * f->w * sizeof *f->sums));
        f->block = BLOCK_BYTES / sizeof(float) / (f->kh + SUM_ROWS - 1) / 64 * 64;
        f->block = f->block < BLOCK_MIN ? BLOCK_MIN : f->block;
    }
    if (ok && f->separable) {
        ok = (f->x_at = malloc(f->kw * sizeof *f->x_at)) &&
             (f->x_w = malloc(f->kw * sizeof *f->x_w));
        for (uint32_t i = 0; ok && i < f->kw; i++)
            if (f->kx[i] != 0.0f) {
                f->x_at[f->nx] = i;
                f->x_w[f->nx++] = f->kx[i];
            }
        f->ky_live = true;
        for (uint32_t j = 0; j < f->kh; j++)
            f->ky_live &= f->ky[j] != 0.0f;
        ok = ok && (f->zeros = calloc(f->w, sizeof *f->zeros));
    }
    if (ok && f->group) {
        size_t t = f->nthreads;
        ok = (!f->separable || (f->pads = malloc(t * f->ch * f->padlen * sizeof *f->pads))) &&
             (f->sst = calloc(t, sizeof *f->sst)) && (f->serr = calloc(t, sizeof *f->serr)) &&
             hdm_image_new(f->w, f->cap, f->ch, f->up->info.depth, &f->batch) == HDM_OK;
    }
    return ok;
}

static hdm_status filter_source_made(hdm__source *up, const hdm__fkernel *k, bool zero_sum,
                                     hdm__border border, bool premultiply,
                                     hdm__filter_path path, const hdm_options *opt,
                                     hdm__source **out, hdm_error *err)
{
    *out = NULL;
    /* The FFT where it is faster (tests/bench/filter_bench.c measured where), if it takes at
     * most a quarter of what the memory limit leaves (its band of rows is wider than the direct
     * sum's ring; the steps after it need room too), or if the direct sum does not fit either.
     * Both give the same sums within rounding. */
    bool fft = path == HDM__FILTER_FFT;
    /* A gaussian or box through sliding sums where they are faster: every size costs the same
     * and holds only the window's upstream rows as they are. Not with alpha premultiplied:
     * colour is the colour sum over the alpha sum, and where alpha is small (beside a
     * transparent region, or nothing but it) the rounding the running sums gathered from the
     * samples that left the window, divided by it, is any colour; the direct sum's is
     * relative to what it sums. */
    bool premul = premultiply && (up->info.channels == 2 || up->info.channels == 4);
    bool slide = k->separable && k->slide.r &&
                 (path == HDM__FILTER_SLIDE ||
                  (path == HDM__FILTER_AUTO && up->info.depth != HDM_F32 && !premul &&
                   k->kw >= HDM__FILTER_SLIDE_TAPS));
    uint64_t own = slide ? slide_held(&up->info, k, border, 1)
                         : filter_held(&up->info, k, border, fft, 1);
    bool large = k->separable ? (uint64_t)k->kw + k->kh >= HDM__FILTER_FFT_SEP_TAPS
                              : live_taps(k) >= HDM__FILTER_FFT_TAPS;
    if (path == HDM__FILTER_AUTO && large && !slide) {
        uint64_t by_fft = filter_held(&up->info, k, border, true, 1);
        uint64_t room = opt->max_memory > up->held ? opt->max_memory - up->held : 0;
        if (by_fft <= room / 4 || own > room) {
            fft = true;
            own = by_fft;
        }
    }
    /* Sharing the direct sum's rows, or the FFT's rows and columns, out between threads is
     * only faster, never needed: it takes no more than a 64th of what the limit leaves, so a
     * job that fits unthreaded still fits (but for a limit within a few rows of what it
     * needs). */
    uint32_t threads = opt->threads > 1 && up->info.height > 1 ? opt->threads : 1;
    /* each sharing thread has scratch rows of its own: none for threads beyond the cores,
     * which could only wait (--threads 1024 would take a thousand pads) */
    uint32_t cores = threads > 1 ? hdm__cores_available() : 1;
    if (threads > cores)
        threads = cores < 1 ? 1 : cores;
    if (threads > 1) {
        uint64_t shared = slide ? slide_held(&up->info, k, border, threads)
                                : filter_held(&up->info, k, border, fft, threads);
        uint64_t base = own > UINT64_MAX - up->held ? UINT64_MAX : own + up->held;
        if (shared - own > (opt->max_memory > base ? opt->max_memory - base : 0) / 64)
            threads = 1;
        else
            own = shared;
    }
    /* counted before anything is taken, with everything upstream already holds */
    uint64_t held = own > UINT64_MAX - up->held ? UINT64_MAX : own + up->held;
    hdm_status st = hdm__check_held(held, opt, up->path, err);
    if (st) {
        hdm__source_close(up);
        return st;
    }
    filter_source *f = calloc(1, sizeof *f);
    if (!f) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    const hdm_info *ui = &up->info;
    f->up = up;
    f->base.info = *ui;
    f->base.path = up->path;
    f->base.held = held;
    f->base.read = filter_read;
    f->base.close = filter_close;
    f->border = border;
    f->cancel = opt->cancel;
    f->premul = premultiply && (ui->channels == 2 || ui->channels == 4);
    f->keep_alpha = f->premul && zero_sum;
    f->w = ui->width;
    f->h = ui->height;
    f->ch = ui->channels;
    f->kw = k->kw;
    f->kh = k->kh;
    f->cx = k->cx;
    f->cy = k->cy;
    f->separable = k->separable && !fft;
    f->padlen = (size_t)f->w + f->kw - 1;
    f->rowlen = f->separable ? f->w : f->padlen;
    f->band_y0 = -1;
    f->sums_y0 = -1;
    f->group = fft || slide ? 0 : filter_group(ui, threads, border);
    f->nthreads = f->group || slide ? threads : 1;
    bool ok = slide ? slide_make(f, k) : sum_make(f, k, fft, threads);
    if (!ok) {
        filter_close(&f->base);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    for (uint32_t i = 0; i < f->cap && f->ring_row; i++)
        f->ring_row[i] = -1;
    *out = &f->base;
    return HDM_OK;
}

/* ---- the step: filter:KERNEL[:ARG][:border=B] ---- */

typedef struct filter_args {
    hdm__fkernel *k;
    hdm__border border;
    signed_mode sign;
    char *file; /* the kernel's file when it came from @FILE: an input the output must not be */
} filter_args;

static void filter_args_free(void *p)
{
    filter_args *a = p;
    if (a) {
        hdm__fkernel_free(a->k);
        free(a->file);
    }
    free(a);
}

static hdm_status filter_parse(const char *const *f, size_t n, void **args, hdm_error *err)
{
    const char *kernel = NULL, *karg = NULL, *v;
    int border = HDM__BORDER_CLAMP, sign = SIGNED_CLAMP;
    bool border_set = false, sign_set = false;
    for (size_t i = 0; i < n; i++) {
        bool is_border = hdm__field_value(f[i], "border") ||
                         (!strchr(f[i], '=') && hdm__border_find(f[i]) >= 0 && kernel);
        if (is_border && border_set)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: border given twice");
        border_set |= is_border;
        if (hdm__field_value(f[i], "kernel") && kernel)
            return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: kernel given twice");
        if ((v = hdm__field_value(f[i], "signed"))) {
            if (sign_set)
                return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: signed given twice");
            sign_set = true;
            for (sign = 0; sign < SIGNED_COUNT && strcmp(v, signed_names[sign]) != 0; sign++)
                ;
            if (sign == SIGNED_COUNT) {
                char hint[64];
                return hdm__fail(err, HDM_ERR_ARG, NULL,
                                 "filter: unknown signed mode '%s' (clamp, abs or offset)%s", v,
                                 hdm__did_you_mean(v, strlen(v), signed_names, SIGNED_COUNT,
                                                   hint, sizeof hint));
            }
        } else if ((v = hdm__field_value(f[i], "border"))) {
            if ((border = hdm__border_find(v)) < 0) {
                char hint[64];
                return hdm__fail(err, HDM_ERR_ARG, NULL,
                                 "filter: unknown border '%s' (clamp, mirror, wrap or zero)%s", v,
                                 hdm__did_you_mean(v, strlen(v), border_names,
                                                   HDM__BORDER_COUNT, hint, sizeof hint));
            }
        } else if ((v = hdm__field_value(f[i], "kernel")) && !kernel) {
            kernel = v;
        } else if (!strchr(f[i], '=') && hdm__border_find(f[i]) >= 0 && kernel) {
            border = hdm__border_find(f[i]);
        } else if (!strchr(f[i], '=') && !kernel) {
            kernel = f[i];
        } else if (!strchr(f[i], '=') && !karg && kernel == f[i - 1]) {
            karg = f[i];
        } else {
            char hint[64];
            if (!strchr(f[i], '=') && kernel &&
                *hdm__did_you_mean(f[i], strlen(f[i]), border_names, HDM__BORDER_COUNT, hint,
                                   sizeof hint))
                return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: unknown border '%s' (clamp, "
                                 "mirror, wrap or zero)%s", f[i], hint);
            return hdm__bad_field(&hdm__filter_def, f[i], err);
        }
    }
    if (!kernel || !*kernel)
        return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: needs a kernel (%s)",
                         hdm__filter_def.pub.syntax);
    /* a written matrix of 255 × 255 taps is long: the text is as long as it is */
    size_t len = strlen(kernel) + (karg ? 1 + strlen(karg) : 0) + 1;
    char *spec = malloc(len);
    filter_args *a = calloc(1, sizeof *a);
    if (!spec || !a) {
        free(spec);
        free(a);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    snprintf(spec, len, "%s%s%s", kernel, karg ? ":" : "", karg ? karg : "");
    /* "@FILE": the pipeline reads the file and hands its text to filter_take_data */
    if (strcmp(spec, "@") == 0) {
        free(spec);
        free(a);
        return hdm__fail(err, HDM_ERR_ARG, NULL, "filter: '@' names no kernel file (@FILE)");
    }
    hdm_status st = spec[0] == '@' ? HDM_OK : hdm__fkernel_parse(spec, &a->k, err);
    if (st) {
        if (err && st == HDM_ERR_ARG && strncmp(err->message, "filter: ", 8) != 0)
            hdm__fail_prefix(err, st, "filter: ");
        free(spec);
        free(a);
        return st;
    }
    a->border = (hdm__border)border;
    a->sign = (signed_mode)sign;
    if (spec[0] == '@' && !(a->file = hdm__strdup(spec + 1))) {
        free(spec);
        filter_args_free(a);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    free(spec);
    *args = a;
    return HDM_OK;
}

static hdm_status filter_take_data(void *args, const char *path, const char *text,
                                   hdm_error *err)
{
    filter_args *a = args;
    hdm__fkernel_free(a->k);
    a->k = NULL;
    return kernel_matrix(text, path, &a->k, err);
}

/* An image as a kernel (@disc.png): its gray plane, or for colour its luminance Y' = 0.2126 R
 * + 0.7152 G + 0.0722 B (Rec. 709) on the stored values; alpha ignored. Normalised to sum 1,
 * its centre at (w/2, h/2); any size (the filter counts it against max_memory). */
static hdm_status kernel_image(const hdm_image *img, const char *path, hdm__fkernel **out,
                               hdm_error *err)
{
    *out = NULL;
    uint32_t w = img->width, h = img->height;
    bool colour = img->channels >= 3;
    hdm__fkernel *k = NULL;
    float *row = malloc((size_t)w * 3 * sizeof *row);
    if (!row || !(k = kernel_new(w, h, false))) {
        free(row);
        return hdm__fail(err, HDM_ERR_NOMEM, NULL, "out of memory");
    }
    double sum = 0;
    bool any = false; /* a sample not 0 */
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t c = 0; c < (colour ? 3u : 1u); c++)
            hdm__convert_row(row + (size_t)c * w, HDM_F32, hdm_row(img, c, y), img->depth, w);
        double *d = k->k + (size_t)y * w;
        for (uint32_t x = 0; x < w; x++) {
            double v = colour ? 0.2126 * row[x] + 0.7152 * row[w + x] + 0.0722 * row[2 * w + x]
                              : row[x];
            sum += d[x] = isfinite(v) ? v : 0; /* an f32 image's NaN or ∞ is no weight */
            any |= d[x] != 0;
        }
    }
    free(row);
    if (!(sum > 0) || !isfinite(sum)) {
        hdm__fkernel_free(k);
        char why[96];
        if (sum > 0)
            snprintf(why, sizeof why, "sums to more than a kernel holds");
        else if (sum < 0)
            snprintf(why, sizeof why, "has samples summing to %g, below 0", sum);
        else
            snprintf(why, sizeof why, "%s", any ? "has samples summing to 0" : "is all black: "
                     "its samples sum to 0");
        return hdm__fail(err, HDM_ERR_ARG, path, "kernel image %s (a %u×%u image kernel's "
                         "samples are weights normalised to sum 1)", why, w, h);
    }
    for (size_t i = 0; i < (size_t)w * h; i++)
        k->k[i] /= sum;
    *out = k;
    return HDM_OK;
}

static hdm_status filter_take_image(void *args, const char *path, const hdm_image *img,
                                    hdm_error *err)
{
    filter_args *a = args;
    hdm__fkernel_free(a->k);
    a->k = NULL;
    return kernel_image(img, path, &a->k, err);
}

static hdm_status filter_wrap(const void *args, hdm__source *up, const hdm_options *opt,
                              hdm__source **out, hdm_error *err)
{
    const filter_args *a = args;
    if (!a->k) {
        hdm__source_close(up);
        return hdm__fail(err, HDM_ERR_ARG, a->file, "kernel file not read");
    }
    hdm_status st = hdm__filter_source(up, a->k, a->border, true, opt, out, err);
    if (!st)
        ((filter_source *)*out)->sign = a->sign;
    else if (st == HDM_ERR_LIMIT && a->file) /* say whose size it is */
        hdm__fail_prefix(err, st, "filter with the %u×%u kernel of %s: ", a->k->kw, a->k->kh,
                         a->file);
    return st;
}

static const char *filter_data_file(const void *args)
{
    return ((const filter_args *)args)->file;
}

const hdm__opdef hdm__filter_def = {
    .pub = {
        .name = "filter",
        .operands = "",
        .syntax = "filter:KERNEL[:ARG][:border=B][:signed=S]",
        .summary = "correlate with a kernel (blur, sharpen, edges; alpha premultiplied)",
        .params = (const hdm_param[]){
            {"kernel", "K", "box:SIZE (odd), gaussian:SIGMA, sharpen, laplacian, sobel-x, "
             "sobel-y, emboss, a matrix \"a,b,c;d,e,f;g,h,i\" or @FILE (a matrix, or an image: "
             "its gray or luminance, normalised to sum 1, centred at (w/2, h/2))",
             "box:3 box:5 gaussian:1 gaussian:2 sharpen laplacian sobel-x sobel-y emboss"},
            {"border", "B", "beyond the edges: clamp (default), mirror, wrap or zero",
             "clamp mirror wrap zero"},
            {"signed", "S", "a sum outside 0..1 (edges, zero-sum kernels): clamp (default), "
             "abs (its magnitude) or offset (plus mid-grey, so 0 is 0.5)", "clamp abs offset"},
            {NULL, NULL, NULL, NULL}},
    },
    .parse = filter_parse,
    .free_args = filter_args_free,
    .data_file = filter_data_file,
    .data_max = 1 << 20,
    .data_noun = "kernel",
    .take_data = filter_take_data,
    .wrap = filter_wrap,
    .take_image = filter_take_image,
    .data_image_max = 256 << 20,
};
