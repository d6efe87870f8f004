/* SPDX-License-Identifier: MIT */
/* jpeg_fail.c — libjpeg's errors and warnings caught, and said as our statuses */
#include "codec/jpeg.h"

#include <jerror.h>
#include <limits.h>

static void on_error(j_common_ptr cinfo)
{
    hdm__jpeg_fail *f = (hdm__jpeg_fail *)cinfo->err;
    f->code = f->pub.msg_code;
    f->pub.format_message(cinfo, f->msg);
    longjmp(f->jump, 1);
}

/* Levels 0 and up are trace messages, -1 a warning (libjpeg.txt, "Error handling"). */
static void on_message(j_common_ptr cinfo, int level)
{
    if (level < 0)
        on_error(cinfo);
}

static void on_output(j_common_ptr cinfo)
{
    (void)cinfo; /* the library prints nothing */
}

struct jpeg_error_mgr *hdm__jpeg_fail_init(hdm__jpeg_fail *f)
{
    struct jpeg_error_mgr *e = jpeg_std_error(&f->pub);
    e->error_exit = on_error;
    e->emit_message = on_message;
    e->output_message = on_output;
    f->code = 0;
    f->msg[0] = '\0';
    return e;
}

hdm_status hdm__jpeg_failed(const hdm__jpeg_fail *f, const char *path, const char *what,
                            uint64_t max_memory, hdm_error *err)
{
    switch (f->code) {
    case -1:
        return hdm__fail(err, HDM_ERR_INTERRUPTED, path, "interrupted");
    case JERR_OUT_OF_MEMORY:
        return hdm__fail(err, HDM_ERR_NOMEM, path, "out of memory");
    case JERR_NO_BACKING_STORE: /* what libjpeg needs is above max_memory_to_use */
        return hdm__fail(err, HDM_ERR_LIMIT, path,
                         "libjpeg needs more than the memory limit of %llu bytes (max_memory)",
                         (unsigned long long)max_memory);
    case JWRN_JPEG_EOF:
    case JERR_INPUT_EOF:
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "%s: data is truncated (%s)", what, f->msg);
    default:
        return hdm__fail(err, HDM_ERR_CORRUPT, path, "%s: %s", what, f->msg);
    }
}

long hdm__jpeg_memory_cap(const hdm_options *opt)
{
    return opt->max_memory > (uint64_t)LONG_MAX ? LONG_MAX : (long)opt->max_memory;
}
