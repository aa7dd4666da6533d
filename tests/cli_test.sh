#!/usr/bin/env bash
# End-to-end tests of the magclust CLI on the fixtures of make_fixtures and on
# the bundled sample. Usage: cli_test.sh MAGCLUST FIXTURE_DIR SOURCE_DIR WORK_DIR
# Prints one line per check and closes with "N passed, N failed".
set -u
MC=$1 FX=$2 SRC=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && echo "     $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }
not() { ! "$@"; }

# run NAME EXPECTED_RC CMD...: runs CMD capturing stdout/stderr into $WORK/NAME.{out,err}
run() {
    local name=$1 want=$2; shift 2
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    if [ "$rc" -eq "$want" ]; then ok "$name (exit $rc)"; else
        ko "$name (exit $rc, expected $want)" "$(head -c 300 "$WORK/$name.err")"; fi
}

# bad NAME RC NEEDLE CMD...: must exit RC with a one-line "magclust: error:"
# message containing NEEDLE, must not create $WORK/out.csv, and must leave
# no partial state: no temporary, and every file named on the command line
# (inputs, an existing output) exactly as it was.
bad() {
    local name=$1 want=$2 needle=$3; shift 3
    rm -f "$WORK/out.csv"
    local a sums_before sums_after
    sums_before=$(for a in "$@"; do [ -f "$a" ] && [ "$a" != "$MC" ] && md5sum "$a"; done 2>/dev/null)
    run "$name" "$want" "$@"
    sums_after=$(for a in "$@"; do [ -f "$a" ] && [ "$a" != "$MC" ] && md5sum "$a"; done 2>/dev/null)
    check "$name leaves every file it names unchanged" [ "$sums_before" = "$sums_after" ]
    local first; first=$(head -n 1 "$WORK/$name.err")
    case "$first" in
        "magclust: error: "*"$needle"*) ok "$name message" ;;
        *) ko "$name message" "got: $first (wanted '$needle')" ;;
    esac
    if [ "$want" -eq 1 ]; then
        check "$name one line" [ "$(wc -l <"$WORK/$name.err")" -eq 1 ]
    fi
    check "$name no output" [ ! -e "$WORK/out.csv" ]
    check "$name no temporary" [ -z "$(ls -A "$WORK" | grep '\.tmp')" ]
    catalogue "$name" "$want" "$first" "$@"
}

# One row of the bad-input catalogue (tests/README.md): the case, the command
# with the test's directories shortened, the exit code, the message.
shorten() { sed -e "s|$MC|magclust|g" -e "s|$WORK/|WORK/|g" -e "s|$FX/|FX/|g" -e "s|$SRC/|SRC/|g" -e 's/|/\\|/g'; }
catalogue() {
    local name=$1 want=$2 first=$3; shift 3
    local cmd="" a
    for a in "$@"; do
        case "$a" in *" "*|"") cmd="$cmd '$a'" ;; *) cmd="$cmd $a" ;; esac
    done
    printf '| %s | `%s` | %s | %s |\n' "$name" "$(printf '%s' "${cmd# }" | shorten)" "$want" \
        "$(printf '%s' "${first#magclust: error: }" | shorten)" >>"$WORK/bad_inputs.md"
}

field() { # field FILE LABEL N: the Nth word after LABEL on its line
    awk -v l="$2" -v n="$3" '$1 == l { print $(n + 1); exit }' "$1"
}

# ---- top level --------------------------------------------------------------
run top_help 0 "$MC" --help
# every command in the table, each on its own line with its summary (a bare
# 'cluster' would match nearly any help text)
for sub in assign report cluster eval export import info knn sweep synth; do
    check "top_help lists $sub" grep -qE "^  $sub +[a-z]" "$WORK/top_help.out"
done
check top_help_usage grep -q "^usage: magclust <command> \[options\]" "$WORK/top_help.out"
run top_version 0 "$MC" --version
run top_noargs 2 "$MC"
bad top_unknown 2 "not a magclust command" "$MC" frobnicate
for sub in cluster eval export import info synth; do
    run "help_$sub" 0 "$MC" "$sub" --help
    check "help_$sub usage" grep -q "^usage: magclust $sub" "$WORK/help_$sub.out"
    check "help_$sub exit codes" grep -q "exit codes" "$WORK/help_$sub.out"
done

# ---- cluster on the tiny fixture (4 obvious identities) ----------------------
run tiny 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/tiny.csv" --noise-quality off --core-quality off \
    --k 20 --eps 0.3 --min-samples 3
check "tiny header" [ "$(head -n 1 "$WORK/tiny.csv" | tr -d '\r')" = "index,path,cluster,role,quality,similarity,margin,representative" ]
# the confidence columns: a similarity in [-1, 1] for every face in a
# cluster, a margin within [similarity - 2, similarity + 1] (the other
# cluster's cosine is in [-1, 1], or absent: margin = similarity), and one
# representative per cluster,
# a member of it
conf_bad=$(tr -d '\r' <"$WORK/tiny.csv" | awk -F, 'NR > 1 && $3 >= 0 && ($6 == "" || $6 < -1 || $6 > 1 || $7 == "" || $7 > $6 + 1.000001 || $7 < $6 - 2.000001) { b++ } END { print b + 0 }')
check "tiny: every clustered face has a similarity and a margin" [ "$conf_bad" -eq 0 ]
check "tiny: one representative per cluster" [ "$(tr -d '\r' <"$WORK/tiny.csv" | awk -F, 'NR > 1 && $8 == 1 { print $3 }' | sort -u | tr '\n' ' ')" = "0 1 2 3 " ]
check "tiny: four representatives in all" [ "$(tr -d '\r' <"$WORK/tiny.csv" | awk -F, 'NR > 1 && $8 == 1' | wc -l)" -eq 4 ]
check "tiny: the representative passes the core gate (core role)" [ "$(tr -d '\r' <"$WORK/tiny.csv" | awk -F, 'NR > 1 && $8 == 1 && $4 != "core"' | wc -l)" -eq 0 ]
check "tiny rows" [ "$(wc -l <"$WORK/tiny.csv")" -eq 41 ]
check "tiny 4 clusters" [ "$(field "$WORK/tiny.out" clusters 1)" = 4 ]
check "tiny BCubed F 1" [ "$(field "$WORK/tiny.out" BCubed 6)" = 1.0000 ]
check "tiny csv clusters" [ "$(tail -n +2 "$WORK/tiny.csv" | cut -d, -f3 | sort -u | tr '\n' ' ')" = "0 1 2 3 " ]
run tiny_eval 0 "$MC" eval "$FX/tiny.h5" "$WORK/tiny.csv"
check "eval agrees with cluster" [ "$(field "$WORK/tiny_eval.out" BCubed 6)" = "$(field "$WORK/tiny.out" BCubed 6)" ]
run tiny_eval_quiet 0 "$MC" eval "$FX/tiny.h5" "$WORK/tiny.csv" -q
check "eval -q prints nothing" [ ! -s "$WORK/tiny_eval_quiet.out" ]

# same clustering from float64 and float16 embeddings
for v in f64 f16; do
    run "tiny_$v" 0 "$MC" cluster "$FX/tiny_$v.h5" -o "$WORK/tiny_$v.csv" --noise-quality off \
        --core-quality off --k 20 --eps 0.3 --min-samples 3
    check "tiny_$v same clusters" cmp -s <(cut -d, -f3 "$WORK/tiny.csv") <(cut -d, -f3 "$WORK/tiny_$v.csv")
done

# quality key and renamed datasets
run tiny_qkey 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/tiny_q.csv" --quality-key det_score
check "tiny_qkey summary names det_score" grep -q "quality      det_score" "$WORK/tiny_qkey.out"
check "tiny_qkey quality column differs" not cmp -s <(cut -d, -f5 "$WORK/tiny.csv") <(cut -d, -f5 "$WORK/tiny_q.csv")
run tiny_altkeys 0 "$MC" cluster "$FX/tiny_altkeys.h5" -o "$WORK/alt.csv" --embeddings-key feats \
    --labels-key /ids --paths-key files --quality-key meta/quality
check "altkeys has labels" grep -q "BCubed" "$WORK/tiny_altkeys.out"
run tiny_nolabels 0 "$MC" cluster "$FX/tiny_nolabels.h5"
check "nolabels prints no metrics" not grep -q "BCubed" "$WORK/tiny_nolabels.out"
check "nolabels writes nothing" grep -q "nothing (no -o)" "$WORK/tiny_nolabels.out"
run tiny_quiet 0 "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/quiet.csv"
check "quiet prints nothing" [ ! -s "$WORK/tiny_quiet.out" ]

# info
run info 0 "$MC" info "$FX/tiny.h5" --quality-key det_score
check "info faces" grep -q "faces        40 x 8" "$WORK/info.out"
check "info identities" grep -q "identities   4 " "$WORK/info.out"
check "info quality keys" grep -q "quality keys det_score" "$WORK/info.out"

# ---- bad input: exit 1, one clear line naming the file, nothing written -----
O="$WORK/out.csv"
bad missing_file 1 "$FX/nope.h5: no such file" "$MC" cluster "$FX/nope.h5" -o "$O"
bad not_hdf5 1 "not_hdf5.h5" "$MC" cluster "$FX/not_hdf5.h5" -o "$O"
bad no_dataset 1 "bad_noemb.h5" "$MC" cluster "$FX/bad_noemb.h5" -o "$O"
bad rank3 1 "rank 3" "$MC" cluster "$FX/bad_rank3.h5" -o "$O"
bad rank1 1 "rank 1" "$MC" cluster "$FX/bad_rank1.h5" -o "$O"
bad n0 1 "bad_n0.h5" "$MC" cluster "$FX/bad_n0.h5" -o "$O"
bad d0 1 "bad_d0.h5" "$MC" cluster "$FX/bad_d0.h5" -o "$O"
bad nan 1 "row 3" "$MC" cluster "$FX/bad_nan.h5" -o "$O"
bad inf 1 "row 5" "$MC" cluster "$FX/bad_inf.h5" -o "$O"
bad zero_row 1 "row 2" "$MC" cluster "$FX/bad_zero.h5" -o "$O"
bad int_emb 1 "bad_int_emb.h5" "$MC" cluster "$FX/bad_int_emb.h5" -o "$O"
bad labels_len 1 "labels" "$MC" cluster "$FX/bad_labels_len.h5" -o "$O"
bad paths_len 1 "paths" "$MC" cluster "$FX/bad_paths_len.h5" -o "$O"
bad quality_nan 1 "bad_quality_nan.h5" "$MC" cluster "$FX/bad_quality_nan.h5" --quality-key det_score -o "$O"
bad quality_big 1 "row 4 is NaN or Inf (or a number beyond the float range" "$MC" cluster "$FX/bad_quality_big.h5" --quality-key quality -o "$O"
bad unknown_filter 1 "compressed with HDF5 filter 32000 (lzf), which this HDF5 library cannot decode: rewrite it with gzip" "$MC" cluster "$FX/bad_filter.h5" -o "$O"
# a file another program holds open for writing (HDF5's lock; flock(1) takes it here)
cp "$FX/tiny.h5" "$WORK/locked.h5"
bad info_locked 1 "another program has it open for writing (HDF5 file lock)" flock -x "$WORK/locked.h5" "$MC" info "$WORK/locked.h5"
bad cluster_locked 1 "another program has it open for writing (HDF5 file lock)" flock -x "$WORK/locked.h5" "$MC" cluster "$WORK/locked.h5" -o "$O"
bad export_no_data 1 "/embeddings holds no data (none was ever written to it)" "$MC" export "$FX/huge_dims.h5" -o "$WORK/huge.npy"
bad vds_missing_source 1 "virtual dataset whose source file missing_source.h5 cannot be read" "$MC" cluster "$FX/bad_vds.h5" -o "$O"
check "a NaN row's error names --skip-bad-rows" grep -q -- "--skip-bad-rows leaves such rows out" "$WORK/nan.err"

# --skip-bad-rows: the bad rows are left out and listed; the rest keep their file row as index
for sk in "nan 3" "zero 2" "quality_nan 7"; do
    set -- $sk
    qk=""; [ "$1" = quality_nan ] && qk="--quality-key det_score"
    run "skip_$1" 0 "$MC" cluster "$FX/bad_$1.h5" $qk --skip-bad-rows -o "$WORK/skip_$1.csv"
    check "skip_$1: stderr lists row $2" grep -q "skipped 1 bad row .*: row $2\$" "$WORK/skip_$1.err"
    check "skip_$1: the CSV has the other 39 faces" [ "$(($(wc -l <"$WORK/skip_$1.csv") - 1))" -eq 39 ]
    check "skip_$1: file row $2 is not in the CSV, row $(($2 + 1)) is" \
        [ -z "$(awk -F, -v r="$2" 'NR > 1 && $1 == r' "$WORK/skip_$1.csv")" -a -n "$(awk -F, -v r="$(($2 + 1))" 'NR > 1 && $1 == r' "$WORK/skip_$1.csv")" ]
done
run skip_quiet 0 "$MC" cluster "$FX/bad_nan.h5" --skip-bad-rows -q -o "$WORK/skip_q.csv"
check "skip -q: nothing on stderr" [ ! -s "$WORK/skip_quiet.err" ]

# duplicates: identical vectors (3 people x 10 copies) cluster together, and
# the same way whatever the thread count and algorithm
awk 'BEGIN { print "path,label,e0,e1,e2,e3"; for (i = 0; i < 3; i++) for (c = 0; c < 10; c++)
    printf "p%d/%02d.jpg,%d,%s,%s,%s,2\n", i, c, i, i == 0 ? 5 : 0.3, i == 1 ? 5 : 0.3, i == 2 ? 5 : 0.3 }' >"$WORK/dup.csv"
run dup_import 0 "$MC" import csv "$WORK/dup.csv" -o "$WORK/dup.h5"
for a in dbscan linkage cw; do
    run "dup_${a}_t1" 0 "$MC" cluster "$WORK/dup.h5" --algo "$a" -k 5 --min-samples 3 --threads 1 -o "$WORK/dup_${a}_1.csv"
    run "dup_${a}_t2" 0 "$MC" cluster "$WORK/dup.h5" --algo "$a" -k 5 --min-samples 3 --threads 2 -o "$WORK/dup_${a}_2.csv"
    check "duplicates, $a: the same output with 1 and 2 threads" cmp -s "$WORK/dup_${a}_1.csv" "$WORK/dup_${a}_2.csv"
    check "duplicates, $a: each person's copies form one cluster of 10" \
        [ "$(awk -F, 'NR > 1 { k = substr($2, 1, 2) "," $3; if (!(k in s)) n++; s[k] = 1; c[$3]++ } END { for (x in c) if (c[x] != 10 || x < 0) bad++; print n "/" bad + 0 }' "$WORK/dup_${a}_1.csv")" = "3/0" ]
done

# an absurd header (2^40 x 512 in a 1 KiB file): refused before any allocation
bad huge_dims 1 "more than the memory limit" "$MC" cluster "$FX/huge_dims.h5" -o "$O"
bad huge_dims_info 1 "more than the memory limit" "$MC" info "$FX/huge_dims.h5"

