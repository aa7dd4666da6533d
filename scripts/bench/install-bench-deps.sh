#!/usr/bin/env bash
# Install what scripts/bench/bench.sh needs (magclust's build dependencies,
# the peers, the GEMM probe), from Debian 12 packages only, skipping the ones
# already present: the package list lives in scripts/install-deps.sh.
set -euo pipefail
exec "$(dirname "$0")/../install-deps.sh" --bench
