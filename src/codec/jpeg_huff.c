/* SPDX-License-Identifier: MIT */
/* jpeg_huff.c — a baseline JPEG's scan re-coded with Huffman tables optimised for it */
#include "codec/jpeg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* libjpeg's optimize_coding keeps every quantised coefficient of the image until the end (it
 * counts symbols in a first pass over them): the writer instead lets libjpeg code the scan with
 * the standard tables as it goes, and this file re-codes that scan, symbol by symbol, without
 * touching a coefficient. Pass 1 decodes the scan (ITU-T T.81 F.2.2) and counts each table's
 * symbols: DC difference categories, AC run/size pairs with ZRL and EOB. The tables are then
 * built by Annex K.2 (figures K.1 to K.4): code lengths from the counts with one reserved code
 * point, so no code is all 1-bits, limited to 16 bits, values sorted by length. Pass 2 decodes
 * again and writes every symbol with its new code and its extra bits as they were, stuffing a
 * 0x00 after each 0xFF, restart markers where the input had them, padding with 1-bits. Every
 * segment is copied except the DHT tables the scan uses, which are replaced where they stood,
 * so a file from libjpeg comes out as libjpeg's own optimised one would.
 *
 * Handled: one interleaved (or single-component) scan of a SOF0 frame, restart intervals.
 * Anything else well formed (progressive, several scans, DNL, 12-bit) is kept as it is. */

enum { LOOK = 11, OUT_CHUNK = 64 << 10 };

typedef struct table {
    bool defined;
    uint8_t bits[17];       /* codes of each length 1..16 */
    uint8_t vals[256];
    int nvals;
    /* decoding (F.2.2.3): for each length, the largest code and where its values start */
    int32_t maxcode[18], valptr[17];
    uint16_t look[1 << LOOK]; /* the codes of LOOK bits or fewer: length << 8 | value */
    /* encoding (C.2): each value's code and length */
    uint16_t code[256];
    uint8_t size[256];
} table;

typedef struct reader {
    const unsigned char *p, *end;
    uint64_t acc;  /* bits left-aligned */
    int n;         /* bits in acc */
    int pad;       /* of those, zero bits put in past the data's end */
    bool at_marker;
} reader;

typedef struct writer {
    uint64_t acc; /* bits right-aligned */
    int n;
    size_t len;
    hdm__bytes *out;
    unsigned char buf[OUT_CHUNK + 64];
} writer;

typedef struct comp {
    int id, h, v;
    int dc, ac;         /* the scan's tables */
} comp;

typedef struct dht_seg {
    size_t at, len;     /* the segment, marker included */
} dht_seg;

typedef struct job {
    const unsigned char *in;
    size_t n;
    const char *path;
    hdm_error *err;
    uint32_t width, height;
    int ncomp;
    comp frame[4];
    int nscan;
    int scan[4];                /* frame index of each scan component */
    unsigned restart;           /* MCUs per restart interval, 0: none */
    size_t sos_at, data_at;     /* the SOS segment, the entropy-coded data */
    size_t tail_at;             /* the marker that ends the scan */
    table dc[4], ac[4];         /* the input's tables */
    table ndc[4], nac[4];       /* the optimised ones */
    uint64_t dc_freq[4][256], ac_freq[4][256];
    bool dc_used[4], ac_used[4];
    /* the last definition of each table before SOS (DHT segment offset of its Tc/Th byte) */
    size_t dc_def[4], ac_def[4];
    dht_seg dht[64];
    int ndht;
    uint32_t mcus;              /* MCUs in the scan */
    int blocks;                 /* blocks per MCU */
    int block_dc[10], block_ac[10];
} job;

static hdm_status corrupt(job *j, const char *why)
{
    return hdm__fail(j->err, HDM_ERR_CORRUPT, j->path,
                     "cannot optimise JPEG Huffman tables: corrupt stream (%s)", why);
}

/* ---- tables ---- */