# --max-memory: a file larger than the cap is refused before it is read
bad max_memory_small 1 "more than the memory limit of 1.0 MiB" "$MC" cluster "$SRC/datasets/sample.h5" --max-memory 1M -o "$O"
check "max_memory_small names --max-memory as the limit's source" grep -q "1.0 MiB (--max-memory); raise --max-memory" "$WORK/max_memory_small.err"
bad max_memory_bad 2 "is not a size" "$MC" cluster "$FX/tiny.h5" --max-memory lots -o "$O"
bad max_memory_low 2 "out of range" "$MC" cluster "$FX/tiny.h5" --max-memory=1000 -o "$O"
run max_memory_ok 0 "$MC" cluster "$FX/tiny.h5" --max-memory 64M -o "$WORK/maxmem.csv"
bad quality_missing 1 "nosuchkey" "$MC" cluster "$FX/tiny.h5" --quality-key nosuchkey -o "$O"
check "quality_missing lists what the file offers" grep -q "its per-face numbers: det_score$" "$WORK/quality_missing.err"
run gate_above_all 0 "$MC" cluster "$FX/tiny.h5" --core-quality 99999 -o "$WORK/gate_all.csv"
check "a core gate above every face is named" grep -q "warning      no face reaches the core gate (99999 = 99999; the highest quality is" "$WORK/gate_above_all.out"
run gate_ok 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/gate_ok.csv"
check "no gate warning when faces pass" [ "$(grep -c "no face reaches" "$WORK/gate_ok.out")" -eq 0 ]
run min_size 0 "$MC" cluster "$SRC/datasets/sample.h5" --min-cluster-size 3 --json -o "$WORK/min_size.csv"
check "--min-cluster-size 3 leaves no cluster under 3 faces" [ "$(tail -n +2 "$WORK/min_size.csv" | cut -d, -f3 | grep -v '^-1$' | sort | uniq -c | awk '$1 < 3' | wc -l)" -eq 0 ]
check "--min-cluster-size: JSON counts what it turned to noise" grep -Eq '"min_cluster_size":3,"small_clusters":[0-9]+,"small_cluster_faces":[0-9]+' "$WORK/min_size.out"
# contested border faces (README step 5): on a set whose low-quality faces
# lean towards shared directions, cw attaches some that are nearer another
# cluster's centre; by default they are noise, --contested keep keeps them
"$MC" synth -o "$WORK/contest.h5" --ids 40 --dim 32 --mag-scale 4 --distractors 0.2 --seed 11 >/dev/null
run contested_default 0 "$MC" cluster "$WORK/contest.h5" --algo cw -o "$WORK/contest.csv"
run contested_keep 0 "$MC" cluster "$WORK/contest.h5" --algo cw --contested keep -o "$WORK/contest_keep.csv"
check "contested: the summary says how many border faces became noise" grep -Eq "^  contested    [1-9][0-9]* border faces? nearer another cluster's centre than (its|their) own: noise \(--contested keep keeps them\)$" "$WORK/contested_default.out"
check "contested: --contested keep prints no such line" not grep -q "contested  " "$WORK/contested_keep.out"
c_n=$(sed -n "s/^  contested    \([0-9]*\) .*/\1/p" "$WORK/contested_default.out")
k_b=$(awk -F, '$4 == "border"' "$WORK/contest_keep.csv" | wc -l)
d_b=$(awk -F, '$4 == "border"' "$WORK/contest.csv" | wc -l)
check "contested: exactly that many fewer border faces than with keep ($k_b - ${c_n:-?} = $d_b)" [ "$((k_b - ${c_n:-0}))" -eq "$d_b" ]
check "contested: no border face left with a negative margin" [ "$(awk -F, '$4 == "border" && $7 < 0' "$WORK/contest.csv" | wc -l)" -eq 0 ]
check "contested: with keep some border faces have a negative margin" [ "$(awk -F, '$4 == "border" && $7 < 0' "$WORK/contest_keep.csv" | wc -l)" -gt 0 ]
run contested_json 0 "$MC" cluster "$WORK/contest.h5" --algo cw --json -q -o "$WORK/contest2.csv"
check "contested: JSON gives the count" grep -Eq "\"contested_to_noise\":true,\"contested\":${c_n:-x}[,}]" "$WORK/contested_json.out"
run info_quiet 0 "$MC" info "$FX/tiny.h5" -q
check "info -q prints nothing" [ ! -s "$WORK/info_quiet.out" ] && [ ! -s "$WORK/info_quiet.err" ]
bad info_quiet_bad 1 "not an HDF5 file" "$MC" info "$WORK/tiny.csv" -q
bad quality_typo 1 "did you mean det_score?" "$MC" cluster "$FX/tiny.h5" --quality-key det_scor -o "$O"
# a collection of no more than k faces: k shrinks to N - 1, and says so;
# one face is refused, two are too few to calibrate on (but --eps works)
run k_ge_n 0 "$MC" cluster "$FX/small_k.h5" -o "$WORK/small_k.csv"
check "k_ge_n: k shrinks to N - 1 and says so" grep -q "k 60 asked, but there are only 3 faces: k is 2" "$WORK/k_ge_n.out"
check "k_ge_n: every face in the result" [ "$(wc -l <"$WORK/small_k.csv")" -eq 4 ]
check "k_ge_n: the calibration on 2 faces is called unreliable" grep -q "warning      the calibrated threshold is unreliable: too few faces to calibrate on" "$WORK/k_ge_n.out"
printf 'path,e0,e1,e2\na.jpg,1,2,3\n' >"$WORK/one_face.csv"
printf 'path,e0,e1,e2\na.jpg,1,2,3\nb.jpg,3,2,2\n' >"$WORK/two_faces.csv"
"$MC" import csv "$WORK/one_face.csv" -q -o "$WORK/one_face.h5" && "$MC" import csv "$WORK/two_faces.csv" -q -o "$WORK/two_faces.h5"
bad one_face 1 "1 face: clustering needs at least 2" "$MC" cluster "$WORK/one_face.h5" -o "$O"
bad two_faces 1 "too few to calibrate a threshold; give one" "$MC" cluster "$WORK/two_faces.h5" -o "$O"
run two_faces_eps 0 "$MC" cluster "$WORK/two_faces.h5" --eps 0.3 -o "$WORK/two_faces_out.csv"
bad out_missing_dir 1 "does not exist" "$MC" cluster "$FX/tiny.h5" -o "$WORK/no/such/dir/out.csv"
check "out_missing_dir created nothing" [ ! -e "$WORK/no" ]
bad eval_no_labels 1 "no labels" "$MC" eval "$FX/tiny_nolabels.h5" "$WORK/tiny.csv"
printf 'index,cluster\n0,1\n' >"$WORK/short.csv"
bad eval_short_csv 1 "short.csv" "$MC" eval "$FX/tiny.h5" "$WORK/short.csv"
bad info_missing 1 "no such file" "$MC" info "$FX/nope.h5"

# an input is never overwritten
cp "$FX/tiny.h5" "$WORK/in.h5"
before=$(md5sum <"$WORK/in.h5")
bad out_is_input 1 "overwrite an input" "$MC" cluster "$WORK/in.h5" -o "$WORK/in.h5"
check "input unchanged" [ "$(md5sum <"$WORK/in.h5")" = "$before" ]
# an existing output survives a failed run
echo precious >"$WORK/keep.csv"
run keep_failed 1 "$MC" cluster "$FX/bad_nan.h5" -o "$WORK/keep.csv"
check "failed run keeps old output" [ "$(cat "$WORK/keep.csv")" = precious ]

# ---- usage errors: exit 2 ---------------------------------------------------
bad eps_nan 2 "--eps" "$MC" cluster "$FX/tiny.h5" --eps abc -o "$O"
bad eps_range 2 "--eps" "$MC" cluster "$FX/tiny.h5" --eps 3 -o "$O"
bad k_zero 2 "--k" "$MC" cluster "$FX/tiny.h5" --k 0 -o "$O"
bad k_negative 2 "--k" "$MC" cluster "$FX/tiny.h5" --k -5 -o "$O"
bad min_samples_gt_k 2 "exceeds k + 1" "$MC" cluster "$FX/tiny.h5" --algo dbscan --k 5 --min-samples 7 -o "$O"
bad eps_and_z 2 "give one" "$MC" cluster "$FX/tiny.h5" --eps 0.4 --calib-z 3 -o "$O"
bad z_nan 2 "--calib-z" "$MC" cluster "$FX/tiny.h5" --calib-z x -o "$O"
bad frac_range 2 "--calib-frac" "$MC" cluster "$FX/tiny.h5" --calib-frac 1.5 -o "$O"
bad center_bad 2 "--center" "$MC" cluster "$FX/tiny.h5" --center maybe -o "$O"
bad contested_bad 2 "--contested: 'maybe' is not noise or keep" "$MC" cluster "$FX/tiny.h5" --contested maybe -o "$O"
bad core_pct 2 "--core-quality" "$MC" cluster "$FX/tiny.h5" --core-quality p200 -o "$O"
bad threads_bad 2 "--threads" "$MC" cluster "$FX/tiny.h5" --threads x -o "$O"
bad no_input 2 "no input file" "$MC" cluster -o "$O"
bad two_inputs 2 "more than one input" "$MC" cluster "$FX/tiny.h5" "$FX/tiny.h5" -o "$O"
bad unknown_opt 2 "unknown option" "$MC" cluster "$FX/tiny.h5" --frob -o "$O"
bad missing_value 2 "needs a value" "$MC" cluster "$FX/tiny.h5" --eps

# ---- Chinese whispers ------------------------------------------------------------
run cw_tiny 0 "$MC" cluster "$FX/tiny.h5" --algo cw --eps 0.3 --core-quality off -o "$WORK/cw.csv"
check "cw finds the 4 identities" [ "$(field "$WORK/cw_tiny.out" BCubed 6)" = 1.0000 ]
check "cw summary names the algorithm" grep -q "algo cw" "$WORK/cw_tiny.out"
run cw_sample_1 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo cw --seed 7 --threads 1 -o "$WORK/cw1.csv"
run cw_sample_2 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo cw --seed 7 --threads 2 -o "$WORK/cw2.csv"
check "cw: same seed, same labels for 1 and 2 threads" cmp -s "$WORK/cw1.csv" "$WORK/cw2.csv"
run cw_json 0 "$MC" cluster "$FX/tiny.h5" --algo cw --json --eps 0.5
check "cw json params" grep -q '"algo":"cw","eps":0.5,"threshold":0.5,"threshold_source":"eps","seed":1,"iterations":100' "$WORK/cw_json.out"
bad bad_algo 2 "--algo" "$MC" cluster "$FX/tiny.h5" --algo kmeans -o "$O"
bad bad_seed 2 "--seed" "$MC" cluster "$FX/tiny.h5" --algo cw --seed -1 -o "$O"
bad bad_iterations 2 "--iterations" "$MC" cluster "$FX/tiny.h5" --algo cw --iterations 0 -o "$O"

# ---- map equation -------------------------------------------------------------------
run map_tiny 0 "$MC" cluster "$FX/tiny.h5" --algo map --eps 0.3 --core-quality off -o "$WORK/map.csv"
check "map finds the 4 identities" [ "$(field "$WORK/map_tiny.out" BCubed 6)" = 1.0000 ]
check "map summary names the algorithm" grep -q "algo map" "$WORK/map_tiny.out"
check "map summary gives the codelength" grep -Eq "map +[0-9]+ faces carry flow on [0-9]+ links: 4 modules, codelength [0-9.]+ bits" "$WORK/map_tiny.out"
run map_tiny_directed 0 "$MC" cluster "$FX/tiny.h5" --algo map --flow directed --cut none --eps 0.3 --core-quality off -o "$WORK/mapd2.csv"
check "map, directed flow, finds the 4 identities" [ "$(field "$WORK/map_tiny_directed.out" BCubed 6)" = 1.0000 ]
run map_sample_1 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo map --seed 7 --threads 1 -o "$WORK/map1.csv"
run map_sample_2 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo map --seed 7 --threads 2 -o "$WORK/map2.csv"
check "map: same seed, same labels for 1 and 2 threads" cmp -s "$WORK/map1.csv" "$WORK/map2.csv"
# sample.h5's quality check: rho +0.77, so the gate is p round(85 x 0.77)
check "map: the gate follows the quality check" grep -q "core-quality p65 " "$WORK/map_sample_1.out"
check "map: 60 neighbours and the window from them by default" grep -q "cut outlier, window 10  seed 7  k 60 " "$WORK/map_sample_1.out"
run map_sample_slope0 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo map --core-slope 0 -o "$WORK/map3.csv"
check "map: --core-slope 0 gives the default gate" grep -q "core-quality p50 " "$WORK/map_sample_slope0.out"
run map_sample_directed 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo map --flow directed --teleport 0.2 --cut none --temperature 0.1 --trials 2 --json -o "$WORK/mapd.csv"
check "map json params" grep -q '"flow":"directed","seed":1,"trials":2,"window":0,"codelength":' "$WORK/map_sample_directed.out"
bad bad_cut 2 "--cut" "$MC" cluster "$FX/tiny.h5" --algo map --cut gap -o "$O"
bad bad_window 2 "--window" "$MC" cluster "$FX/tiny.h5" --algo map --window 0 -o "$O"
bad bad_flow 2 "--flow" "$MC" cluster "$FX/tiny.h5" --algo map --flow sideways -o "$O"
bad bad_teleport 2 "--teleport" "$MC" cluster "$FX/tiny.h5" --algo map --flow directed --teleport 1 -o "$O"
# an option the algorithm run does not take is ignored, with one warning
run ignored_opt 0 "$MC" cluster "$FX/tiny.h5" --algo linkage --seed 3 --flow directed -o "$WORK/ign.csv"
check "an ignored option is named in a warning" grep -q "^magclust: warning: --seed applies to --algo cw or map only: ignored$" "$WORK/ignored_opt.err"
check "each ignored option gets its warning" [ "$(grep -c "warning" "$WORK/ignored_opt.err")" -eq 2 ]
run ignored_teleport 0 "$MC" cluster "$FX/tiny.h5" --algo map --teleport 0.3 -o "$WORK/ign2.csv"
check "--teleport without --flow directed is named" grep -q "warning: --teleport applies to --flow directed only" "$WORK/ignored_teleport.err"
run ignored_quiet 0 "$MC" cluster "$FX/tiny.h5" --algo cw --linkage single -q -o "$WORK/ign3.csv"
check "-q leaves the warning out" [ ! -s "$WORK/ignored_quiet.err" ]
run applies_opt 0 "$MC" cluster "$FX/tiny.h5" --algo map --seed 3 --flow directed --teleport 0.3 -o "$WORK/ign4.csv"
check "options that apply give no warning" [ "$(grep -c "warning" "$WORK/applies_opt.err")" -eq 0 ]
run sweep_opt_any 0 "$MC" sweep "$SRC/datasets/sample.h5" --algo linkage,cw --seed 3 --param eps=0.5 -o "$WORK/sw_any.csv"
check "sweep: an option one of its algorithms takes gives no warning" [ "$(grep -c "warning" "$WORK/sweep_opt_any.err")" -eq 0 ]
bad out_json 2 "not '.json'" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.json"
check "out_json wrote nothing" [ ! -e "$WORK/out.json" ]
run out_json_format 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/out2.json" --format csv
check "--format csv writes CSV under any name" grep -q "^index,path,cluster,role,quality" "$WORK/out2.json"
bad bad_slope 2 "--core-slope" "$MC" cluster "$FX/tiny.h5" --algo map --core-slope -1 -o "$O"
bad bad_trials 2 "--trials" "$MC" cluster "$FX/tiny.h5" --algo map --trials 0 -o "$O"

# ---- quality-aware linkage ---------------------------------------------------------
for kind in single average complete; do
    run "linkage_$kind" 0 "$MC" cluster "$FX/tiny.h5" --algo linkage --linkage "$kind" --eps 0.3 --core-quality off
    check "linkage $kind finds the 4 identities" [ "$(field "$WORK/linkage_$kind.out" BCubed 6)" = 1.0000 ]
done
run linkage_sample 0 "$MC" cluster "$SRC/datasets/sample.h5" --algo linkage -o "$WORK/lk.h5"
check "linkage summary names the kind" grep -q "algo linkage (average)" "$WORK/linkage_sample.out"
run linkage_json 0 "$MC" cluster "$FX/tiny.h5" --algo linkage --linkage complete --json --eps 0.5
check "linkage json params" grep -q '"algo":"linkage","eps":0.5,"threshold":0.5,"threshold_source":"eps","linkage":"complete"' "$WORK/linkage_json.out"
bad bad_linkage 2 "--linkage" "$MC" cluster "$FX/tiny.h5" --algo linkage --linkage ward -o "$O"

