#!/usr/bin/env bash
# The map equation's speed on a planted k-NN graph of N faces (default one
# million, k = 30), next to Chinese whispers on the same graph: magclust's
# cw and, when scripts/bench/bench.sh has built it, dlib's chinese_whispers()
# (build/bench/dlib_cw) on the same edges (similarity >= 0.5). Seconds are
# those of the clustering call alone; the graph is made in memory.
# Usage: scripts/bench/map_scale.sh [N [K]]     (build the library first)
set -eu
cd "$(dirname "$0")/../.."
N=${1:-1000000}
K=${2:-30}
mkdir -p build/bench
cc -O2 -std=c11 -Wall -Wextra -Ilib/include scripts/bench/map_scale.c -o build/bench/map_scale \
    -Lbuild -lmagclust -Wl,-rpath,"$PWD/build" -lm
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
echo "command: scripts/bench/map_scale.sh $N $K   ($(nproc) cores)"
(cd "$WORK" && "$OLDPWD/build/bench/map_scale" "$N" "$K" "$WORK/edges.bin")
if [ -x build/bench/dlib_cw ]; then
    build/bench/dlib_cw "$WORK/edges.bin" "$WORK/dlib_labels.bin" | sed 's/^/dlib chinese_whispers (threshold 0.5): /'
else
    echo "dlib chinese_whispers: not built (scripts/bench/bench.sh builds build/bench/dlib_cw)"
fi