/* Annex C: the codes from the counts of each length; false when they do not fit (the codes of
 * some length overflow, or one is all 1-bits: libjpeg refuses those too). */
static bool table_derive(table *t)
{
    int k = 0;
    uint32_t code = 0;
    memset(t->look, 0, sizeof t->look);
    for (int l = 1; l <= 16; l++) {
        t->valptr[l] = k;
        t->maxcode[l] = -1;
        for (int i = 0; i < t->bits[l]; i++, k++, code++) {
            uint8_t v = t->vals[k];
            t->code[v] = (uint16_t)code;
            t->size[v] = (uint8_t)l;
            if (l <= LOOK) {
                uint32_t first = code << (LOOK - l), count = 1u << (LOOK - l);
                for (uint32_t x = 0; x < count; x++)
                    t->look[first + x] = (uint16_t)(l << 8 | v);
            }
        }
        if (t->bits[l]) {
            t->maxcode[l] = (int32_t)code - 1;
            t->valptr[l] -= (int32_t)(code - t->bits[l]); /* index of value = valptr + code */
        }
        if (code >= (1u << l))
            return false;
        code <<= 1;
    }
    t->maxcode[17] = INT32_MAX;
    return true;
}

/* Annex K.2 from the counts freq of symbols 0..255 into t's bits and vals. */
static void table_optimal(const uint64_t *count, table *t)
{
    uint64_t freq[257];
    int codesize[257], others[257];
    memcpy(freq, count, 256 * sizeof *freq);
    freq[256] = 1; /* the reserved code point: it takes the longest code, then is dropped */
    for (int i = 0; i < 257; i++)
        codesize[i] = 0, others[i] = -1;
    /* Figure K.1: merge the two least frequent until one is left. Of equal frequencies the
     * largest value is taken first, so the reserved point (frequency 1) is always deepest. */
    for (;;) {
        int v1 = -1, v2 = -1;
        for (int i = 0; i < 257; i++)
            if (freq[i] && (v1 < 0 || freq[i] <= freq[v1]))
                v1 = i;
        for (int i = 0; i < 257; i++)
            if (freq[i] && i != v1 && (v2 < 0 || freq[i] <= freq[v2]))
                v2 = i;
        if (v2 < 0)
            break;
        freq[v1] += freq[v2];
        freq[v2] = 0;
        int i = v1;
        for (;;) {
            codesize[i]++;
            if (others[i] < 0)
                break;
            i = others[i];
        }
        others[i] = v2;
        for (i = v2; i >= 0; i = others[i])
            codesize[i]++;
    }
    /* Figure K.2: how many codes of each length (a length is at most 256 here) */
    int bits[258] = {0};
    int longest = 0;
    for (int i = 0; i < 257; i++)
        if (codesize[i]) {
            bits[codesize[i]]++;
            if (codesize[i] > longest)
                longest = codesize[i];
        }
    /* Figure K.3: no code longer than 16 bits; then the reserved point's code given up */
    for (int i = longest; i > 16; i--)
        while (bits[i] > 0) {
            int k = i - 2;
            while (bits[k] == 0)
                k--;
            bits[i] -= 2;
            bits[i - 1]++;
            bits[k + 1] += 2;
            bits[k]--;
        }
    int i = 16;
    while (i > 0 && bits[i] == 0)
        i--;
    if (i > 0)
        bits[i]--;
    for (int l = 1; l <= 16; l++)
        t->bits[l] = (uint8_t)bits[l];
    /* Figure K.4: values by code length, then by value */
    int k = 0;
    for (int l = 1; l <= longest; l++)
        for (int v = 0; v < 256; v++)
            if (codesize[v] == l)
                t->vals[k++] = (uint8_t)v;
    t->nvals = k;
}

/* ---- bits in ---- */

static void reader_start(reader *r, const unsigned char *p, const unsigned char *end)
{
    r->p = p, r->end = end;
    r->acc = 0, r->n = 0, r->pad = 0;
    r->at_marker = false;
}

