#!/usr/bin/env bash
# The end-to-end CLI tests (cli_test.sh) with every magclust run under
# valgrind memcheck: any memory error or definite leak fails the run.
# Runs on the bundled sample (datasets/sample.h5, the photos example) are
# left out: they take the same code paths as the fixtures at 30 times the
# cost under valgrind; so are the races of two runs on one output (files
# named race*), which test timing, not memory, and the many-copies cases
# (copies*: twelve runs of one code path, which the ASan build checks), and
# the runs killed by a signal mid-write (inputs named killed*): they test
# what is left on disk, and a process killed inside an HDF5 call has blocks
# in flight that memcheck, scanning at the kill, reports as lost.
# scripts/valgrind.sh --full runs those too.
# --shard K/N: only the runs numbered K, K + N, K + 2N ... (counted from 1,
# in the order cli_test.sh makes them) go under valgrind, the others run
# plainly; ctest runs the N shards side by side (cli_valgrind_KofN), which
# together check every run once in about 1/N of the time on N cores.
# Usage: valgrind_cli.sh MAGCLUST FIXTURE_DIR SOURCE_DIR WORK_DIR [--full] [--shard K/N]
# Exit 77 (skipped) when valgrind is not installed.
set -u
MC=$1 FX=$2 SRC=$3 WORK=$4
shift 4
FULL="" SHARD_K=1 SHARD_N=1
while [ $# -gt 0 ]; do
    case "$1" in
        --full) FULL=--full ;;
        --shard) SHARD_K=${2%/*} SHARD_N=${2#*/}; shift ;;
        "") ;;
        *) echo "valgrind_cli.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
    shift
done
case "$SHARD_K/$SHARD_N" in
    *[!0-9/]* | /* | */) echo "valgrind_cli.sh: --shard wants K/N" >&2; exit 2 ;;
esac
if [ "$SHARD_K" -lt 1 ] || [ "$SHARD_K" -gt "$SHARD_N" ]; then
    echo "valgrind_cli.sh: --shard $SHARD_K/$SHARD_N: K must lie in 1..N" >&2
    exit 2
fi
if ! command -v valgrind >/dev/null 2>&1; then
    echo "SKIP: valgrind is not installed (scripts/install-deps.sh --test installs it)"
    exit 77
fi
rm -rf "$WORK" && mkdir -p "$WORK/logs" "$WORK/cmds" && echo 0 >"$WORK/count"
wrap="$WORK/magclust"
{
    echo '#!/bin/sh'
    if [ "$FULL" != "--full" ]; then
        echo 'for a in "$@"; do case "$a" in */datasets/sample.h5|*/photos/*|*/race*|*/copies*|*/killed*) exec "'"$MC"'" "$@";; esac; done'
    fi
    if [ "$SHARD_N" -gt 1 ]; then
        # this run's number, under a lock (a few tests start runs side by side)
        echo 'n=$(flock "'"$WORK"'/count" sh -c '"'"'n=$(($(cat "$0") + 1)); echo $n >"$0"; echo $n'"'"' "'"$WORK"'/count")'
        echo '[ $(((n - 1) % '"$SHARD_N"')) -eq '"$((SHARD_K - 1))"' ] || exec "'"$MC"'" "$@"'
    fi
    # the command line, under the pid that valgrind's log will bear (exec keeps it)
    echo 'printf "%s\\n" "$*" >"'"$WORK"'/cmds/$$"'
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
        echo "== $f: magclust $(cat "$WORK/cmds/${f##*.}" 2>/dev/null)"
        head -n 40 "$f"
    done
    echo "valgrind: $runs runs, $(echo "$dirty" | wc -l) with errors or definite leaks"
    exit 1
fi
echo "valgrind: $runs runs of magclust (shard $SHARD_K/$SHARD_N), no memory error, no definite leak"
if [ "$rc" -ne 0 ]; then
    grep '^FAIL' -A1 "$WORK/cli.log" | head -n 40
    exit 1
fi
exit 0
