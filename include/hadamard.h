/* SPDX-License-Identifier: MIT */
/* hadamard.h — the whole public API of libhadamard: element-wise image products */

/* Conventions, for every function below:
 * - Errors: a function that can fail returns hdm_status (HDM_OK = 0). When the caller passes an
 *   hdm_error, a failure fills it with the status and a one-line message "FILE: what is wrong".
 *   The library prints nothing, never exits, and keeps no global "last error".
 * - Ownership: whoever allocates frees. Every object a function hands back through an out
 *   parameter (*out) is the caller's, released by its _free function; every _free(NULL) is a
 *   no-op. Inputs are borrowed for the call only, except the paths inside a pipeline's steps,
 *   which the pipeline copies.
 * - Threads: there is no global mutable state (the kernel variant is chosen once, safely), so
 *   any number of threads may run calls at once on different objects; one object may be read by
 *   several threads at once (an image, a built pipeline) but not written while read.
 * - Sizes: every width × height × channels × depth goes through hdm_size_bytes; untrusted files
 *   are checked against the limits in hdm_options before pixel memory is allocated.
 * - Arguments: a bad argument — a NULL pointer where an object is needed, unknown flags, an
 *   enum value outside its type, an hdm_options field outside its documented range
 *   (png_level outside -1..9, jpeg_quality outside 1..100, an unknown png_filter,
 *   jpeg_subsample or tiff_compression, a background above 0xffffff) — is
 *   refused with HDM_ERR_ARG (and a message when an hdm_error is given), never a crash. The
 *   kernels hdm_mul_u8/u16/f32 have no status: given NULL with n > 0 they do nothing. */
#ifndef HADAMARD_H
#define HADAMARD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(HADAMARD_BUILDING) && defined(__GNUC__)
#define HDM_API __attribute__((visibility("default")))
#else
#define HDM_API
#endif

#define HDM_VERSION_MAJOR 0
#define HDM_VERSION_MINOR 2
#define HDM_VERSION_PATCH 0

/* The library's version as "MAJOR.MINOR.PATCH"; a static string. */
HDM_API const char *hdm_version(void);

/* Releases a buffer the library handed back (hdm_save_memory, hdm_pipeline_run_memory, …);
 * NULL is a no-op. Use it rather than free(), so the library's allocator is the one that frees. */
HDM_API void hdm_free(void *buffer);

/* ---- status and errors --------------------------------------------------------------------- */

/* Every function that can fail returns one of these; 0 is success. */
typedef enum hdm_status {
    HDM_OK = 0,
    HDM_ERR_ARG,         /* an argument is invalid (NULL, out of range, unknown name) */
    HDM_ERR_NOMEM,       /* an allocation failed */
    HDM_ERR_IO,          /* a file could not be opened, read, written or renamed */
    HDM_ERR_FORMAT,      /* the data is in no format this library reads, or cannot be written */
    HDM_ERR_CORRUPT,     /* the data is corrupt or truncated */
    HDM_ERR_LIMIT,       /* the image exceeds a limit in hdm_options (raise it to accept) */
    HDM_ERR_SHAPE,       /* operands differ in width, height or channels */
    HDM_ERR_SAME_FILE,   /* the output names one of the inputs */
    HDM_ERR_INTERRUPTED  /* the caller's cancel flag was raised */
} hdm_status;

/* A short fixed description of a status, e.g. "corrupt or truncated data". Never NULL. */
HDM_API const char *hdm_strerror(hdm_status status);

/* Detail of one call's failure, filled by the call when the caller passes one (it may pass NULL).
 * message reads "PATH: what is wrong" when a file is involved, else "what is wrong". */
typedef struct hdm_error {
    hdm_status status;
    char message[1024];
} hdm_error;

/* ---- images -------------------------------------------------------------------------------- */

/* Sample types. The value is the size of one sample in bytes. */
typedef enum hdm_depth { HDM_U8 = 1, HDM_U16 = 2, HDM_F32 = 4 } hdm_depth;

#define HDM_MAX_CHANNELS 4

/* A planar image: `channels` planes of width × height samples, each row `stride` bytes apart.
 * Channel order is gray, gray+alpha, RGB or RGBA; alpha, when present, is the last plane.
 * Integer samples are normalised by their maximum (255 or 65535); f32 samples by 1.0. */
typedef struct hdm_image {
    uint32_t width, height, channels;
    hdm_depth depth;
    size_t stride;                    /* bytes from one row of a plane to the next */
    void *plane[HDM_MAX_CHANNELS];    /* first sample of each plane; unused entries NULL */
    void *owned_;                     /* the buffer hdm_image_free releases; NULL for a view */
} hdm_image;

/* Allocates an image with zeroed samples. *out is the caller's, released by hdm_image_free.
 * Returns HDM_ERR_ARG for 0 sizes, channels outside 1..4 or a bad depth; HDM_ERR_LIMIT when
 * the size overflows size_t; HDM_ERR_NOMEM. */
HDM_API hdm_status hdm_image_new(uint32_t width, uint32_t height, uint32_t channels,
                                 hdm_depth depth, hdm_image **out);