/* Byte by byte, stuffing and markers seen: the slow part of fill. */
static void fill_bytes(reader *r)
{
    while (r->n <= 56) {
        unsigned b = 0;
        if (r->at_marker) {
            r->pad += 8;
        } else if (r->p >= r->end) {
            r->at_marker = true;
            r->pad += 8;
        } else if (r->p[0] == 0xFF) {
            if (r->end - r->p >= 2 && r->p[1] == 0x00) {
                b = 0xFF;
                r->p += 2;
            } else {
                r->at_marker = true;
                r->pad += 8;
            }
        } else {
            b = *r->p++;
        }
        r->acc |= (uint64_t)b << (56 - r->n);
        r->n += 8;
    }
}

/* Up to 57 bits or more in acc; past the data (a marker, or the end), zeros counted in pad.
 * Eight bytes at once when none is 0xFF (the usual case): whole bytes counted, and the bits
 * of the next one or-ed in below them are that byte's own, or-ed again when it is read. */
static inline void fill(reader *r)
{
    if (r->n <= 56 && !r->at_marker && r->end - r->p >= 8) {
        const unsigned char *q = r->p;
        uint64_t v = (uint64_t)q[0] << 56 | (uint64_t)q[1] << 48 | (uint64_t)q[2] << 40 |
                     (uint64_t)q[3] << 32 | (uint64_t)q[4] << 24 | (uint64_t)q[5] << 16 |
                     (uint64_t)q[6] << 8 | q[7];
        uint64_t x = ~v; /* a 0xFF byte of v is a zero byte of x */
        if (!((x - 0x0101010101010101u) & ~x & 0x8080808080808080u)) {
            int k = (64 - r->n) >> 3;
            r->acc |= v >> r->n;
            r->p += k;
            r->n += 8 * k;
            return;
        }
    }
    fill_bytes(r);
}

/* The next symbol of t, or -1 for a code t does not have. acc holds 16 bits or more. */
static inline int decode(reader *r, const table *t)
{
    unsigned look = (unsigned)(r->acc >> (64 - LOOK));
    unsigned e = t->look[look];
    int l = (int)(e >> 8);
    if (l) {
        r->acc <<= l;
        r->n -= l;
        return (int)(e & 0xFF);
    }
    uint32_t bits16 = (uint32_t)(r->acc >> 48);
    for (l = LOOK + 1; l <= 16; l++) {
        int32_t c = (int32_t)(bits16 >> (16 - l));
        if (c <= t->maxcode[l]) {
            r->acc <<= l;
            r->n -= l;
            return t->vals[t->valptr[l] + c];
        }
    }
    return -1;
}

static inline uint32_t take(reader *r, int s)
{
    uint32_t v = (uint32_t)(r->acc >> (64 - s));
    r->acc <<= s;
    r->n -= s;
    return v;
}

/* Every whole byte of acc into buf, a 0xFF followed by a stuffed 0x00 (T.81 F.1.2.3). */
static void drain(writer *w)
{
    while (w->n >= 8) {
        w->n -= 8;
        unsigned char b = (unsigned char)(w->acc >> w->n);
        w->buf[w->len++] = b;
        if (b == 0xFF)
            w->buf[w->len++] = 0x00;
    }
}

/* ---- bits out ---- */

static void flush_bytes(writer *w)
{
    hdm__bytes_put(w->out, w->buf, w->len);
    w->len = 0;
}

static inline void put(writer *w, uint32_t v, int len)
{
    w->acc = (w->acc << len) | v;
    w->n += len;
    if (w->n >= 32) {
        drain(w);
        if (w->len >= OUT_CHUNK)
            flush_bytes(w);
    }
}

/* The last byte padded with 1-bits, everything written out of acc. */
static void align(writer *w)
{
    if (w->n & 7)
        put(w, (1u << (8 - (w->n & 7))) - 1, 8 - (w->n & 7));
    drain(w);
    w->acc = 0;
}

