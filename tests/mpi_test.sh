#!/usr/bin/env bash
# The MPI build (-DMAGCLUST_MPI=ON) end to end: 'mpirun -np R magclust ...'
# for R = 1..4 against the one-process run -- cluster CSVs for the default
# (map), linkage, dbscan and cw, and knn graph files, compared byte for byte,
# with the exact index and with the Cells index -- plus the faults (a
# missing file, a non-HDF5 file, an index MPI does not build (HNSW),
# --shard): a non-zero exit, one error line, no output and no temporary;
# a rank killed mid-search and the job stopped by SIGTERM: a non-zero exit,
# mpirun naming the dead rank, no output and no temporary.
# Then test_knn_mpi (knn_mpi.h's calls) on 3 ranks.
# Usage: mpi_test.sh MPIRUN MAGCLUST TEST_KNN_MPI WORK_DIR
# Prints one line per check and closes with "N passed, N failed".
set -u
MPIRUN=$1 MC=$2 TKM=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
# root in CI containers; one thread a rank (R ranks share two cores)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
# one machine: shared memory only (no network or UCX probing at start-up,
# most of a small run's time), and no single-copy warnings in containers
export OMPI_MCA_btl=self,vader OMPI_MCA_pml=ob1 OMPI_MCA_btl_vader_single_copy_mechanism=none
mpi() { local r=$1; shift; "$MPIRUN" --allow-run-as-root --oversubscribe --quiet -np "$r" "$@"; }

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && echo "     $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }
run() {
    local name=$1 want=$2; shift 2
    local t0=$SECONDS
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name (exit $rc, $((SECONDS - t0)) s)"; else
        ko "$name (exit $rc, expected $want)" "$(head -c 400 "$WORK/$name.err")"; fi
}

# fixtures: 2713 faces (3 query blocks of 1024, one data block of 4096: a
# rank of 4 has no rows) and 13137 faces of dim 16 (13 query blocks, 4 data
# blocks: every rank of 4 sends one round the ring)
"$MC" synth -o "$WORK/small.h5" --ids 300 --dim 64 --seed 5 >/dev/null || ko "synth small"
"$MC" synth -o "$WORK/big.h5" --ids 2500 --dim 16 --seed 6 --max-size 12 >/dev/null || ko "synth big"
S=$WORK/small.h5 B=$WORK/big.h5

# ---- cluster: every algorithm, 1 to 4 ranks, the one-process CSV ----------
for algo in map linkage dbscan cw; do
    run "one_$algo" 0 "$MC" cluster "$S" --algo "$algo" -q -o "$WORK/one_$algo.csv"
    for r in 1 2 3 4; do
        q=-q; [ "$algo$r" = map2 ] && q=  # one run with its summary
        run "mpi${r}_$algo" 0 mpi "$r" "$MC" cluster "$S" --algo "$algo" $q -o "$WORK/mpi${r}_$algo.csv"
        check "cluster --algo $algo on $r rank(s) is the one-process CSV" \
            cmp -s "$WORK/one_$algo.csv" "$WORK/mpi${r}_$algo.csv"
    done
done
check "the summary names the ranks, once" [ "$(grep -c '^  mpi          2 ranks, exact ring search' "$WORK/mpi2_map.out")" -eq 1 ]
# options pass through: k, the centring off
run one_opts 0 "$MC" cluster "$S" --algo linkage -k 12 --center off -q -o "$WORK/one_opts.csv"
run mpi3_opts 0 mpi 3 "$MC" cluster "$S" --algo linkage -k 12 --center off -q -o "$WORK/mpi3_opts.csv"
check "cluster -k 12 --center off on 3 ranks is the one-process CSV" cmp -s "$WORK/one_opts.csv" "$WORK/mpi3_opts.csv"

# ---- knn: the graph file, byte for byte ------------------------------------
run one_knn 0 "$MC" knn "$B" -q -o "$WORK/one_knn.h5"
for r in 1 2 3 4; do
    run "mpi${r}_knn" 0 mpi "$r" "$MC" knn "$B" -q -o "$WORK/mpi${r}_knn.h5"
    check "knn on $r rank(s) is the one-process graph file, byte for byte" \
        cmp -s "$WORK/one_knn.h5" "$WORK/mpi${r}_knn.h5"
done

# ---- the Cells index: the same CSVs and graph files -------------------------
# small: 3 chunks of 1024 queries, so rank 0 of 4 has no queries but owns
# cells (balanced by members); 16 cells, each face visits 8 of them, so most
# queries visit cells of other ranks
for algo in map linkage dbscan cw; do
    run "one_cells_$algo" 0 "$MC" cluster "$S" --index Cells16 --algo "$algo" -q -o "$WORK/one_cells_$algo.csv"
    for r in 1 2 3 4; do
        q=-q; [ "$algo$r" = map3 ] && q=  # one run with its summary
        run "mpi${r}_cells_$algo" 0 mpi "$r" "$MC" cluster "$S" --index Cells16 --algo "$algo" $q \
            -o "$WORK/mpi${r}_cells_$algo.csv"
        check "cluster --index Cells16 --algo $algo on $r rank(s) is the one-process CSV" \
            cmp -s "$WORK/one_cells_$algo.csv" "$WORK/mpi${r}_cells_$algo.csv"
    done
done
check "the Cells summary names the index and the cells' owners" \
    grep -q '^  mpi          3 ranks, Cells16 search routed to the cells' "$WORK/mpi3_cells_map.out"
