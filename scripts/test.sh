#!/usr/bin/env bash
# README Quick start, second command (and CI): install what is missing, build
# with warnings as errors, run every test with ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --test
scripts/build.sh -DMC_WERROR=ON -DMC_BUILD_TESTS=ON -DMC_BUILD_EXAMPLES=ON
cd build
ctest --output-on-failure -j "$(nproc 2>/dev/null || echo 2)"
