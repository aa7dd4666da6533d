#!/usr/bin/env bash
# File-system fault injection (issue 18): small commands that write outputs
# run with failwrite.so preloaded (tests/fault/failwrite.c), which counts the
# write-type calls (write, pwrite, fsync, close ...) under the run's output
# directory and fails the n-th. A counting run gives N, the calls of a good
# run; then every n = 1..N is failed in turn (N over 60: n = 1..50 and 20 more
# spread to N, marked * in the table), in two runs:
#   full   calls n and after fail with ENOSPC (the disk stays full)
#   once   call n alone fails, with EIO (a transient error)
# and a few runs with a real file-size limit instead (ulimit -f, SIGXFSZ
# ignored, so that writes fail with EFBIG; limits of 1, 2, 4 ... KiB up to
# just below the largest output):
#   fsize  the limit in KiB is the run's n
# Half the runs of each kind have an old version of every output in place
# (and --force), so "the previous file is kept" is checked too. A run ends:
#   clean    exit 1, stderr starting "magclust: error:", no temporary, no
#            stray file, each output absent (new) or byte-identical to its
#            old version (a pair: both or neither), inputs unchanged (the
#            model that assign --update rewrites in place included)
#   absorbed exit 0 although a call failed, every output complete and equal
#            to the counting run's (the failure was retried or made up for)
#   crash    death by a signal (exit >= 128) or a sanitizer report (86,
#            87); "libhdf5 at exit" when it looks like libhdf5 1.10.8 dying
#            in its clean-up at exit after our clean error, nothing on disk
#            (a file whose close failed: what H5dont_atexit in cli/main.c
#            prevents)
#   partial  a temporary or stray file, a changed or truncated output, one
#            output of a pair committed, or a changed input
#   silent   exit 0 with an output missing or different
#   other    any other exit code, a first line that is not ours, or exit 1
#            although no call failed
# Prints the outcomes per command, then each run not clean with the call it
# failed, its outcome and a script that reproduces it (with MC_FAULT_LOG, a
# log of the calls). Exits 1 if a run is neither clean nor absorbed.
# Usage: fault_injection_test.sh MAGCLUST FAILWRITE_SO FIXTURE_DIR WORK_DIR
# One case by hand: tests/README.md, "Fault injection".
set -u
MC=$1 SO=$2 FX=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK/master" "$WORK/runs" "$WORK/repro"
JOBS=$(nproc 2>/dev/null || echo 2)
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
shopt -s nullglob dotglob

# In a sanitizer build the ASan runtime must come before the shim in
# LD_PRELOAD ("ASan runtime does not come first in initial library list").
PRELOAD=$SO
asan=$(ldd "$MC" 2>/dev/null | awk '$1 ~ /^libasan\.so/ { print $3; exit }')
[ -n "$asan" ] && PRELOAD="$asan $SO"
if ! LD_PRELOAD=$PRELOAD "$MC" --version >/dev/null 2>"$WORK/preload.err"; then
    echo "SKIP: magclust does not start with LD_PRELOAD=$PRELOAD:"
    head -n 3 "$WORK/preload.err"
    exit 77
fi

# ---- inputs: every run gets its own copy (outside the fault directory) -----
M=$WORK/master
cp "$FX/tiny.h5" "$FX/tiny_new.h5" "$M/" || exit 1
"$MC" export "$M/tiny.h5" -q -o "$M/tiny.csv" || exit 1
"$MC" cluster "$M/tiny.h5" -q -o "$M/r.csv" --save-model "$M/model.h5" || exit 1

