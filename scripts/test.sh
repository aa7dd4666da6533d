#!/usr/bin/env bash
# README Quick start, second command (and CI): install what is missing, build
# with warnings as errors (and -DMAGCLUST_MPI=ON when mpicc and mpirun are
# there), run every test with ctest (cli_valgrind_* among them: the
# end-to-end CLI tests under valgrind memcheck); then build again with
# AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/) and run every
# test once more, any sanitizer report failing the test; then fuzz every
# parser for $MC_FUZZ_SECONDS (default 30) seconds each (scripts/fuzz.sh).
# Usage: scripts/test.sh [--no-sanitize] [--no-fuzz] [--no-valgrind]
# (--no-valgrind leaves out cli_valgrind_*, most of the run's time on two
# cores: for a quicker local run; CI runs everything.)
set -euo pipefail
cd "$(dirname "$0")/.."
sanitize=1
fuzz=1
exclude=()
for a in "$@"; do
    case "$a" in
        --no-sanitize) sanitize=0 ;;
        --no-fuzz) fuzz=0 ;;
        --no-valgrind) exclude=(-E '^cli_valgrind') ;;
        *) echo "usage: scripts/test.sh [--no-sanitize] [--no-fuzz] [--no-valgrind]" >&2; exit 2 ;;
    esac
done
jobs=$(nproc 2>/dev/null || echo 2)
scripts/install-deps.sh --test
# The test build is the MPI build when an MPI is installed (install-deps.sh
# --test installs Open MPI): the same tests plus 'mpi' (tests/mpi_test.sh),
# without compiling everything a second time. The sanitizer build below
# stays the default, MPI-free one.
mpi=(-DMAGCLUST_MPI=OFF)
if command -v mpicc >/dev/null 2>&1 && command -v mpirun >/dev/null 2>&1; then
    mpi=(-DMAGCLUST_MPI=ON)
fi
scripts/build.sh -DMC_WERROR=ON -DMC_BUILD_TESTS=ON -DMC_BUILD_EXAMPLES=ON "${mpi[@]}"
# Tests that build-asan/ runs again with the sanitizers, and that valgrind
# does not need here, run there only when it runs: cli (the valgrind shards
# make every check it makes, each run not under valgrind runs plainly),
# fault_injection, full_disk, report, install_consumer and the examples.
# About three minutes of a core off the suite on two cores.
if [ ${#exclude[@]} -eq 0 ] && [ "$sanitize" -eq 1 ] && command -v valgrind >/dev/null 2>&1; then
    exclude=(-E '^(cli|fault_injection|full_disk|report|install_consumer|example_.*)$')
fi
(cd build && ctest --output-on-failure -j "$jobs" "${exclude[@]}")
if [ "$sanitize" -eq 1 ]; then
    echo "== the same tests under -fsanitize=address,undefined (build-asan/) =="
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMC_SANITIZE_ADDRESS=ON \
        -DMC_WERROR=ON -DMC_BUILD_TESTS=ON -DMC_BUILD_EXAMPLES=ON >/dev/null
    cmake --build build-asan -j "$jobs"
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=87
    (cd build-asan && ctest --output-on-failure -j "$jobs")
fi
if [ "$fuzz" -eq 1 ]; then
    echo "== fuzzing every parser (scripts/fuzz.sh) =="
    scripts/fuzz.sh --seconds "${MC_FUZZ_SECONDS:-30}" --jobs "$jobs"
fi
