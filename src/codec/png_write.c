/* SPDX-License-Identifier: MIT */
/* png_write.c — PNG output: adaptive row filters and deflate on an encoder thread */
#include "codec/codec.h"
#include "codec/metadata.h"
#include "kernel/kernel.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

/* Why not libpng's writer: it filters and deflates on the calling thread, and a PNG is simple
 * enough to write directly (PNG specification, sections 5 "Datastream structure" and 11.2
 * "Critical chunks"); reading stays with libpng. On adaptively filtered photo rows, string
 * matching barely pays: zlib's Huffman-only strategy wrote the 24 MP benchmark's rows in
 * 36.3 MB at 4.4x the speed of level 4 with libpng's Z_FILTERED (35.9 MB), where ISA-L's
 * fastest level wrote 38.1 MB and libdeflate's level 4 37.0 MB at 1.6x
 * (tests/bench/deflate_bench.c). So the default is Huffman-only, on a thread of its own that
 * overlaps with decoding; an explicit level 0..9 is zlib at that level with Z_FILTERED, as
 * libpng does. */

enum { IDAT_MAX = 256 << 10, MAX_WORKERS = 4 };

/* The image's rows go in blocks of ~512 KiB. Each block is filtered and deflated on its own into
 * a raw deflate piece (a fresh stream, ended by a sync flush so the next piece starts on a byte;
 * the last ends the stream), so blocks compress in parallel and their pieces join into the one
 * zlib stream PNG wants, with Adler-32s combined in order. Huffman-only has no back-references,
 * so this loses nothing; at an explicit level each piece starts without the previous 32 KiB of
 * history, under 0.5% on ~512 KiB pieces. */
enum { FREE, FILLED, TAKEN, DONE };

typedef struct block {
    unsigned char *raw;      /* rows + 1 rows: row 0 is the row above the block (zeros first) */
    uint32_t rows;
    unsigned char *filtered; /* filter byte + row, per row */
    unsigned char *z;        /* the compressed piece */
    size_t zcap, zlen, flen;
    uint32_t adler;
    uint64_t seq;
    bool last, bad;
    int state;
} block;

typedef struct worker {
    struct png_enc *k;
    z_stream zs;
    bool zs_open;
    unsigned char *cand[5];
    pthread_t thread;
} worker;

typedef struct png_enc {
    hdm__sink base;
    hdm__bytes *bytes;
    size_t rowbytes;      /* without the filter-type byte */
    unsigned bpp;         /* bytes per complete pixel, for the filters */
    int filter;           /* 0..4 fixed, or -1 adaptive */
    int level, strategy;  /* zlib's */
    uint32_t block_rows;
    block *ring;
    unsigned nring, head; /* head: the block being filled */
    uint64_t next_seq, next_write;
    worker work[MAX_WORKERS + 1]; /* the last one is for encoding inline */
    unsigned nworkers;
    bool stopping;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned char *idat;  /* IDAT data being gathered */
    size_t idat_len;
    uint32_t adler;
    bool failed;
} png_enc;

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* Writes one chunk: length, type and data, CRC over type and data. */
static void chunk(hdm__bytes *b, const char type[4], const unsigned char *data, uint32_t n)
{
    unsigned char head[8], crc[4];
    put_be32(head, n);
    memcpy(head + 4, type, 4);
    uLong c = crc32(0, head + 4, 4);
    if (n)
        c = crc32(c, data, n);
    put_be32(crc, (uint32_t)c);
    hdm__bytes_put(b, head, 8);
    hdm__bytes_put(b, data, n);
    hdm__bytes_put(b, crc, 4);
}

/* Appends to the IDAT data, writing a chunk each time IDAT_MAX bytes have gathered. */
static void idat_put(png_enc *k, const unsigned char *p, size_t n)
{
    while (n) {
        size_t take = IDAT_MAX - k->idat_len < n ? IDAT_MAX - k->idat_len : n;
        memcpy(k->idat + k->idat_len, p, take);
        k->idat_len += take;
        p += take;
        n -= take;
        if (k->idat_len == IDAT_MAX) {
            chunk(k->bytes, "IDAT", k->idat, IDAT_MAX);
            k->idat_len = 0;
        }
    }
}