# The cases: NAME | OUTPUTS | IN-PLACE | COMMAND. Each run works in its own
# directory: in/ holds a copy of master/, out/ is the fault directory.
# OUTPUTS and IN-PLACE are file names in out/; an IN-PLACE file is an input
# the command rewrites (copied there from master/ before each run). Paths
# are relative, so that outputs naming their input are the same every run.
CASES=(
    "knn | g.h5 | | knn in/tiny.h5 -q -k 5 -o out/g.h5"
    "cluster csv | r.csv | | cluster in/tiny.h5 -q -o out/r.csv"
    "cluster h5 | r.h5 | | cluster in/tiny.h5 -q -o out/r.h5"
    "cluster + model | r.csv m.h5 | | cluster in/tiny.h5 -q -o out/r.csv --save-model out/m.h5"
    "synth | s.h5 | | synth --ids 3 --dim 8 -o out/s.h5"
    "import csv | i.h5 | | import csv in/tiny.csv -q -o out/i.h5"
    "export csv | e.csv | | export in/tiny.h5 -q -o out/e.csv"
    "export npy | e.npy e.labels.npy | | export in/tiny.h5 -q -o out/e.npy"
    "export l2c | e.bin e.meta | | export in/tiny.h5 -q -o out/e.bin"
    "assign --update | a.csv | model.h5 | assign out/model.h5 in/tiny_new.h5 --update -q -o out/a.csv"
    "assign --model-out | a.csv m2.h5 | | assign in/model.h5 in/tiny_new.h5 --update --model-out out/m2.h5 -q -o out/a.csv"
    "sweep + plot | s.csv s.svg | | sweep in/tiny.h5 --param eps=0.2:0.4:0.1 -k 5 -q -o out/s.csv --plot out/s.svg"
    "eval --reject-curve | rc.csv rc.svg | | eval in/tiny.h5 in/r.csv --reject-curve out/rc.csv --plot out/rc.svg"
    "report | r.html | | report in/r.csv -q -o out/r.html"
)
declare -a NAME OUTS INPL CMD
for i in "${!CASES[@]}"; do
    IFS='|' read -r n o p c <<<"${CASES[$i]}"
    n=${n#" "} && NAME[$i]=${n%" "}
    read -r -a w <<<"$o" && OUTS[$i]=${w[*]}
    read -r -a w <<<"$p" && INPL[$i]=${w[*]-}
    CMD[$i]=$c
done

# md5 sums: of master/ (in/ of every run), of the old versions
declare -A IN_SUM OLD_SUM REF_SUM
while read -r sum path; do IN_SUM[${path##*/}]=$sum; done < <(md5sum "$M"/*)
for i in "${!CASES[@]}"; do
    for f in ${OUTS[$i]}; do
        OLD_SUM[$f]=$(printf 'old version of %s\n' "$f" | md5sum | cut -d' ' -f1)
    done
done

# run_one CASE MODE N OLD: one run in $WORK/runs/CASE/MODE.N (MODE count,
# full, once or fsize; OLD=1: an old version of every output there, and
# --force). Leaves rc, count, stdout, stderr there, and class (but for
# counting runs, which keep a log of the calls).
run_one() {
    local i=$1 mode=$2 n=$3 old=$4 f
    local dir=$WORK/runs/$i/$mode.$n
    mkdir -p "$dir/in" "$dir/out" && cp "$M"/* "$dir/in/" || return
    for f in ${INPL[$i]}; do cp "$M/$f" "$dir/out/$f"; done
    local -a argv
    read -r -a argv <<<"${CMD[$i]}"
    argv=("$MC" "${argv[@]}")
    if [ "$old" -eq 1 ]; then
        for f in ${OUTS[$i]}; do printf 'old version of %s\n' "$f" >"$dir/out/$f"; done
        argv+=(--force)
    fi
    cd "$dir" || return
    export LD_PRELOAD=$PRELOAD MC_FAULT_DIR=out MC_FAULT_COUNT=count MC_FAULT_NOSYNC=1
    case $mode in
        count) export MC_FAULT_LOG=log ;;
        full) export MC_FAULT_AT=$n ;;
        once) export MC_FAULT_AT=$n MC_FAULT_ONCE=1 MC_FAULT_ERRNO=EIO ;;
    esac
    if [ "$mode" = fsize ]; then
        (trap '' XFSZ && ulimit -f "$n" && exec "${argv[@]}") >stdout 2>stderr
    else
        "${argv[@]}" >stdout 2>stderr
    fi
    echo $? >rc
    unset LD_PRELOAD
    [ "$mode" = count ] || classify "$i" "$old" >class
}

# state CASE WHICH OLD (in a run's directory): what is wrong with in/ and
# out/, nothing when all is well. WHICH=before: a failed run must leave them
# as they were; after: a good run as the counting run left them.
state() {
    local i=$1 which=$2 old=$3 sum path f want
    local -A got=()
    while read -r sum path; do got[$path]=$sum; done < <(md5sum in/* out/* 2>/dev/null)
    for path in "${!got[@]}"; do
        f=${path#*/}
        case "$path" in
            in/*) [ -n "${IN_SUM[$f]-}" ] || echo "stray file $path" ;;
            *) case " ${OUTS[$i]} ${INPL[$i]} " in
                   *" $f "*) ;;
                   *) case "$f" in *.tmp*) echo "temporary $f left" ;; *) echo "stray file $f" ;; esac ;;
               esac ;;
        esac
    done
    for f in "${!IN_SUM[@]}"; do [ "${got[in/$f]-}" = "${IN_SUM[$f]}" ] || echo "input $f changed"; done
    for f in ${INPL[$i]}; do
        if [ "$which" = before ]; then want=${IN_SUM[$f]}; else want=${REF_SUM[$i:$f]}; fi
        [ "${got[out/$f]-}" = "$want" ] || echo "$f (rewritten in place) $([ "$which" = before ] && echo changed || echo "differs from the good run's")"
    done
    for f in ${OUTS[$i]}; do
        if [ "$which" = after ]; then
            [ "${got[out/$f]-}" = "${REF_SUM[$i:$f]}" ] || echo "$f missing or different from the good run's"
        elif [ "$old" -eq 1 ]; then
            [ "${got[out/$f]-}" = "${OLD_SUM[$f]}" ] || echo "old $f not kept"
        else
            [ -z "${got[out/$f]-}" ] || echo "$f written"
        fi
    done
}

# classify CASE OLD (in a run's directory): "CLASS|FAILED CALLS|DETAIL"
classify() {
    local i=$1 old=$2 rc calls=0 failed=? first="" line report="" top="" problems
    read -r rc <rc
    [ -s count ] && read -r calls failed <count
    # our first line; a sanitizer's report and its top frame
    {
        read -r first
        while read -r line; do
            case "$line" in
                *"ERROR: AddressSanitizer"* | *"runtime error:"* | *"ERROR: LeakSanitizer"*)
                    [ -n "$report" ] || report=$line ;;
                "#0 "*) [ -n "$top" ] || top=$line ;;
            esac
        done
    } <stderr
    if [ "$rc" -ge 128 ] || [ "$rc" -eq 86 ] || [ "$rc" -eq 87 ]; then
        problems=$(state "$i" before "$old")
        local hdf5=""
        if [ -z "$problems" ] && [ "${first#magclust: error: HDF5 error: }" != "$first" ] &&
            { [ "$rc" -eq 139 ] || { [ "$rc" -eq 86 ] && [ "${top#*H5F__close_cb}" != "$top" ]; }; }; then
            hdf5=" (libhdf5 at exit)"
        fi
        echo "crash|$failed|exit $rc$hdf5; ${problems:-nothing left on disk}; stderr: $first${report:+ / ${report#==*== }}${top:+ / $top}"
    elif [ "$rc" -eq 0 ]; then
        problems=$(state "$i" after "$old")
        if [ -n "$problems" ]; then echo "silent|$failed|exit 0; $problems"
        elif [ "$failed" = 0 ]; then echo "other|$failed|exit 0 but no call failed (the fault was not reached)"
        else echo "absorbed|$failed|exit 0 after $failed failed calls; outputs complete"; fi
    elif [ "$rc" -eq 1 ]; then
        problems=$(state "$i" before "$old")
        if [ -n "$problems" ]; then echo "partial|$failed|$problems; stderr: $first"
        elif [ "${first#magclust: error: }" = "$first" ]; then echo "other|$failed|first line of stderr: $first"
        elif [ "$failed" = 0 ]; then echo "other|$failed|exit 1 but no call failed: $first"
        else echo "clean|$failed|$first"; fi
    else
        echo "other|$failed|exit $rc: $first"
    fi | tr '\n' ';' | sed 's/;$/\n/'
}

# the n to fail: all up to 60 calls; else 1..50 and 20 more spread to N
sample() {
    local n=$1 k
    if [ "$n" -le 60 ]; then seq 1 "$n"; return; fi
    seq 1 50
    for k in $(seq 1 20); do echo $((50 + (n - 50) * k / 20)); done | uniq
}

# the file-size limits (KiB) for a case whose largest output has BYTES:
# 1, 2, 4 ... and the largest limit below it
limits() {
    local bytes=$1 k=1 top=$((($1 - 1) / 1024))
    while [ "$k" -lt "$top" ]; do echo "$k"; k=$((k * 2)); done
    [ "$top" -ge 1 ] && echo "$top"
}

# at most JOBS runs at once
pending=0
spawn() {
    if [ "$pending" -ge "$JOBS" ]; then wait -n; pending=$((pending - 1)); fi
    (run_one "$@") 2>>"$WORK/shell.err" & # bash's "Segmentation fault" lines
    pending=$((pending + 1))
}

# ---- counting runs ------------------------------------------------------------
for i in "${!CASES[@]}"; do spawn "$i" count 0 0; done
wait
pending=0
bad_count=0
declare -a NCALLS LIMITS
for i in "${!CASES[@]}"; do
    dir=$WORK/runs/$i/count.0
    if [ "$(cat "$dir/rc")" -ne 0 ] || [ ! -s "$dir/count" ]; then
        echo "FAIL counting run of '${NAME[$i]}': exit $(cat "$dir/rc")"
        head -n 3 "$dir/stderr"
        bad_count=1
        continue
    fi
    read -r "NCALLS[$i]" _ <"$dir/count"
    if [ "${NCALLS[$i]}" -eq 0 ]; then
        echo "FAIL '${NAME[$i]}' made no counted call: is the shim interposing?"
        bad_count=1
    fi
    while read -r sum path; do REF_SUM[$i:${path##*/}]=$sum; done < <(md5sum "$dir"/out/*)
    biggest=0
    for f in ${OUTS[$i]} ${INPL[$i]}; do
        size=$(stat -c %s "$dir/out/$f")
        [ "$size" -gt "$biggest" ] && biggest=$size
    done
    LIMITS[$i]=$(limits "$biggest" | tr '\n' ' ')
done
[ "$bad_count" -eq 0 ] || exit 1

# ---- every n, two ways; the file-size limits ------------------------------------
# runs_of CASE: the runs, as MODE.N OLD
runs_of() {
    local n
    for n in $(sample "${NCALLS[$1]}"); do echo "full.$n $((n % 2))" "once.$n $(((n + 1) % 2))"; done | tr ' ' '\n' |
        paste - -
    for n in ${LIMITS[$1]}; do echo "fsize.$n $((n % 2))"; done
}
for i in "${!CASES[@]}"; do
    while read -r run old; do spawn "$i" "${run%%.*}" "${run#*.}" "$old"; done < <(runs_of "$i")
done
wait

# call_of CASE N: what call N of the counting run was ("pwrite of 96 bytes to .g.h5.tmp1.0")
call_of() {
    local n c len file
    while read -r n c len file; do
        if [ "$n" = "$2" ]; then
            case $c in
                write* | pwrite*) echo "$c of $len bytes to ${file##*/}" ;;
                *) echo "$c of ${file##*/}" ;;
            esac
            return
        fi
    done <"$WORK/runs/$1/count.0/log"
}