/* Releases an image from hdm_image_new, hdm_image_view or any function returning one; NULL is
 * a no-op. A view's samples are left alone: they are the caller's. */
HDM_API void hdm_image_free(hdm_image *img);

/* Makes *out a view over samples the caller owns: plane c of `channels` starts at planes[c],
 * each row `stride` bytes after the last (at least width × depth, a multiple of the sample
 * size; every plane aligned to it). Nothing is copied; the memory must outlive the view and is
 * never freed by the library. HDM_ERR_ARG for a NULL plane, 0 sizes, channels outside 1..4, a
 * bad depth, or a short or misaligned stride; HDM_ERR_NOMEM. */
HDM_API hdm_status hdm_image_view(void *const *planes, uint32_t width, uint32_t height,
                                  uint32_t channels, hdm_depth depth, size_t stride,
                                  hdm_image **out);

/* Bytes needed for width × height × channels × depth, or HDM_ERR_LIMIT if it overflows size_t;
 * HDM_ERR_ARG for a NULL out or a depth that is not an hdm_depth.
 * Every size computation in the library goes through this one helper. */
HDM_API hdm_status hdm_size_bytes(uint32_t width, uint32_t height, uint32_t channels,
                                  hdm_depth depth, size_t *out);

/* Copies an interleaved buffer the caller owns (e.g. a UI toolkit's RGBA frame: channels
 * samples per pixel, rows `stride` bytes apart, u8/u16 in host order or f32) into a new planar
 * image, *out, the caller's. The buffer is only read. HDM_ERR_ARG for a stride shorter than a
 * row, or a buffer or stride not aligned to the sample size; HDM_ERR_NOMEM. */
HDM_API hdm_status hdm_image_from_interleaved(const void *pixels, uint32_t width, uint32_t height,
                                             uint32_t channels, hdm_depth depth, size_t stride,
                                             hdm_image **out);
/* Copies img back into an interleaved buffer the caller owns, with img's channels and depth,
 * rows `stride` bytes apart (at least width × channels × depth; buffer and stride aligned to
 * the sample size). */
HDM_API hdm_status hdm_image_to_interleaved(const hdm_image *img, void *pixels, size_t stride);

/* Pointer to row y of plane c. */
static inline void *hdm_row(const hdm_image *img, uint32_t c, uint32_t y)
{
    return (unsigned char *)img->plane[c] + (size_t)y * img->stride;
}

/* ---- options ------------------------------------------------------------------------------- */

/* File formats. Input format comes from a file's first bytes; output format from its name. */
typedef enum hdm_format {
    HDM_FORMAT_UNKNOWN = 0,
    HDM_FORMAT_PNG, HDM_FORMAT_JPEG, HDM_FORMAT_BMP, HDM_FORMAT_TGA, HDM_FORMAT_GIF,
    HDM_FORMAT_PSD, HDM_FORMAT_HDR, HDM_FORMAT_PNM,
    HDM_FORMAT_WEBP,
    HDM_FORMAT_TIFF
} hdm_format;

/* Lower-case name of a format ("png", "jpeg", …). */
HDM_API const char *hdm_format_name(hdm_format f);
/* The output format an extension selects (any of a writable codec's extensions in the codec
 * table, hdm_codec_at; case-insensitive), from a path or a bare extension; HDM_FORMAT_UNKNOWN
 * if none. */
HDM_API hdm_format hdm_format_from_name(const char *path);
/* The format whose files path's extension names, read-only formats included (".gif", ".jpe",
 * ".ppm"; case-insensitive), or HDM_FORMAT_UNKNOWN for a name without an extension or with one
 * no format uses. An output named for one format is never written in another. */
HDM_API hdm_format hdm_format_named(const char *path);
/* The format a file's first bytes show (pass its first 32 bytes, or all of a shorter file),
 * as hdm_load would detect it; HDM_FORMAT_UNKNOWN for none this library reads or a NULL head. */
HDM_API hdm_format hdm_format_sniff(const void *head, size_t n);

/* PNG row filter choice for writing. */
typedef enum hdm_png_filter {
    HDM_PNG_FILTER_DEFAULT = 0, /* the library's measured choice */
    HDM_PNG_FILTER_NONE, HDM_PNG_FILTER_SUB, HDM_PNG_FILTER_UP, HDM_PNG_FILTER_AVG,
    HDM_PNG_FILTER_PAETH, HDM_PNG_FILTER_ADAPTIVE
} hdm_png_filter;

/* Chroma subsampling of JPEG output (hdm_options.jpeg_subsample). */
typedef enum hdm_jpeg_subsample {
    HDM_JPEG_SUBSAMPLE_AUTO = 0, /* 4:4:4 at jpeg_quality 90 and above, else 4:2:0 */
    HDM_JPEG_SUBSAMPLE_444,      /* none */
    HDM_JPEG_SUBSAMPLE_422,      /* chroma halved across */
    HDM_JPEG_SUBSAMPLE_420       /* chroma halved across and down */
} hdm_jpeg_subsample;

