#!/usr/bin/env bash
# Fuzz every parser with libFuzzer under AddressSanitizer and
# UndefinedBehaviorSanitizer (clang; build-fuzz/), each harness for a bounded
# time, then triage what was found.
#
#   scripts/fuzz.sh [--seconds S] [--jobs J] [--triage] [HARNESS...]
#
# HARNESS: h5 magface l2c npy csv corrections options (default: all). S is
# the fuzzing time per harness (default 60, or $MC_FUZZ_SECONDS); J harnesses
# run at once (default: the number of cores). Each starts from its seed corpus
# (tests/fuzz/corpus/NAME, never modified) plus what earlier runs added
# (build-fuzz/corpus/NAME). Findings go to build-fuzz/findings/NAME/.
# --triage: no fuzzing, only the triage of what build-fuzz/findings/ holds.
#
# Triage: every crash, leak, timeout or out-of-memory input is replayed alone
# and its report read. One whose fault lies in our code fails the run (exit
# 1): fix it and add the input to tests/fuzz/regressions/NAME/, which ctest
# replays from then on. One whose fault lies inside libhdf5 itself (the
# top frames of the report are HDF5's, under our call that had already
# checked what it could) is reported as a defect of HDF5 and does not fail
# the run: see tests/fuzz/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${MC_FUZZ_SECONDS:-60}
jobs=$(nproc 2>/dev/null || echo 2)
all=(h5 magface l2c npy csv corrections options)
want=()
triage_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) secs=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --triage) triage_only=1; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) echo "fuzz: error: unknown option $1" >&2; exit 2 ;;
        *) want+=("$1"); shift ;;
    esac
done
[ ${#want[@]} -gt 0 ] || want=("${all[@]}")
for h in "${want[@]}"; do
    case " ${all[*]} " in *" $h "*) ;; *) echo "fuzz: error: no harness '$h' (${all[*]})" >&2; exit 2 ;; esac
done

scripts/install-deps.sh --test
echo "== building the harnesses (clang, -fsanitize=fuzzer,address,undefined; build-fuzz/) =="
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMC_BUILD_FUZZERS=ON -DMC_BUILD_TESTS=OFF \
    -DMC_BUILD_EXAMPLES=OFF >/dev/null
targets=()
for h in "${want[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build build-fuzz -j "$jobs" "${targets[@]}" >/dev/null

export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
# LeakSanitizer options of harness $1: fuzz_h5 ignores libhdf5's own leaks.
lsan_for() { [ "$1" = h5 ] && echo "suppressions=$root/tests/fuzz/lsan-hdf5.supp" || true; }

run_one() {
    local h=$1 corpus="$root/build-fuzz/corpus/$1" found="$root/build-fuzz/findings/$1"
    mkdir -p "$corpus" "$found"
    # -fork: crashes are collected and fuzzing goes on (-ignore_*), so that
    # one defect of HDF5 does not hide the others; -close_fd_mask=3: the
    # commands' own error messages are not the fuzzer's output.
    LSAN_OPTIONS=$(lsan_for "$h") "$root/build-fuzz/tests/fuzz/fuzz_$h" -fork=1 -ignore_crashes=1 \
        -ignore_ooms=1 -ignore_timeouts=1 -max_total_time="$secs" -timeout=5 \
        -rss_limit_mb=2048 -malloc_limit_mb=1024 -close_fd_mask=3 \
        -artifact_prefix="$found/" "$corpus" "$root/tests/fuzz/corpus/$h" \
        >"$root/build-fuzz/fuzz-$h.log" 2>&1 || true
}
if [ "$triage_only" -eq 0 ]; then
    echo "== fuzzing ${want[*]}: ${secs} s each, $jobs at a time =="
    for h in "${want[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 1; done
        run_one "$h" &
    done
    wait
fi

# Which side of the call a report's fault lies on: the first stack frame
# that is either libhdf5's or a line of our sources (lib/src, cli, tests/fuzz) names
# the culprit. Frames of the sanitizer runtime, libFuzzer and libc come
# before it and are passed over (a timeout's stack starts in the signal
# handler; a libc function that faults was called by the culprit). A report
# with neither counts as ours. One awk, so no pipe is cut short (SIGPIPE).
culprit() {
    awk '/^ +#[0-9]+ / && /libhdf5|\/(lib\/src|cli|tests\/fuzz)\/[A-Za-z0-9_]+\.[ch]:/ { print; exit }' "$1"
}

fail=0
printf '\n%-12s %10s %8s %8s %10s %s\n' harness executions exec/s corpus ours hdf5-defects
for h in "${want[@]}"; do
    log="$root/build-fuzz/fuzz-$h.log"
    last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
    execs=$(sed -E 's/^#([0-9]+).*/\1/' <<<"$last")
    rate=$(sed -nE 's/.*exec\/s:? ([0-9]+).*/\1/p' <<<"$last")
    corp=$(ls "$root/build-fuzz/corpus/$h" | wc -l)
    ours=0 theirs=0
    for a in "$root/build-fuzz/findings/$h"/*; do
        [ -e "$a" ] || continue
        rep="$a.report"
        LSAN_OPTIONS=$(lsan_for "$h") \
            ASAN_OPTIONS=detect_leaks=1:fast_unwind_on_malloc=0 \
            "$root/build-fuzz/tests/fuzz/fuzz_$h" -runs=1 -timeout=5 -rss_limit_mb=2048 \
            -malloc_limit_mb=1024 "$a" >"$rep" 2>&1 && { rm -f "$rep"; continue; }  # no longer fails
        c=$(culprit "$rep")
        if [[ "$c" == *libhdf5* ]]; then
            theirs=$((theirs + 1))
            fn=$(grep -m1 -oE ' in H5[A-Za-z0-9_]+' "$rep" | sed 's/ in //' || true)
            ours_fr=$(grep -m1 -E '^ +#[0-9]+ .* in [a-z_0-9]+ .*(lib/src|cli)/' "$rep" |
                sed -E 's/.* in ([a-z_0-9]+) .*\/((lib\/src|cli)\/[^ ]+).*/\1 (\2)/' || true)
            echo "  $h: HDF5 defect: $(basename "$a"): $(head -c 40 <<<"$(grep -m1 -oE 'AddressSanitizer: [A-Za-z-]+|UndefinedBehaviorSanitizer|LeakSanitizer|timeout|out-of-memory' "$rep")") inside ${fn:-libhdf5}, called from ${ours_fr:-?}"
        else
            ours=$((ours + 1))
            echo "  $h: FOUND: $(basename "$a"): $(grep -m1 -E 'ERROR|runtime error|left open' "$rep" | cut -c1-120)"
            echo "      $c"
            echo "      replay: build-fuzz/tests/fuzz/fuzz_$h $a   (report: $rep)"
            fail=1
        fi
    done
    printf '%-12s %10s %8s %8s %10s %s\n' "$h" "${execs:-0}" "${rate:-0}" "$corp" "$ours" "$theirs"
done
echo "command: scripts/fuzz.sh --seconds $secs --jobs $jobs ${want[*]}"
[ "$fail" -eq 0 ] || { echo "fuzz: inputs that break our code are in build-fuzz/findings/" >&2; exit 1; }
