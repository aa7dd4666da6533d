#!/usr/bin/env bash
# Installs the build tree into a scratch prefix, then builds a program against
# it twice, as another project would: with find_package(magclust) and with
# pkg-config. Usage: install_test.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -eu
SRC=$1 BUILD=$2 WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
PREFIX="$WORK/prefix"
cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log"
for f in bin/magclust include/magclust/magclust.h lib/libmagclust.a lib/pkgconfig/magclust.pc \
         lib/cmake/magclust/magclustConfig.cmake; do
    [ -e "$PREFIX/$f" ] || { echo "FAIL missing $f after install"; exit 1; }
done
ls "$PREFIX"/lib/libmagclust.so* >/dev/null || { echo "FAIL no shared library"; exit 1; }
[ -z "$(ls "$PREFIX/include/magclust" | grep _impl)" ] || { echo "FAIL private header installed"; exit 1; }

# 1. CMake consumer (shared and static)
mkdir -p "$WORK/consumer"
cp "$SRC/examples/cluster_h5.c" "$WORK/consumer/"
cat >"$WORK/consumer/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(magclust 0.1 REQUIRED)
add_executable(use_shared cluster_h5.c)
target_link_libraries(use_shared PRIVATE magclust::shared)
add_executable(use_static cluster_h5.c)
target_link_libraries(use_static PRIVATE magclust::static)
CM
# a sanitized build's library needs the sanitizer runtimes in its consumers
FLAGS=${MC_CONSUMER_FLAGS:-}
cmake -S "$WORK/consumer" -B "$WORK/consumer/build" -DCMAKE_PREFIX_PATH="$PREFIX" \
    -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_EXE_LINKER_FLAGS="$FLAGS" >"$WORK/consumer.log"
cmake --build "$WORK/consumer/build" >>"$WORK/consumer.log"
LD_LIBRARY_PATH="$PREFIX/lib" "$WORK/consumer/build/use_shared" "$SRC/datasets/sample.h5" | tee "$WORK/shared.out"
"$WORK/consumer/build/use_static" "$SRC/datasets/sample.h5" >"$WORK/static.out"
cmp "$WORK/shared.out" "$WORK/static.out"
grep -q "BCubed F" "$WORK/shared.out"

# 2. pkg-config consumer (shared)
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
cc -std=c11 $FLAGS -o "$WORK/use_pc" "$SRC/examples/cluster_h5.c" $(pkg-config --cflags --libs magclust)
LD_LIBRARY_PATH="$PREFIX/lib" "$WORK/use_pc" "$SRC/datasets/sample.h5" >"$WORK/pc.out"
cmp "$WORK/shared.out" "$WORK/pc.out"

# 3. the installed CLI runs
"$PREFIX/bin/magclust" --version
echo "install test: 3 passed, 0 failed"
