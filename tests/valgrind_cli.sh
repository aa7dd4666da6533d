#!/usr/bin/env bash
# The end-to-end CLI tests (cli_test.sh) with every magclust run under
# valgrind memcheck: any memory error or definite leak fails the run.
# Runs on the bundled sample (datasets/sample.h5, the photos example) are
# left out: they take the same code paths as the fixtures at 30 times the
# cost under valgrind; so are the races of two runs on one output (files
# named race*), which test timing, not memory, and the many-copies cases
# (copies*: twelve runs of one code path, which the ASan build checks).
# scripts/valgrind.sh --full runs those too.
# Usage: valgrind_cli.sh MAGCLUST FIXTURE_DIR SOURCE_DIR WORK_DIR [--full]
# Exit 77 (skipped) when valgrind is not installed.
set -u
MC=$1 FX=$2 SRC=$3 WORK=$4 FULL=${5:-}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP: valgrind is not installed (scripts/install-deps.sh --test installs it)"
    exit 77
fi
rm -rf "$WORK" && mkdir -p "$WORK/logs"
wrap="$WORK/magclust"
{
    echo '#!/bin/sh'
    if [ "$FULL" != "--full" ]; then
        echo 'for a in "$@"; do case "$a" in */datasets/sample.h5|*/photos/*|*/race*|*/copies*) exec "'"$MC"'" "$@";; esac; done'
    fi
    echo 'exec valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite \'
    echo '    --errors-for-leak-kinds=definite --log-file="'"$WORK"'/logs/vg.%p" "'"$MC"'" "$@"'
} >"$wrap"
chmod +x "$wrap"
# One thread each for OpenMP and OpenBLAS: valgrind serialises threads anyway.
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$SRC/tests/cli_test.sh" "$wrap" "$FX" "$SRC" "$WORK/cli" \
    >"$WORK/cli.log" 2>&1
rc=$?
tail -n 1 "$WORK/cli.log"
runs=$(ls "$WORK/logs" | wc -l)
dirty=$(find "$WORK/logs" -type f -size +0 | sort)
if [ -n "$dirty" ]; then
    for f in $dirty; do
        echo "== $f"
        head -n 40 "$f"
    done
    echo "valgrind: $runs runs, $(echo "$dirty" | wc -l) with errors or definite leaks"
    exit 1
fi
echo "valgrind: $runs runs of magclust, no memory error, no definite leak"
if [ "$rc" -ne 0 ]; then
    grep '^FAIL' -A1 "$WORK/cli.log" | head -n 40
    exit 1
fi
exit 0