/* Filters a block's rows (the filter with the smallest sum of absolute values, libpng's
 * heuristic, unless one is fixed) and deflates them into the block's piece. */
static void encode_block(worker *w, block *bl)
{
    png_enc *k = w->k;
    const hdm__kernel *kern = hdm__kern();
    size_t stride = k->rowbytes + 1;
    for (uint32_t r = 0; r < bl->rows; r++) {
        const unsigned char *prev = bl->raw + (size_t)r * k->rowbytes, *row = prev + k->rowbytes;
        unsigned char *out = bl->filtered + (size_t)r * stride;
        if (k->filter >= 0) {
            out[0] = (unsigned char)k->filter;
            kern->png_filter(out + 1, row, prev, k->rowbytes, k->bpp, (unsigned)k->filter);
            continue;
        }
        uint64_t best = UINT64_MAX;
        unsigned pick = 0;
        for (unsigned t = 0; t < 5; t++) {
            uint64_t s = kern->png_filter(w->cand[t], row, prev, k->rowbytes, k->bpp, t);
            if (s < best)
                best = s, pick = t;
        }
        out[0] = (unsigned char)pick;
        memcpy(out + 1, w->cand[pick], k->rowbytes);
    }
    bl->flen = stride * bl->rows;
    bl->adler = (uint32_t)adler32(adler32(0, NULL, 0), bl->filtered, (uInt)bl->flen);
    bl->bad = deflateReset(&w->zs) != Z_OK;
    w->zs.next_in = bl->filtered;
    w->zs.avail_in = (uInt)bl->flen;
    w->zs.next_out = bl->z;
    w->zs.avail_out = (uInt)bl->zcap;
    int rc = deflate(&w->zs, bl->last ? Z_FINISH : Z_SYNC_FLUSH);
    bl->bad |= bl->last ? rc != Z_STREAM_END : (rc != Z_OK || w->zs.avail_in != 0);
    bl->zlen = bl->zcap - w->zs.avail_out;
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    png_enc *k = w->k;
    pthread_mutex_lock(&k->lock);
    for (;;) {
        block *take = NULL;
        for (unsigned i = 0; i < k->nring && !take; i++)
            if (k->ring[i].state == FILLED)
                take = &k->ring[i];
        if (!take) {
            if (k->stopping)
                break;
            pthread_cond_wait(&k->changed, &k->lock);
            continue;
        }
        take->state = TAKEN;
        pthread_mutex_unlock(&k->lock);
        encode_block(w, take);
        pthread_mutex_lock(&k->lock);
        take->state = DONE;
        pthread_cond_broadcast(&k->changed);
    }
    pthread_mutex_unlock(&k->lock);
    return NULL;
}

/* Writes block bl's piece (it is the next in order) and frees the block. Lock held if threaded. */
static void write_piece(png_enc *k, block *bl)
{
    k->failed |= bl->bad;
    if (!k->failed) {
        idat_put(k, bl->z, bl->zlen);
        k->adler = (uint32_t)adler32_combine(k->adler, bl->adler, (z_off_t)bl->flen);
    }
    k->next_write++;
    bl->state = FREE;
    bl->rows = 0;
}

/* Waits for block bl to be encoded, then writes it. */
static void drain(png_enc *k, block *bl)
{
    while (bl->state == FILLED || bl->state == TAKEN)
        pthread_cond_wait(&k->changed, &k->lock);
    if (bl->state == DONE)
        write_piece(k, bl);
}

