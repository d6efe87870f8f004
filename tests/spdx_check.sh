#!/bin/sh
# SPDX-License-Identifier: MIT
# spdx_check.sh — every source file of the project names its licence in an SPDX line, and the
# licence file it names is there. Usage: spdx_check.sh SOURCE_DIR
set -eu
root=${1:?usage: spdx_check.sh SOURCE_DIR}
cd "$root"
grep -q '^MIT License$' LICENSE || { echo "spdx: LICENSE is missing or not the MIT licence" >&2; exit 1; }
missing=$(find src include tests samples .ci CMakeLists.txt -type f \
    \( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.cmake' -o -name '*.in' \
       -o -name CMakeLists.txt -o -path '.ci/*' \) ! -path 'tests/fuzz/corpus/*' \
    ! -path 'tests/fuzz/crashers/*' -print | sort | while read -r f; do
        head -3 "$f" | grep -q 'SPDX-License-Identifier: MIT' || echo "$f"
    done)
if [ -n "$missing" ]; then
    echo "spdx: these files carry no 'SPDX-License-Identifier: MIT' line in their first three:" >&2
    echo "$missing" >&2
    exit 1
fi
n=$(find src include tests samples .ci -type f \( -name '*.c' -o -name '*.h' \) | wc -l)
echo "spdx: every source file names the MIT licence ($n C files among them)"