/* Compression of TIFF output (hdm_options.tiff_compression). */
typedef enum hdm_tiff_compression {
    HDM_TIFF_DEFLATE = 0, /* zlib's deflate with the horizontal predictor (the default) */
    HDM_TIFF_LZW,         /* LZW with the horizontal predictor */
    HDM_TIFF_ZSTD,        /* Zstandard with the horizontal predictor */
    HDM_TIFF_NONE,        /* none */
    HDM_TIFF_JPEG         /* JPEG at jpeg_quality (8-bit samples: deeper ones are reduced) */
} hdm_tiff_compression;

/* Everything a caller can tune, passed by pointer to each call (NULL means defaults).
 * Initialise with hdm_options_init, which sets `size`, so the struct can grow compatibly. */
/* Parts of a file's metadata, for hdm_options.strip_meta and hdm_file_info. */
enum {
    HDM_META_ICC = 1u << 0,        /* the ICC colour profile */
    HDM_META_EXIF = 1u << 1,       /* EXIF (its Orientation tag included) */
    HDM_META_XMP = 1u << 2,        /* the XMP packet */
    HDM_META_COLOR = 1u << 3,      /* PNG sRGB, gAMA and cHRM */
    HDM_META_RESOLUTION = 1u << 4, /* pixel density: PNG pHYs, JPEG JFIF, TIFF resolution */
    HDM_META_ALL = (1u << 5) - 1
};

typedef struct hdm_options {
    size_t size;                /* sizeof(hdm_options) as the caller compiled it */
    /* limits on untrusted input, checked from the header before any pixel memory is taken */
    uint64_t max_pixels;        /* width × height; default 2^28 */
    uint32_t max_width;         /* default 1 << 20 */
    uint32_t max_height;        /* default 1 << 20 */
    uint64_t max_memory;        /* bytes one job may hold at once: images decoded whole or
                                 * turned upright by their Orientation tag, operands, filter
                                 * rows, whole-image encoders; default 4 GiB */
    /* writing */
    int png_level;              /* zlib level 0..9, or -1 for the measured default */
    hdm_png_filter png_filter;
    int jpeg_quality;           /* 1..100, default 90 */
    /* pipeline */
    uint32_t strip_rows;        /* rows per strip; 0 = automatic */
    /* When non-NULL and *cancel becomes non-zero (e.g. from a signal handler), a running call
     * stops between strips, removes its temporary output and returns HDM_ERR_INTERRUPTED. */
    const volatile int *cancel;
    /* The format of a named output file (hdm_save, hdm_pipeline_run_file,
     * hdm_pipeline_run_memory_to_file): HDM_FORMAT_UNKNOWN (the default) takes it from the
     * name's extension; another (one that can be written) is written whatever the name, unless
     * its extension names a different format (HDM_ERR_FORMAT), e.g. to "/dev/stdout" or "out". */
    hdm_format out_format;
    /* JPEG writing (added in 0.2; a caller compiled with the struct before them gets the
     * defaults). Huffman tables are always optimised for the image. */
    int jpeg_progressive;       /* non-zero: a progressive JPEG; default 0 (baseline) */
    hdm_jpeg_subsample jpeg_subsample; /* default HDM_JPEG_SUBSAMPLE_AUTO */
    /* 0xRRGGBB: an image with alpha written to a format without it (JPEG) is composited over
     * this colour; default 0xffffff (white), at most 0xffffff */
    uint32_t background;
    /* When non-NULL, called with a one-line note ("FILE: alpha flattened over #ffffff …") about
     * something done to an output that the caller may want to say; from the thread running the
     * call, perhaps from several at once. The library itself prints nothing. */
    void (*notice)(void *ctx, const char *message);
    void *notice_ctx;
    /* WebP writing (added in 0.2): non-zero writes lossless WebP, every sample kept (colours
     * under fully transparent pixels too); default 0, lossy at jpeg_quality */
    int webp_lossless;
    /* TIFF writing (added in 0.2, after the JPEG fields): f32 images use the floating-point
     * predictor; default HDM_TIFF_DEFLATE */
    hdm_tiff_compression tiff_compression;
    /* Metadata (added in 0.2, after the TIFF field). The main input's ICC profile, EXIF, XMP,
     * colour chunks and resolution are written to the output wherever its format can hold them;
     * each bit of HDM_META_* set here leaves that part out (HDM_META_ALL: --strip). Default 0:
     * everything kept. A profile is carried, never applied: samples are not converted. */
    unsigned strip_meta;
    /* non-zero: the EXIF Orientation tag is not applied on load (stored pixels and tag kept);
     * default 0: images and operands are turned upright and the tag written as 1 */
    int no_rotate;
    /* Threads one call may use (added in 0.2, after no_rotate): decoders of the image and of
     * each operand read ahead on threads of their own, a strip's rows are shared out between
     * workers, and the PNG encoder deflates on several. 1 runs everything on the calling
     * thread; 0 (the default) uses hdm_cores_available(); above 1024 is HDM_ERR_ARG. Output is
     * bit-identical for every value. */
    uint32_t threads;
} hdm_options;

