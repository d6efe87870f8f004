# The public entry points (src/api.c, src/pipeline.c) as an app uses them: threads, the op
# table, app-owned buffers.
hdm_test(test_api test_api.c testutil.c)