static void put_raw(writer *w, const unsigned char *p, size_t n)
{
    flush_bytes(w);
    hdm__bytes_put(w->out, p, n);
}

/* ---- the scan ---- */

#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* One pass over the scan: counting symbols (w NULL) or writing them with the new tables;
 * inlined in each of the two below, so each is compiled for its own pass. */
static ALWAYS_INLINE hdm_status scan_pass(job *j, writer *w)
{
    reader r;
    reader_start(&r, j->in + j->data_at, j->in + j->n);
    unsigned interval = 0, next_rst = 0;
    for (uint32_t m = 0; m < j->mcus; m++) {
        if (j->restart && interval == j->restart) {
            /* what is left of the interval is its padding (under a byte), then RSTn */
            fill(&r);
            int real = r.n - r.pad;
            if (real < 0)
                return corrupt(j, "data ends early");
            if (!r.at_marker || real >= 8 || r.end - r.p < 2 || r.p[1] != 0xD0 + next_rst)
                return corrupt(j, "no restart marker where one is due");
            reader_start(&r, r.p + 2, r.end);
            if (w) {
                align(w);
                w->buf[w->len++] = 0xFF;
                w->buf[w->len++] = (unsigned char)(0xD0 + next_rst);
            }
            next_rst = (next_rst + 1) & 7;
            interval = 0;
        }
        interval++;
        for (int b = 0; b < j->blocks; b++) {
            int td = j->block_dc[b], ta = j->block_ac[b];
            const table *dt = &j->dc[td], *at = &j->ac[ta];
            if (r.n < 32)
                fill(&r);
            int s = decode(&r, dt);
            if (s < 0 || s > 11)
                return corrupt(j, "bad Huffman code");
            uint32_t extra = s ? take(&r, s) : 0;
            if (w)
                put(w, ((uint32_t)j->ndc[td].code[s] << s) | extra, j->ndc[td].size[s] + s);
            else
                j->dc_freq[td][s]++;
            for (int k = 1; k < 64;) {
                if (r.n < 32)
                    fill(&r);
                int rs = decode(&r, at);
                if (rs < 0)
                    return corrupt(j, "bad Huffman code");
                int sz = rs & 15;
                if (sz) {
                    k += rs >> 4;
                    if (k > 63)
                        return corrupt(j, "AC coefficients past the block's end");
                    extra = take(&r, sz);
                    if (w)
                        put(w, ((uint32_t)j->nac[ta].code[rs] << sz) | extra,
                            j->nac[ta].size[rs] + sz);
                    else
                        j->ac_freq[ta][rs]++;
                    k++;
                } else {
                    if (rs != 0x00 && rs != 0xF0) /* only EOB and ZRL have no bits */
                        return corrupt(j, "bad AC symbol");
                    if (w)
                        put(w, j->nac[ta].code[rs], j->nac[ta].size[rs]);
                    else
                        j->ac_freq[ta][rs]++;
                    if (rs == 0)
                        break; /* EOB */
                    k += 16;
                }
            }
        }
        if (r.n < r.pad)
            return corrupt(j, "data ends early");
    }
    fill(&r);
    int real = r.n - r.pad;
    if (real < 0)
        return corrupt(j, "data ends early");
    if (!r.at_marker || real >= 8)
        return corrupt(j, "data past the scan's last block");
    j->tail_at = (size_t)(r.p - j->in);
    if (w)
        align(w);
    return HDM_OK;
}

static hdm_status scan_count(job *j)
{
    return scan_pass(j, NULL);
}

static hdm_status scan_write(job *j, writer *w)
{
    return scan_pass(j, w);
}

