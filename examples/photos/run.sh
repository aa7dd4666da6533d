#!/usr/bin/env bash
# The photo-collection workflow end to end, on a small generated collection:
#   1. a collection: embeddings (magclust synth; 24 people, 128-d) and a
#      folder of face crops drawn for them (make_crops: each person a face,
#      low-magnitude faces blurred and dark);
#   2. cluster it, save a model, write run1.csv;
#   3. correct it as a user would after looking at the report: name the two
#      largest clusters, say one face is not the person of its cluster, and
#      that two faces are the same person (examples/photos/corrections.csv
#      is written from run1.csv, since the ids come from the clustering);
#   4. re-cluster with the corrections and --previous run1.csv: ids and
#      names carry over, the corrections hold;
#   5. a report of the result: report.html.
# Usage: examples/photos/run.sh [MAGCLUST [MAKE_CROPS [WORK_DIR]]]
# (defaults: build/magclust, build/examples/example_make_crops, /tmp/magclust-photos)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MC=${1:-$root/build/magclust}
CROPS=${2:-$root/build/examples/example_make_crops}
W=${3:-/tmp/magclust-photos}
rm -rf "$W" && mkdir -p "$W"
set -x
"$MC" synth -o "$W/faces.h5" --ids 24 --dim 128 --seed 11
"$CROPS" "$W/faces.h5" "$W/crops"
"$MC" cluster "$W/faces.h5" -o "$W/run1.csv" --save-model "$W/model.h5"
set +x
# corrections: the user names the two largest clusters by one face each,
# marks the weakest face of the largest cluster as not that person, and
# confirms two faces of the second cluster as the same person
big=$(awk -F, 'NR > 1 && $3 >= 0 { n[$3]++ } END { for (c in n) print n[c], c }' "$W/run1.csv" | sort -k1,1nr -k2,2n | head -2 | awk '{ print $2 }')
c1=$(echo "$big" | sed -n 1p) c2=$(echo "$big" | sed -n 2p)
best() { awk -F, -v c="$1" 'NR > 1 && $3 == c { print $5, $2 }' "$W/run1.csv" | sort -k1,1gr | awk '{ print $2 }'; }
{
    echo "path,person"
    echo "# named after looking at report1.html"
    echo "$(best "$c1" | sed -n 1p),Alice"
    echo "$(best "$c2" | sed -n 1p),Bob"
    echo "$(best "$c1" | tail -n 1),!$c1"
    echo "$(best "$c2" | sed -n 2p),$(best "$c2" | sed -n 3p),same"
} >"$W/corrections.csv"
set -x
cat "$W/corrections.csv"
"$MC" report "$W/run1.csv" -o "$W/report1.html" --image-root "$W/crops" --labels "$W/faces.h5" -q
"$MC" cluster "$W/faces.h5" -o "$W/run2.csv" --corrections "$W/corrections.csv" --previous "$W/run1.csv"
"$MC" report "$W/run2.csv" -o "$W/report.html" --image-root "$W/crops" --labels "$W/faces.h5"
set +x
# what the user expects, checked
person() { awk -F, -v p="$1" '$2 == p { print $6 }' "$W/run2.csv" | tr -d '\r'; }
cluster_of() { awk -F, -v p="$1" '$2 == p { print $3 }' "$W/run2.csv"; }
a=$(sed -n 3p "$W/corrections.csv" | cut -d, -f1) notc1=$(sed -n 5p "$W/corrections.csv" | cut -d, -f1)
[ "$(person "$a")" = Alice ] || { echo "run.sh: the named face lost its name" >&2; exit 1; }
[ "$(cluster_of "$a")" = "$c1" ] || { echo "run.sh: Alice's cluster changed id" >&2; exit 1; }
[ "$(cluster_of "$notc1")" != "$c1" ] || { echo "run.sh: a 'not this person' face stayed" >&2; exit 1; }
echo "run.sh: done; open $W/report.html (Alice is cluster $c1, Bob cluster $c2)"
