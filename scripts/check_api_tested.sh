#!/usr/bin/env bash
# Fails, naming them, when a public function (one declared MC_API in
# lib/include/magclust/*.h) is called by no test under tests/.
#
# A test "calls" a function when its name appears as a whole word in a C
# test (tests/*.c, tests/*.h). The fuzz harnesses (tests/fuzz/) do not count:
# they check only that nothing crashes, never a result, so a function reached
# only there is still untested. Shell tests (tests/*.sh) do not count either:
# they reach the library only through the CLI.
#
# Usage: scripts/check_api_tested.sh [SOURCE_DIR]   (default: the repository)
set -euo pipefail
src=${1:-$(cd "$(dirname "$0")/.." && pwd)}
cd "$src"

# The name of each MC_API declaration: the identifier before the first '('
# of the declaration (return types may span a line, names never do).
names=$(awk '/^[[:space:]]*MC_API[[:space:]]/ { decl = 1 }
             decl { buf = buf " " $0; if (index($0, "(")) {
                      sub(/\(.*/, "", buf); n = split(buf, w, /[^A-Za-z0-9_]+/)
                      for (i = n; i > 0; i--) if (w[i] != "") { print w[i]; break }
                      buf = ""; decl = 0 } }' lib/include/magclust/*.h | sort -u)
[ -n "$names" ] || { echo "check_api_tested: no MC_API declarations found in $src/lib/include/magclust" >&2; exit 1; }

tests=$(ls tests/*.c tests/*.h)
missing=()
total=0
for f in $names; do
  total=$((total + 1))
  grep -qw -- "$f" $tests || missing+=("$f")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "check_api_tested: ${#missing[@]} of $total public functions are called by no C test under tests/:"
  printf '  %s\n' "${missing[@]}"
  exit 1
fi
echo "check_api_tested: all $total public functions are called by a C test under tests/"
