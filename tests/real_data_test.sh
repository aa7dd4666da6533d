#!/usr/bin/env bash
# Optional: the CLI on the real sets in ../shared/datasets (never committed).
# Exits 77 (ctest: skipped) when they are absent. Usage:
#   real_data_test.sh MAGCLUST SOURCE_DIR WORK_DIR
set -u
MC=$1 SRC=$2 WORK=$3
DS="$SRC/../shared/datasets"
REAL="$DS/real-mfn128-dev.h5" FAPI="$DS/celeba-faceapi128-dev.h5"
if [ ! -f "$REAL" ] || [ ! -f "$FAPI" ]; then
    echo "SKIP: ../shared/datasets (real-mfn128-dev.h5, celeba-faceapi128-dev.h5) not found next to the source tree"
    exit 77
fi
rm -rf "$WORK" && mkdir -p "$WORK"
# real-mfn128 at the defaults; the face-api (dlib) descriptors live on another
# scale (same-person cosine distances around 0.05, not 0.5), so eps is given.
REAL_ARGS=""
FAPI_ARGS="--eps 0.05"
pass=0 fail=0
check() { local name=$1; shift; if "$@"; then pass=$((pass + 1)); echo "ok   $name"; else fail=$((fail + 1)); echo "FAIL $name"; fi; }
f1() { awk '$1 == "BCubed" { print $7; exit }' "$1"; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; }

# real-mfn128: quality = magnitude. Same eps/min-samples, gates on vs off.
"$MC" cluster "$REAL" -o "$WORK/real.csv" $REAL_ARGS >"$WORK/real.out" 2>&1; check "real defaults run" [ $? -eq 0 ]
"$MC" cluster "$REAL" $REAL_ARGS --core-quality off --noise-quality off >"$WORK/real_plain.out" 2>&1
check "real plain run" [ $? -eq 0 ]
echo "     real-mfn128: quality-aware $(f1 "$WORK/real.out"), plain $(f1 "$WORK/real_plain.out")"
check "real: quality-aware beats plain" gt "$(f1 "$WORK/real.out")" "$(f1 "$WORK/real_plain.out")"
check "real: CSV has every face" [ "$(wc -l <"$WORK/real.csv")" -eq 4431 ]

# face-api set: quality from the detector score
"$MC" cluster "$FAPI" --quality-key det_score $FAPI_ARGS >"$WORK/fapi.out" 2>&1; check "faceapi run" [ $? -eq 0 ]
"$MC" cluster "$FAPI" $FAPI_ARGS --core-quality off --noise-quality off >"$WORK/fapi_plain.out" 2>&1
echo "     faceapi: quality-aware $(f1 "$WORK/fapi.out"), plain $(f1 "$WORK/fapi_plain.out")"
check "faceapi: quality-aware beats plain" gt "$(f1 "$WORK/fapi.out")" "$(f1 "$WORK/fapi_plain.out")"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
