#!/usr/bin/env bash
# The README's results table: for each algorithm, BCubed F at the defaults
# (label-free calibration) and the best of an eps sweep on the same k-NN graph
# (chosen with the labels), on the shared real sets (when ../shared is there)
# and on synthetic sets made here with `magclust synth`.
# Usage: scripts/results_table.sh [BUILD_DIR]   (default build)
set -eu
HERE=$(cd "$(dirname "$0")/.." && pwd)
MC=${1:-$HERE/build}/magclust
DS="$HERE/../shared/datasets"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
"$MC" synth -o "$TMP/s128_x4_d20.h5" --ids 150 --dim 128 --mag-scale 4 --distractors 0.2 --seed 11 >/dev/null
"$MC" synth -o "$TMP/s512_x4_d20.h5" --ids 150 --dim 512 --mag-scale 4 --distractors 0.2 --seed 12 >/dev/null
"$MC" synth -o "$TMP/s128_x1_d5.h5" --ids 150 --dim 128 --mag-scale 1 --distractors 0.05 --seed 13 >/dev/null
"$MC" synth -o "$TMP/s512_22k.h5" --ids 3900 --dim 512 --seed 5 >/dev/null
"$MC" synth -o "$TMP/r512_22k.h5" --structure realistic --ids 3900 --seed 7 >/dev/null
sets=()
[ -f "$DS/real-mfn128-dev.h5" ] && sets+=("real-mfn128-dev.h5|$DS/real-mfn128-dev.h5|")
[ -f "$DS/real-mobileface256-dev.h5" ] && sets+=("real-mobileface256-dev.h5|$DS/real-mobileface256-dev.h5|")
[ -f "$DS/celeba-faceapi128-dev.h5" ] && sets+=("celeba-faceapi128-dev.h5 (det_score)|$DS/celeba-faceapi128-dev.h5|--quality-key det_score"
                                              "celeba-faceapi128-dev.h5 (norm)|$DS/celeba-faceapi128-dev.h5|")
sets+=("sample.h5 (512-d, x1, 5 % distractors)|$HERE/datasets/sample.h5|"
       "synth 128-d, x4, 20 % distractors (seed 11)|$TMP/s128_x4_d20.h5|"
       "synth 512-d, x4, 20 % distractors (seed 12)|$TMP/s512_x4_d20.h5|"
       "synth 128-d, x1, 5 % distractors (seed 13)|$TMP/s128_x1_d5.h5|"
       "synth 512-d, 21,613 faces, 3,900 ids (seed 5)|$TMP/s512_22k.h5|"
       "synth realistic 512-d, 21,613 faces, 3,900 ids (seed 7)|$TMP/r512_22k.h5|")
echo "| set | quality check | linkage: auto / best of sweep | cw: auto / best | dbscan: auto / best | map: auto / best |"
echo "|---|---|---|---|---|---|"
for s in "${sets[@]}"; do
    IFS='|' read -r name path extra <<<"$s"
    # shellcheck disable=SC2086
    "$MC" sweep "$path" $extra --algo linkage,cw,dbscan,map --param eps=0.05:0.95:0.01 -o "$TMP/sweep.csv" -q --force
    # shellcheck disable=SC2086
    rho=$("$MC" cluster "$path" $extra --json -q | sed -n 's/.*"quality_check":{"rho":\([-0-9.e]*\),"informative":\([a-z]*\).*/\1 \2/p' |
          awk '{ printf "%+.2f, %s", $1, $2 == "true" ? "informative" : "uninformative: gates off" }')
    row="| $name | $rho"
    for a in linkage cw dbscan map; do
        auto=$(awk -F, -v a=$a '$1 == a && $2 == "auto" { printf "%.3f", $7 }' "$TMP/sweep.csv")
        best=$(awk -F, -v a=$a '$1 == a && $2 == "sweep" && $7 > b { b = $7; e = $3 } END { printf "%.3f (eps %s)", b, e }' "$TMP/sweep.csv")
        row="$row | **$auto** / $best"
    done
    echo "$row |"
done
echo
echo "command: scripts/results_table.sh  (sweep: --param eps=0.05:0.95:0.01, k 30, 60 for map, defaults otherwise)"
