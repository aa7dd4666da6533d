#!/usr/bin/env bash
# examples/cluster_h5.c, which uses only the public API (mc_cluster_run),
# must write the very CSV that `magclust cluster IN.h5 -o OUT.csv` writes:
# on the bundled sample with each algorithm, and on a fixture with a photo
# key, corrections and a previous result.
# Usage: example_test.sh MAGCLUST EXAMPLE FIXTURE_DIR SOURCE_DIR WORK_DIR
set -euo pipefail
MC=$1 EX=$2 FX=$3 SRC=$4 WORK=$5
rm -rf "$WORK"
mkdir -p "$WORK"
pass=0 fail=0
same() { # name, then the arguments both take after IN.h5 OUT.csv
    local name=$1 in=$2
    shift 2
    "$MC" cluster "$in" -o "$WORK/$name.cli.csv" -q "$@"
    "$EX" "$in" "$WORK/$name.example.csv" "$@" >"$WORK/$name.example.out"
    if cmp -s "$WORK/$name.cli.csv" "$WORK/$name.example.csv" && [ -s "$WORK/$name.cli.csv" ]; then
        pass=$((pass + 1))
    else
        echo "FAIL: $name: the example's CSV differs from the CLI's"
        diff "$WORK/$name.cli.csv" "$WORK/$name.example.csv" | head -n 5 || true
        fail=$((fail + 1))
    fi
}
S=$SRC/datasets/sample.h5
same sample_default "$S"
same sample_linkage "$S" --algo linkage
same sample_dbscan "$S" --algo dbscan
same sample_cw "$S" --algo cw
# constraints: faces j and 10 + j share photo j; two names and a split
printf 'path,person\nid2/img_03.jpg,Ann\nid2/img_04.jpg,Ann\nid2/img_05.jpg,!Ann\nid3/img_01.jpg,Bo\nid1/img_01.jpg,id1/img_02.jpg,different\n' >"$WORK/fix.csv"
same photo "$FX/tiny_photo.h5" --photo-key photo --corrections "$WORK/fix.csv"
same photo_previous "$FX/tiny_photo.h5" --photo-key photo --corrections "$WORK/fix.csv" --previous "$WORK/photo.cli.csv"
if ! head -n 1 "$WORK/photo.cli.csv" | grep -q ',person'; then
    echo "FAIL: the constraints case has no person column: the corrections were not applied"
    fail=$((fail + 1))
fi
echo "example_cluster_h5: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
