/* SPDX-License-Identifier: MIT */
/* webp.h — WebP's encoder (webp_write.c), for its entry in webp.c */
#ifndef HDM_CODEC_WEBP_H
#define HDM_CODEC_WEBP_H

#include "codec/codec.h"

hdm_status hdm__webp_sink(const hdm__codec *c, const hdm_info *info, const hdm_options *opt,
                          const hdm__meta *meta, hdm__bytes *b, const char *path,
                          hdm__sink **out, hdm_error *err);

#endif