HDM_API void hdm_options_init(hdm_options *opt);

/* The cores this process may run on: its CPU affinity mask, lowered to its cgroup's CPU quota
 * (cgroup v2 cpu.max, or v1 cfs_quota_us / cfs_period_us; rounded up) when one is set, as
 * containers and batch schedulers set it; at least 1. What hdm_options.threads 0 means. */
HDM_API unsigned hdm_cores_available(void);

/* ---- files --------------------------------------------------------------------------------- */

/* What a file's header says, without decoding pixels. */
typedef struct hdm_info {
    uint32_t width, height, channels;
    hdm_depth depth;
    hdm_format format;
} hdm_info;

/* Reads a file's header. Returns HDM_ERR_IO, HDM_ERR_FORMAT, HDM_ERR_CORRUPT, HDM_ERR_LIMIT. */
HDM_API hdm_status hdm_info_read(const char *path, const hdm_options *opt, hdm_info *out,
                                 hdm_error *err);
/* The same for a whole encoded file in memory (size bytes at data, e.g. read from a pipe);
 * messages name it "(memory)". Returns also HDM_ERR_ARG for a NULL data or out. */
HDM_API hdm_status hdm_info_read_memory(const void *data, size_t size, const hdm_options *opt,
                                        hdm_info *out, hdm_error *err);

/* What a file holds as stored, beside what it decodes to (hdm_file_info_read). */
typedef struct hdm_file_info {
    size_t size;                /* sizeof(hdm_file_info) as the caller compiled it */
    hdm_info image;             /* what it decodes to, as hdm_info_read says (upright) */
    uint32_t stored_width, stored_height; /* before the Orientation tag is applied */
    uint32_t bits;              /* bits per sample as stored: 1, 2, 4, 8, 16 or 32 */
    char color[16];             /* colour type as stored: "gray", "gray+alpha", "rgb", "rgba",
                                 * "palette", "ycbcr", "cmyk", "ycck" */
    char compression[16];       /* "deflate", "lzw", "lossy", "lossless", … ("" when only one
                                 * exists for the format) */
    char subsampling[8];        /* JPEG chroma subsampling: "4:4:4", "4:2:2", "4:2:0", … */
    uint32_t interlaced;        /* non-zero: PNG Adam7 interlace or a progressive JPEG */
    uint32_t pages;             /* pages (TIFF) or frames (GIF, WebP); the first is decoded */
    uint32_t orientation;       /* EXIF Orientation 1..8, 0 when the file has none */
    uint32_t icc_size;          /* bytes of the ICC profile, 0 when none */
    char icc_description[64];   /* the profile's description tag, cut to fit, "" when none */
    uint32_t exif_size, xmp_size; /* bytes of EXIF (from its TIFF header) and of XMP */
    unsigned color_chunks;      /* HDM_META_COLOR when sRGB, gAMA or cHRM is present */
    double res_x, res_y;        /* pixel density, 0 when none */
    uint32_t res_unit;          /* 0: an aspect ratio only, 1: per inch, 2: per centimetre */
} hdm_file_info;

/* Reads a file's header and its metadata (no pixels decoded) into *out, whose size member the
 * caller sets to sizeof *out first (a smaller, older struct gets its prefix filled; 0 is
 * HDM_ERR_ARG). Returns what hdm_info_read does. */
HDM_API hdm_status hdm_file_info_read(const char *path, const hdm_options *opt,
                                      hdm_file_info *out, hdm_error *err);
HDM_API hdm_status hdm_file_info_read_memory(const void *data, size_t size,
                                             const hdm_options *opt, hdm_file_info *out,
                                             hdm_error *err);

/* Decodes a whole file into a new image (*out, the caller's). Limits in opt are checked before
 * pixel memory is allocated. Palette and low-bit-depth gray are expanded to 8 bits, tRNS to
 * alpha; 16-bit stays 16-bit; HDR loads as f32. The image is upright: an EXIF Orientation tag
 * (2..8) is applied, so 5..8 load with width and height swapped, as hdm_info_read says; with
 * opt->no_rotate the stored pixels are returned. */
HDM_API hdm_status hdm_load(const char *path, const hdm_options *opt, hdm_image **out,
                            hdm_error *err);

/* Decodes from memory; the format is taken from the first bytes. Upright as hdm_load. */
HDM_API hdm_status hdm_load_memory(const void *data, size_t size, const hdm_options *opt,
                                   hdm_image **out, hdm_error *err);

/* Writes img to path in the format its extension names. The file is written to a temporary
 * file in the same directory and renamed over path only when complete and synced, so path is
 * either untouched or whole. 16-bit samples are kept where the format holds them (PNG), f32 for
 * HDR; otherwise converted with rounding. */
HDM_API hdm_status hdm_save(const hdm_image *img, const char *path, const hdm_options *opt,
                            hdm_error *err);

/* Encodes into a new malloc'd buffer (*data, the caller's, released by hdm_free) in format fmt (one that
 * hdm_format_from_name can select; another, or a value outside hdm_format, is
 * HDM_ERR_FORMAT). */