/* ---- the segments ---- */

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* Reads a DHT segment's tables (B.2.4.2) into j; body is the segment after its length. */
static hdm_status read_dht(job *j, size_t body, size_t end)
{
    size_t p = body;
    while (p < end) {
        unsigned tc = j->in[p] >> 4, th = j->in[p] & 15;
        if (tc > 1 || th > 3)
            return corrupt(j, "bad Huffman table class or number");
        if (end - p < 17)
            return corrupt(j, "Huffman table cut short");
        table *t = tc ? &j->ac[th] : &j->dc[th];
        memset(t->code, 0, sizeof t->code);
        memset(t->size, 0, sizeof t->size);
        int total = 0;
        for (int l = 1; l <= 16; l++)
            t->bits[l] = j->in[p + (size_t)l], total += t->bits[l];
        if (total > 256 || end - p - 17 < (size_t)total)
            return corrupt(j, "Huffman table cut short");
        memcpy(t->vals, j->in + p + 17, (size_t)total);
        t->nvals = total;
        if (!table_derive(t))
            return corrupt(j, "bad Huffman table");
        t->defined = true;
        *(tc ? &j->ac_def[th] : &j->dc_def[th]) = p;
        p += 17 + (size_t)total;
    }
    return HDM_OK;
}

static hdm_status read_sof(job *j, size_t body, size_t len)
{
    const unsigned char *s = j->in + body;
    if (len < 6)
        return corrupt(j, "frame header cut short");
    if (s[0] != 8)
        return corrupt(j, "baseline frame not of 8-bit samples");
    j->height = be16(s + 1);
    j->width = be16(s + 3);
    j->ncomp = s[5];
    if (j->width == 0 || j->ncomp < 1 || j->ncomp > 4 || len != 6 + 3 * (size_t)j->ncomp)
        return corrupt(j, "bad frame header");
    for (int c = 0; c < j->ncomp; c++) {
        j->frame[c].id = s[6 + 3 * c];
        j->frame[c].h = s[7 + 3 * c] >> 4;
        j->frame[c].v = s[7 + 3 * c] & 15;
        if (j->frame[c].h < 1 || j->frame[c].h > 4 || j->frame[c].v < 1 || j->frame[c].v > 4)
            return corrupt(j, "bad sampling factors");
        for (int d = 0; d < c; d++)
            if (j->frame[d].id == j->frame[c].id)
                return corrupt(j, "two components with one number");
    }
    return HDM_OK;
}

/* The scan header (B.2.3); *keep when it is a scan this file does not re-code. */
static hdm_status read_sos(job *j, size_t body, size_t len, bool *keep)
{
    const unsigned char *s = j->in + body;
    if (len < 1 || len != 1 + 2 * (size_t)s[0] + 3)
        return corrupt(j, "bad scan header");
    j->nscan = s[0];
    if (j->nscan < 1 || j->nscan > 4)
        return corrupt(j, "bad scan header");
    int hmax = 1, vmax = 1;
    for (int c = 0; c < j->ncomp; c++) {
        hmax = j->frame[c].h > hmax ? j->frame[c].h : hmax;
        vmax = j->frame[c].v > vmax ? j->frame[c].v : vmax;
    }
    j->blocks = 0;
    for (int i = 0; i < j->nscan; i++) {
        int id = s[1 + 2 * i], td = s[2 + 2 * i] >> 4, ta = s[2 + 2 * i] & 15, f = -1;
        for (int c = 0; c < j->ncomp; c++)
            if (j->frame[c].id == id)
                f = c;
        for (int k = 0; k < i; k++)
            if (j->scan[k] == f)
                f = -1;
        if (f < 0 || td > 3 || ta > 3)
            return corrupt(j, "bad scan component");
        if (!j->dc[td].defined || !j->ac[ta].defined)
            return corrupt(j, "scan uses an undefined Huffman table");
        j->scan[i] = f;
        j->frame[f].dc = td, j->frame[f].ac = ta;
        j->dc_used[td] = j->ac_used[ta] = true;
        int per = j->nscan == 1 ? 1 : j->frame[f].h * j->frame[f].v;
        if (j->blocks + per > 10)
            return corrupt(j, "more than 10 blocks in an MCU");
        for (int k = 0; k < per; k++, j->blocks++)
            j->block_dc[j->blocks] = td, j->block_ac[j->blocks] = ta;
    }
    const unsigned char *t = s + 1 + 2 * j->nscan;
    if (t[0] != 0 || t[1] != 63 || t[2] != 0)
        return corrupt(j, "bad spectral selection for a baseline scan");
    if (j->nscan < j->ncomp) {
        *keep = true; /* the first of several scans */
        return HDM_OK;
    }
    uint64_t across, down;
    if (j->nscan == 1) { /* non-interleaved: the component's own blocks (A.2.2) */
        const comp *c = &j->frame[j->scan[0]];
        uint64_t cw = ((uint64_t)j->width * c->h + hmax - 1) / hmax;
        uint64_t ch = ((uint64_t)j->height * c->v + vmax - 1) / vmax;
        across = (cw + 7) / 8, down = (ch + 7) / 8;
    } else {
        across = (j->width + 8u * hmax - 1) / (8u * hmax);
        down = (j->height + 8u * vmax - 1) / (8u * vmax);
    }
    j->mcus = (uint32_t)(across * down); /* at most 65535 x 65535 / 64 */
    return HDM_OK;
}

