#!/usr/bin/env bash
# One large collection clustered end to end (read, k-NN, cluster, write the
# CSV) with magclust's automatic index and with the exact one (Flat), in one
# run on one file: wall time, peak RSS, the k-NN phase, the sampled recall
# and BCubed F of each, and the ratios. This is issue 22's "300k: within
# 0.01 F of the exact graph and at least 5 times faster, both measured in
# one run". A benchmark, not a test: never registered with ctest.
#
#   scripts/bench/scale.sh [--ids N] [--seed S] [--algo A] [--index SPEC]...
#                          [--opt ARG]... [--work DIR] [--keep]
#
# --ids/--seed: the realistic synthetic set (default 57000 identities, seed
# 8: 300,388 faces x 512; 189000 / 6 for 993,388 faces); --algo: passed to
# every run (default: none, the default algorithm); --index: the runs to
# make, in order (default: auto, then Flat; "auto" passes no --index);
# --opt: one more argument for every run (e.g. --opt --core-database);
# --work: where the set and outputs go (default /tmp/magclust-scale; the set
# is kept and reused); --keep: keep the CSVs. Needs build/magclust (or
# MC=path) and GNU time (/usr/bin/time).
set -eu
cd "$(dirname "$0")/../.."
MC=${MC:-$PWD/build/magclust}
IDS=57000 SEED=8 ALGO= WORK=/tmp/magclust-scale KEEP=0
INDEXES=() OPTS=()
while [ $# -gt 0 ]; do
    case "$1" in
    --ids) IDS=$2; shift 2 ;;
    --seed) SEED=$2; shift 2 ;;
    --algo) ALGO=$2; shift 2 ;;
    --index) INDEXES+=("$2"); shift 2 ;;
    --opt) OPTS+=("$2"); shift 2 ;;
    --work) WORK=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h | --help) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "scale.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ ${#INDEXES[@]} -gt 0 ] || INDEXES=(auto Flat)
[ -x "$MC" ] || { echo "scale.sh: no $MC: build it first (scripts/build.sh)" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "scale.sh: needs GNU time (apt-get install time)" >&2; exit 1; }
mkdir -p "$WORK"
IN="$WORK/realistic-$IDS-$SEED.h5"
if [ ! -s "$IN" ]; then
    echo "$ magclust synth --structure realistic --dim 512 --ids $IDS --seed $SEED -o $IN"
    "$MC" synth --structure realistic --dim 512 --ids "$IDS" --seed "$SEED" -o "$IN.tmp.h5"
    mv "$IN.tmp.h5" "$IN"
fi
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);" \
    "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"
rows=()
for ix in "${INDEXES[@]}"; do
    out="$WORK/out-$ix.csv"
    rm -f "$out"
    cmd=("$MC" cluster "$IN" -o "$out")
    [ "$ix" = auto ] || cmd+=(--index "$ix")
    [ -z "$ALGO" ] || cmd+=(--algo "$ALGO")
    [ ${#OPTS[@]} -eq 0 ] || cmd+=("${OPTS[@]}")
    echo
    echo "\$ ${cmd[*]}"
    /usr/bin/time -f '%e %M' -o "$WORK/time-$ix" "${cmd[@]}" >"$WORK/log-$ix" 2>&1 || {
        tail -3 "$WORK/log-$ix" >&2
        exit 1
    }
    grep -E '^  (knn|database|params|map|clusters|time|BCubed)' "$WORK/log-$ix" | sed 's/   */  /g'
    read -r wall rss <"$WORK/time-$ix"
    knn=$(sed -n 's/^  time .* knn \([0-9.]*\) s.*/\1/p' "$WORK/log-$ix")
    used=$(sed -n 's/^  knn .* index \([^ ]*\).*/\1/p' "$WORK/log-$ix")
    recall=$(sed -n 's/.*recall@[0-9]* \([0-9.]*\).*/\1/p' "$WORK/log-$ix")
    f=$(sed -n 's/^  BCubed .* F \([0-9.]*\).*/\1/p' "$WORK/log-$ix")
    rows+=("$ix|$used|$wall|$rss|$knn|${recall:-1}|$f")
    [ "$KEEP" = 1 ] || rm -f "$out"
done
echo
echo "N = $("$MC" info "$IN" --no-check 2>/dev/null | sed -n 's/^ *faces *\([0-9]*\).*/\1/p') faces, algorithm ${ALGO:-default}${OPTS[*]:+, options ${OPTS[*]}}"
echo "| --index | index used | wall s | peak RSS MiB | k-NN s | recall (sampled) | BCubed F | speed-up over the last row | F minus the last row |"
echo "|---|---|---:|---:|---:|---|---:|---:|---:|"
last=${rows[${#rows[@]}-1]}
IFS='|' read -r _ _ lwall _ _ _ lf <<<"$last"
for r in "${rows[@]}"; do
    IFS='|' read -r ix used wall rss knn recall f <<<"$r"
    awk -v ix="$ix" -v u="$used" -v w="$wall" -v m="$rss" -v k="$knn" -v rc="$recall" -v f="$f" \
        -v lw="$lwall" -v lf="$lf" 'BEGIN {
        printf "| %s | %s | %.1f | %.0f | %s | %s | %s | %.2fx | %+.4f |\n", ix, u, w, m / 1024, k, rc, f, lw / w, f - lf }'
done