HDM_API hdm_status hdm_save_memory(const hdm_image *img, hdm_format fmt, const hdm_options *opt,
                                   void **data, size_t *size, hdm_error *err);

/* ---- files ---- */

/* Writes size bytes from data to path under the rules of every output of this library: written
 * to a temporary beside path (unnamed where the file system allows, so a killed process leaves
 * none) and renamed over it only when complete and synced, the directory synced after; a
 * symlink is followed and its target replaced; a replaced file keeps its mode and, as far as
 * the process may, its owner. Refused before anything is written (HDM_ERR_IO): a directory, a
 * device or other non-regular file, a file with several hard links, one without write
 * permission (for root too) or that this process may not write. data may be NULL when size is
 * 0; a NULL path is HDM_ERR_ARG. On failure path is unchanged. */
HDM_API hdm_status hdm_write_file(const char *path, const void *data, size_t size,
                                  hdm_error *err);

/* Says now, writing nothing, whether an output to path would be accepted by the rules above:
 * HDM_OK if its directory exists and this process may create files in it and any existing file
 * there (symlinks followed) is one it may replace; otherwise the error that writing would give
 * (HDM_ERR_IO; HDM_ERR_ARG for a NULL or empty path). For checking every output of a long job
 * before starting it; the file system may still change in between. */
HDM_API hdm_status hdm_output_check(const char *path, hdm_error *err);

/* ---- element-wise kernels ------------------------------------------------------------------ */

/* dst[i] = round(a[i] · b[i] / M), M = 255 or 65535, exact for every pair; f32 is the IEEE
 * product. n samples, contiguous; dst may equal a or b. Thread-safe; no failure. */
HDM_API void hdm_mul_u8(uint8_t *dst, const uint8_t *a, const uint8_t *b, size_t n);
HDM_API void hdm_mul_u16(uint16_t *dst, const uint16_t *a, const uint16_t *b, size_t n);
HDM_API void hdm_mul_f32(float *dst, const float *a, const float *b, size_t n);

/* Name of the kernel variant in use ("scalar", "sse2", "avx2", "avx512", "neon"). */
HDM_API const char *hdm_kernel_name(void);

/* Whether the kernel variant named ("scalar", "sse2", "avx2", "avx512", "neon") is in this build
 * and runs on this CPU: HDM_OK if so, else HDM_ERR_ARG (also for NULL). It is what HADAMARD_CPU
 * may name; a name this refuses in HADAMARD_CPU falls back to "scalar". */
HDM_API hdm_status hdm_kernel_available(const char *name);

/* ---- operations ---------------------------------------------------------------------------- */

/* Mask flags. */
enum {
    HDM_MASK_INVERT = 1u << 0, /* use M − mask */
    HDM_MASK_ALPHA = 1u << 1   /* multiply only the alpha plane (adding one if absent) */
};

/* The three element-wise products below share the pipeline's op driver: they read opt's
 * limits (max_memory) and cancel flag (HDM_ERR_INTERRUPTED, no image made) as a pipeline does;
 * opt may be NULL for the defaults. *out is a new image, the caller's. */

/* The normalised Hadamard product out = a ∘ b. Width and height must match (HDM_ERR_SHAPE);
 * a 1-channel operand broadcasts over every channel of the other, otherwise channel counts must
 * match. Mixed depths promote to the deeper. */
HDM_API hdm_status hdm_mul(const hdm_image *a, const hdm_image *b, const hdm_options *opt,
                           hdm_image **out, hdm_error *err);

/* Every channel of img (alpha included) times the gray mask, or with HDM_MASK_ALPHA only the
 * alpha plane; flags other than HDM_MASK_INVERT | HDM_MASK_ALPHA are HDM_ERR_ARG. A colour
 * mask is accepted only if gray in all three channels; a mask's own alpha is ignored. */
HDM_API hdm_status hdm_mask(const hdm_image *img, const hdm_image *mask, unsigned flags,
                            const hdm_options *opt, hdm_image **out, hdm_error *err);

/* Blend flags. */
enum {
    HDM_BLEND_LINEAR = 1u << 0 /* blend in linear light: exact sRGB decode, blend, encode */
};

/* The blend modes of W3C Compositing and Blending Level 1: the separable ones of section 10.2,
 * then the non-separable ones of section 10.3. */
typedef enum hdm_blend_mode {
    HDM_BLEND_NORMAL, HDM_BLEND_MULTIPLY, HDM_BLEND_SCREEN, HDM_BLEND_OVERLAY,
    HDM_BLEND_DARKEN, HDM_BLEND_LIGHTEN, HDM_BLEND_COLOR_DODGE, HDM_BLEND_COLOR_BURN,
    HDM_BLEND_HARD_LIGHT, HDM_BLEND_SOFT_LIGHT, HDM_BLEND_DIFFERENCE, HDM_BLEND_EXCLUSION,
    /* the non-separable modes of section 10.3: they take the whole colour (a gray image
     * counts as R = G = B) */
    HDM_BLEND_HUE, HDM_BLEND_SATURATION, HDM_BLEND_COLOR, HDM_BLEND_LUMINOSITY
} hdm_blend_mode;