/* Walks the segments up to the scan's data. *keep when the file is well formed but not one
 * this file re-codes. */
static hdm_status read_headers(job *j, bool *keep)
{
    const unsigned char *in = j->in;
    if (j->n < 4 || in[0] != 0xFF || in[1] != 0xD8)
        return corrupt(j, "no SOI marker");
    size_t p = 2;
    bool sof = false;
    for (;;) {
        if (j->n - p < 2 || in[p] != 0xFF)
            return corrupt(j, j->n - p < 2 ? "ends before the scan" : "no marker where due");
        size_t at = p;
        while (p < j->n && in[p] == 0xFF)
            p++; /* fill bytes (B.1.1.2) */
        if (p >= j->n)
            return corrupt(j, "ends before the scan");
        unsigned m = in[p++];
        if (m == 0xD8 || m == 0xD9 || (m >= 0xD0 && m <= 0xD7) || m == 0x00)
            return corrupt(j, "unexpected marker before the scan");
        if (m == 0x01) { /* TEM: no length */
            *keep = true;
            return HDM_OK;
        }
        if (j->n - p < 2 || be16(in + p) < 2 || j->n - p < be16(in + p))
            return corrupt(j, "segment cut short");
        size_t len = be16(in + p), body = p + 2, blen = len - 2;
        p += len;
        if (m == 0xC0) {
            if (sof)
                return corrupt(j, "two frame headers");
            sof = true;
            hdm_status st = read_sof(j, body, blen);
            if (st)
                return st;
            if (j->height == 0) { /* its height comes in a DNL after the scan */
                *keep = true;
                return HDM_OK;
            }
        } else if (m >= 0xC1 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            *keep = true; /* extended, progressive, lossless or arithmetic coded */
            return HDM_OK;
        } else if (m == 0xC4) {
            if (j->ndht == (int)(sizeof j->dht / sizeof *j->dht)) {
                *keep = true;
                return HDM_OK;
            }
            j->dht[j->ndht].at = at;
            j->dht[j->ndht++].len = p - at;
            hdm_status st = read_dht(j, body, p);
            if (st)
                return st;
        } else if (m == 0xDD) {
            if (blen != 2)
                return corrupt(j, "bad restart interval");
            j->restart = be16(in + body);
        } else if (m == 0xDA) {
            if (!sof)
                return corrupt(j, "scan before the frame header");
            j->sos_at = at;
            j->data_at = p;
            return read_sos(j, body, blen, keep);
        }
    }
}

