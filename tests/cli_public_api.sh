#!/bin/sh
# SPDX-License-Identifier: MIT
# cli_public_api.sh — the command may call the public API only: fails if any object of src/cli/
# given as an argument needs an hdm__ (internal) symbol, as nm -u lists what an object needs.
[ $# -gt 0 ] || { echo "no objects given" >&2; exit 2; }
bad=0
for o in "$@"; do
    [ -f "$o" ] || { echo "$o: missing" >&2; exit 2; }
    u=$(nm -u "$o") || { echo "$o: nm failed" >&2; exit 2; }
    internal=$(printf '%s\n' "$u" | awk '{ print $NF }' | grep '^hdm__')
    if [ -n "$internal" ]; then
        echo "$o uses internal symbols:" $internal
        bad=1
    fi
    echo "$o: $(printf '%s\n' "$u" | awk '{ print $NF }' | grep -c '^hdm_') public hdm_ symbols"
done
exit $bad
