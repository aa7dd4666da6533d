#!/usr/bin/env bash
# Install what magclust needs to build and test, from Debian 12 packages,
# skipping the ones already present. Run as root (or with sudo available).
set -euo pipefail

PKGS=(build-essential cmake pkg-config libfaiss-dev libopenblas-dev liblapack-dev
      libhdf5-dev libcunit1-dev)

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "install-deps: all build dependencies present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: error: missing ${missing[*]} and not root (no sudo)" >&2
        exit 1
    fi
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
