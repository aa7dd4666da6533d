#!/usr/bin/env bash
# The fit of `magclust synth --structure realistic` (docs/experiments.md,
# "Realistic synthetic structure"): makes the synthetic sets of the table
# with build/magclust and measures them, and the three real dev sets, with
# measure.py. Usage: scripts/research/synth_structure/fit.sh [WORK_DIR]
# (default /tmp/synth-structure); writes WORK_DIR/*.json and prints the table.
# About 25 minutes on two busy cores (it reproduced the table exactly).
set -euo pipefail
cd "$(dirname "$0")/../../.."
work=${1:-/tmp/synth-structure}
mkdir -p "$work"
here=scripts/research/synth_structure
data=../shared/datasets
[ -d "$data" ] || data=/work/shared/datasets
# "real-shaped": 149 identities of 25-45 faces, as the dev sets (147 of ~30);
# "bench-shaped": the benchmark's identity sizes (Zipf 0.6, 5..110), 9k faces
real_shape="--ids 149 --max-size 45 --min-size 25 --zipf 0.1 --seed 1"
bench_shape="--ids 1510 --seed 1"
sets=(
    "r512_iso|$real_shape --dim 512"
    "r512_real|$real_shape --dim 512 --structure realistic"
    "r128_iso|$real_shape --dim 128"
    "r128_real|$real_shape --dim 128 --structure realistic"
    "b512_iso|$bench_shape --dim 512"
    "b512_real|$bench_shape --dim 512 --structure realistic"
    "b128_iso|$bench_shape --dim 128"
    "b128_real|$bench_shape --dim 128 --structure realistic"
)
files=()
for s in "${sets[@]}"; do
    name=${s%%|*} args=${s#*|}
    rm -f "$work/$name.h5"
    # shellcheck disable=SC2086  # the options are meant to split
    build/magclust synth -o "$work/$name.h5" $args >/dev/null
    files+=("$work/$name.h5")
done
real=()
for f in real-mfn128-dev real-mobileface256-dev celeba-faceapi128-dev; do
    if [ -f "$data/$f.h5" ]; then real+=("$data/$f.h5"); fi
done
files=("${real[@]}" "${files[@]}")
/usr/bin/python3 $here/measure.py "${files[@]}" --json "$work/fit.json" >/dev/null
/usr/bin/python3 $here/table.py "$work/fit.json"