check "the Cells summary names the index, as one process does" \
    grep -q 'index Cells16 (approximate, nprobe 8' "$WORK/mpi3_cells_map.out"
# big: 13 chunks, 64 cells of which each face visits 3: every rank of 4 holds
# queries and cells
run one_cells_knn 0 "$MC" knn "$B" --index Cells64 --nprobe 3 -q -o "$WORK/one_cells_knn.h5"
for r in 1 2 3 4; do
    run "mpi${r}_cells_knn" 0 mpi "$r" "$MC" knn "$B" --index Cells64 --nprobe 3 -q -o "$WORK/mpi${r}_cells_knn.h5"
    check "knn --index Cells64 on $r rank(s) is the one-process graph file, byte for byte" \
        cmp -s "$WORK/one_cells_knn.h5" "$WORK/mpi${r}_cells_knn.h5"
done
# wide: over 65536 faces, chunks of 1149 queries (not whole blocks of the 256
# rows the assignment to cells takes at a time), trained on a 10000-face
# sample of them
"$MC" synth -o "$WORK/wide.h5" --ids 14000 --dim 16 --seed 7 --max-size 12 >/dev/null || ko "synth wide"
W=$WORK/wide.h5
run one_wide_knn 0 "$MC" knn "$W" --index Cells128 --nprobe 5 -k 20 -q -o "$WORK/one_wide_knn.h5"
run mpi3_wide_knn 0 mpi 3 "$MC" knn "$W" --index Cells128 --nprobe 5 -k 20 -q -o "$WORK/mpi3_wide_knn.h5"
check "knn --index Cells128 of 73512 faces on 3 ranks is the one-process graph file, byte for byte" \
    cmp -s "$WORK/one_wide_knn.h5" "$WORK/mpi3_wide_knn.h5"

# ---- faults: non-zero exit, one error line from rank 0, nothing written ----
printf 'not an HDF5 file\n' >"$WORK/text.h5"
fault() {
    local name=$1 want=$2 needle=$3; shift 3
    rm -f "$WORK/out.csv" "$WORK/out.h5"
    run "$name" "$want" "$@"
    local first; first=$(head -n 1 "$WORK/$name.err")
    case "$first" in
        "magclust: error: "*"$needle"*) ok "$name message" ;;
        *) ko "$name message" "got: $first (wanted '$needle')" ;;
    esac
    check "$name one line" [ "$(wc -l <"$WORK/$name.err")" -eq 1 ]
    check "$name no output" test ! -e "$WORK/out.csv" -a ! -e "$WORK/out.h5"
    check "$name no temporary" [ -z "$(ls -A "$WORK" | grep '\.tmp')" ]
}
fault missing_cluster 1 "none.h5" mpi 3 "$MC" cluster "$WORK/none.h5" -o "$WORK/out.csv"
fault text_cluster 1 "text.h5" mpi 4 "$MC" cluster "$WORK/text.h5" -o "$WORK/out.csv"
fault hnsw_cluster 2 "only the exact index Flat and the Cells<nlist> index" mpi 2 "$MC" cluster "$S" --index HNSW32 -o "$WORK/out.csv"
fault shard_knn 2 "--shard" mpi 2 "$MC" knn "$S" --shard 0/2 -o "$WORK/out.h5"

# ---- a rank that dies, a job stopped: non-zero exit, nothing written -------
# die.sh runs its command as the rank, and kills it (SIGKILL, no clean-up)
# after DIE_AFTER seconds when it is rank DIE_RANK: mid-search here (the exact
# search of the wide file takes seconds on 2 ranks)
cat >"$WORK/die.sh" <<'EOS'
#!/bin/sh
if [ "${OMPI_COMM_WORLD_RANK:-x}" = "$DIE_RANK" ]; then
    ( sleep "$DIE_AFTER"; kill -9 $$ ) &
fi
exec "$@"
EOS
chmod +x "$WORK/die.sh"
nothing_left() {
    check "$1: no output" test ! -e "$WORK/out.csv"
    check "$1: no temporary" [ -z "$(ls -A "$WORK" | grep '\.tmp')" ]
}
rm -f "$WORK/out.csv"
DIE_RANK=1 DIE_AFTER=1 "$MPIRUN" --allow-run-as-root --oversubscribe -np 2 "$WORK/die.sh" \
    "$MC" cluster "$W" --index Flat -k 20 -q -o "$WORK/out.csv" >"$WORK/rank_dies.out" 2>&1
rc=$?
check "rank 1 killed mid-search: non-zero exit (got $rc)" [ "$rc" -ne 0 ]
check "rank 1 killed: mpirun names the dead rank" \
    grep -q "process rank 1 .*exited on signal 9" "$WORK/rank_dies.out"
nothing_left "rank 1 killed"
# the scheduler stops the job (SIGTERM to mpirun, passed on to every rank)
"$MPIRUN" --allow-run-as-root --oversubscribe --quiet -np 2 \
    "$MC" cluster "$W" --index Flat -k 20 -q -o "$WORK/out.csv" >"$WORK/stopped.out" 2>&1 &
job=$!
sleep 2
kill -TERM "$job"
wait "$job"
rc=$?
check "job stopped by SIGTERM: non-zero exit (got $rc)" [ "$rc" -ne 0 ]
nothing_left "job stopped"

# ---- the library calls ------------------------------------------------------
run test_knn_mpi_3 0 mpi 3 "$TKM" "$B" 20

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