/* A mode's keyword in the spec ("color-dodge"), or NULL for a value outside the enum. */
HDM_API const char *hdm_blend_mode_name(hdm_blend_mode mode);
/* The mode a keyword names, into *out; HDM_ERR_ARG (with a message listing the modes) for an
 * unknown one. */
HDM_API hdm_status hdm_blend_mode_from_name(const char *name, hdm_blend_mode *out,
                                            hdm_error *err);

/* Composites top over base with a blend mode. The top's alpha (1 without an alpha plane) is
 * scaled by opacity in [0, 1] and the result composited source-over by the spec's general
 * formula (section 9.1); for two opaque images that is base + opacity·(B(base, top) − base).
 * Maths in f32 on [0, 1], within 1 LSB of exact. Width and height must match
 * (HDM_ERR_SHAPE); a gray image broadcasts over the other's colour; the result has alpha when
 * either input has; mixed depths promote to the deeper. */
HDM_API hdm_status hdm_blend(const hdm_image *base, const hdm_image *top, hdm_blend_mode mode,
                             double opacity, unsigned flags, const hdm_options *opt,
                             hdm_image **out, hdm_error *err);

/* The Porter-Duff operators of W3C Compositing and Blending Level 1 section 9.1, in its order.
 * The blend mode decides the colour, Cs' = (1 − αb)·Cs + αb·B(Cb, Cs), and the operator the
 * coverage: co = αs·Fa·Cs' + αb·Fb·Cb, αo = αs·Fa + αb·Fb, C = co/αo (0 where αo = 0), with
 * each operator's Fa and Fb from the spec; lighter (plus) has Fa = Fb = 1 and αo clamped to 1
 * (the colour clamps to 1 in integer depths). */
typedef enum hdm_composite_op {
    HDM_OP_CLEAR, HDM_OP_COPY, HDM_OP_DESTINATION, HDM_OP_SOURCE_OVER,
    HDM_OP_DESTINATION_OVER, HDM_OP_SOURCE_IN, HDM_OP_DESTINATION_IN, HDM_OP_SOURCE_OUT,
    HDM_OP_DESTINATION_OUT, HDM_OP_SOURCE_ATOP, HDM_OP_DESTINATION_ATOP, HDM_OP_XOR,
    HDM_OP_LIGHTER
} hdm_composite_op;

/* An operator's keyword as the spec and CSS spell it ("source-atop"), or NULL for a value
 * outside the enum. */
HDM_API const char *hdm_composite_op_name(hdm_composite_op op);
/* The operator a name names, into *out: the spec's keywords, and ImageMagick's names as
 * aliases (Clear, Copy, Src, Dst, Over, SrcOver, DstOver, In, SrcIn, DstIn, Out, SrcOut,
 * DstOut, Atop, SrcAtop, DstAtop, Xor, Plus); every name in any case. HDM_ERR_ARG (with a
 * message listing the operators and the closest name) for an unknown one. */
HDM_API hdm_status hdm_composite_op_from_name(const char *name, hdm_composite_op *out,
                                              hdm_error *err);

/* Composites top over base with a blend mode and a Porter-Duff operator (hdm_blend is this
 * with HDM_OP_SOURCE_OVER and no mask). αs is the top's alpha (1 without an alpha plane) times
 * opacity in [0, 1], times mask when one is given (a gray image of the same size, NULL for
 * none; a colour mask must be gray, R = G = B; its own alpha is ignored). αb is the base's
 * alpha, or 1. Sizes, gray broadcast, depths and flags as for hdm_blend (the mask's depth
 * counts too). The result has an alpha plane when either input has one, or when the operator
 * makes two opaque inputs partly transparent: always for clear and source-out; for copy,
 * source-in, destination-in and destination-atop unless opacity is 1 and there is no mask;
 * for destination-out and xor unless opacity is 0 and there is no mask. Otherwise it is
 * opaque, as source-over, source-atop, destination, destination-over and lighter always
 * leave two opaque inputs. */
HDM_API hdm_status hdm_composite(const hdm_image *base, const hdm_image *top,
                                 const hdm_image *mask, hdm_blend_mode mode,
                                 hdm_composite_op op, double opacity, unsigned flags,
                                 const hdm_options *opt, hdm_image **out, hdm_error *err);

/* Where an operand of another size goes on the image (hdm_composite_placed): the command's
 * --fit, --resample, --gravity, --offset, --at, --tile and --outside, and a step's fields. */
