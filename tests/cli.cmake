# SPDX-License-Identifier: MIT
# The command (src/cli/) run as built, on real files: every command and option, its edges,
# batch, the op options, and hostile files and failing disks.
hdm_test(test_cli test_cli.c cli_run.c)
add_dependencies(test_cli hadamard_cli example_mask)
hdm_test(test_cli_edges test_cli_edges.c cli_run.c cli_assert.c testutil.c)
hdm_test(test_cli_batch test_cli_batch.c cli_run.c cli_assert.c)
hdm_test(test_cli_ops test_cli_ops.c testutil.c)
hdm_test(test_cli_hostile test_cli_hostile.c fuzz/seeds.c cli_run.c cli_assert.c testutil.c)
hdm_test(test_cli_hostile_steps test_cli_hostile_steps.c cli_run.c cli_assert.c testutil.c)
foreach(t test_cli_edges test_cli_batch test_cli_ops test_cli_hostile test_cli_hostile_steps)
  add_dependencies(${t} hadamard_cli)
endforeach()
# the command's objects need no internal (hdm__) symbol: they use include/hadamard.h only
add_test(NAME cli_public_api COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/cli_public_api.sh
         $<TARGET_OBJECTS:hadamard_cli_obj> COMMAND_EXPAND_LISTS)
# Every gallery command in the README runs as written and remakes its shipped picture.
add_test(NAME readme_gallery COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/readme_test.sh
  ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
# The README's cluster recipes: GNU parallel's run here as written (local jobs for its hosts),
# with a shard killed and resumed; the Slurm, Kubernetes and parallel ones run one command.
# The one-node Slurm cluster (tests/slurm_test.sh) needs root and runs from .ci/test.
add_test(NAME cluster_parallel COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/parallel_test.sh
  ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
add_test(NAME cluster_recipes COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/recipes_test.sh
  ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
set_tests_properties(cluster_parallel cluster_recipes PROPERTIES LABELS cluster)
set_tests_properties(cluster_parallel PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 360)
# Packaging: install into a temporary prefix, build consumers with pkg-config and find_package.
# Not in the sanitizer build: its libraries need the sanitizer runtimes that a plain consumer
# does not link, and packaging does not change with them.
if(NOT HADAMARD_SANITIZE)
  add_test(NAME install_test COMMAND bash ${CMAKE_CURRENT_SOURCE_DIR}/install_test.sh
    ${PROJECT_BINARY_DIR} ${PROJECT_SOURCE_DIR})
endif()
hdm_test(test_cli_threads test_cli_threads.c cli_run.c cli_assert.c testutil.c)
add_dependencies(test_cli_threads hadamard_cli)