/* Hands the head block over and makes the next one ready to fill. */
static void submit(png_enc *k, bool last)
{
    block *bl = &k->ring[k->head];
    bl->last = last;
    bl->seq = k->next_seq++;
    /* the block's last row, copied before writing it inline resets bl->rows (and, with one
     * block in the ring, before bl is refilled): the next block is filtered against it */
    const uint32_t rows = bl->rows;
    unsigned next = (k->head + 1) % k->nring;
    if (k->nworkers == 0) {
        encode_block(&k->work[MAX_WORKERS], bl);
        bl->state = DONE;
        write_piece(k, bl);
    } else {
        pthread_mutex_lock(&k->lock);
        bl->state = FILLED;
        pthread_cond_broadcast(&k->changed);
        if (!last)
            drain(k, &k->ring[next]); /* the oldest block: written in order */
        pthread_mutex_unlock(&k->lock);
    }
    if (!last) /* the next block (bl itself when the ring has one) starts below this one */
        memmove(k->ring[next].raw, bl->raw + (size_t)rows * k->rowbytes, k->rowbytes);
    k->head = next;
}

static hdm_status enc_write(hdm__sink *s, const hdm_image *strip, uint32_t rows, hdm_error *err)
{
    png_enc *k = (png_enc *)s;
    for (uint32_t y = 0; y < rows; y++) {
        if (k->failed || k->bytes->failed)
            return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write PNG: %s",
                             k->bytes->failed ? hdm__bytes_error(k->bytes) : "encoder failed");
        block *bl = &k->ring[k->head];
        unsigned char *dst = bl->raw + (size_t)(bl->rows + 1) * k->rowbytes;
        hdm__row_from_planes(dst, strip, y);
        if (strip->depth == HDM_U16) {
            for (size_t i = 0; i < k->rowbytes; i += 2) { /* PNG samples are big-endian */
                unsigned char t = dst[i];
                dst[i] = dst[i + 1];
                dst[i + 1] = t;
            }
        }
        if (++bl->rows == k->block_rows)
            submit(k, false);
    }
    return HDM_OK;
}

static void stop_workers(png_enc *k)
{
    if (!k->nworkers)
        return;
    pthread_mutex_lock(&k->lock);
    k->stopping = true;
    pthread_cond_broadcast(&k->changed);
    pthread_mutex_unlock(&k->lock);
    for (unsigned i = 0; i < k->nworkers; i++)
        pthread_join(k->work[i].thread, NULL);
    k->nworkers = 0;
}

static hdm_status enc_finish(hdm__sink *s, hdm_error *err)
{
    png_enc *k = (png_enc *)s;
    submit(k, true); /* possibly no rows: it still ends the deflate stream */
    if (k->nworkers) {
        pthread_mutex_lock(&k->lock);
        while (k->next_write < k->next_seq)
            for (unsigned i = 0; i < k->nring; i++)
                if (k->ring[i].seq == k->next_write && k->ring[i].state != FREE)
                    drain(k, &k->ring[i]);
        pthread_mutex_unlock(&k->lock);
        stop_workers(k);
    }
    unsigned char trailer[4];
    put_be32(trailer, k->adler);
    idat_put(k, trailer, 4);
    if (k->idat_len)
        chunk(k->bytes, "IDAT", k->idat, (uint32_t)k->idat_len);
    chunk(k->bytes, "IEND", NULL, 0);
    if (k->failed || k->bytes->failed)
        return hdm__fail(err, HDM_ERR_IO, s->path, "cannot write PNG: %s",
                         k->bytes->failed ? hdm__bytes_error(k->bytes) : "encoder failed");
    return HDM_OK;
}

static void enc_close(hdm__sink *s)
{
    png_enc *k = (png_enc *)s;
    stop_workers(k); /* after a failure, whatever is in flight is simply dropped */
    pthread_mutex_destroy(&k->lock);
    pthread_cond_destroy(&k->changed);
    for (unsigned i = 0; i <= MAX_WORKERS; i++) {
        if (k->work[i].zs_open)
            deflateEnd(&k->work[i].zs);
        for (int t = 0; t < 5; t++)
            free(k->work[i].cand[t]);
    }
    for (unsigned i = 0; k->ring && i < k->nring; i++) {
        free(k->ring[i].raw);
        free(k->ring[i].filtered);
        free(k->ring[i].z);
    }
    free(k->ring);
    free(k->idat);
    free(k);
}

/* ---- metadata: the ancillary chunks, all written before the first IDAT ---- */

enum { CHUNK_MAX = 0x7fffffff }; /* PNG 5.3: a chunk's length is at most 2^31 - 1 */


