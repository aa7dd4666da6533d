#!/usr/bin/env bash
# The MPI search on this machine: 'mpirun -np R magclust knn' for R = 1, 2
# and 4 against one 'magclust knn' process on the same synthetic set, in one
# run: wall seconds, the search's seconds (rank 0), the bytes the busiest
# rank sent round the ring (as the program counts them) next to the model
# (R-1)/R x N x D x 4, and whether the graph file is the one-process file
# byte for byte. Threads: the cores shared out, at least one a rank (4 ranks
# on 2 cores are oversubscribed: that row measures the ring's overhead, not
# a speed-up; --bind-to none: Open MPI binds each rank to one core by
# default, which would squeeze a rank's threads onto it). Then the same for
# the Cells index (--index Cells<L>, L = what "Cells" picks for N, nprobe its
# default): the bytes the busiest rank sent in the all-to-alls next to a
# model (queries to the owners of their cells and k candidates back, the
# members to their owners, the training rows to rank 0). These runs pass
# --mca mpi_yield_when_idle 1: a rank waiting in a collective then yields
# its core instead of spinning, which matters on a machine shared with other
# jobs (2 ranks on 2 cores are not oversubscribed, so Open MPI spins by
# default, and the rank that waits for rank 0's k-means takes a core from
# it: 5 s instead of 0.85 s here). A benchmark, not a test.
# Usage: scripts/bench/mpi_scale.sh [IDS [DIM]]   (default 2000 identities, 512-d)
# Needs the MPI build in build-mpi/ (cmake -S . -B build-mpi -DMAGCLUST_MPI=ON
# && cmake --build build-mpi), or MC=path/to/magclust of an MPI build.
set -eu
cd "$(dirname "$0")/../.."
IDS=${1:-2000}
DIM=${2:-512}
MC=${MC:-$PWD/build-mpi/magclust}
[ -x "$MC" ] || { echo "mpi_scale: no $MC: build with -DMAGCLUST_MPI=ON into build-mpi/" >&2; exit 1; }
command -v mpirun >/dev/null || { echo "mpi_scale: no mpirun (apt-get install openmpi-bin)" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_btl_vader_single_copy_mechanism=none
CORES=$(nproc)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

echo "$ $MC synth -o IN.h5 --ids $IDS --dim $DIM"
"$MC" synth -o "$WORK/in.h5" --ids "$IDS" --dim "$DIM" | tee "$WORK/synth.out" | sed 's/^/  /'
N=$(sed -n 's/^wrote \([0-9]*\) faces.*/\1/p' "$WORK/synth.out")
echo "machine: $CORES cores; N = $N faces, D = $DIM, k = 60 (knn's default), float32"
echo

echo "$ OMP_NUM_THREADS=$CORES $MC knn IN.h5 -q -o ONE.h5"
t0=$(now)
OMP_NUM_THREADS=$CORES "$MC" knn "$WORK/in.h5" -q -o "$WORK/one.h5"
one=$(secs "$t0" "$(now)")
rows=("| one process | $CORES | $one | - | 0 | 0 | - |")
for R in 1 2 4; do
    T=$((CORES / R)); [ "$T" -ge 1 ] || T=1
    cmd=(mpirun --allow-run-as-root --oversubscribe --bind-to none -np "$R" "$MC" knn "$WORK/in.h5" --threads "$T" -o "$WORK/mpi$R.h5")
    echo "$ OMP_NUM_THREADS=$T ${cmd[*]/$WORK\//}"
    t0=$(now)
    OMP_NUM_THREADS=$T "${cmd[@]}" >"$WORK/mpi$R.out"
    wall=$(secs "$t0" "$(now)")
    line=$(grep '^  mpi ' "$WORK/mpi$R.out")
    search=$(printf '%s\n' "$line" | sed -n 's/.*search \([0-9.]*\) s.*/\1/p')
    sent=$(printf '%s\n' "$line" | sed -n 's/.*sent \([0-9]*\) bytes.*/\1/p')
    model=$(awk -v r="$R" -v n="$N" -v d="$DIM" 'BEGIN { printf "%.0f", (r - 1) / r * n * d * 4 }')
    same=no; cmp -s "$WORK/one.h5" "$WORK/mpi$R.h5" && same=yes
    plural=s; [ "$R" -gt 1 ] || plural=
    rows+=("| $R rank$plural | $T | $wall | $search | $sent | $model | $same |")
done
echo
echo "| run | threads a rank | wall s | search s (rank 0) | bytes sent, busiest rank | model (R-1)/R·N·D·4 | graph = one process |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo

# ---- the Cells index ----
# L: the smallest power of two with 2 L^2 >= N (mc_knn_auto_cells), nprobe
# max(8, L/8) (mc_knn_auto_cells_nprobe), k 60, train size max(10000, 64 L)
L=1; while [ $((2 * L * L)) -lt "$N" ] && [ "$L" -lt 65536 ]; do L=$((L * 2)); done
P=$((L / 8)); [ "$P" -ge 8 ] || P=8; [ "$P" -le "$L" ] || P=$L
TS=$((64 * L)); [ "$TS" -ge 10000 ] || TS=10000; [ "$TS" -le "$N" ] || TS=$N
echo "Cells$L: nprobe $P, trained on $TS faces"
echo "$ OMP_NUM_THREADS=$CORES $MC knn IN.h5 --index Cells$L --recall-sample 0 -q -o ONE_CELLS.h5"
t0=$(now)
OMP_NUM_THREADS=$CORES "$MC" knn "$WORK/in.h5" --index "Cells$L" --recall-sample 0 -q -o "$WORK/one_cells.h5"
one=$(secs "$t0" "$(now)")
rows=("| one process | $CORES | $one | - | 0 | 0 | - |")
for R in 1 2 4; do
    T=$((CORES / R)); [ "$T" -ge 1 ] || T=1
    cmd=(mpirun --allow-run-as-root --oversubscribe --bind-to none --mca mpi_yield_when_idle 1 -np "$R" "$MC" knn "$WORK/in.h5" --index "Cells$L" --threads "$T" -o "$WORK/mpi_cells$R.h5")
    echo "$ OMP_NUM_THREADS=$T ${cmd[*]/$WORK\//}"
    t0=$(now)
    OMP_NUM_THREADS=$T "${cmd[@]}" >"$WORK/mpi_cells$R.out"
    wall=$(secs "$t0" "$(now)")
    line=$(grep '^  mpi ' "$WORK/mpi_cells$R.out")
    search=$(printf '%s\n' "$line" | sed -n 's/.*search \([0-9.]*\) s.*/\1/p')
    sent=$(printf '%s\n' "$line" | sed -n 's/.*sent \([0-9]*\) bytes.*/\1/p')
    # a rank's N/R queries each go to the other owners among its P cells'
    # (cells spread evenly: (R-1)(1-(1-1/R)^P) of them) with D floats, its id
    # and a count, plus the numbers of the cells it visits there (4 bytes
    # each, (R-1)/R of its P), and get k (sim, id) pairs back from each; its
    # members go to their owners once; rank 1.. send their training rows
    model=$(awk -v r="$R" -v n="$N" -v d="$DIM" -v p="$P" -v k=60 -v t="$TS" 'BEGIN {
        o = (r - 1) * (1 - (1 - 1 / r) ^ p)
        q = n / r * (o * (4 * d + 12 + 12 * k) + 4 * p * (r - 1) / r)
        m = n / r * (r - 1) / r * (4 * d + 12)
        tr = r > 1 ? t / r * 4 * d : 0
        printf "%.0f", q + m + tr }')
    same=no; cmp -s "$WORK/one_cells.h5" "$WORK/mpi_cells$R.h5" && same=yes
    plural=s; [ "$R" -gt 1 ] || plural=
    rows+=("| $R rank$plural | $T | $wall | $search | $sent | $model | $same |")
done
echo
echo "| Cells$L run | threads a rank | wall s | search s (rank 0) | bytes sent, busiest rank | model (queries, candidates, members, training rows) | graph = one process |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
