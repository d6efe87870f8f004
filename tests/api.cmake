# SPDX-License-Identifier: MIT
# The public entry points (src/api.c, src/pipeline.c) as an app uses them: threads, the op
# table, app-owned buffers and views, cancel flags and memory limits.
hdm_test(test_api test_api.c testutil.c)
hdm_test(test_api_cancel test_api_cancel.c testutil.c)
hdm_test(test_api_view test_api_view.c testutil.c)
hdm_test(test_api_threads test_api_threads.c testutil.c)
