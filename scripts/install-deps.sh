#!/usr/bin/env bash
# Install what magclust needs to build and test, from Debian 12 packages,
# skipping the ones already present. Run as root (or with sudo available).
#   scripts/install-deps.sh           build dependencies
#   scripts/install-deps.sh --test    and what the tests need: Chromium renders
#                                     the HTML report; clang and its runtimes
#                                     build the fuzzers; valgrind checks the CLI;
#                                     locales + de_DE.UTF-8 (a ',' decimal point)
#                                     for test_locale; NumPy, pytest and
#                                     matplotlib for the Python package's suite
#                                     (tests/python_test.sh) and its example;
#                                     Open MPI (libopenmpi-dev, openmpi-bin)
#                                     for the MPI build's test (tests/mpi_test.sh)
#   scripts/install-deps.sh --bench   and what scripts/bench/ needs (peers,
#                                     GEMM probe): see scripts/bench/README.md
set -euo pipefail

PKGS=(build-essential cmake pkg-config libfaiss-dev libopenblas-dev liblapack-dev
      libhdf5-dev libcunit1-dev libjpeg-dev libpng-dev libhnswlib-dev)
what="build dependencies"
want_locale=0
case "${1:-}" in
    "") ;;
    --test)
        PKGS+=(chromium fonts-dejavu-core clang libclang-rt-14-dev libomp-dev valgrind locales
               python3-numpy python3-pytest python3-matplotlib python3-setuptools python3-pip
               libopenmpi-dev openmpi-bin)
        want_locale=1
        what="build and test dependencies" ;;
    --bench)
        PKGS+=(python3-numpy python3-h5py python3-sklearn python3-scipy python3-faiss
               libdlib-dev time g++)
        what="build and benchmark dependencies" ;;
    *) echo "install-deps: error: unknown argument '$1' (only --test or --bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
# test_locale needs a locale whose decimal point is ',' (it skips without one)
need_locale=0
if [ "$want_locale" = 1 ] && ! locale -a 2>/dev/null | grep -qix 'de_DE\.utf-\?8'; then
    need_locale=1
fi
if [ ${#missing[@]} -eq 0 ] && [ "$need_locale" = 0 ]; then
    echo "install-deps: all $what present"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
        echo "install-deps: error: missing ${missing[*]:-the de_DE.UTF-8 locale} and not root (no sudo)" >&2
        exit 1
    fi
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
if [ "$need_locale" = 1 ]; then
    echo "install-deps: generating the de_DE.UTF-8 locale"
    $SUDO sed -i 's/^# *de_DE.UTF-8/de_DE.UTF-8/' /etc/locale.gen
    $SUDO locale-gen
fi