typedef enum hdm_fit {
    HDM_FIT_NONE,    /* placed as it is */
    HDM_FIT_STRETCH, /* resampled to the image's size */
    HDM_FIT_CONTAIN, /* inside it, aspect kept (the rest counts as outside) */
    HDM_FIT_COVER    /* over all of it, aspect kept (the overhang cut) */
} hdm_fit;
/* The filter a fit resamples with (separable; widened by the factor when shrinking). */
typedef enum hdm_resample {
    HDM_RESAMPLE_LANCZOS3, HDM_RESAMPLE_BICUBIC, HDM_RESAMPLE_BILINEAR, HDM_RESAMPLE_NEAREST,
    HDM_RESAMPLE_BOX
} hdm_resample;
/* The edge, corner or centre the operand is aligned to; DEFAULT is the top-left corner (NW),
 * or the centre when it is fitted. */
typedef enum hdm_gravity {
    HDM_GRAVITY_DEFAULT, HDM_GRAVITY_NW, HDM_GRAVITY_N, HDM_GRAVITY_NE, HDM_GRAVITY_W,
    HDM_GRAVITY_CENTER, HDM_GRAVITY_E, HDM_GRAVITY_SW, HDM_GRAVITY_S, HDM_GRAVITY_SE
} hdm_gravity;

/* Initialise with hdm_placement_init, which sets `size` (so the struct can grow compatibly)
 * and the defaults: not fitted, lanczos3, the default gravity, no offset, not tiled, outside 1.
 * An operand is never cropped or scaled unasked, but it may reach beyond the image: only the
 * part over the image counts. */
typedef struct hdm_placement {
    size_t size;           /* sizeof(hdm_placement) as the caller compiled it */
    hdm_fit fit;
    hdm_resample resample; /* used only with a fit */
    hdm_gravity gravity;
    /* then moved x pixels right and y down (negative allowed, at most 2^31 either way);
     * HDM_GRAVITY_NW with x, y puts the top-left corner at x, y: the command's --at X,Y */
    int64_t x, y;
    int tile;              /* non-zero: repeated over the image from where it is placed */
    /* A mask's value where a placed one does not reach: 1 (full scale, the default: blended
     * fully there, as without a mask) or 0 (not blended there). A top is transparent where it
     * does not reach: its outside must stay 1. */
    int outside;
} hdm_placement;

HDM_API void hdm_placement_init(hdm_placement *p);

/* hdm_composite with a top and a mask (NULL for none) of any size, each placed by its own
 * placement (NULL: it must match base's width and height, HDM_ERR_SHAPE otherwise). A placed top
 * is transparent where it does not reach (given an alpha plane 0 there if it has none, so the
 * result gains one, opaque over an opaque base) and is resampled premultiplied; a placed mask
 * counts as its outside there, and its alpha is ignored. A placement with size 0, a value
 * outside its enum, an offset beyond 2^31, outside other than 0 or 1, or a top's outside
 * other than 1, is HDM_ERR_ARG. Otherwise as hdm_composite; the maths after placement is the
 * same, and the pipeline's blend step with its placement fields gives the same pixels. */
HDM_API hdm_status hdm_composite_placed(const hdm_image *base, const hdm_image *top,
                                        const hdm_placement *top_place, const hdm_image *mask,
                                        const hdm_placement *mask_place, hdm_blend_mode mode,
                                        hdm_composite_op op, double opacity, unsigned flags,
                                        const hdm_options *opt, hdm_image **out,
                                        hdm_error *err);

/* ---- the codec table ----------------------------------------------------------------------- */

/* One file format the library reads, and perhaps writes. Detection (hdm_format_sniff),
 * hdm_format_name, hdm_format_from_name and the command's --format choices, help, man page
 * and completion all come from this table. */
typedef struct hdm_codec_info {
    hdm_format format;
    const char *name;                   /* hdm_format_name's: "jpeg" */
    /* The extensions that select it for output (hdm_format_from_name, no dot, the usual one
     * first: "jpg", "jpeg"); NULL-terminated, never NULL: empty when it is not writable. */
    const char *const *extensions;
    /* The extensions its files usually carry ("pnm", "ppm", "pgm"), for a caller's file
     * chooser; NULL-terminated, never NULL. Inputs are recognised by their first bytes, never
     * by their names. */
    const char *const *read_extensions;
    int writable;                       /* hdm_save and the pipelines can write it */
    /* The depths its files decode to (HDM_U8 | HDM_U16 …). Writing keeps a depth it has,
     * and turns another into the next deeper one it has, else into its deepest. */
    unsigned depths;
    /* Writable formats: bit c-1 is set when an image of c channels (1 gray, 2 gray+alpha,
     * 3 RGB, 4 RGBA) is written with all c, so it reads back as it was; another becomes RGB
     * (gray expanded) or loses its alpha. 0 when not writable. */
    unsigned layouts;
} hdm_codec_info;

/* The i-th format (static, never freed), or NULL past the last. The order is the table's:
 * the command lists formats in it. Thread-safe. */
HDM_API const hdm_codec_info *hdm_codec_at(size_t i);

/* ---- the operation table ------------------------------------------------------------------- */

/* A named parameter of an operation: `--NAME VALUE` on the command line, `NAME=VALUE` (or, for
 * a flag, just `NAME`) as a field of a step. */
typedef struct hdm_param {
    const char *name;
    const char *arg;     /* placeholder for the value ("F", "MODE"); NULL for a flag */
    const char *help;
    const char *choices; /* the values it takes, space-separated, when they are a fixed set
                          * (for completion and help); NULL otherwise */
} hdm_param;