/* The iCCP profile name (PNG 11.3.3.3: 1 to 79 Latin-1 characters, no leading, trailing or
 * consecutive spaces): the profile's description where it is printable ASCII, else
 * "ICC Profile". The name is a label only; readers use the profile's bytes. */
static size_t icc_name(const hdm__meta *m, char name[80])
{
    char desc[80];
    hdm__icc_description(m->icc, m->icc_size, desc, sizeof desc);
    size_t n = 0;
    for (const char *c = desc; *c && n < 79; c++) {
        if (*c < 0x20 || *c > 0x7e || *c == '?')
            continue; /* '?' is what the description reader puts for a non-ASCII character */
        if (*c == ' ' && (n == 0 || name[n - 1] == ' '))
            continue;
        name[n++] = *c;
    }
    while (n && name[n - 1] == ' ')
        n--;
    if (!n)
        n = (size_t)snprintf(name, 80, "ICC Profile");
    name[n] = '\0';
    return n;
}

/* iCCP: name, NUL, compression method 0, then the profile as a zlib stream. False when out of
 * memory. */
static bool write_iccp(hdm__bytes *b, const hdm__meta *m)
{
    char name[80];
    size_t n = icc_name(m, name);
    uLong bound = compressBound((uLong)m->icc_size);
    unsigned char *data = malloc(n + 2 + bound);
    if (!data)
        return false;
    memcpy(data, name, n);
    data[n] = 0, data[n + 1] = 0;
    uLongf zlen = bound;
    bool ok = compress2(data + n + 2, &zlen, m->icc, (uLong)m->icc_size, 9) == Z_OK &&
              n + 2 + zlen <= CHUNK_MAX;
    if (ok)
        chunk(b, "iCCP", data, (uint32_t)(n + 2 + zlen));
    free(data);
    return ok;
}

/* iTXt with the XMP packet, uncompressed as XMP Specification Part 3 (1.1.5, PNG) asks, so that
 * a scanner finds the packet in the file: keyword, NUL, compression flag 0 and method 0, an
 * empty language tag and translated keyword (each NUL-ended), then the UTF-8 text. */
static bool write_xmp(hdm__bytes *b, const hdm__meta *m)
{
    static const char key[] = "XML:com.adobe.xmp";
    size_t head = sizeof key + 4;
    unsigned char *data = malloc(head + m->xmp_size);
    if (!data)
        return false;
    memcpy(data, key, sizeof key);
    memset(data + sizeof key, 0, 4);
    memcpy(data + head, m->xmp, m->xmp_size);
    chunk(b, "iTXt", data, (uint32_t)(head + m->xmp_size));
    free(data);
    return true;
}

/* pHYs (PNG 11.3.5.3): pixels per metre (unit 1) or an aspect ratio only (unit 0), whole
 * numbers up to 2^31 - 1 (PNG 7.1). PNG has no inch: per inch becomes per metre (÷ 0.0254) and
 * per centimetre × 100, both rounded. A density out of that range is left out, said: made to fit
 * it would be another one. */
static void write_phys(hdm__bytes *b, const hdm_options *opt, const hdm__meta *m,
                       const char *path)
{
    double k = m->res_unit == 1 ? 1 / 0.0254 : m->res_unit == 2 ? 100 : 1;
    double x = round(m->res_x * k), y = round(m->res_y * k);
    if (!(x >= 1 && y >= 1 && x <= CHUNK_MAX && y <= CHUNK_MAX)) {
        hdm__notice(opt, path, "resolution left out (PNG holds 1 to 2147483647 per metre or "
                               "per unit)");
        return;
    }
    unsigned char d[9];
    put_be32(d, (uint32_t)x);
    put_be32(d + 4, (uint32_t)y);
    d[8] = m->res_unit != 0;
    chunk(b, "pHYs", d, sizeof d);
}