# ---- result formats: HDF5 output and --json ------------------------------------
run out_h5 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/tiny_result.h5"
check "h5 result has the HDF5 signature" [ "$(head -c 4 "$WORK/tiny_result.h5" | od -An -c | tr -d ' ')" = "211HDF" ]
run info_result 0 "$MC" info "$WORK/tiny_result.h5"
check "info describes a result" grep -q "^  clusters     4 (ids 0 .. 3), 0 faces in none, 0 faces named$" "$WORK/info_result.out"
check "the HDF5 result has /similarity, /margin, /representative" grep -q "^  confidence   40 faces with a margin, [0-9]* of them below 0 (nearer another cluster); 4 representatives$" "$WORK/info_result.out"
printf 'index,path,cluster,role,quality\n0,a.jpg,0,core,1\n1,b.jpg,-1,noise,1\n' >"$WORK/old_result.csv"
run old_result_report 0 "$MC" report "$WORK/old_result.csv" -q -o "$WORK/old_result.html"
check "a result without the confidence columns still makes a report" grep -q 'id="n-clusters">1<' "$WORK/old_result.html"
check "... without a 'faces to check' section" not grep -q 'id="unsure"' "$WORK/old_result.html"
run eval_h5 0 "$MC" eval "$FX/tiny.h5" "$WORK/tiny_result.h5"
check "eval reads an HDF5 result" [ "$(field "$WORK/eval_h5.out" BCubed 6)" = "$(field "$WORK/tiny.out" BCubed 6)" ]
run out_h5_nopaths 0 "$MC" cluster "$FX/tiny_altkeys.h5" --embeddings-key feats --labels-key ids -o "$WORK/alt_result.h5"
run eval_h5_nopaths 0 "$MC" eval "$FX/tiny_altkeys.h5" "$WORK/alt_result.h5" --embeddings-key feats --labels-key ids
check "eval reads an HDF5 result without paths" [ "$(field "$WORK/eval_h5_nopaths.out" BCubed 6)" = "$(field "$WORK/out_h5_nopaths.out" BCubed 6)" ]
bad eval_h5_rows 1 "40 rows, but" "$MC" eval "$SRC/datasets/sample.h5" "$WORK/tiny_result.h5"
run out_format 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/result.dat" --format h5
check "--format h5 writes HDF5" cmp -s <(head -c 8 "$WORK/result.dat") <(head -c 8 "$WORK/tiny_result.h5")
bad bad_format 2 "--format" "$MC" cluster "$FX/tiny.h5" -o "$O" --format xml
run json 0 "$MC" cluster "$FX/tiny.h5" --algo linkage --json -o "$WORK/j.csv"
check "json is one line" [ "$(wc -l <"$WORK/json.out")" -eq 1 ]
check "json is an object with metrics" grep -q '^{"magclust_version":.*"metrics":{.*"bcubed_f":[0-9.]*.*}}$' "$WORK/json.out"
check "json has timings" grep -q '"seconds":{"load":[0-9.e-]*,"knn":' "$WORK/json.out"
check "json has params" grep -q '"params":{"algo":"linkage","eps":[0-9.]*,"threshold":[0-9.]*,"threshold_source":"auto","linkage":"average","k":30,"core_quality":{"spec":"[a-z0-9]*","value":' "$WORK/json.out"
check "json has the quality check" grep -q '"quality_check":{"rho":[-0-9.e]*,"informative":\(true\|false\),"gates_dropped":\(true\|false\),"others":{"det_score":' "$WORK/json.out"

# the quality check (issue 19): printed with a verdict; an uninformative
# quality turns the gates off unless they are asked for (--trust-quality, or
# --core-quality given); 'info' shows the check for every candidate
run qcheck 0 "$MC" cluster "$SRC/datasets/sample.h5" -o "$WORK/qcheck.csv"
check "qcheck: the sample's norm is informative, gates apply" grep -q "check        quality vs nearest-neighbour cosine: rank correlation +0.[3-9][0-9] (informative: the gates apply)" "$WORK/qcheck.out"
run qcheck_tiny 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/qcheck_tiny.csv"
check "qcheck_tiny: tiny's norm is uninformative, gates off" grep -q "(uninformative, below 0.15: the gates are off, every face may seed and link; --trust-quality keeps them)" "$WORK/qcheck_tiny.out"
check "qcheck_tiny: params say core-quality off" grep -q "core-quality off" "$WORK/qcheck_tiny.out"
check "qcheck_tiny: the other quality is listed" grep -q "^  others       det_score [-+]0" "$WORK/qcheck_tiny.out"
run qcheck_trust 0 "$MC" cluster "$FX/tiny.h5" --trust-quality -o "$WORK/qcheck_trust.csv"
check "--trust-quality keeps the gate" grep -q "core-quality p50 = " "$WORK/qcheck_trust.out"
check "--trust-quality says the gates apply as given" grep -q "(uninformative, below 0.15; the gates apply as given)" "$WORK/qcheck_trust.out"
run qcheck_core 0 "$MC" cluster "$FX/tiny.h5" --core-quality p40 -o "$WORK/qcheck_core.csv"
check "--core-quality given keeps that gate" grep -q "core-quality p40 = " "$WORK/qcheck_core.out"
run qcheck_auto 0 "$MC" cluster "$FX/tiny.h5" --quality-key auto -o "$WORK/qcheck_auto.csv"
check "--quality-key auto clusters (magnitude or det_score)" grep -qE "^  quality      (magnitude|det_score): " "$WORK/qcheck_auto.out"
run info_check 0 "$MC" info "$SRC/datasets/sample.h5"
check "info shows the quality check" grep -qE "^    magnitude +\+0\.[3-9][0-9]  informative \(in use\)" "$WORK/info_check.out"
run info_nocheck 0 "$MC" info "$SRC/datasets/sample.h5" --no-check
check "info --no-check leaves it out" not grep -q "^  check " "$WORK/info_nocheck.out"
check "json has the calibration" grep -q '"calibration":{"centered":true,"center_shift":[0-9.e-]*,"pair_median":[0-9.e-]*,"pair_robust_sd":[0-9.e-]*,"nn_median":[0-9.e-]*,"faces":[0-9]*,"pairs":[0-9]*,"quality_gate":[0-9.e-]*,"few_faces":[a-z]*,"nn_not_closer":[a-z]*,"frac":0.45,"frac_ungated":false,"z":2.5}' "$WORK/json.out"
run json_nolabels 0 "$MC" cluster "$FX/tiny_nolabels.h5" --json
check "json without labels has null metrics" grep -q '"metrics":null' "$WORK/json_nolabels.out"

# ---- import / export round trips ----------------------------------------------
cluster_cols() { "$MC" cluster "$1" -q -o "$2" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 && cut -d, -f1,3- "$2"; }
cluster_cols "$FX/tiny.h5" "$WORK/ref.csv" >"$WORK/ref.cols"
check "round trip: the reference run succeeds" [ $? -eq 0 ]
# 41 lines (header + 40 faces): a failed run would leave both sides empty and cmp
# would call them identical
check "round trip: the reference has every face" [ "$(wc -l <"$WORK/ref.cols")" -eq 41 ]
for fmt in npy csv bin; do
    run "export_$fmt" 0 "$MC" export "$FX/tiny.h5" -o "$WORK/tiny_x.$fmt"
done
check "npy labels written beside" [ -f "$WORK/tiny_x.labels.npy" ]
check "l2c meta written beside" [ "$(wc -l <"$WORK/tiny_x.meta")" -eq 40 ]
check "export csv header" [ "$(head -n 1 "$WORK/tiny_x.csv" | cut -d, -f1-3 | tr -d '\r')" = "path,label,e0" ]
run import_npy 0 "$MC" import npy "$WORK/tiny_x.npy" --labels "$WORK/tiny_x.labels.npy" -o "$WORK/rt_npy.h5"
run import_csv 0 "$MC" import csv "$WORK/tiny_x.csv" -o "$WORK/rt_csv.h5" --compress
bad import_compress_detached 2 "--compress takes its level attached: --compress=9" "$MC" import csv "$WORK/tiny_x.csv" --compress 9 -o "$O"
# old Mac line ends (CR alone) read like LF; a CR inside quotes is kept
printf 'path,e0,e1\r"a\rb.jpg",1,2\rc.jpg,2,1\rd.jpg,1,1\r' >"$WORK/cr_only.csv"
run import_cr_only 0 "$MC" import csv "$WORK/cr_only.csv" -o "$WORK/cr_only.h5"
run export_cr_only 0 "$MC" export "$WORK/cr_only.h5" -o "$WORK/cr_only_back.csv"
check "a CSV with CR line ends: 3 faces" [ "$(wc -l <"$WORK/cr_only_back.csv")" -eq 4 ]
check "a CSV with CR line ends: the CR inside quotes kept" grep -q $'^"a\rb.jpg",' "$WORK/cr_only_back.csv"
run import_l2c 0 "$MC" import l2c "$WORK/tiny_x.bin" --dim 8 --labels "$WORK/tiny_x.meta" -o "$WORK/rt_l2c.h5"
for fmt in npy csv l2c; do
    cluster_cols "$WORK/rt_$fmt.h5" "$WORK/rt_$fmt.csv" >"$WORK/rt_$fmt.cols"
    check "round trip via $fmt: the run succeeds" [ $? -eq 0 ]
    check "round trip via $fmt: every face" [ "$(wc -l <"$WORK/rt_$fmt.cols")" -eq 41 ]
    check "round trip via $fmt clusters identically" cmp -s "$WORK/ref.cols" "$WORK/rt_$fmt.cols"
done
check "import reports throughput" grep -q "MB/s" "$WORK/import_npy.out"

# MagFace gen_feat.py list: labels from the parent folder, two inputs merged by name
printf 'alice/1.jpg 1 0 0 0\nbob/1.jpg 0 1 0 0\nalice/2.jpg 0.9 0.1 0 0\n' >"$WORK/a.list"
printf 'bob/2.jpg 0 2 0.1 0\r\ncarol/1.jpg 0 0 3 0\r\n' >"$WORK/b.list"
run import_magface 0 "$MC" import magface "$WORK/a.list" "$WORK/b.list" --label-from dir -o "$WORK/mf.h5"
run mf_info 0 "$MC" info "$WORK/mf.h5"
check "magface import: 5 faces, 3 identities" grep -q "identities   3 " "$WORK/mf_info.out"
run export_mf 0 "$MC" export "$WORK/mf.h5" -o "$WORK/mf.csv" -q
check "names merged across files (bob is one label)" [ "$(cut -d, -f2 "$WORK/mf.csv" | tr -d '\r' | tail -n +2 | tr '\n' ' ')" = "0 1 0 1 2 " ]
printf 'x/1.jpg 1 2 3\nx/2.jpg 1 2\n' >"$WORK/short.list"
bad import_bad_count 1 "line 2" "$MC" import magface "$WORK/short.list" -o "$O"
printf 'x/1.jpg 1 2 abc\n' >"$WORK/word.list"
bad import_bad_token 1 "abc" "$MC" import magface "$WORK/word.list" -o "$O"
head -c 100 "$WORK/tiny_x.bin" >"$WORK/trunc.bin"
bad import_truncated_bin 1 "multiple" "$MC" import l2c "$WORK/trunc.bin" --dim 8 -o "$O"
bad import_no_dim 2 "--dim" "$MC" import l2c "$WORK/tiny_x.bin" -o "$O"
bad import_bad_format 2 "not an import format" "$MC" import parquet "$WORK/a.list" -o "$O"
bad import_no_output 2 "output" "$MC" import magface "$WORK/a.list"
bad import_over_input 1 "overwrite an input" "$MC" import magface "$WORK/a.list" -o "$WORK/a.list"
bad export_bad_ext 2 ".npy, .csv or .bin" "$MC" export "$FX/tiny.h5" -o "$WORK/x.txt"
bad export_missing 1 "no such file" "$MC" export "$FX/nope.h5" -o "$WORK/x.npy"