# what_failed CASE MODE N
what_failed() {
    case $2 in
        full) echo "call $3 ($(call_of "$1" "$3")) and all later failed (ENOSPC)" ;;
        once) echo "call $3 ($(call_of "$1" "$3")) alone failed (EIO)" ;;
        fsize) echo "a file-size limit of $3 KiB (EFBIG)" ;;
    esac
}

# repro CASE MODE N OLD: a script that repeats one run, with a log of the calls
repro() {
    local i=$1 mode=$2 n=$3 old=$4 f
    local dir=$WORK/runs/$i/$mode.$n
    local script=$WORK/repro/$(printf '%s' "${NAME[$i]}" | tr -c 'A-Za-z0-9' '_').$mode.$n.sh
    {
        echo '#!/usr/bin/env bash'
        echo "# ${NAME[$i]}: $(what_failed "$i" "$mode" "$n")"
        printf 'set -u\ncd %q || exit 1\n' "$dir"
        printf 'rm -rf in out log && mkdir in out && cp %q/* in/\n' "$M"
        for f in ${INPL[$i]}; do printf 'cp %q out/\n' "$M/$f"; done
        if [ "$old" -eq 1 ]; then
            for f in ${OUTS[$i]}; do printf "printf 'old version of %%s\\\\n' %s >out/%s\n" "$f" "$f"; done
        fi
        [ "$mode" = fsize ] && printf '(trap "" XFSZ; ulimit -f %s; exec ' "$n"
        printf 'env LD_PRELOAD=%q MC_FAULT_DIR=out MC_FAULT_LOG=log' "$PRELOAD"
        case $mode in
            full) printf ' MC_FAULT_AT=%s' "$n" ;;
            once) printf ' MC_FAULT_AT=%s MC_FAULT_ONCE=1 MC_FAULT_ERRNO=EIO' "$n" ;;
        esac
        printf ' %q %s' "$MC" "${CMD[$i]}"
        [ "$old" -eq 1 ] && printf ' --force'
        [ "$mode" = fsize ] && printf ')'
        printf '\necho "exit $?"; ls -lA out; cat log\n'
    } >"$script"
    chmod +x "$script"
    echo "$script"
}

