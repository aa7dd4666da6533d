#!/usr/bin/env bash
# Every HDF5 writer on a full disk: a 1 MiB tmpfs, nearly filled, takes the
# k-NN graph, a result, a synth file, an import, a model with its result and
# an updated model with its assignment. Each must fail with exit
# 1 and one "magclust: error:" line, and leave neither the output nor a
# temporary behind. (libhdf5 crashed at exit when a failed close had left the
# file's identifiers open: exit 139.) Needs root to mount the tmpfs; exits 77
# (ctest: skipped) when mounting is not permitted. Usage:
#   full_disk_test.sh MAGCLUST FIXTURE_DIR SOURCE_DIR WORK_DIR
set -u
MC=$1 FX=$2 SRC=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK/disk"
DISK=$WORK/disk
if ! mount -t tmpfs -o size=1m magclust-full "$DISK" 2>/dev/null; then
    echo "SKIP: cannot mount a tmpfs on $DISK (needs root)"
    exit 77
fi
trap 'umount "$DISK"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && echo "     $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }

# inputs live outside the small disk
"$MC" export "$FX/tiny.h5" -o "$WORK/tiny.csv" >/dev/null || exit 1

# full NAME FILL_KIB LINES CMD...: on a disk with FILL_KIB of its 1024 KiB
# taken, CMD (writing $DISK/out.h5) exits 1 with a first line naming the
# output; LINES = 1 also asks that it be the only line.
full() {
    local name=$1 fill=$2 lines=$3; shift 3
    rm -f "$DISK"/* "$DISK"/.[!.]* 2>/dev/null
    dd if=/dev/zero of="$DISK/filler" bs=1k count="$fill" 2>/dev/null
    "$@" >"$WORK/$name.out" 2>"$WORK/$name.err"
    local rc=$?
    check "$name: exit 1 (got $rc)" [ "$rc" -eq 1 ]
    local first; first=$(head -n 1 "$WORK/$name.err")
    case "$first" in
        "magclust: error: "*"$DISK/out.h5"*) ok "$name: message names the output" ;;
        *) ko "$name: message names the output" "got: $first" ;;
    esac
    if [ "$lines" -eq 1 ]; then
        check "$name: one line on stderr" [ "$(wc -l <"$WORK/$name.err")" -eq 1 ]
    fi
    check "$name: no output" [ ! -e "$DISK/out.h5" ]
    check "$name: no temporary" [ -z "$(ls -A "$DISK" | grep -v '^filler$')" ]
}

for fill in 1000 1016; do
    full "knn_$fill" "$fill" 1 "$MC" knn "$SRC/datasets/sample.h5" -q -o "$DISK/out.h5"
    full "result_$fill" "$fill" 1 "$MC" cluster "$SRC/datasets/sample.h5" -q -o "$DISK/out.h5"
    full "synth_$fill" "$fill" 1 "$MC" synth --ids 20 --dim 64 -o "$DISK/out.h5"
    # libhdf5 1.10 keeps the buffer of a chunk it failed to write; the
    # sanitizer build's LeakSanitizer lists it (suppressed) after our line
    full "import_$fill" "$fill" 0 "$MC" import csv "$WORK/tiny.csv" -q -o "$DISK/out.h5"
done
# A model that does not fit: neither it nor the result (on another disk,
# where it fits) is written. The model is built in memory and written with
# stdio, so libhdf5 never meets the full disk (1.10.8 crashed at exit after
# failing to close a model file with 8 KiB left): one line, at any fill.
for fill in 0 1000 1016 1020; do
    rm -f "$WORK/res.csv"
    full "model_$fill" "$fill" 1 "$MC" cluster "$SRC/datasets/sample.h5" -q -o "$WORK/res.csv" \
        --save-model "$DISK/out.h5"
    check "model_$fill: the result that fitted is not written either" [ ! -e "$WORK/res.csv" ]
    check "model_$fill: ... nor its temporary" [ -z "$(ls -A "$WORK" | grep '^\.res\.csv')" ]
done
# assign --update: the updated model does not fit; the assignment is not
# written and the model on disk (outside) is unchanged
"$MC" cluster "$FX/tiny.h5" -q -o "$WORK/m.csv" --save-model "$WORK/model.h5" || exit 1
cp "$WORK/model.h5" "$WORK/model_copy.h5"
msize=$(( $(stat -c %s "$WORK/model.h5") / 1024 ))
for fill in 1010 1016 1020 $((1024 - msize)) $((1024 - msize - 4)); do
    rm -f "$DISK"/* "$DISK"/.[!.]* 2>/dev/null
    dd if=/dev/zero of="$DISK/filler" bs=1k count="$fill" 2>/dev/null
    "$MC" assign "$WORK/model.h5" "$FX/tiny_new.h5" --update --model-out "$DISK/out.h5" -q -o "$WORK/new.csv" \
        >"$WORK/upd.out" 2>"$WORK/upd.err"
    rc=$?
    check "assign --update on a full disk ($fill KiB taken): exit 1 (got $rc)" [ "$rc" -eq 1 ]
    check "... one line on stderr" [ "$(wc -l <"$WORK/upd.err")" -eq 1 ]
    check "... no model, no temporary" [ -z "$(ls -A "$DISK" | grep -v '^filler$')" ]
    check "... no assignment either (it fitted elsewhere)" [ ! -e "$WORK/new.csv" ]
    check "... the old model unchanged" cmp -s "$WORK/model.h5" "$WORK/model_copy.h5"
done
check "knn: the disk full message gives HDF5's reason" \
    grep -q "No space left on device" "$WORK/knn_1000.err"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
