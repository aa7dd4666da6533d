#!/usr/bin/env bash
# valgrind memcheck over the end-to-end CLI tests, outside ctest.
#   scripts/valgrind.sh           as ctest's cli_valgrind (fixtures only)
#   scripts/valgrind.sh --full    every run, the bundled sample's too (about
#                                 50 CPU-minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh -DMC_BUILD_TESTS=ON >/dev/null
(cd build && ctest -R '^fixtures$' >/dev/null)
exec tests/valgrind_cli.sh "$PWD/build/magclust" "$PWD/build/tests/fixtures" "$PWD" \
    "$PWD/build/tests/valgrind-work" "${1:-}"