/* Writes the metadata PNG holds; notices for what it leaves out. False when out of memory. */
static bool write_meta(hdm__bytes *b, const hdm_info *info, const hdm_options *opt,
                       const hdm__meta *m, const char *path)
{
    bool icc = hdm__icc_sound(opt, path, m);
    if (icc && !hdm__icc_fits(m->icc, m->icc_size, info->channels)) {
        hdm__notice(opt, path, info->channels <= 2 ? "ICC profile left out (not a gray profile, "
                                                "and the image is gray)"
                                              : "ICC profile left out (not an RGB profile, "
                                                "and the image is RGB)");
        icc = false;
    }
    if (icc && m->icc_size > CHUNK_MAX / 2) { /* its compressed form might not fit a chunk */
        hdm__notice(opt, path, "ICC profile left out (too large for a PNG chunk)");
        icc = false;
    }
    /* PNG 11.3.3.5: "an sRGB chunk and an iCCP chunk should not both appear" (libpng warns and
     * keeps one). When the input had both, the profile is the exact description: it stays. */
    if (m->srgb_intent && !icc) {
        unsigned char intent = (unsigned char)(m->srgb_intent - 1);
        chunk(b, "sRGB", &intent, 1);
    }
    if (m->gamma) {
        unsigned char g[4];
        put_be32(g, m->gamma);
        chunk(b, "gAMA", g, 4);
    }
    if (m->has_chrm) {
        unsigned char c[32];
        for (int i = 0; i < 8; i++)
            put_be32(c + 4 * i, m->chrm[i]);
        chunk(b, "cHRM", c, sizeof c);
    }
    if (icc && !write_iccp(b, m))
        return false;
    if (m->res_x > 0 && m->res_y > 0)
        write_phys(b, opt, m, path);
    if (m->exif_size > CHUNK_MAX)
        hdm__notice(opt, path, "EXIF left out (too large for a PNG chunk)");
    else if (m->exif_size)
        chunk(b, "eXIf", m->exif, (uint32_t)m->exif_size);
    if (m->xmp_size > CHUNK_MAX - 32)
        hdm__notice(opt, path, "XMP left out (too large for a PNG chunk)");
    else if (m->xmp_size && !write_xmp(b, m))
        return false;
    else
        hdm__xmp_extension_left_out(opt, path, m, "PNG");
    return true;
}

static int fixed_filter(hdm_png_filter f)
{
    switch (f) {
    case HDM_PNG_FILTER_NONE: return 0;
    case HDM_PNG_FILTER_SUB: return 1;
    case HDM_PNG_FILTER_UP: return 2;
    case HDM_PNG_FILTER_AVG: return 3;
    case HDM_PNG_FILTER_PAETH: return 4;
    default: return -1; /* adaptive: measured best on size (see README, "Performance") */
    }
}

static bool worker_init(png_enc *k, worker *w)
{
    w->k = k;
    for (int t = 0; t < 5; t++)
        if (!(w->cand[t] = malloc(k->rowbytes)))
            return false;
    w->zs_open = deflateInit2(&w->zs, k->level, Z_DEFLATED, -15, 9, k->strategy) == Z_OK;
    return w->zs_open;
}