# nested keys mean the same to export (the streaming reader) and to cluster,
# however they are spelled; a fixed-length path that fills its size is whole
NK=(--embeddings-key group/embeddings --labels-key /group/labels --paths-key group//paths/)
run nested_export 0 "$MC" export "$FX/tiny_nested.h5" "${NK[@]}" -o "$WORK/nested_x.csv"
run nested_cluster 0 "$MC" cluster "$FX/tiny_nested.h5" --embeddings-key ./group/embeddings \
    --labels-key group/labels --paths-key /group/paths -q -o "$WORK/nested.csv"
check "nested keys: export and cluster read the same paths" \
    cmp -s <(tail -n +2 "$WORK/nested_x.csv" | cut -d, -f1) <(tail -n +2 "$WORK/nested.csv" | cut -d, -f2)
check "nested keys: the path that fills its fixed string is whole" \
    grep -q "^id3/caf$(printf '\303\251')_09.jpg,103," "$WORK/nested_x.csv"
bad nested_export_missing 1 "no dataset /group/nolabels" "$MC" export "$FX/tiny_nested.h5" \
    --embeddings-key group/embeddings --labels-key group/nolabels -o "$O"
bad nested_cluster_missing 1 "no dataset /group/nolabels" "$MC" cluster "$FX/tiny_nested.h5" \
    --embeddings-key group/embeddings --labels-key group/nolabels -o "$O"
check "nested keys: export and cluster refuse a missing dataset alike" \
    cmp -s "$WORK/nested_export_missing.err" "$WORK/nested_cluster_missing.err"

# ---- the bundled sample -------------------------------------------------------
SAMPLE="$SRC/datasets/sample.h5"
run sample 0 "$MC" cluster "$SAMPLE" -o "$WORK/sample.csv" --threads 1
run sample_t2 0 "$MC" cluster "$SAMPLE" -o "$WORK/sample_t2.csv" --threads 2
check "same labels for 1 and 2 threads" cmp -s "$WORK/sample.csv" "$WORK/sample_t2.csv"
# dbscan with no core gate calibrates with its stricter frac, and says so
run dbscan_ungated 0 "$MC" cluster "$SAMPLE" --algo dbscan --core-quality off
check "dbscan without a gate: frac 0.8, said" grep -q "median + 0.8 (nn - median).*(auto, stricter with no core gate;" "$WORK/dbscan_ungated.out"
run dbscan_gated 0 "$MC" cluster "$SAMPLE" --algo dbscan
check "dbscan with its gate: frac 0.6" grep -q "median + 0.6 (nn - median).*(auto; eps" "$WORK/dbscan_gated.out"
run sample_plain 0 "$MC" cluster "$SAMPLE" --algo dbscan --center off --eps 0.5 --core-quality off --noise-quality off
fq=$(field "$WORK/sample.out" BCubed 6)
fp=$(field "$WORK/sample_plain.out" BCubed 6)
echo "     sample BCubed F: quality-aware $fq, plain DBSCAN $fp"
check "quality-aware beats plain on the sample" awk -v a="$fq" -v b="$fp" 'BEGIN { exit !(a > b) }'
check "sample BCubed F above 0.9 with no parameters" awk -v a="$fq" 'BEGIN { exit !(a > 0.9) }'

# ---- label-free calibration ---------------------------------------------------
check "summary prints the calibration" grep -q "^  calibration  963 faces with quality >= .*: random pairs (200000) cosine median .*nearest good neighbour median 0\.[0-9]*$" "$WORK/sample.out"
check "summary prints the chosen threshold (map: cw's constants)" grep -q "^  threshold    similarity 0\.[0-9]* = max(median + 0.55 (nn - median), median + 3 sd) (auto" "$WORK/sample.out"
run sample_lk 0 "$MC" cluster "$SAMPLE" --algo linkage -o "$WORK/sample_lk.csv" --threads 1
check "summary prints the chosen threshold (linkage)" grep -q "^  threshold    similarity 0\.[0-9]* = max(median + 0.45 (nn - median), median + 2.5 sd) (auto" "$WORK/sample_lk.out"
fl=$(field "$WORK/sample_lk.out" BCubed 6)
run sample_again 0 "$MC" cluster "$SAMPLE" --threads 2
check "calibration: same data, same choice" cmp -s <(grep threshold "$WORK/sample.out") <(grep threshold "$WORK/sample_again.out")
thr=$(field "$WORK/sample_lk.out" threshold 2)
run sample_eps 0 "$MC" cluster "$SAMPLE" --algo linkage --eps "$(awk -v t="$thr" 'BEGIN { printf "%.10g", 1 - t }')" -o "$WORK/sample_eps.csv" --threads 1
check "the auto threshold given as --eps gives the same clusters" cmp -s "$WORK/sample_lk.csv" "$WORK/sample_eps.csv"
run sample_z 0 "$MC" cluster "$SAMPLE" --calib-frac 0.6
check "--calib-frac moves the threshold" not cmp -s <(grep threshold "$WORK/sample.out") <(grep threshold "$WORK/sample_z.out")
check "--calib-frac is reported" grep -q "= max(median + 0.6 (nn - median)" "$WORK/sample_z.out"
run sample_nocenter 0 "$MC" cluster "$SAMPLE" --center off
check "--center off is not centred" not grep -q "centred" "$WORK/sample_nocenter.out"

# ---- sweep ----------------------------------------------------------------------
run sweep 0 "$MC" sweep "$SAMPLE" --algo linkage,dbscan,cw --param frac=0.35:0.55:0.05 -o "$WORK/sweep.csv" --plot "$WORK/sweep.svg"
check "sweep: header" [ "$(head -n 1 "$WORK/sweep.csv")" = "algo,setting,frac,threshold,bcubed_p,bcubed_r,bcubed_f,pairwise_p,pairwise_r,pairwise_f,nmi,clusters,noise" ]
check "sweep: 3 algorithms x (5 settings + auto) rows" [ "$(tail -n +2 "$WORK/sweep.csv" | wc -l)" -eq 18 ]
check "sweep: one auto row per algorithm" [ "$(grep -c '^[a-z]*,auto,' "$WORK/sweep.csv")" -eq 3 ]
check "sweep: linkage at frac 0.45 equals the auto row" [ "$(grep '^linkage,sweep,0.45,' "$WORK/sweep.csv" | cut -d, -f4-)" = "$(grep '^linkage,auto,' "$WORK/sweep.csv" | cut -d, -f4-)" ]
lf=$(grep '^linkage,auto,' "$WORK/sweep.csv" | cut -d, -f7)
check "sweep: auto row matches cluster's own figure" awk -v a="$lf" -v b="$fl" 'BEGIN { exit !(sprintf("%.4f", a) == b) }'
check "sweep: the plot is SVG with lines" grep -q "<polyline" "$WORK/sweep.svg"
check "sweep: the plot marks the auto choice" grep -q "linkage auto 0.45 (F " "$WORK/sweep.svg"
check "sweep: the summary compares auto and best" grep -q "linkage  auto: F .* best of sweep: F" "$WORK/sweep.out"
run sweep2 0 "$MC" sweep "$SAMPLE" --param eps=0.5:0.7:0.1 --param core=40:60:10 -o "$WORK/sweep2.csv"
check "sweep: two parameters give every combination" [ "$(grep -c ',sweep,' "$WORK/sweep2.csv")" -eq 9 ]
run sweep_map 0 "$MC" sweep "$SAMPLE" --algo map --param slope=0:85:85 --param window=5:10:5 -o "$WORK/sweep_map.csv"
check "sweep: map's slope and window, every combination" [ "$(grep -c '^map,sweep,' "$WORK/sweep_map.csv")" -eq 4 ]
check "sweep: map at slope 85, window 10 equals the auto row" [ "$(grep '^map,sweep,85,10,' "$WORK/sweep_map.csv" | cut -d, -f4-)" = "$(grep '^map,auto,' "$WORK/sweep_map.csv" | cut -d, -f4-)" ]
# several algorithms: map's k 60 gets its own graph, so its auto row is what 'cluster' gives
run sweep_two_k 0 "$MC" sweep "$SAMPLE" --algo linkage,map --param eps=0.6:0.6:0.1 -o "$WORK/sweep_two_k.csv"
check "sweep: two graphs when map's k differs" grep -q "2 graphs built, k 30 and 60 in" "$WORK/sweep_two_k.out"
check "sweep: map's auto row equals cluster --algo map (k 60)" \
    [ "$(grep '^map,auto,' "$WORK/sweep_two_k.csv" | cut -d, -f7)" = "$(grep '^map,auto,' "$WORK/sweep_map.csv" | cut -d, -f8)" ]
bad sweep_window_whole 2 "window must be whole" "$MC" sweep "$SAMPLE" --algo map --param window=2.5 -o "$O"
bad sweep_no_labels 1 "no labels" "$MC" sweep "$FX/tiny_nolabels.h5" --param z=2:3:1 -o "$O"
check "sweep_no_labels wrote nothing" [ ! -e "$O" ]
bad sweep_no_param 2 "--param" "$MC" sweep "$SAMPLE" -o "$O"
bad sweep_no_output 2 "-o" "$MC" sweep "$SAMPLE" --param z=2:3:1
bad sweep_bad_name 2 "not eps, frac" "$MC" sweep "$SAMPLE" --param foo=1:2:1 -o "$O"
bad sweep_bad_range 2 "HI is below LO" "$MC" sweep "$SAMPLE" --param eps=0.7:0.5:0.1 -o "$O"
bad sweep_bad_step 2 "--param" "$MC" sweep "$SAMPLE" --param eps=0.5:0.7:0 -o "$O"
bad sweep_two_thresholds 2 "give one" "$MC" sweep "$SAMPLE" --param eps=0.5:0.7:0.1 --param frac=0.4:0.5:0.1 -o "$O"
bad sweep_dup_param 2 "twice" "$MC" sweep "$SAMPLE" --param z=2:3:1 --param z=2:3:1 -o "$O"
bad sweep_bad_algo 2 "--algo" "$MC" sweep "$SAMPLE" --algo kmeans --param z=2:3:1 -o "$O"
bad sweep_plot_is_out 1 "same file" "$MC" sweep "$SAMPLE" --param z=2:3:1 -o "$WORK/s.csv" --plot "$WORK/s.csv"
bad sweep_over_input 1 "overwrite an input" "$MC" sweep "$WORK/in.h5" --param z=2:3:1 -o "$WORK/in.h5"
# ---- eval --reject-curve -------------------------------------------------------------
run reject 0 "$MC" eval "$SAMPLE" "$WORK/sample.csv" --reject-curve "$WORK/reject.csv" --plot "$WORK/reject.svg"
check "reject: header" [ "$(head -n 1 "$WORK/reject.csv")" = "quality,reject_pct,faces,quality_below,bcubed_p,bcubed_r,bcubed_f,pairwise_f,nmi" ]
check "reject: 0, 5 ... 50 %" [ "$(tail -n +2 "$WORK/reject.csv" | cut -d, -f2 | tr '\n' ' ')" = "0 5 10 15 20 25 30 35 40 45 50 " ]
check "reject: 0 % keeps every face" [ "$(sed -n 2p "$WORK/reject.csv" | cut -d, -f3)" = 1926 ]
check "reject: 50 % keeps half" [ "$(tail -n 1 "$WORK/reject.csv" | cut -d, -f3)" = 963 ]
check "reject: 0 % equals the plain eval" [ "$(sed -n 2p "$WORK/reject.csv" | cut -d, -f7 | xargs printf %.4f)" = "$fq" ]
r0=$(sed -n 2p "$WORK/reject.csv" | cut -d, -f7); r50=$(tail -n 1 "$WORK/reject.csv" | cut -d, -f7)
check "reject: magnitude is a useful quality on the sample (F rises)" awk -v a="$r50" -v b="$r0" 'BEGIN { exit !(a > b) }'
check "reject: plot is SVG" grep -q "<polyline" "$WORK/reject.svg"
run reject_keys 0 "$MC" eval "$FX/tiny.h5" "$WORK/j.csv" --reject-curve "$WORK/reject2.csv" --quality-key magnitude,det_score --reject-max 20 --reject-step 10
check "reject: one curve per quality" [ "$(cut -d, -f1 "$WORK/reject2.csv" | tail -n +2 | sort | uniq -c | awk '{print $1 $2}' | tr '\n' ' ')" = "3det_score 3magnitude " ]
bad reject_bad_key 1 "nosuchkey" "$MC" eval "$SAMPLE" "$WORK/sample.csv" --reject-curve "$WORK/r3.csv" --quality-key nosuchkey
check "reject_bad_key wrote nothing" [ ! -e "$WORK/r3.csv" ]
bad reject_plot_alone 2 "--plot needs" "$MC" eval "$SAMPLE" "$WORK/sample.csv" --plot "$WORK/r.svg"
bad reject_bad_max 2 "--reject-max" "$MC" eval "$SAMPLE" "$WORK/sample.csv" --reject-curve "$O" --reject-max 99
bad reject_over_pred 1 "overwrite an input" "$MC" eval "$SAMPLE" "$WORK/sample.csv" --reject-curve "$WORK/sample.csv"
check "sweep left no temporary files" [ -z "$(ls -A "$WORK" | grep '\.tmp')" ]

# ---- knn graph files, --graph, --index ------------------------------------------
run knn_save 0 "$MC" knn "$SAMPLE" -o "$WORK/graph.h5"
check "knn: prints the index" grep -q "index Flat (exact)" "$WORK/knn_save.out"
run knn_direct 0 "$MC" cluster "$SAMPLE" -q -o "$WORK/direct.csv"
run knn_reuse 0 "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" -o "$WORK/reuse.csv"
run info_graph 0 "$MC" info "$WORK/graph.h5"
check "info describes a k-NN graph" grep -q "^  faces        1926, k 60, dimension 512$" "$WORK/info_graph.out"
check "--graph gives the same clusters as a new search" cmp -s "$WORK/direct.csv" "$WORK/reuse.csv"
check "--graph is named in the summary" grep -q "graph loaded from" "$WORK/knn_reuse.out"
run knn_sweep 0 "$MC" sweep "$SAMPLE" --graph "$WORK/graph.h5" --param frac=0.4:0.5:0.05 -o "$WORK/gsweep.csv"
check "sweep --graph: 3 rows + auto" [ "$(tail -n +2 "$WORK/gsweep.csv" | wc -l)" -eq 4 ]
bad knn_other_file 1 "faces" "$MC" cluster "$FX/tiny.h5" --graph "$WORK/graph.h5" -o "$WORK/out.csv"
bad knn_other_center 1 "--center on" "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" --center off -o "$WORK/out.csv"
bad knn_other_k 1 "k = 60" "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" -k 10 -o "$WORK/out.csv"
bad knn_not_graph 1 "$SAMPLE" "$MC" cluster "$SAMPLE" --graph "$SAMPLE" -o "$WORK/out.csv"
bad knn_missing_graph 1 "nosuch.h5" "$MC" cluster "$SAMPLE" --graph "$WORK/nosuch.h5" -o "$WORK/out.csv"
# as many faces, other values: the fingerprint tells them apart
run knn_seed2 0 "$MC" synth -o "$WORK/seed2g.h5" --ids 150 --dim 512 --seed 2
bad knn_other_data 1 "fingerprint" "$MC" cluster "$WORK/seed2g.h5" --graph "$WORK/graph.h5" -o "$WORK/out.csv"
# ---- shard jobs: knn --shard I/N, knn --merge ---------------------------------
# N = 1, 2, 3 and an uneven 7 (1926 = 7 x 275 + 1) of the sample, each merged
# from parts given in a scrambled order: the graph file of one 'knn' run,
# byte for byte, and the clusters of the direct run
for ns in 1 2 3 7; do
    parts=()
    for ((i = ns - 1; i >= 0; i--)); do
        run "shard_${i}of${ns}" 0 "$MC" knn "$SAMPLE" --shard "$i/$ns" -o "$WORK/part$ns-$i.h5"
        parts+=("$WORK/part$ns-$i.h5")
    done
    run "shard_merge_$ns" 0 "$MC" knn --merge "${parts[@]}" -o "$WORK/merged$ns.h5"
    check "shard: $ns parts merged are the one-run graph file, byte for byte" cmp -s "$WORK/graph.h5" "$WORK/merged$ns.h5"
    run "shard_cluster_$ns" 0 "$MC" cluster "$SAMPLE" --graph "$WORK/merged$ns.h5" -q -o "$WORK/merged$ns.csv"
    check "shard: cluster --graph on $ns merged parts gives the direct run's CSV" cmp -s "$WORK/direct.csv" "$WORK/merged$ns.csv"
done
check "shard: the summary names the rows" grep -q "^  shard        6 of 7: rows 1650 to 1925 (276 faces), k 60, index Flat (exact)$" "$WORK/shard_6of7.out"
check "shard: the merge summary" grep -q "^  graph        1926 faces, k 60, index Flat, centring on$" "$WORK/shard_merge_7.out"
# other options travel into the parts: --center off, -k 10, on the 40-face
# fixture in 40 one-face shards (every block boundary inside the one block)
run shard_k10_full 0 "$MC" knn "$SAMPLE" --center off -k 10 -q -o "$WORK/graph_k10.h5"
run shard_k10_0 0 "$MC" knn "$SAMPLE" --center off -k 10 --shard 0/2 -q -o "$WORK/k10-0.h5"
run shard_k10_1 0 "$MC" knn "$SAMPLE" --center off -k 10 --shard 1/2 -q -o "$WORK/k10-1.h5"
run shard_k10_merge 0 "$MC" knn --merge "$WORK/k10-0.h5" "$WORK/k10-1.h5" -q -o "$WORK/merged_k10.h5"
check "shard: --center off -k 10 merged is the one-run graph" cmp -s "$WORK/graph_k10.h5" "$WORK/merged_k10.h5"
run shard_tiny_full 0 "$MC" knn "$FX/tiny.h5" -q -o "$WORK/tiny_graph.h5"
tiny_parts=()
for ((i = 0; i < 40; i++)); do
    "$MC" knn "$FX/tiny.h5" --shard "$i/40" -q -o "$WORK/tiny-$i.h5" || ko "shard: tiny $i/40"
    tiny_parts+=("$WORK/tiny-$i.h5")
done
run shard_tiny_merge 0 "$MC" knn --merge "${tiny_parts[@]}" -q -o "$WORK/tiny_merged.h5"
check "shard: 40 one-face shards of 40 faces merged are the one-run graph" cmp -s "$WORK/tiny_graph.h5" "$WORK/tiny_merged.h5"
# Int8 shards: the one-run Int8 graph, byte for byte
run int8_full 0 "$MC" knn "$SAMPLE" --index Int8 -o "$WORK/int8_graph.h5"
check "knn: Int8 names itself in the summary" grep -q "index Int8 (8-bit, re-ranked)  search .* s  recall@60 " "$WORK/int8_full.out"
for i in 0 1 2; do
    "$MC" knn "$SAMPLE" --index Int8 --shard "$i/3" -q -o "$WORK/int8-$i.h5" || ko "shard: Int8 $i/3"
done
run int8_merge 0 "$MC" knn --merge "$WORK/int8-0.h5" "$WORK/int8-1.h5" "$WORK/int8-2.h5" -q -o "$WORK/int8_merged.h5"
check "shard: 3 Int8 parts merged are the one-run Int8 graph, byte for byte" cmp -s "$WORK/int8_graph.h5" "$WORK/int8_merged.h5"
run int8_cluster 0 "$MC" cluster "$SAMPLE" --index Int8 -q -o "$WORK/int8.csv"
check "cluster: Int8 gives the exact graph's clusters on the sample" cmp -s "$WORK/direct.csv" "$WORK/int8.csv"
# a part is no graph, a graph no part; refusals name the file
run shard_other_data 0 "$MC" knn "$WORK/seed2g.h5" --shard 1/3 -q -o "$WORK/other-1.h5"
run shard_three_of_four 0 "$MC" knn "$SAMPLE" --shard 2/4 -q -o "$WORK/part4-2.h5"
bad shard_part_as_graph 1 "one part of a sharded k-NN graph" "$MC" cluster "$SAMPLE" --graph "$WORK/part3-0.h5" -o "$WORK/out.csv"
bad merge_missing 1 "shard 1 of 3 is missing" "$MC" knn --merge "$WORK/part3-0.h5" "$WORK/part3-2.h5" -o "$WORK/out.csv"
bad merge_duplicate 1 "part3-1.h5: shard 1 of 3 is given twice" "$MC" knn --merge "$WORK/part3-0.h5" "$WORK/part3-1.h5" "$WORK/part3-1.h5" "$WORK/part3-2.h5" -o "$WORK/out.csv"
bad merge_other_data 1 "other-1.h5: embeddings fingerprint" "$MC" knn --merge "$WORK/part3-0.h5" "$WORK/other-1.h5" "$WORK/part3-2.h5" -o "$WORK/out.csv"
bad merge_other_faces 1 "k10-1.h5: faces 1926, but" "$MC" knn --merge "$WORK/tiny-0.h5" "$WORK/k10-1.h5" -o "$WORK/out.csv"
bad merge_other_k 1 "k10-1.h5: k 10, but" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/k10-1.h5" -o "$WORK/out.csv"
run shard_center_off 0 "$MC" knn "$SAMPLE" --center off --shard 1/2 -q -o "$WORK/off-1.h5"
bad merge_other_center 1 "off-1.h5: centring off" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/off-1.h5" -o "$WORK/out.csv"
bad merge_other_count 1 "part4-2.h5: shard count 4" "$MC" knn --merge "$WORK/part3-0.h5" "$WORK/part3-1.h5" "$WORK/part4-2.h5" -o "$WORK/out.csv"
bad merge_whole_graph 1 "graph.h5: a whole k-NN graph, not a part" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/graph.h5" -o "$WORK/out.csv"
bad merge_nosuch 1 "nosuch.h5: no such file" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/nosuch.h5" -o "$WORK/out.csv"
head -c 3000 "$WORK/part2-1.h5" >"$WORK/truncated.h5"
bad merge_truncated 1 "truncated.h5" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/truncated.h5" -o "$WORK/out.csv"
bad merge_embeddings 1 "sample.h5: no /knn group" "$MC" knn --merge "$SAMPLE" -o "$WORK/out.csv"
bad merge_search_option 2 "--merge takes only -o and -q, not '-k'" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/part2-1.h5" -k 10 -o "$WORK/out.csv"
bad merge_and_shard 2 "--merge and --shard exclude each other" "$MC" knn --merge --shard 0/2 "$WORK/part2-0.h5" -o "$WORK/out.csv"
bad merge_no_parts 2 "--merge needs the part files" "$MC" knn --merge -o "$WORK/out.csv"
bad merge_no_output 2 "-o GRAPH.h5 is required" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/part2-1.h5"
bad merge_over_part 1 "overwrite an input" "$MC" knn --merge "$WORK/part2-0.h5" "$WORK/part2-1.h5" -o "$WORK/part2-1.h5"
bad shard_bad_spec 2 "--shard '3/3': expected I/N" "$MC" knn "$SAMPLE" --shard 3/3 -o "$WORK/out.csv"
bad shard_bad_spec_text 2 "--shard '1of2': expected I/N" "$MC" knn "$SAMPLE" --shard 1of2 -o "$WORK/out.csv"
bad shard_too_many 1 "5000 shards of 1926 faces" "$MC" knn "$SAMPLE" --shard 0/5000 -o "$WORK/out.csv"
bad shard_approximate 1 "only the exhaustive indexes Flat and Int8" "$MC" knn "$SAMPLE" --index Cells8 --shard 0/2 -o "$WORK/out.csv"
bad shard_recall 2 "--recall-sample needs the whole graph" "$MC" knn "$SAMPLE" --shard 0/2 --recall-sample 100 -o "$WORK/out.csv"
bad shard_no_output 2 "-o PART.h5 is required" "$MC" knn "$SAMPLE" --shard 0/2

# the graph is an input: no output may replace it, --force or not
cp "$WORK/graph.h5" "$WORK/graph_keep.h5"
bad graph_as_output 1 "overwrite an input" "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" --force -o "$WORK/graph.h5"
bad graph_as_model 1 "overwrite an input" "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" --force --save-model "$WORK/graph.h5"
bad graph_as_sweep 1 "overwrite an input" "$MC" sweep "$SAMPLE" --graph "$WORK/graph.h5" --param frac=0.5 --force -o "$WORK/graph.h5"
bad graph_as_plot 1 "overwrite an input" "$MC" sweep "$SAMPLE" --graph "$WORK/graph.h5" --param frac=0.5 --force -o "$WORK/gs.csv" --plot "$WORK/graph.h5"
check "the graph survived every attempt" cmp -s "$WORK/graph.h5" "$WORK/graph_keep.h5"
bad knn_no_output 2 "-o GRAPH.h5" "$MC" knn "$SAMPLE"
bad knn_over_input 1 "overwrite an input" "$MC" knn "$SAMPLE" -o "$SAMPLE"
# a pipe (like /dev/null) must not be replaced by the rename of the output
mkfifo "$WORK/fifo"
bad out_fifo 1 "not a regular file" "$MC" knn "$SAMPLE" -o "$WORK/fifo"
check "the pipe is still a pipe" [ -p "$WORK/fifo" ]
bad out_fifo_cluster 1 "not a regular file" "$MC" cluster "$SAMPLE" -o "$WORK/fifo"
bad knn_bad_index 1 "Bogus" "$MC" cluster "$SAMPLE" --index Bogus -o "$WORK/out.csv"
bad knn_bad_nprobe 2 "--nprobe" "$MC" cluster "$SAMPLE" --nprobe 0 -o "$WORK/out.csv"
run knn_ivf 0 "$MC" cluster "$SAMPLE" --index IVF16,Flat --nprobe 16 --json -o "$WORK/ivf.csv"
check "--index IVF: JSON names the index and nprobe" grep -q '"index":"IVF16,Flat","exact":false' "$WORK/knn_ivf.out"
# Cells visiting every cell is an exact search: the same clusters as Flat
run knn_cells_all 0 "$MC" cluster "$SAMPLE" --index Cells8 --nprobe 8 --json -o "$WORK/cells_all.csv"
check "--index Cells: JSON names the index, nprobe and the pairs compared" \
    grep -q '"index":"Cells8","exact":false,"graph":null,"nprobe":8' "$WORK/knn_cells_all.out"
check "--index Cells8 --nprobe 8 clusters as the exact search" cmp -s "$WORK/direct.csv" "$WORK/cells_all.csv"
run knn_cells 0 "$MC" cluster "$SAMPLE" --index Cells16 --nprobe 4 -o "$WORK/cells.csv"
check "--index Cells: the summary says approximate and the share of pairs compared" \
    grep -q 'index Cells16 (approximate, nprobe 4, trained on .* faces, .*% of the pairs compared)' "$WORK/knn_cells.out"
run knn_cells_t1 0 "$MC" cluster "$SAMPLE" --index Cells16 --nprobe 4 --threads 1 -q -o "$WORK/cells_t1.csv"
check "--index Cells: --threads 1 gives the same clusters" cmp -s "$WORK/cells.csv" "$WORK/cells_t1.csv"
bad knn_bad_cells 1 "Cells0" "$MC" cluster "$SAMPLE" --index Cells0 -o "$WORK/out.csv"
# HNSW<M> (hnswlib): one thread is reproducible; the summary names it and
# measures its recall by default; FAISS's HNSW is HNSW<M>,Flat (the default
# algorithm, map, reads k 60: efSearch max(128, 4 (k + 1)) = 244)
run knn_hnsw 0 "$MC" cluster "$SAMPLE" --index HNSW16 --threads 1 -o "$WORK/hnsw.csv"
check "--index HNSW16: the summary names it, its depths and the recall it measured" \
    grep -Eq 'index HNSW16 \(approximate, efConstruction 128, efSearch 244\).*recall@60 [01]\.[0-9]{3} \([01]\.[0-9]{3} better half, 1000 sampled' "$WORK/knn_hnsw.out"
run knn_hnsw_again 0 "$MC" cluster "$SAMPLE" --index HNSW16 --threads 1 -q -o "$WORK/hnsw2.csv"
check "--index HNSW16 --threads 1 twice: the same clusters" cmp -s "$WORK/hnsw.csv" "$WORK/hnsw2.csv"
run knn_hnsw_threads 0 "$MC" cluster "$SAMPLE" --index HNSW32 --threads 2 --ef-search 200 --recall-sample 500 --json -q
check "--index HNSW32 --json: the index, efSearch and the recall sampled" \
    grep -Eq '"index":"HNSW32".*"ef_search":200.*"recall":\{"k":60,"sampled":500,"overall":0\.9[5-9]|"recall":\{"k":60,"sampled":500,"overall":1[,}]' "$WORK/knn_hnsw_threads.out"
run knn_faiss_hnsw 0 "$MC" cluster "$SAMPLE" --index HNSW16,Flat --recall-sample 0 -o "$WORK/fhnsw.csv"
check "--index HNSW16,Flat is FAISS's, --recall-sample 0 measures nothing" \
    grep -q 'index HNSW16,Flat (approximate, efSearch 122)  train .* s$' "$WORK/knn_faiss_hnsw.out"
bad knn_bad_hnsw 1 "HNSW<M>" "$MC" cluster "$SAMPLE" --index HNSW1 -o "$WORK/out.csv"
bad knn_bad_hnsw_spec 1 "HNSW<M>" "$MC" knn "$SAMPLE" --index HNSW32x -o "$WORK/out.csv"
# --recall-sample: off for an exact graph unless asked; exact is 1
check "an exact graph: no recall by default" not grep -q "recall@" "$WORK/knn_direct.out" "$WORK/knn_save.out"
run knn_recall_exact 0 "$MC" knn "$SAMPLE" --recall-sample 200 -o "$WORK/graph_r.h5"
check "knn --recall-sample on Flat: recall 1" \
    grep -q 'index Flat (exact)  search .* s  recall@60 1.000 (1.000 better half, 200 sampled' "$WORK/knn_recall_exact.out"
run knn_recall_graph 0 "$MC" cluster "$SAMPLE" --graph "$WORK/graph.h5" --recall-sample 100 -q --json
check "--graph --recall-sample: measured on the loaded graph" \
    grep -q '"recall":{"k":60,"sampled":100,"overall":1,' "$WORK/knn_recall_graph.out"
check "JSON of an exact graph: no recall estimate, nulls" grep -q '"recall":{"k":null' "$WORK/min_size.out"
check "JSON of an approximate graph: the recall estimated by default" grep -q '"recall":{"k":60,"sampled":1000,' "$WORK/knn_ivf.out"
run knn_recall_k 0 "$MC" knn "$SAMPLE" --index Cells16 --nprobe 4 --recall-k 10 -o "$WORK/graph_r10.h5"
check "--recall-k 10: the knn line says recall@10" grep -q 'recall@10 [01]\.[0-9]* (.* better half, 1000 sampled' "$WORK/knn_recall_k.out"
bad knn_recall_k_over 1 "recall@61" "$MC" cluster "$SAMPLE" --recall-k 61 --recall-sample 10 -o "$WORK/out.csv"
bad knn_bad_recall 2 "--recall-sample" "$MC" cluster "$SAMPLE" --recall-sample -1 -o "$WORK/out.csv"
bad knn_bad_recall_knn 2 "--recall-sample" "$MC" knn "$SAMPLE" --recall-sample many -o "$WORK/out.csv"
bad sweep_no_recall 2 "recall-sample" "$MC" sweep "$SAMPLE" --recall-sample 10 --param frac=0.5 -o "$WORK/out.csv"
run knn_threads 0 "$MC" cluster "$SAMPLE" -q --threads 1 -o "$WORK/t1.csv"
check "--threads 1 gives the same clusters" cmp -s "$WORK/direct.csv" "$WORK/t1.csv"

# assign: a model saved by cluster places faces later
run model_save 0 "$MC" cluster "$SAMPLE" -o "$WORK/m_direct.csv" --save-model "$WORK/model.h5"
run info_model 0 "$MC" info "$WORK/model.h5"
check "info describes a model" grep -Eq "^  clusters     [0-9]+ \(0 named\), 1926 faces kept, dimension 512$" "$WORK/info_model.out"
bad assign_out_tsv 2 "not '.tsv'" "$MC" assign "$WORK/model.h5" "$FX/tiny.h5" -o "$WORK/out.tsv"
check "--save-model: the summary names the model" grep -q "model .*model.h5 (.* clusters" "$WORK/model_save.out"
check "--save-model does not change the clusters" cmp -s "$WORK/direct.csv" "$WORK/m_direct.csv"
cp "$WORK/model.h5" "$WORK/model_copy.h5"
run assign_self 0 "$MC" assign "$WORK/model.h5" "$SAMPLE" -o "$WORK/again.csv"
check "assign: the summary counts core, border, unassigned" grep -q "assigned .* core, .* border; .* unassigned" "$WORK/assign_self.out"
# every core face of the collection lands back in its own cluster
moved=$(awk -F, 'FNR == 1 { next } NR == FNR { if ($4 == "core") c[$1] = $3; next } ($1 in c) && c[$1] != $3 { m++ } END { print m + 0 }' \
    "$WORK/direct.csv" "$WORK/again.csv")
check "assign of the collection itself keeps every core face's cluster" [ "$moved" -eq 0 ]
check "assign without --update leaves the model alone" cmp -s "$WORK/model.h5" "$WORK/model_copy.h5"
run assign_update_same 0 "$MC" assign "$WORK/model.h5" "$SAMPLE" -o "$WORK/upd.csv" --update --model-out "$WORK/model2.h5"
check "assign --update: the summary reports the update" grep -q "update .* new clusters" "$WORK/assign_update_same.out"
check "assign --update --model-out writes the new model, not over the old" cmp -s "$WORK/model.h5" "$WORK/model_copy.h5"
check "the updated model is a model" "$MC" assign "$WORK/model2.h5" "$SAMPLE" -q -o "$WORK/upd2.csv"
run assign_h5 0 "$MC" assign "$WORK/model.h5" "$SAMPLE" -q -o "$WORK/again.h5"
check "assign: the output carries the confidence columns" [ "$(head -n 1 "$WORK/again.csv" | tr -d '\r')" = "index,path,cluster,role,quality,similarity,margin,representative" ]
# a face assigned to a cluster has a similarity; an unassigned one no margin
check "assign: assigned faces are scored, unassigned ones have no margin" [ "$(tr -d '\r' <"$WORK/again.csv" | awk -F, 'NR > 1 && (($3 >= 0 && ($6 == "" || $7 == "")) || ($3 < 0 && $7 != "")) { b++ } END { print b + 0 }')" -eq 0 ]
check "assign: at most one representative per cluster" [ "$(tr -d '\r' <"$WORK/again.csv" | awk -F, 'NR > 1 && $8 == 1 { print $3 }' | sort | uniq -d | wc -l)" -eq 0 ]
run info_assign_h5 0 "$MC" info "$WORK/again.h5"
check "assign: the HDF5 output has the confidence datasets" grep -q "^  confidence   [1-9][0-9]* faces with a margin" "$WORK/info_assign_h5.out"
run report_conf 0 "$MC" report "$WORK/direct.csv" -q -o "$WORK/direct.html"
check "report: a 'faces to check' table of 20 faces" [ "$(grep -o '<a href="#c[0-9]*" data-cluster' "$WORK/direct.html" | wc -l)" -ge 20 ]
check "one representative per cluster of the sample" [ "$(tr -d '\r' <"$WORK/direct.csv" | awk -F, 'NR > 1 && $8 == 1' | wc -l)" -eq "$(tr -d '\r' <"$WORK/direct.csv" | awk -F, 'NR > 1 && $3 >= 0 { print $3 }' | sort -u | wc -l)" ]
# each cluster's first face in the report's data is its representative
not_first=$(grep -o '"f":\[[0-9]*' "$WORK/direct.html" | sed 's/.*\[//' |
    awk 'NR == FNR { first[$1 + 2] = 1; n++; next } (FNR in first) && $8 != 1 { b++ } END { print (n ? b + 0 : -1) }' - FS=, <(tr -d '\r' <"$WORK/direct.csv"))
check "report: the representative is each cluster's first face (its avatar)" [ "$not_first" -eq 0 ]
bad assign_no_out 2 "-o NEW.csv" "$MC" assign "$WORK/model.h5" "$SAMPLE"
bad assign_one_file 2 "MODEL.h5 and NEW.h5" "$MC" assign "$WORK/model.h5" -o "$WORK/x.csv"
bad assign_model_out_alone 2 "--model-out needs --update" "$MC" assign "$WORK/model.h5" "$SAMPLE" -o "$WORK/x.csv" --model-out "$WORK/y.h5"
bad assign_not_model 1 "not a magclust model" "$MC" assign "$SAMPLE" "$SAMPLE" -o "$WORK/x.csv"
bad assign_graph_not_model 1 "not a magclust model" "$MC" assign "$WORK/graph.h5" "$SAMPLE" -o "$WORK/x.csv"
bad assign_missing_model 1 "nosuch.h5" "$MC" assign "$WORK/nosuch.h5" "$SAMPLE" -o "$WORK/x.csv"
bad assign_dim 1 "the model" "$MC" assign "$WORK/model.h5" "$FX/tiny.h5" -o "$WORK/x.csv"
bad assign_qkey 2 "magnitude" "$MC" assign "$WORK/model.h5" "$SAMPLE" -o "$WORK/x.csv" --quality-key det_score
bad assign_over_model 1 "overwrite an input" "$MC" assign "$WORK/model.h5" "$SAMPLE" -o "$WORK/model.h5"
check "a refused run leaves the model intact" cmp -s "$WORK/model.h5" "$WORK/model_copy.h5"
bad model_same_as_out 2 "same file" "$MC" cluster "$SAMPLE" -o "$WORK/same.h5" --save-model "$WORK/same.h5"


# ---- constraints: same photo, corrections, stable ids ------------------------
# photo j holds face j of identity 0 and face j of identity 1; at eps 1.9
# everything merges, so the photo key has pairs to pull apart
run photo_off 0 "$MC" cluster "$FX/tiny_photo.h5" --algo linkage -o "$WORK/photo_off.csv" --eps 1.9 --core-quality off --noise-quality off
run photo_on 0 "$MC" cluster "$FX/tiny_photo.h5" --algo linkage -o "$WORK/photo_on.csv" --eps 1.9 --core-quality off --noise-quality off --photo-key photo
same_photo_pairs() { awk -F, 'NR > 1 && $1 < 20 && $3 >= 0 { k = ($1 % 10) "/" $3; if (k in s) bad++; s[k] = 1 } END { print bad + 0 }' "$1"; }
check "without the photo key, faces of one photo share a cluster" [ "$(same_photo_pairs "$WORK/photo_off.csv")" -gt 0 ]
check "with --photo-key no two faces of one photo share a cluster" [ "$(same_photo_pairs "$WORK/photo_on.csv")" -eq 0 ]
check "photo: the summary counts photos and violations" grep -q "photo key 'photo': 10 photos, 10 pairs.*" "$WORK/photo_on.out"
check "photo: violations resolved" grep -Eq "violations? resolved" "$WORK/photo_on.out"
bad photo_missing 1 "no dataset /nophoto" "$MC" cluster "$FX/tiny_photo.h5" -o "$WORK/out.csv" --photo-key nophoto
bad photo_float 1 "integers or strings" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --photo-key det_score

# uint64 photo ids (hashes) from 2^63 up are read exactly, not clamped into
# one photo: the same clusters as with the int64 ids
run photo_u64 0 "$MC" cluster "$FX/tiny_photo_u64.h5" --algo linkage -o "$WORK/photo_u64.csv" --eps 1.9 --core-quality off --noise-quality off --photo-key photo
check "uint64 photo ids cluster as the int64 ones" cmp -s "$WORK/photo_on.csv" "$WORK/photo_u64.csv"
check "uint64 photo ids: 20 photos of one face, 10 of two" grep -q "30 photos, 10 pairs of faces that may not meet" "$WORK/photo_u64.out"
bad labels_u64 1 "above 2^63 - 1: labels must fit an int64" "$MC" cluster "$FX/bad_labels_u64.h5" -o "$WORK/out.csv"

# corrections on the tiny set (4 clean identities at the default settings)
run corr_base 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/corr_base.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3
printf 'path,person\n# two faces of id2 are named, one is "not Ann"\nid2/img_03.jpg,Ann\nid2/img_04.jpg,Ann\nid2/img_05.jpg,!Ann\n\n"id3/img_01.jpg",Bo\nid1/img_01.jpg,id1/img_02.jpg,different\nnot/here.jpg,Cy\n' >"$WORK/fix.csv"
run corr 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/corr.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 --corrections "$WORK/fix.csv"
cl_of() { awk -F, -v p="$2" '$2 == p { print $3 }' "$1"; }
person_of() { awk -F, -v p="$2" '$2 == p { print $6 }' "$1" | tr -d '\r'; }
check "corrections: the output has a person column" [ "$(head -n 1 "$WORK/corr.csv" | tr -d '\r')" = "index,path,cluster,role,quality,person,similarity,margin,representative" ]
check "corrections: the named cluster carries the name" [ "$(person_of "$WORK/corr.csv" id2/img_07.jpg)" = "Ann" ]
check "corrections: a second person is named" [ "$(person_of "$WORK/corr.csv" id3/img_05.jpg)" = "Bo" ]
check "corrections: 'not Ann' left Ann's cluster" [ "$(cl_of "$WORK/corr.csv" id2/img_05.jpg)" != "$(cl_of "$WORK/corr.csv" id2/img_03.jpg)" ]
check "corrections: 'different' faces are apart" [ "$(cl_of "$WORK/corr.csv" id1/img_01.jpg)" != "$(cl_of "$WORK/corr.csv" id1/img_02.jpg)" ]
check "corrections: an unknown path is counted, not fatal" grep -q "1 name faces not in this input" "$WORK/corr.out"
run corr_again 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/corr2.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 --corrections "$WORK/fix.csv" --previous "$WORK/corr.csv"
check "a re-run with the same corrections and --previous gives the same result" cmp -s "$WORK/corr.csv" "$WORK/corr2.csv"
check "previous: every cluster kept" grep -q "4 clusters kept, 0 merged, 0 split, 0 new, 0 gone" "$WORK/corr_again.out"
printf 'id2/img_03.jpg,Ann\nid2/img_04.jpg,Bo\nid2/img_03.jpg,id2/img_04.jpg,same\n' >"$WORK/conflict.csv"
bad corr_conflict 1 "line 1 names a face 'Ann' and" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --corrections "$WORK/conflict.csv"
check "corr_conflict names the joining line" grep -q "line 3" "$WORK/corr_conflict.err"
printf 'id2/img_03.jpg,id2/img_04.jpg,same\nid2/img_04.jpg,id2/img_05.jpg,same\nid2/img_05.jpg,id2/img_03.jpg,different\n' >"$WORK/conflict2.csv"
bad corr_conflict_chain 1 "conflict2.csv: line 3 says two faces are different people, but" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --corrections "$WORK/conflict2.csv"
printf 'id2/img_03.jpg,7\n' >"$WORK/ids.csv"
bad corr_id_without_previous 1 "give --previous" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --corrections "$WORK/ids.csv"
printf 'id2/img_03.jpg,id2/img_04.jpg,perhaps\n' >"$WORK/rel.csv"
bad corr_relation 1 "rel.csv: line 1: relation 'perhaps'" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --corrections "$WORK/rel.csv"
bad corr_missing 1 "nosuch.csv" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --corrections "$WORK/nosuch.csv"
bad corr_no_paths 1 "no paths" "$MC" cluster "$FX/tiny_nolabels.h5" -o "$WORK/out.csv" --corrections "$WORK/fix.csv"

# --previous: a new parameter setting keeps the ids of the clusters it keeps
awk -F, 'BEGIN { OFS = "," } NR == 1 { print; next } { $3 = ($3 >= 0 ? $3 + 40 : $3); print }' "$WORK/corr_base.csv" >"$WORK/shifted.csv"
run prev 0 "$MC" cluster "$FX/tiny.h5" -o "$WORK/prev.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 --previous "$WORK/shifted.csv"
check "previous: ids carried over" [ "$(cut -d, -f3 "$WORK/prev.csv" | tail -n +2 | sort -u | tr '\n' ' ')" = "$(cut -d, -f3 "$WORK/shifted.csv" | tail -n +2 | sort -u | tr '\n' ' ')" ]
run prev_json 0 "$MC" cluster "$FX/tiny.h5" --json --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 --previous "$WORK/shifted.csv"
check "previous: JSON has the kept count" grep -q '"previous":{"file":"[^"]*","faces_found":40,"kept":4' "$WORK/prev_json.out"
bad prev_over_itself 1 "overwrite an input" "$MC" cluster "$FX/tiny.h5" -o "$WORK/shifted.csv" --previous "$WORK/shifted.csv"
printf 'index,cluster\n0,1\n' >"$WORK/badprev.csv"
bad prev_bad 1 "badprev.csv: line 1: the header needs 'path' and 'cluster'" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" --previous "$WORK/badprev.csv"

# a photo column in CSV embeddings reaches --photo-key through import
printf 'path,photo,e0,e1,e2\na.jpg,p1,1,0,0\nb.jpg,p1,0.9,0.1,0\nc.jpg,p2,0.95,0.05,0\nd.jpg,,0,1,0\ne.jpg,p3,0.05,1,0\n' >"$WORK/photo_col.csv"
run import_photo 0 "$MC" import csv "$WORK/photo_col.csv" -o "$WORK/photo_col.h5"
run photo_col_off 0 "$MC" cluster "$WORK/photo_col.h5" -o "$WORK/photo_col_off.csv" -k 3 --eps 0.3 --noise-quality off --core-quality off
run photo_col_on 0 "$MC" cluster "$WORK/photo_col.h5" -o "$WORK/photo_col_on.csv" -k 3 --eps 0.3 --noise-quality off --core-quality off --photo-key photo
check "photo column: without the key a.jpg and b.jpg share a cluster" [ "$(cl_of "$WORK/photo_col_off.csv" a.jpg)" = "$(cl_of "$WORK/photo_col_off.csv" b.jpg)" ]
check "photo column: imported as /photo, the key keeps them apart" [ "$(cl_of "$WORK/photo_col_on.csv" a.jpg)" != "$(cl_of "$WORK/photo_col_on.csv" b.jpg)" ]
check "photo column: 3 photos counted" grep -q "photo key 'photo': 3 photos, 1 pairs" "$WORK/photo_col_on.out"

# ---- CSV column roles: quality columns kept apart from the embedding, other
# tools' names, nothing folded in silently ---------------------------------
# path,det_score,e0..e7: 8-d (det_score is not dimension 0), /det_score kept
awk -F, 'BEGIN { OFS = "," } { sub(/\r$/, ""); $2 = NR == 1 ? "det_score" : 0.5 + (NR % 7) / 10; print }' \
    "$WORK/tiny_x.csv" >"$WORK/roles_q.csv"
run import_quality_col 0 "$MC" import csv "$WORK/roles_q.csv" -o "$WORK/roles_q.h5"
check "det_score beside e0..e7: the roles are listed" grep -q "^columns: path (path), det_score (quality, kept as /det_score), e0..e7 (embedding, 8-d)$" "$WORK/import_quality_col.out"
run roles_q_info 0 "$MC" info "$WORK/roles_q.h5"
check "det_score beside e0..e7: 40 x 8, /det_score a dataset of its own" grep -q "faces        40 x 8" "$WORK/roles_q_info.out"
check "det_score beside e0..e7: /det_score a quality key" grep -q "quality keys det_score" "$WORK/roles_q_info.out"
run roles_q_cluster 0 "$MC" cluster "$WORK/roles_q.h5" --quality-key det_score -o "$WORK/roles_q.csv.out.csv"
check "det_score beside e0..e7: cluster --quality-key det_score reads it" grep -q "quality      det_score" "$WORK/roles_q_cluster.out"
# the vector in one column, det_score beside it
awk -F, '{ sub(/\r$/, "") } NR == 1 { print "path,det_score,embedding"; next }
    { v = $3; for (i = 4; i <= NF; i++) v = v ", " $i; printf "%s,0.9,\"[%s]\"\n", $1, v }' "$WORK/tiny_x.csv" >"$WORK/roles_vec.csv"
run import_quality_vec 0 "$MC" import csv "$WORK/roles_vec.csv" -o "$WORK/roles_vec.h5"
check "det_score beside a vector column: 8-d, /det_score kept" grep -q "^columns: path (path), det_score (quality, kept as /det_score), embedding (embedding: the vector, 8-d)$" "$WORK/import_quality_vec.out"
# a number with no role, two embeddings, an option naming no column: refused
printf 'path,age,e0,e1,e2\na.jpg,31,1,2,3\nb.jpg,40,1,2,2\n' >"$WORK/roles_age.csv"
bad import_no_role 1 "roles_age.csv: line 1: no role for column 'age' (not a known name, not part of the embedding); the columns: path (path), age (no role: a number), e0..e2 (embedding, 3-d); say what it is: --quality-columns age" "$MC" import csv "$WORK/roles_age.csv" -o "$O"
run import_no_role_kept 0 "$MC" import csv "$WORK/roles_age.csv" --quality-columns age -q -o "$WORK/roles_age.h5"
run import_no_role_left 0 "$MC" import csv "$WORK/roles_age.csv" --ignore-columns age -q -o "$WORK/roles_age2.h5"
printf 'e0,e1,f0,f1\n1,2,3,4\n' >"$WORK/roles_two.csv"
bad import_two_embeddings 1 "more than one candidate for the embedding (marked 'embedding?'): e0..e1 (embedding?), f0..f1 (embedding?)" "$MC" import csv "$WORK/roles_two.csv" -o "$O"
run import_two_embeddings_chosen 0 "$MC" import csv "$WORK/roles_two.csv" --embedding-columns f0-f1 --ignore-columns 'e*' -o "$WORK/roles_two.h5"
bad import_no_such_column 1 "roles_two.csv: --embedding-columns: no column 'g0-g1' in the header" "$MC" import csv "$WORK/roles_two.csv" --embedding-columns g0-g1 -o "$O"
bad import_columns_not_csv 2 "are for csv" "$MC" import magface "$WORK/a.list" --quality-columns x -o "$O"
# Immich (asset_faces joined with face_search): id a face id (the path),
# assetId the photo, personId the label, the box ignored; clustered with
# --photo-key photo, written to CSV with the face ids
awk -F, '{ sub(/\r$/, "") } NR == 1 { print "id,assetId,personId,imageWidth,imageHeight,boundingBoxX1,boundingBoxY1,boundingBoxX2,boundingBoxY2,embedding"; next }
    { v = $3; for (i = 4; i <= NF; i++) v = v "," $i
      printf "face-%02d,asset-%02d,person-%s,4000,3000,10,20,110,140,\"[%s]\"\n", NR - 2, (NR - 2) % 20, $2, v }' \
    "$WORK/tiny_x.csv" >"$WORK/immich.csv"
run import_immich 0 "$MC" import csv "$WORK/immich.csv" -o "$WORK/immich.h5"
check "Immich: the roles of its columns" grep -q "^columns: id (face id, as the path), assetId (photo), personId (label), imageWidth..boundingBoxY2 (ignored), embedding (embedding: the vector, 8-d)$" "$WORK/import_immich.out"
run cluster_immich 0 "$MC" cluster "$WORK/immich.h5" --photo-key photo -o "$WORK/immich_out.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3
check "Immich: 4 people, BCubed F 1 against personId" [ "$(field "$WORK/cluster_immich.out" BCubed 6)" = 1.0000 ]
check "Immich: the result names each face by its id" [ "$(sed -n 2p "$WORK/immich_out.csv" | cut -d, -f1-2)" = "0,face-00" ]
check "Immich: the same clusters as the HDF5 it came from" cmp -s <(cut -d, -f3 "$WORK/ref.csv") <(cut -d, -f3 "$WORK/immich_out.csv")
# faces nobody named have an empty personId: unknown identities (-1)
awk -F, 'BEGIN { OFS = "," } NR > 1 && NR <= 4 { $3 = "" } { print }' "$WORK/immich.csv" >"$WORK/immich_unnamed.csv"
run import_immich_unnamed 0 "$MC" import csv "$WORK/immich_unnamed.csv" -q -o "$WORK/immich_unnamed.h5"
run export_immich_unnamed 0 "$MC" export "$WORK/immich_unnamed.h5" -q -o "$WORK/immich_unnamed_x.csv"
check "Immich: an empty personId is an unknown identity (-1)" [ "$(cut -d, -f2 "$WORK/immich_unnamed_x.csv" | tr -d '\r' | sed -n 2,5p | tr '\n' ' ')" = "-1 -1 -1 0 " ]
# PhotoPrism markers: marker_uid, file_uid, subj_uid, embeddings_json [[...]]
awk -F, '{ sub(/\r$/, "") } NR == 1 { print "marker_uid,file_uid,subj_uid,embeddings_json"; next }
    { v = $3; for (i = 4; i <= NF; i++) v = v "," $i; printf "m%02d,f%02d,s%s,\"[[%s]]\"\n", NR - 2, NR - 2, $2, v }' \
    "$WORK/tiny_x.csv" >"$WORK/photoprism.csv"
run import_photoprism 0 "$MC" import csv "$WORK/photoprism.csv" -o "$WORK/photoprism.h5"
check "PhotoPrism: the roles of its columns" grep -q "^columns: marker_uid (face id, as the path), file_uid (photo), subj_uid (label), embeddings_json (embedding: the vector, 8-d)$" "$WORK/import_photoprism.out"
run photoprism_info 0 "$MC" info "$WORK/photoprism.h5"
check "PhotoPrism: 40 x 8, 4 identities" grep -q "identities   4 " "$WORK/photoprism_info.out"
# an 'id' is not the identity label (unless --label-column id)
awk -F, 'BEGIN { OFS = "," } { sub(/\r$/, ""); $2 = NR == 1 ? "id" : NR - 2; print }' "$WORK/tiny_x.csv" >"$WORK/roles_id.csv"
run import_id 0 "$MC" import csv "$WORK/roles_id.csv" -o "$WORK/roles_id.h5"
check "an 'id' beside a path is left out, not a label" grep -q "id (ignored: a face id; the path is 'path')" "$WORK/import_id.out"
run roles_id_info 0 "$MC" info "$WORK/roles_id.h5"
check "an 'id' column gives no labels" grep -q "identities   no labels" "$WORK/roles_id_info.out"
run import_id_label 0 "$MC" import csv "$WORK/roles_id.csv" --label-column id -q -o "$WORK/roles_id2.h5"
run roles_id2_info 0 "$MC" info "$WORK/roles_id2.h5"
check "--label-column id makes it the label" grep -q "identities   40 " "$WORK/roles_id2_info.out"

# assign with constraints: a model of tiny.h5 whose cluster of id2 is named
# Ann; tiny_new.h5 holds 8 new faces (make_fixtures.c lists them)
printf 'path,person\nid2/img_03.jpg,Ann\n' >"$WORK/name_ann.csv"
run model_named 0 "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/named.csv" --noise-quality off --core-quality off --k 20 --eps 0.3 --min-samples 3 --corrections "$WORK/name_ann.csv" --save-model "$WORK/named_model.h5"
run assign_names 0 "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/an0.csv"
check "assign: the model's person names reach the new faces" [ "$(person_of "$WORK/an0.csv" new/a.jpg)" = "Ann" ]
check "assign: without a photo key the two faces of one photo share a cluster" [ "$(cl_of "$WORK/an0.csv" new/d.jpg)" = "$(cl_of "$WORK/an0.csv" new/e.jpg)" ]
printf 'path,person\nnew/b.jpg,!Ann\nnew/c.jpg,Ann\nnew/f.jpg,Dee\nnew/g.jpg,Eve\n' >"$WORK/fix_new.csv"
run assign_corr 0 "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/an1.csv" --photo-key photo --corrections "$WORK/fix_new.csv"
check "assign: 'not Ann' keeps a new face out of Ann's cluster" [ "$(cl_of "$WORK/an1.csv" new/b.jpg)" != "$(cl_of "$WORK/an0.csv" new/a.jpg)" ]
check "assign: a new face named Ann joins Ann's cluster" [ "$(cl_of "$WORK/an1.csv" new/c.jpg)" = "$(cl_of "$WORK/an0.csv" new/a.jpg)" ]
check "assign: faces of one new photo are apart" [ "$(cl_of "$WORK/an1.csv" new/d.jpg)" != "$(cl_of "$WORK/an1.csv" new/e.jpg)" ]
check "assign: the one moved out is unassigned" [ "$(awk -F, '$2 == "new/e.jpg" || $2 == "new/d.jpg" { print $4 }' "$WORK/an1.csv" | sort | tr '\n' ' ')" = "core unassigned " ]
check "assign: a name given to a new face names its unnamed cluster" [ "$(person_of "$WORK/an1.csv" new/f.jpg)" = "Dee" ]
check "assign: a named face no cluster takes stays unassigned without --update" [ "$(cl_of "$WORK/an1.csv" new/g.jpg)" = "-1" ]
check "assign: the summary has the constraints line" grep -q "photo key 'photo': 7 photos, 1 pairs.*fix_new.csv: 4 corrections" "$WORK/assign_corr.out"
run assign_corr_update 0 "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/an2.csv" --photo-key photo --corrections "$WORK/fix_new.csv" --update --model-out "$WORK/named_model2.h5"
check "assign --update: the new person gets the name" [ "$(person_of "$WORK/an2.csv" new/g.jpg)" = "Eve" ]
check "assign --update: the new person gets a new cluster (id >= 4)" [ "$(cl_of "$WORK/an2.csv" new/g.jpg)" -ge 4 ]
check "assign --update: 'not Ann' still holds" [ "$(person_of "$WORK/an2.csv" new/b.jpg)" != "Ann" ]
run assign_after_update 0 "$MC" assign "$WORK/named_model2.h5" "$FX/tiny_new.h5" -o "$WORK/an3.csv"
check "the updated model keeps the name Eve the corrections gave" [ "$(person_of "$WORK/an3.csv" new/h.jpg)" = "Eve" ]
check "the updated model keeps the name Dee the corrections gave" [ "$(person_of "$WORK/an3.csv" new/f.jpg)" = "Dee" ]
printf 'new/a.jpg,!2\n' >"$WORK/fix_id.csv"
run assign_not_id 0 "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -q -o "$WORK/an4.csv" --corrections "$WORK/fix_id.csv"
check "assign: 'path,!ID' names a cluster of the model" [ "$(cl_of "$WORK/an4.csv" new/a.jpg)" != "2" ]
printf 'new/d.jpg,new/e.jpg,same\n' >"$WORK/fix_same_photo.csv"
bad assign_conflict_photo 1 "faces 'new/d.jpg' and 'new/e.jpg' are in one photo (photo key 'photo'), but $WORK/fix_same_photo.csv: line 1" "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/out.csv" --photo-key photo --corrections "$WORK/fix_same_photo.csv"
check "a refused assign writes nothing" [ ! -e "$WORK/out.csv" ]
printf 'id2/img_09.jpg,Bob\n' >"$WORK/fix_rename.csv"
bad assign_conflict_name 1 "fix_rename.csv: line 1 names a face 'Bob', but the model's name for cluster 2 named it 'Ann'" "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/out.csv" --corrections "$WORK/fix_rename.csv"
bad assign_corr_no_paths 1 "no paths" "$MC" assign "$WORK/named_model.h5" "$FX/tiny_nolabels.h5" -o "$WORK/out.csv" --corrections "$WORK/fix_new.csv"
bad assign_corr_over_itself 1 "overwrite an input" "$MC" assign "$WORK/named_model.h5" "$FX/tiny_new.h5" -o "$WORK/fix_new.csv" --corrections "$WORK/fix_new.csv"

# CSV is safe in a spreadsheet: hostile paths are guarded with a leading '
# (OWASP CSV injection) and quoted, and read back exactly by every reader
{
    printf 'path,e0,e1,e2\n'
    printf '"=HYPERLINK(""http://x"",""y"")",1,0,0\n'
    printf '+1.jpg,0.99,0.01,0\n'
    printf -- '-2.jpg,0.98,0.02,0\n'
    printf '@SUM(A1).jpg,0,1,0\n'
    printf '"\tTAB.jpg",0,0.99,0.01\n'
    printf '"a,b.jpg",0,0.98,0.02\n'
    printf '"q""uote.jpg",0,0,1\n'
    printf '"new\nline.jpg",0.01,0,0.99\n'
    printf "\"''=already.jpg\",0.02,0,0.98\n"
    printf 'plain.jpg,0.03,0,0.97\n'
} >"$WORK/hostile_in.csv"
run hostile_import 0 "$MC" import csv "$WORK/hostile_in.csv" -o "$WORK/hostile.h5"
run hostile_cluster 0 "$MC" cluster "$WORK/hostile.h5" -o "$WORK/hostile.csv" -k 3 --eps 0.3 --noise-quality off --core-quality off
check "CSV injection: '=' is guarded and quoted" grep -q "^0,\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",[0-9]," "$WORK/hostile.csv"
check "CSV injection: '+', '-', '@' are guarded" [ "$(grep -c "^[1-3],'[-+@]" "$WORK/hostile.csv")" -eq 3 ]
check "CSV injection: a leading tab is guarded" grep -q "^4,'	TAB.jpg," "$WORK/hostile.csv"
check "CSV injection: a comma is quoted" grep -q '^5,"a,b.jpg",' "$WORK/hostile.csv"
check "CSV injection: quotes are doubled" grep -q '^6,"q""uote.jpg",' "$WORK/hostile.csv"
# the input's "''=already.jpg" is the guarded form of the path '=already.jpg,
# written guarded again
check "CSV injection: quotes before '=' get one more" grep -q "^8,''=already.jpg," "$WORK/hostile.csv"
check "CSV injection: a plain path is untouched" grep -q "^9,plain.jpg," "$WORK/hostile.csv"
run hostile_prev 0 "$MC" cluster "$WORK/hostile.h5" -o "$WORK/hostile2.csv" -k 3 --eps 0.3 --noise-quality off --core-quality off --previous "$WORK/hostile.csv"
check "CSV injection: --previous reads every guarded path back" grep -q "10 of 10 faces found" "$WORK/hostile_prev.out"
run hostile_export 0 "$MC" export "$WORK/hostile.h5" -o "$WORK/hostile_exp.csv"
run hostile_reimport 0 "$MC" import csv "$WORK/hostile_exp.csv" -o "$WORK/hostile_re.h5"
run hostile_reexport 0 "$MC" export "$WORK/hostile_re.h5" -o "$WORK/hostile_exp2.csv"
check "CSV injection: export, import, export gives the same file" cmp -s "$WORK/hostile_exp.csv" "$WORK/hostile_exp2.csv"
check "CSV injection: the exported embeddings CSV is guarded too" grep -q "^\"'=HYPERLINK" "$WORK/hostile_exp.csv"
printf "path,person\n'-2.jpg,Mallory\n" >"$WORK/hostile_fix.csv"
run hostile_corr 0 "$MC" cluster "$WORK/hostile.h5" -o "$WORK/hostile3.csv" -k 3 --eps 0.3 --noise-quality off --core-quality off --corrections "$WORK/hostile_fix.csv"
check "CSV injection: a guarded path copied into corrections finds its face" grep -q "1 named" "$WORK/hostile_corr.out"

# outputs never clobber: an existing output needs --force; a refused or
# failed run leaves it as it was
run exist_first 0 "$MC" cluster "$SAMPLE" -q -o "$WORK/exist.csv"
cp "$WORK/exist.csv" "$WORK/exist_copy.csv"
bad exist_refused 1 "exist.csv: exists; give --force to replace it" "$MC" cluster "$SAMPLE" -q -o "$WORK/exist.csv" --eps 0.2
check "a refused run leaves the existing output as it was" cmp -s "$WORK/exist.csv" "$WORK/exist_copy.csv"
run exist_force 0 "$MC" cluster "$SAMPLE" -q -o "$WORK/exist.csv" --eps 0.2 --force
check "--force replaces it" not cmp -s "$WORK/exist.csv" "$WORK/exist_copy.csv"
run exist_force_first 0 "$MC" --force cluster "$SAMPLE" -q -o "$WORK/exist.csv"
check "--force may come anywhere on the line" cmp -s "$WORK/exist.csv" "$WORK/exist_copy.csv"
bad exist_model 1 "exists; give --force" "$MC" cluster "$SAMPLE" -q -o "$WORK/exist_new.csv" --save-model "$WORK/model.h5"
check "a refused --save-model writes no result either" [ ! -e "$WORK/exist_new.csv" ]
bad exist_export 1 "exists; give --force" "$MC" export "$SAMPLE" -o "$WORK/exist.csv"
bad exist_synth 1 "exists; give --force" "$MC" synth -o "$WORK/exist.csv" --ids 3

# a signal mid-write: the previous output stays, no temporary is left.
# Job control (set -m) so that the background run does not ignore SIGINT.
run sig_synth 0 "$MC" synth -o "$WORK/sig.h5" --ids 3000 --dim 64 --seed 3
run sig_export 0 "$MC" export "$WORK/sig.h5" -o "$WORK/killed.csv"
run sig_export_small 0 "$MC" export "$FX/tiny.h5" -o "$WORK/sig_small.csv"
run sig_import 0 "$MC" import csv "$WORK/sig_small.csv" -o "$WORK/sig_out.h5"
cp "$WORK/sig_out.h5" "$WORK/sig_out_copy.h5"
for sig in INT TERM USR1 ALRM; do
    set -m
    "$MC" import csv "$WORK/killed.csv" -o "$WORK/sig_out.h5" --force >/dev/null 2>&1 &
    pid=$!
    set +m
    seen=0
    for _ in $(seq 1 500); do
        if ls "$WORK"/.sig_out.h5.tmp* >/dev/null 2>&1; then seen=1; break; fi
        sleep 0.01
    done
    kill -"$sig" "$pid" 2>/dev/null
    wait "$pid"
    rc=$?
    check "SIG$sig: the temporary existed while the import ran" [ "$seen" -eq 1 ]
    check "SIG$sig: the run died of the signal (exit $rc)" [ "$rc" -eq $((128 + $(kill -l "$sig"))) ]
    check "SIG$sig: no temporary left behind" [ -z "$(ls -A "$WORK" | grep '^\.sig_out\.h5\.tmp')" ]
    check "SIG$sig: the previous output is intact" cmp -s "$WORK/sig_out.h5" "$WORK/sig_out_copy.h5"
done

# a file-size limit (SIGXFSZ) mid-write: the run dies of it (153), leaving
# neither the output nor a temporary
( ulimit -f 100; exec "$MC" export "$WORK/sig.h5" -o "$WORK/xfsz.csv" ) >/dev/null 2>&1
rc=$?
check "SIGXFSZ: the run died of the signal (exit $rc)" [ "$rc" -eq $((128 + $(kill -l XFSZ))) ]
check "SIGXFSZ: no output, no temporary" [ -z "$(ls -A "$WORK" | grep 'xfsz\.csv')" ]

# an option with a value given twice is refused (which one was meant?)
bad repeat_output 2 "option '-o' given more than once" "$MC" cluster "$FX/tiny.h5" -o "$WORK/out.csv" -o "$WORK/out2.csv"
bad repeat_algo 2 "option '--algo' given more than once" "$MC" cluster "$FX/tiny.h5" --algo cw --algo dbscan -o "$WORK/out.csv"
bad repeat_eq 2 "option '--eps=0.4' given more than once" "$MC" cluster "$FX/tiny.h5" --eps 0.3 --eps=0.4 -o "$WORK/out.csv"
bad repeat_synth 2 "option '--ids' given more than once" "$MC" synth --ids 3 --ids 4 -o "$WORK/out.csv"
check "no second output either" [ ! -e "$WORK/out2.csv" ]
run repeat_flag 0 "$MC" cluster "$FX/tiny.h5" -q -q -o "$WORK/rq.csv"

# one run's outputs are committed together: a model that cannot be written
# (a file-size limit, SIGXFSZ ignored so the write fails) leaves no result
rm -f "$WORK/pair.csv" "$WORK/pair_model.h5"
( trap '' XFSZ; ulimit -f 1000; exec "$MC" cluster "$SAMPLE" -q -o "$WORK/pair.csv" --save-model "$WORK/pair_model.h5" ) \
    >/dev/null 2>"$WORK/pair.err"
rc=$?
check "a model too large for the limit fails the run (exit $rc)" [ "$rc" -eq 1 ]
check "... naming the model" grep -q "magclust: error: .*pair_model.h5" "$WORK/pair.err"
check "... and the result is not written either" [ ! -e "$WORK/pair.csv" ]
check "... no temporary left" [ -z "$(ls -A "$WORK" | grep '^\.pair')" ]

# two runs writing one output at once, without --force: one wins, the other
# fails, neither replaces the other's file
rm -f "$WORK/race.csv"
"$MC" cluster "$SAMPLE" -q -o "$WORK/race.csv" 2>"$WORK/race1.err" &
p1=$!
"$MC" cluster "$SAMPLE" -q --algo cw -o "$WORK/race.csv" 2>"$WORK/race2.err" &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
check "two runs on one output: exactly one succeeds (exits $r1, $r2)" [ $((r1 + r2)) -eq 1 ]
check "... the other says the output exists" grep -qE "exists( now|; give --force)" "$WORK/race1.err" "$WORK/race2.err"
check "... no temporary left" [ -z "$(ls -A "$WORK" | grep '^\.race')" ]
# the same for every command that writes a file (knn, synth, import, export,
# report wrote theirs last-wins: both exited 0)
"$MC" export "$FX/tiny.h5" -q -o "$WORK/race_in.csv"
"$MC" cluster "$FX/tiny.h5" -q -o "$WORK/race_res.csv"
for c in "knn|race.h5|$MC knn $SAMPLE -q -o" "synth|race.h5|$MC synth --ids 10 --dim 16 -o" \
         "import|race.h5|$MC import csv $WORK/race_in.csv -q -o" "export|race.npy|$MC export $SAMPLE -q -o" \
         "report|race.html|$MC report $WORK/race_res.csv --labels $FX/tiny.h5 -o"; do
    IFS='|' read -r name out cmdline <<<"$c"
    for round in 1 2 3; do
        rm -f "$WORK/$out" "$WORK/${out%.npy}.labels.npy"
        # shellcheck disable=SC2086
        $cmdline "$WORK/$out" >/dev/null 2>"$WORK/race1.err" &
        p1=$!
        # shellcheck disable=SC2086
        $cmdline "$WORK/$out" >/dev/null 2>"$WORK/race2.err" &
        p2=$!
        wait "$p1"; r1=$?
        wait "$p2"; r2=$?
        [ $((r1 + r2)) -eq 1 ] || break
    done
    check "two '$name' runs on one new output: exactly one succeeds, three times (exits $r1, $r2)" [ $((r1 + r2)) -eq 1 ]
    check "... the other says the output exists" grep -qE "exists( now|; give --force)" "$WORK/race1.err" "$WORK/race2.err"
done
check "... and no temporary is left" [ -z "$(ls -A "$WORK" | grep '^\.race')" ]

# two updates of one model at once: both faces land (the model is locked)
"$MC" cluster "$FX/tiny.h5" -q -o "$WORK/lock.csv" --save-model "$WORK/lock_model.h5"
"$MC" assign "$WORK/lock_model.h5" "$FX/tiny_new.h5" --update -q -o "$WORK/lock1.csv" &
p1=$!
"$MC" assign "$WORK/lock_model.h5" "$FX/tiny_new.h5" --update -q -o "$WORK/lock2.csv" &
p2=$!
wait "$p1"; r1=$?
wait "$p2"; r2=$?
check "two assign --update at once both succeed (exits $r1, $r2)" [ "$r1" -eq 0 -a "$r2" -eq 0 ]
run lock_count 0 "$MC" assign "$WORK/lock_model.h5" "$FX/tiny_new.h5" -o "$WORK/lock3.csv"
check "... and the model holds 40 + 8 + 8 faces" grep -qE "model +[0-9]+ clusters, 56 faces" "$WORK/lock_count.out"

# links and system paths are never replaced: /dev/stdout is a link (as root
# the old behaviour turned it into a regular file for the whole system)
printf 'keep\n' >"$WORK/link_target.csv"
ln -sf "$WORK/link_target.csv" "$WORK/link.csv"
ln -sf "$WORK/nowhere.csv" "$WORK/dangling.csv"
bad out_link 1 "is a symbolic link; not replaced" "$MC" cluster "$FX/tiny.h5" --force -o "$WORK/link.csv"
bad out_dangling 1 "is a symbolic link; not replaced" "$MC" cluster "$FX/tiny.h5" -o "$WORK/dangling.csv"
bad out_dev_stdout 1 "/dev/stdout: is a symbolic link" "$MC" cluster "$FX/tiny.h5" --force -o /dev/stdout
bad out_proc 1 "a system directory; not an output" "$MC" cluster "$FX/tiny.h5" --force -o /proc/magclust.csv
check "the links are still links, the target unchanged" \
    bash -c "[ -L '$WORK/link.csv' ] && [ -L '$WORK/dangling.csv' ] && [ ! -e '$WORK/nowhere.csv' ] && [ \"\$(cat '$WORK/link_target.csv')\" = keep ] && [ -L /dev/stdout ]"

# a text input with no line end (a device, a binary file) is refused at a
# bounded line length instead of growing without end
bad import_no_line_end 1 "is longer than 16777216 bytes (no line end?)" "$MC" import csv /dev/zero --max-memory 64M -o "$WORK/zero.h5"
check "... and writes nothing" [ ! -e "$WORK/zero.h5" ]

# --previous with huge cluster ids: bounded by the memory limit, and no
# overflow near 2^63 (the new result keeps the ids)
awk -F, 'NR == 1 { print; next } $3 >= 0 { $3 = $3 + 1000000000 } { print }' OFS=, "$WORK/corr_base.csv" >"$WORK/prev_1e9.csv"
awk -F, 'NR == 1 { print; next } $3 >= 0 { $3 = "9223372036854775000" } { print }' OFS=, "$WORK/corr_base.csv" >"$WORK/prev_max.csv"
bad previous_huge_ids 1 "would take 59.6 GiB, more than the memory limit of 100.0 MiB" "$MC" cluster "$FX/tiny.h5" --previous "$WORK/prev_1e9.csv" --max-memory 100M -o "$WORK/out.csv"
# the summary's head (faces, quality) is printed as soon as the input is read,
# before the long phases: here the clustering fails after it
check "the summary head comes before the clustering (issue 21 item 2)" \
    grep -q "^  faces        .* x " "$WORK/previous_huge_ids.out"
bad previous_max_ids 1 "cluster id 9223372036854775000 is too large" "$MC" cluster "$FX/tiny.h5" --previous "$WORK/prev_max.csv" -o "$WORK/out.csv"

# a path with a line break in it (CR LF or LF) survives a result CSV: the
# run's own output finds every face again with --previous
printf 'path,e0,e1,e2\n"a\r\nb.jpg",1,0,0\n"c.jpg",0.9,0.1,0\n"d\ne.jpg",0,1,0\nf.jpg,0.1,0.9,0\n' >"$WORK/crlf.csv"
run crlf_import 0 "$MC" import csv "$WORK/crlf.csv" -q -o "$WORK/crlf.h5"
run crlf_cluster 0 "$MC" cluster "$WORK/crlf.h5" -k 2 --eps 0.5 --center off --core-quality off -q -o "$WORK/crlf_out.csv"
run crlf_previous 0 "$MC" cluster "$WORK/crlf.h5" -k 2 --eps 0.5 --center off --core-quality off --previous "$WORK/crlf_out.csv" -o "$WORK/crlf_out2.csv"
check "paths with CR LF and LF inside are found again (4 of 4)" grep -q "4 of 4 faces found" "$WORK/crlf_previous.out"

# temporaries left by a run killed outright (SIGKILL) are swept by a later
# run writing the same output: dead PID and ten minutes old; a live PID's or
# a fresh one's stay
sleep 0 & dead=$!
wait "$dead"
touch -d '2 hours ago' "$WORK/.swept.csv.tmp$dead.0" "$WORK/.swept.csv.tmp$$.0"
touch "$WORK/.swept.csv.tmp$dead.1"
run sweep_stale 0 "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/swept.csv"
check "a dead run's old temporary is swept" [ ! -e "$WORK/.swept.csv.tmp$dead.0" ]
check "a live process's temporary and a fresh one stay" [ -e "$WORK/.swept.csv.tmp$$.0" -a -e "$WORK/.swept.csv.tmp$dead.1" ]
rm -f "$WORK"/.swept.csv.tmp*

# long names: an output name of 248 bytes (the temporary's suffix would pass
# the file system's 255), and an input path of 1,600 bytes whose error keeps
# its reason at the end
long_name=$(printf 'n%.0s' $(seq 1 244)).csv
run long_output 0 "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/$long_name"
check "a 248-byte output name is written" [ -s "$WORK/$long_name" ]
rm -f "$WORK/$long_name"
long_dir=$(printf 'd%.0s' $(seq 1 200))
long_path="$WORK/$long_dir/$long_dir/$long_dir/$long_dir/$long_dir/$long_dir/$long_dir/$long_dir/faces.h5"
bad long_input 1 "faces.h5: no such file" "$MC" cluster "$long_path" -o "$WORK/out.csv"

# permissions: a new output follows the umask, a replaced one keeps its mode
rm -f "$WORK/mode.csv"
( umask 077; exec "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/mode.csv" )
check "under umask 077 a new result is 0600" [ "$(stat -c %a "$WORK/mode.csv")" = 600 ]
chmod 640 "$WORK/mode.csv"
run mode_force 0 "$MC" cluster "$FX/tiny.h5" -q -o "$WORK/mode.csv" --force
check "a result replaced with --force keeps its mode (640)" [ "$(stat -c %a "$WORK/mode.csv")" = 640 ]
run mode_sweep 0 "$MC" sweep "$FX/tiny.h5" --param frac=0.5 -q -o "$WORK/mode_sweep.csv"
chmod 600 "$WORK/mode_sweep.csv"
run mode_sweep_force 0 "$MC" sweep "$FX/tiny.h5" --param frac=0.5 -q -o "$WORK/mode_sweep.csv" --force
check "a sweep CSV replaced with --force keeps its mode (600)" [ "$(stat -c %a "$WORK/mode_sweep.csv")" = 600 ]

# many copies, beyond k (issue 18, item 15; there 743 copies): 300 copies of
# one face are one cluster, 150 + 150 copies of two faces two clusters, with every algorithm,
# with the calibrated threshold (which is then capped below 1) or --eps
awk 'BEGIN { print "path,e0,e1,e2,e3"; for (i = 0; i < 300; i++) printf "c/%03d.jpg,5,0.3,0.3,2\n", i }' >"$WORK/copies1.csv"
awk 'BEGIN { print "path,e0,e1,e2,e3"; for (i = 0; i < 300; i++) printf "c/%03d.jpg,%s,2\n", i, i % 2 ? "5,0.3,0.3" : "0.3,5,0.3" }' >"$WORK/copies2.csv"
for c in 1 2; do
    run "copies${c}_import" 0 "$MC" import csv "$WORK/copies$c.csv" -o "$WORK/copies$c.h5"
    for a in linkage dbscan cw; do
        for eps in auto 0.1; do
            opt=(); [ "$eps" = auto ] || opt=(--eps "$eps")
            run "copies${c}_${a}_$eps" 0 "$MC" cluster "$WORK/copies$c.h5" --algo "$a" "${opt[@]}" -o "$WORK/copies.csv" --force
            check "$c face(s) copied 300 times, $a, eps $eps: $c cluster(s), no noise" \
                [ "$(tail -n +2 "$WORK/copies.csv" | cut -d, -f3 | sort -u | tr '\n' ' ')" = "$([ $c = 1 ] && echo '0 ' || echo '0 1 ')" ]
        done
    done
done
check "copies of one face: centring is left out, and said so" grep -q "centred      no: the better half's faces all point one way" "$WORK/copies1_linkage_auto.out"
check "copies of one face: the threshold is capped below 1" grep -q "the threshold is capped at 1 - 0.0001" "$WORK/copies1_linkage_auto.out"

# --json is valid UTF-8 whatever bytes a file name holds
latin1=$(printf '%s/lat\351\377.h5' "$WORK")
cp "$FX/tiny.h5" "$latin1"
run json_latin1 0 "$MC" cluster "$latin1" --json
check "--json with a non-UTF-8 file name is valid UTF-8" iconv -f UTF-8 -t UTF-8 "$WORK/json_latin1.out" -o /dev/null
check "--json shows the undecodable bytes as U+FFFD" grep -q 'lat\\ufffd\\ufffd.h5' "$WORK/json_latin1.out"
rm -f "$latin1"

# standard output that cannot be written (a full disk) fails the run
for cmdline in "info $FX/tiny.h5" "cluster $FX/tiny.h5 --json" "eval $FX/tiny.h5 $WORK/corr_base.csv"; do
    # shellcheck disable=SC2086
    "$MC" $cmdline >/dev/full 2>"$WORK/full.err"
    rc=$?
    check "stdout on a full disk: '$cmdline' exits 1 (got $rc)" [ "$rc" -eq 1 ]
    check "stdout on a full disk: '$cmdline' says so" grep -q "magclust: error: standard output: write error" "$WORK/full.err"
done

# synth reproduces the shipped sample bit for bit (command documented in the README)
run synth_sample 0 "$MC" synth -o "$WORK/sample.h5" --ids 150 --dim 512 --seed 1
check "synth reproduces datasets/sample.h5" cmp -s "$WORK/sample.h5" "$SAMPLE"
run synth_other_seed 0 "$MC" synth -o "$WORK/seed2.h5" --ids 150 --dim 512 --seed 2
check "another seed differs" not cmp -s "$WORK/seed2.h5" "$SAMPLE"
bad synth_bad_dim 2 "--dim" "$MC" synth -o "$O" --dim zero
# --structure: isotropic is the default and the sample's model; realistic is
# deterministic, different, and says so in the summary and the file
run synth_isotropic 0 "$MC" synth -o "$WORK/iso.h5" --ids 150 --dim 512 --seed 1 --structure isotropic
check "--structure isotropic reproduces datasets/sample.h5" cmp -s "$WORK/iso.h5" "$SAMPLE"
run synth_realistic 0 "$MC" synth -o "$WORK/real1.h5" --ids 40 --dim 64 --seed 3 --structure realistic
run synth_realistic_again 0 "$MC" synth -o "$WORK/real2.h5" --ids 40 --dim 64 --seed 3 --structure realistic
check "--structure realistic is deterministic" cmp -s "$WORK/real1.h5" "$WORK/real2.h5"
check "--structure realistic says so" grep -q "realistic structure" "$WORK/synth_realistic.out"
run synth_realistic_knob 0 "$MC" synth -o "$WORK/real3.h5" --ids 40 --dim 64 --seed 3 --structure realistic \
    --center-decay 2 --center-share 0.8 --nuisance-share 0.1
check "the realistic knobs change the data" not cmp -s "$WORK/real1.h5" "$WORK/real3.h5"
run synth_realistic_info 0 "$MC" info "$WORK/real1.h5"
check "a realistic set reads back (info)" grep -q " x 64" "$WORK/synth_realistic_info.out"
bad synth_bad_structure 2 "--structure: 'spherical' is not isotropic or realistic" "$MC" synth -o "$O" --structure spherical
bad synth_bad_center_share 2 "--center-share" "$MC" synth -o "$O" --structure realistic --center-share 1.5

# the catalogue in tests/README.md lists every case above (regenerate it with
# scripts/bad_input_catalogue.sh)
missing=$(cut -d'|' -f2 "$WORK/bad_inputs.md" | tr -d ' ' | while read -r n; do
    grep -q "^| $n |" "$SRC/tests/README.md" 2>/dev/null || echo "$n"; done | tr '\n' ' ')
check "tests/README.md catalogues every bad input tested (missing: ${missing:-none})" [ -z "$missing" ]
check "the catalogue has at least 40 cases" [ "$(wc -l <"$WORK/bad_inputs.md")" -ge 40 ]

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