/* One operation a pipeline step can run. The command line's subcommands, their help, the man
 * page and the step grammar all come from this table. */
typedef struct hdm_op {
    const char *name;      /* "mask" */
    const char *operands;  /* files it takes after the image on the command line: "MASK" or "" */
    const char *syntax;    /* its step form: "mask:MASK[:invert][:alpha]" */
    const char *summary;   /* one line */
    const hdm_param *params; /* terminated by an entry with name NULL */
} hdm_op;

/* The i-th operation (static, never freed), or NULL past the last. Thread-safe. */
HDM_API const hdm_op *hdm_op_at(size_t i);

/* ---- pipelines of steps -------------------------------------------------------------------- */

/* A list of steps run in order over an image, strip by strip, in one decode and one encode.
 * Build it once; running it does not change it, so one pipeline may run in several threads at
 * once. */
typedef struct hdm_pipeline hdm_pipeline;

HDM_API hdm_status hdm_pipeline_new(hdm_pipeline **out);
/* NULL is a no-op. */
HDM_API void hdm_pipeline_free(hdm_pipeline *p);

/* Appends a step written as on the command line, fields split at ':' —
 * "mask:m.png:invert", "mul:b.png", "mask:m.png:alpha". A ':' inside a field is written "\:"
 * and a backslash "\\" ("mask:C\:/dir/m.png:invert" names the mask "C:/dir/m.png"); any
 * other backslash is kept as it is. Unknown operations, fields or bad values are HDM_ERR_ARG
 * with a message saying which. Operand files are opened when it runs. */
HDM_API hdm_status hdm_pipeline_add(hdm_pipeline *p, const char *step, hdm_error *err);

/* Appends a step from its operation name and fields, unsplit and unescaped (so a path may hold
 * ':' or '\\' as it is). A NULL op, fields or entry of fields is HDM_ERR_ARG. */
HDM_API hdm_status hdm_pipeline_add_fields(hdm_pipeline *p, const char *op,
                                           const char *const *fields, size_t nfields,
                                           hdm_error *err);

HDM_API size_t hdm_pipeline_length(const hdm_pipeline *p);

/* The files the steps read (operands, masks, blend tops opened when run; "@file" kernels read
 * once, when their step is added), in step order, so a caller can check its own outputs (a pipe, a descriptor) against them. Returns how
 * many there are and fills paths[0..cap) with the first of them; the strings belong to p and
 * live as long as it does. A NULL p gives 0; paths may be NULL when cap is 0. */
HDM_API size_t hdm_pipeline_files(const hdm_pipeline *p, const char **paths, size_t cap);

/* Runs the steps over file `in`, streaming strips from decoder through each step to encoder,
 * and writes `out` (format from its extension, or opt->out_format) atomically: out is untouched on failure. Refuses
 * an out that is the same file as the input or any operand (HDM_ERR_SAME_FILE, by device and
 * inode). */
HDM_API hdm_status hdm_pipeline_run_file(const hdm_pipeline *p, const char *in,
                                         const char *out, const hdm_options *opt,
                                         hdm_error *err);

/* The same runs with the encoded input, the encoded output or both in memory, for pipes and
 * callers that hold files as bytes. data/size is an encoded image (format from its first bytes;
 * borrowed for the call). fmt is the output format (HDM_FORMAT_PNG, _JPEG, _BMP, _TGA, _HDR;
 * another, or a value outside hdm_format, is HDM_ERR_FORMAT). *out receives a new
 * buffer, the caller's, released by hdm_free, of *out_size bytes, set only when the whole image
 * is encoded (on failure *out is NULL and *out_size 0), so nothing partial is ever handed
 * back. Operand files of the steps are opened as in hdm_pipeline_run_file; a file output is
 * written atomically, and refused when it is an operand (HDM_ERR_SAME_FILE). Messages name an
 * in-memory input "(memory)" and an in-memory output "(memory output)". */
HDM_API hdm_status hdm_pipeline_run_memory(const hdm_pipeline *p, const void *data, size_t size,
                                           hdm_format fmt, const hdm_options *opt, void **out,
                                           size_t *out_size, hdm_error *err);
HDM_API hdm_status hdm_pipeline_run_file_to_memory(const hdm_pipeline *p, const char *in,
                                                   hdm_format fmt, const hdm_options *opt,
                                                   void **out, size_t *out_size,
                                                   hdm_error *err);
HDM_API hdm_status hdm_pipeline_run_memory_to_file(const hdm_pipeline *p, const void *data,
                                                   size_t size, const char *out,
                                                   const hdm_options *opt, hdm_error *err);

/* Runs the steps over an image in memory; *out is a new image, the caller's. */
HDM_API hdm_status hdm_pipeline_run_image(const hdm_pipeline *p, const hdm_image *in,
                                          const hdm_options *opt, hdm_image **out,
                                          hdm_error *err);

#ifdef __cplusplus
}
#endif
#endif
