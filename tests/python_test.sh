#!/usr/bin/env bash
# python_test.sh PYTHON LIB CLI LAYOUT FIXTURES SRC WORK: the Python package's
# pytest suite (python/tests) against this build. Exit 77 (skipped) when the
# interpreter lacks NumPy or pytest.
set -euo pipefail
py=$1 lib=$2 cli=$3 layout=$4 fx=$5 src=$6 work=$7
for m in numpy pytest; do
    if ! "$py" -c "import $m" 2>/dev/null; then
        echo "SKIP: $py has no $m (Debian: python3-$m; scripts/install-deps.sh --test)"
        exit 77
    fi
done
rm -rf "$work"
mkdir -p "$work"
export MAGCLUST_LIBRARY=$lib MAGCLUST_CLI=$cli MAGCLUST_LAYOUT=$layout \
       MAGCLUST_FIXTURES=$fx MAGCLUST_WORK=$work PYTHONPATH="$src/python${PYTHONPATH:+:$PYTHONPATH}"
cd "$src/python"
exec "$py" -m pytest -q -p no:cacheprovider tests
