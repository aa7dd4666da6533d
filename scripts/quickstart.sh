#!/usr/bin/env bash
# README Quick start, first command: install what is missing, build, and
# cluster the bundled sample, printing the summary and BCubed, writing a CSV.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# the library and the CLI only: the tests, fuzzers and examples are built by
# scripts/test.sh (the second command), which turns them back on
scripts/build.sh -DMC_BUILD_TESTS=OFF -DMC_BUILD_EXAMPLES=OFF
build/magclust cluster datasets/sample.h5 -o sample-clusters.csv --force
echo "first rows of sample-clusters.csv:"
head -n 6 sample-clusters.csv
