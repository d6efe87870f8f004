# SPDX-License-Identifier: MIT
# The ops module (src/ops/): mul and mask against exact references, blend, window, filter and fft
# against f64 ones; each also once per kernel variant (hdm_test_variants).
hdm_test(test_ops_mul_mask test_ops_mul_mask.c testutil.c)
hdm_test(test_ops_blend test_ops_blend.c testutil.c)
hdm_test(test_ops_window test_ops_window.c testutil.c)
hdm_test(test_ops_filter test_ops_filter.c testutil.c)
# operands of another size: placement, tile, outside, fit, every resampling filter against f64
hdm_test(test_ops_geometry test_ops_geometry.c testutil.c)
hdm_test(test_ops_fft test_ops_fft.c testutil.c)
# blend's mask placed on its own: every placement and fit, by the library and by a step
hdm_test(test_ops_blend_mask test_ops_blend_mask.c testutil.c)
foreach(t test_ops_mul_mask test_ops_blend test_ops_window test_ops_filter test_ops_geometry
          test_ops_fft test_ops_blend_mask)
  hdm_test_variants(${t})
endforeach()
# large kernels through the FFT against f64; image kernels (@disc.png) through the command
hdm_test(test_ops_fftconv test_ops_fftconv.c testutil.c cli_run.c)
hdm_test_variants(test_ops_fftconv)
# gaussian and box kernels by sliding sums: forms, primitives, against f64
hdm_test(test_ops_slide test_ops_slide.c testutil.c)
hdm_test_variants(test_ops_slide)
