#!/usr/bin/env bash
# Benchmark magclust against its peers on synthetic MagFace-like sets of about
# 10k, 20k, 100k and 1M faces, in one go, on this machine.
#
#   scripts/bench/bench.sh [--sizes 10000,100000,1000000] [--out scripts/bench/results]
#                          [--work /tmp/magclust-bench] [--quick] [--peers sk-dbscan,...]
#                          [--structure realistic|isotropic]
#
# Installs what is missing (Debian packages only), builds build/magclust when
# it is absent and the two helpers (build/bench/sgemm_peak, build/bench/dlib_cw)
# when their sources are newer, then runs scripts/bench/bench.py, which prints
# every figure with the command behind it and writes results.md, results.json
# and time_vs_n.svg to --out. --quick: only the 10k and 20k sets. --structure:
# the synth model, realistic (default) or isotropic (the earlier results). Every other
# option is bench.py's (scripts/bench/bench.sh --help lists them).
# See scripts/bench/README.md. Not a test: never registered with ctest.
set -euo pipefail

cd "$(dirname "$0")/../.."
PY=/usr/bin/python3   # Debian's python, where python3-faiss & co. live
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ in the source tree

for arg in "$@"; do
    if [ "$arg" = "-h" ] || [ "$arg" = "--help" ]; then
        sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
        echo
        exec "$PY" scripts/bench/bench.py --help
    fi
done

prior=()
note() {   # print a build command, run it, and list it in results.md
    echo "  command: $*"
    prior+=(--prior-command "$*")
    "$@"
}

echo "== dependencies"
scripts/bench/install-bench-deps.sh

echo "== builds"
if [ ! -x build/magclust ]; then
    scripts/install-deps.sh
    note scripts/build.sh
else
    echo "  build/magclust present (rebuild with scripts/build.sh)"
fi
mkdir -p build/bench
if [ ! -x build/bench/sgemm_peak ] || [ scripts/bench/sgemm_peak.c -nt build/bench/sgemm_peak ]; then
    note cc -O2 -std=c11 -Wall -Wextra scripts/bench/sgemm_peak.c -o build/bench/sgemm_peak \
        -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas
fi
if [ ! -x build/bench/dlib_cw ] || [ scripts/bench/dlib_cw.cpp -nt build/bench/dlib_cw ]; then
    # shellcheck disable=SC2046  # pkg-config's flags are meant to split
    note g++ -O2 -std=c++14 -Wall -Wextra scripts/bench/dlib_cw.cpp -o build/bench/dlib_cw \
        $(pkg-config --cflags --libs dlib-1)
fi

exec "$PY" scripts/bench/bench.py "${prior[@]}" "$@"