hdm_status hdm__png_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                         const hdm__meta *meta, hdm__bytes *b, const char *path,
                         hdm__sink **out, hdm_error *err)
{
    (void)c;
    png_enc *k = calloc(1, sizeof *k);
    if (!k)
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    pthread_mutex_init(&k->lock, NULL);
    pthread_cond_init(&k->changed, NULL);
    k->base.info = *info;
    k->base.path = path;
    k->base.write = enc_write;
    k->base.finish = enc_finish;
    k->base.close = enc_close;
    k->bytes = b;
    k->adler = 1;
    k->filter = fixed_filter(opt->png_filter);
    bool level = opt->png_level >= 0 && opt->png_level <= 9;
    k->level = level ? opt->png_level : 6;
    k->strategy = !level ? Z_HUFFMAN_ONLY : k->filter == 0 ? Z_DEFAULT_STRATEGY : Z_FILTERED;
    k->bpp = info->channels * (unsigned)info->depth;
    if (hdm_size_bytes(info->width, 1, info->channels, info->depth, &k->rowbytes) ||
        k->rowbytes > (UINT32_MAX >> 4)) {
        enc_close(&k->base);
        return hdm__fail(err, HDM_ERR_LIMIT, path, "rows too long for PNG");
    }
    /* ~512 KiB of rows a block: big enough to amortise the hand-over (1 MiB blocks were no
     * faster on the 24 MP benchmark), small enough for L2, and each worker's block is memory the
     * job holds */
    size_t br = ((size_t)512 << 10) / k->rowbytes;
    k->block_rows = br < 1 ? 1 : br > info->height ? info->height : (uint32_t)br;
    /* Workers: one per thread the job may use (opt->threads, or the cores available when the
     * caller left it 0, and never more than those cores: each has a block and a deflate state
     * of its own), when there is more than one block to share. The blocks are the same
     * whatever their number, so the bytes are too. */
    uint32_t cores = hdm__cores_available();
    if (opt->threads && opt->threads < cores)
        cores = opt->threads;
    unsigned want = cores > MAX_WORKERS ? MAX_WORKERS : cores > 1 ? (unsigned)cores : 0;
    if (info->height <= k->block_rows)
        want = 0;
    /* Workers are only faster, never needed: their blocks (raw, filtered and deflated rows,
     * about 1.5 MiB each) are taken only when they come to at most a 16th of the memory limit,
     * so a job that fits with one thread fits with any number. */
    size_t blk = (k->block_rows + 1) * k->rowbytes + 2 * (k->rowbytes + 1) * k->block_rows;
    if (want && (uint64_t)(want + 1) * (blk + 5 * k->rowbytes) > opt->max_memory / 16)
        want = 0;
    k->nring = want ? want + 2 : 1;
    bool ok = (k->ring = calloc(k->nring, sizeof *k->ring)) != NULL &&
              (k->idat = malloc(IDAT_MAX)) != NULL && worker_init(k, &k->work[MAX_WORKERS]);
    size_t flen = (k->rowbytes + 1) * k->block_rows;
    for (unsigned i = 0; ok && i < k->nring; i++) {
        block *bl = &k->ring[i];
        bl->zcap = deflateBound(&k->work[MAX_WORKERS].zs, (uLong)flen) + 64;
        ok &= (bl->raw = calloc(k->block_rows + 1, k->rowbytes)) != NULL &&
              (bl->filtered = malloc(flen)) != NULL && (bl->z = malloc(bl->zcap)) != NULL;
    }
    for (unsigned i = 0; ok && i < want; i++)
        ok &= worker_init(k, &k->work[i]);
    k->base.held = IDAT_MAX + (uint64_t)(want + 1) * 5 * k->rowbytes +
                   (uint64_t)k->nring * ((k->block_rows + 1) * k->rowbytes + flen +
                                         (k->ring ? k->ring[0].zcap : 0));
    if (!ok) {
        enc_close(&k->base);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    for (unsigned i = 0; i < want; i++) {
        if (hdm__thread_start(&k->work[i].thread, worker_main, &k->work[i]) != 0)
            break;
        k->nworkers++;
    }
    /* signature, IHDR and the zlib header now; IDAT as the rows come; IEND at finish */
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char types[5] = {0, 0, 4, 2, 6};
    unsigned char ihdr[13];
    put_be32(ihdr, info->width);
    put_be32(ihdr + 4, info->height);
    ihdr[8] = info->depth == HDM_U16 ? 16 : 8;
    ihdr[9] = types[info->channels];
    ihdr[10] = ihdr[11] = ihdr[12] = 0; /* deflate, adaptive filtering method 0, no interlace */
    hdm__bytes_put(b, sig, sizeof sig);
    chunk(b, "IHDR", ihdr, sizeof ihdr);
    if (!write_meta(b, info, opt, meta, path)) {
        enc_close(&k->base);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    /* zlib header (RFC 1950): deflate with a 32 KiB window, no dictionary; FCHECK makes the
     * 16-bit value a multiple of 31 */
    static const unsigned char zhead[2] = {0x78, 0x01};
    idat_put(k, zhead, 2);
    *out = &k->base;
    return HDM_OK;
}
