#!/usr/bin/env bash
# Install what scripts/bench/bench.sh needs (peers, GEMM probe, plots), from
# Debian 12 packages only, skipping the ones already present. Run as root (or
# with sudo available). magclust's own build dependencies come from
# scripts/install-deps.sh.
set -euo pipefail

PKGS=(python3-numpy python3-h5py python3-sklearn python3-scipy python3-faiss
      libdlib-dev libopenblas-dev time g++)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-bench-deps: all benchmark dependencies present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-bench-deps: error: missing ${missing[*]} and not root (no sudo)" >&2
        exit 1
    fi
fi
echo "install-bench-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