/* A DHT segment of the input, written with each table the scan uses in its optimised form. */
static void write_dht(job *j, writer *w, const dht_seg *d)
{
    unsigned char seg[4 + 4 * 273];
    size_t n = 4, p = d->at;
    while (j->in[p] == 0xFF)
        p++;
    p += 3; /* the marker and the length */
    size_t end = d->at + d->len;
    while (p < end) {
        unsigned tc = j->in[p] >> 4, th = j->in[p] & 15;
        size_t total = 0;
        for (int l = 1; l <= 16; l++)
            total += j->in[p + (size_t)l];
        const table *t = tc ? &j->nac[th] : &j->ndc[th];
        bool used = tc ? j->ac_used[th] : j->dc_used[th];
        bool last = (tc ? j->ac_def[th] : j->dc_def[th]) == p;
        if (used && last && t->nvals) {
            seg[n++] = j->in[p];
            memcpy(seg + n, t->bits + 1, 16);
            memcpy(seg + n + 16, t->vals, (size_t)t->nvals);
            n += 16 + (size_t)t->nvals;
        } else {
            memcpy(seg + n, j->in + p, 17 + total);
            n += 17 + total;
        }
        p += 17 + total;
        if (n > sizeof seg - 273 && p < end) { /* more tables than one segment can hold */
            seg[0] = 0xFF, seg[1] = 0xC4;
            seg[2] = (unsigned char)((n - 2) >> 8), seg[3] = (unsigned char)(n - 2);
            put_raw(w, seg, n);
            n = 4;
        }
    }
    seg[0] = 0xFF, seg[1] = 0xC4;
    seg[2] = (unsigned char)((n - 2) >> 8), seg[3] = (unsigned char)(n - 2);
    put_raw(w, seg, n);
}

hdm_status hdm__jpeg_optimize(const unsigned char *in, size_t n, hdm__bytes *out,
                              const char *path, hdm_error *err)
{
    job *j = calloc(1, sizeof *j);
    writer *w = malloc(sizeof *w);
    if (!j || !w) {
        free(j);
        free(w);
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    }
    j->in = in, j->n = n, j->path = path, j->err = err;
    bool keep = false;
    hdm_status st = read_headers(j, &keep);
    if (!st && !keep)
        st = scan_count(j);
    /* only one scan, then EOI: a later scan would be read with the tables replaced */
    if (!st && !keep && (n - j->tail_at < 2 || in[j->tail_at + 1] != 0xD9)) {
        if (n - j->tail_at >= 2 && in[j->tail_at + 1] >= 0xC0 && in[j->tail_at + 1] != 0xFF &&
            !(in[j->tail_at + 1] >= 0xD0 && in[j->tail_at + 1] <= 0xD7))
            keep = true;
        else
            st = corrupt(j, "no EOI marker after the scan");
    }
    if (st || keep) {
        if (!st)
            hdm__bytes_put(out, in, n);
        free(j);
        free(w);
        return st;
    }
    for (int t = 0; t < 4; t++) {
        if (j->dc_used[t]) {
            table_optimal(j->dc_freq[t], &j->ndc[t]);
            table_derive(&j->ndc[t]); /* K.2's codes always fit */
        }
        if (j->ac_used[t]) {
            table_optimal(j->ac_freq[t], &j->nac[t]);
            table_derive(&j->nac[t]);
        }
    }
    /* an unused table's symbols (none were counted): the input's table stands */
    for (int t = 0; t < 4; t++) {
        if (j->dc_used[t] && !j->ndc[t].nvals)
            j->ndc[t] = j->dc[t];
        if (j->ac_used[t] && !j->nac[t].nvals)
            j->nac[t] = j->ac[t];
    }
    w->acc = 0, w->n = 0, w->len = 0, w->out = out;
    size_t p = 0;
    for (int d = 0; d < j->ndht; d++) {
        put_raw(w, in + p, j->dht[d].at - p);
        write_dht(j, w, &j->dht[d]);
        p = j->dht[d].at + j->dht[d].len;
    }
    put_raw(w, in + p, j->data_at - p);
    st = scan_write(j, w);
    if (!st)
        put_raw(w, in + j->tail_at, n - j->tail_at);
    free(j);
    free(w);
    return st;
}