# ---- the table -------------------------------------------------------------------
fmt='%-20s %6s %5s %6s %8s %6s %7s %6s %6s\n'
printf "$fmt" command calls runs clean absorbed crash partial silent other
classes=(clean absorbed crash partial silent other)
T=(0 0 0 0 0 0 0 0)
: >"$WORK/notclean.txt"
for i in "${!CASES[@]}"; do
    declare -A cnt=([clean]=0 [absorbed]=0 [crash]=0 [partial]=0 [silent]=0 [other]=0)
    runs=0
    while read -r run old; do
        dir=$WORK/runs/$i/$run mode=${run%%.*} n=${run#*.}
        IFS='|' read -r cls failed detail <"$dir/class"
        cnt[$cls]=$((cnt[$cls] + 1))
        runs=$((runs + 1))
        if [ "$cls" = clean ]; then
            rm -rf "$dir"
            continue
        fi
        printf '%-8s %s, %s: %s\n' "$cls" "${NAME[$i]}" "$(what_failed "$i" "$mode" "$n")" "$detail" \
            >>"$WORK/notclean.txt"
        case $cls in
            absorbed) rm -rf "$dir" ;;
            *) printf '         reproduce: %s\n' "$(repro "$i" "$mode" "$n" "$old")" >>"$WORK/notclean.txt" ;;
        esac
    done < <(runs_of "$i")
    calls=${NCALLS[$i]}
    [ "$(sample "$calls" | wc -l)" -lt "$calls" ] && calls="$calls*"
    row=("${NCALLS[$i]}" "$runs")
    for c in "${classes[@]}"; do row+=("${cnt[$c]}"); done
    printf "$fmt" "${NAME[$i]}" "$calls" "${row[@]:1}"
    for k in "${!row[@]}"; do T[$k]=$((T[$k] + row[$k])); done
    unset cnt
done
printf "$fmt" total "${T[@]}"
echo "(calls: the write-type calls of a good run under its output directory, * sampled;"
echo " runs: each call failed twice (from it on with ENOSPC, it alone with EIO) plus the"
echo " file-size limits (EFBIG); half the runs with old outputs in place and --force)"
failures=$((T[4] + T[5] + T[6] + T[7]))
if [ -s "$WORK/notclean.txt" ]; then
    echo
    echo "runs not clean:"
    cat "$WORK/notclean.txt"
fi
if [ "$failures" -gt 0 ]; then
    echo
    echo "FAIL: $failures runs crashed, left partial state, succeeded silently or failed otherwise"
    exit 1
fi
echo
echo "no run crashed, left partial state or succeeded silently"
