#!/usr/bin/env bash
# Regenerates the bad-input catalogue of tests/README.md from a run of the
# CLI tests: every `bad` case of tests/cli_test.sh with its command, exit code
# and the one-line error it got. Usage: scripts/bad_input_catalogue.sh
# (after scripts/build.sh -DMC_BUILD_TESTS=ON).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/tests/make_fixtures "$work/fx" >/dev/null
tests/cli_test.sh "$root/build/magclust" "$work/fx" "$root" "$work/cli" >/dev/null || true
table=$work/cli/bad_inputs.md
[ -s "$table" ] || { echo "bad_input_catalogue.sh: the CLI tests wrote no catalogue" >&2; exit 1; }
{
    sed -n '1,/^<!-- catalogue: begin -->$/p' tests/README.md
    echo "| case | command | exit | error (first line of stderr) |"
    echo "|---|---|---|---|"
    cat "$table"
    sed -n '/^<!-- catalogue: end -->$/,$p' tests/README.md
} >"$work/README.md"
mv "$work/README.md" tests/README.md
echo "tests/README.md: $(wc -l <"$table") bad inputs catalogued"
