#!/usr/bin/env bash
# One `magclust cluster` run per index on a labelled set: wall and CPU time,
# peak RSS, the k-NN phases, recall@30 on 1000 sampled faces (overall and
# better half) and BCubed F. Results go to OUT/<set>_<index>.{cmd,json,time};
# table.py turns them into the README's table. Long runs: nice, 2 cores.
#   scripts/research/knn_index/run.sh BIN OUT SET.h5 INDEX... [-- extra args]
# e.g. run.sh build/magclust /tmp/knn s100k.h5 Flat Cells HNSW32 HNSW32,Flat
set -u
BIN=$1 OUT=$2 SET=$3; shift 3
idx=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do idx+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
mkdir -p "$OUT"
for i in "${idx[@]}"; do
    tag=$(basename "$SET" .h5)_$(echo "$i" | tr ',' '_')
    o=$OUT/$tag
    echo "nice /usr/bin/time -v $BIN cluster $SET --index $i --recall-sample 1000 --json -q $* -o $o.csv" >"$o.cmd"
    nice /usr/bin/time -v "$BIN" cluster "$SET" --index "$i" --recall-sample 1000 --json -q "$@" \
        -o "$o.csv" >"$o.json" 2>"$o.time"
    echo "rc $?" >>"$o.cmd"
done
