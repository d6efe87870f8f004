# SPDX-License-Identifier: MIT
# deb_ldconfig.cmake — run by cpack after it has built the .debs (CPACK_POST_BUILD_SCRIPTS).
# A library package refreshes the linker cache through its "activate-noawait ldconfig" trigger
# (Debian policy 8.1.1); CPack 3.25 also writes a postinst and a postrm that call ldconfig
# themselves, which the trigger makes redundant (lintian: maintscript-calls-ldconfig). This takes
# those two scripts out of every package that has the trigger, when they are CPack's and do
# nothing else, and rebuilds the package with dpkg-deb; any other package is left as it is.
foreach(deb IN LISTS CPACK_PACKAGE_FILES)
  if(NOT deb MATCHES "\\.deb$")
    continue()
  endif()
  set(dir ${CPACK_PACKAGE_DIRECTORY}/_CPack_Packages/ldconfig-trigger)
  file(REMOVE_RECURSE ${dir})
  execute_process(COMMAND dpkg-deb -R ${deb} ${dir} RESULT_VARIABLE failed)
  if(failed)
    message(FATAL_ERROR "deb_ldconfig: dpkg-deb -R ${deb} failed")
  endif()
  if(EXISTS ${dir}/DEBIAN/triggers)
    file(STRINGS ${dir}/DEBIAN/triggers triggers)
  else()
    set(triggers "")
  endif()
  set(changed FALSE)
  if("activate-noawait ldconfig" IN_LIST triggers)
    foreach(script postinst postrm)
      if(EXISTS ${dir}/DEBIAN/${script})
        file(READ ${dir}/DEBIAN/${script} body)
        # CPack's script: the shebang, set -e, and one `if [ "$1" = ... ]; then ldconfig; fi`
        string(REGEX REPLACE "[ \t\n]+" " " body "${body}")
        if(body MATCHES "^#!/bin/sh set -e if \\[ \"\\$1\" = \"[a-z]+\" \\]; then ldconfig fi ?$")
          file(REMOVE ${dir}/DEBIAN/${script})
          set(changed TRUE)
        endif()
      endif()
    endforeach()
  endif()
  if(changed)
    execute_process(COMMAND dpkg-deb --root-owner-group -Zgzip -b ${dir} ${deb}
      OUTPUT_QUIET RESULT_VARIABLE failed)
    if(failed)
      message(FATAL_ERROR "deb_ldconfig: dpkg-deb -b ${deb} failed")
    endif()
    message(STATUS "deb_ldconfig: ${deb}: ldconfig by trigger only")
  endif()
  file(REMOVE_RECURSE ${dir})
endforeach()
