#!/usr/bin/env bash
# magclust report end to end: images made with libjpeg/libpng (make_images),
# a clustering of the tiny fixture with a named person, the HTML report, and
# the page rendered by headless Chromium: no script errors, the expected
# number of clusters, thumbnails and placeholders, a screenshot.
# Usage: report_test.sh MAGCLUST MAKE_IMAGES FIXTURE_DIR WORK_DIR
# Exit 77 (skipped) only when Chromium is not installed.
set -u
MC=$1 MKIMG=$2 FX=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok   $1"; }
ko() { fail=$((fail + 1)); echo "FAIL $1"; [ $# -gt 1 ] && echo "     $2"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else ko "$name"; fi; }

"$MKIMG" "$WORK/img" || { echo "FAIL make_images"; exit 1; }
printf 'id2/img_03.jpg,Ann Example\n' >"$WORK/fix.csv"
"$MC" cluster "$FX/tiny.h5" -o "$WORK/tiny.csv" --noise-quality p10 --core-quality off --k 20 --eps 0.3 \
    --min-samples 3 --corrections "$WORK/fix.csv" >"$WORK/cluster.out" || { echo "FAIL cluster"; exit 1; }
clusters=$(awk '$1 == "clusters" { print $2 }' "$WORK/cluster.out")
noise=$(awk -F, 'NR > 1 && $3 < 0' "$WORK/tiny.csv" | wc -l)
check "the clustering has 4 clusters and some noise" [ "$clusters" -eq 4 -a "$noise" -gt 0 ]

"$MC" report "$WORK/tiny.csv" -o "$WORK/report.html" --image-root "$WORK/img" --labels "$FX/tiny.h5" \
    --per-page 3 --thumbs-per-cluster 8 >"$WORK/report.out" 2>"$WORK/report.err"
check "report exits 0" [ $? -eq 0 ]
check "report: the summary counts thumbnails and missing images" grep -q "thumbnails   .* (.* images missing or unreadable" "$WORK/report.out"
check "report: self-contained (no network URL)" bash -c "! grep -qiE '(src|href)=\"(https?:)?//' '$WORK/report.html'"
check "report: the cluster count is on the page" grep -q "<td id=\"n-clusters\">$clusters</td>" "$WORK/report.html"
check "report: BCubed from the labels" grep -q 'id="bcubed-f"' "$WORK/report.html"
check "report: the named person is in the data" grep -q '"name":"Ann Example"' "$WORK/report.html"
check "report: histogram and size chart" [ "$(grep -o '<svg class="chart"' "$WORK/report.html" | wc -l)" -eq 2 ]
check "report: 8 faces a cluster tried, 26 thumbnails, 10 placeholders" grep -q 'thumbnails</td><td>26 shown, 10 images missing' "$WORK/report.html"
check "report: the faces to check (a tenth of the 36 in clusters, rounded up)" grep -q 'The 4 faces in clusters with the lowest margin' "$WORK/report.html"
check "report: each face's similarity, margin and representative flag in the data" grep -q '"s":\[.*"m":\[.*"a":\[' "$WORK/report.html"
"$MC" report "$WORK/tiny.csv" -o "$WORK/all.html" --image-root "$WORK/img" -q >"$WORK/report_q.out"
check "report: every face tried: 28 JPEG + 1 PNG read, 10 missing + 1 not an image" \
    grep -q 'thumbnails</td><td>29 shown, 11 images missing' "$WORK/all.html"
check "report: -q prints nothing" [ ! -s "$WORK/report_q.out" ]
# a cluster whose largest part is unlabelled faces: no internal id as its label
SAMPLE="$(cd "$(dirname "$0")/.." && pwd)/datasets/sample.h5"
"$MC" export "$SAMPLE" -o "$WORK/sx.csv" -q
awk -F, 'BEGIN { print "index,path,cluster,role,quality" }
         NR > 1 { c = ($2 < 0 || !done) ? 0 : -1; if ($2 >= 0) done = 1
                  print NR - 2 "," $1 "," c "," (c < 0 ? "noise" : "core") ",1" }' "$WORK/sx.csv" >"$WORK/unl.csv"
"$MC" report "$WORK/unl.csv" -o "$WORK/unl.html" --labels "$SAMPLE" -q
check "report: a merge led by unlabelled faces says so, not an internal id" \
    grep -q '<td>93</td><td>92</td><td>(unlabelled)</td>' "$WORK/unl.html"
check "report: the histogram caption claims no noise gate" grep -q "noise faces are in none" "$WORK/unl.html"
check "report: the missing images say where they were looked for" grep -q "relative paths were looked for under $WORK/img (--image-root))" "$WORK/report.out"
"$MC" report "$WORK/tiny.csv" -o "$WORK/noroot.html" --image-root "$WORK/no-such-dir" >"$WORK/noroot.out" 2>"$WORK/noroot.err"
check "report: an --image-root that does not exist is refused (exit 1)" [ $? -eq 1 ]
check "report: ... saying so in one line" [ "$(cat "$WORK/noroot.err")" = "magclust: error: --image-root $WORK/no-such-dir: no such directory" ]
check "report: ... and writing nothing" [ ! -e "$WORK/noroot.html" ]

# hostile images: a FIFO must not hang the report, a decompression bomb (80
# megapixels in a small PNG) is refused before it is decoded
mkfifo "$WORK/img/fifo.jpg"
printf 'index,path,cluster,role,quality\n0,bomb.png,0,core,1\n1,fifo.jpg,0,core,1\n2,id0/img_01.jpg,0,core,1\n' >"$WORK/hostile.csv"
timeout 120 "$MC" report "$WORK/hostile.csv" -o "$WORK/hostile.html" --image-root "$WORK/img" >"$WORK/hostile.out" 2>&1
rc=$?
check "report: a FIFO and a PNG bomb among the images: exit 0 (got $rc)" [ "$rc" -eq 0 ]
check "report: ... both counted unreadable, the JPEG shown" grep -q 'thumbnails</td><td>1 shown, 2 images missing' "$WORK/hostile.html"

# bad use
"$MC" report "$WORK/nosuch.csv" -o "$WORK/x.html" 2>"$WORK/bad1.err"
check "report: a missing result exits 1" [ $? -eq 1 ]
check "report: ... naming the file" grep -q "^magclust: error: .*nosuch.csv" "$WORK/bad1.err"
check "report: ... writes nothing" [ ! -e "$WORK/x.html" ]
"$MC" report "$WORK/tiny.csv" 2>"$WORK/bad2.err"
check "report: no -o is a usage error (exit 2)" [ $? -eq 2 ]
cp "$WORK/tiny.csv" "$WORK/tiny_copy.csv"
"$MC" report "$WORK/tiny.csv" -o "$WORK/tiny.csv" 2>"$WORK/bad3.err"
check "report: output over its input exits 1" [ $? -eq 1 ]
check "report: ... leaves the input as it was" cmp -s "$WORK/tiny.csv" "$WORK/tiny_copy.csv"
check "report: refuses to overwrite its input" grep -q "overwrite an input" "$WORK/bad3.err"
printf 'index,cluster\n0,1\n' >"$WORK/notresult.csv"
"$MC" report "$WORK/notresult.csv" -o "$WORK/x.html" 2>"$WORK/bad4.err"
check "report: a CSV that is not a result exits 1" [ $? -eq 1 ]
check "report: a CSV that is not a result is refused" grep -q "'path' and 'cluster'" "$WORK/bad4.err"
"$MC" report "$WORK/tiny.csv" -o "$WORK/x.html" --labels "$FX/small_k.h5" 2>"$WORK/bad5.err"
check "report: labels of another size exit 1" [ $? -eq 1 ]
check "report: labels of another size are refused" grep -q "faces, but" "$WORK/bad5.err"
check "report: no refused run wrote the report" [ ! -e "$WORK/x.html" ]

CHROME=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROME" ]; then
    echo "$pass passed, $fail failed; SKIP the browser checks: chromium is not installed (scripts/install-deps.sh installs it)"
    [ "$fail" -eq 0 ] && exit 77 || exit 1
fi
flags=(--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking
       --user-data-dir="$WORK/profile" --enable-logging=stderr --v=0 --virtual-time-budget=5000)
timeout 120 "$CHROME" "${flags[@]}" --dump-dom "file://$WORK/report.html" >"$WORK/dom.html" 2>"$WORK/chrome.log"
check "chromium rendered the page" grep -q 'data-ready="1"' "$WORK/dom.html"
check "no script error on the page" bash -c "! grep -q 'data-error=' '$WORK/dom.html'"
check "no console errors" bash -c "! grep -E 'CONSOLE|Uncaught' '$WORK/chrome.log' | grep -qiE 'error|uncaught'"
shown=$(grep -o 'data-shown="[0-9]*"' "$WORK/dom.html" | grep -o '[0-9]*')
check "the first page shows 3 of the $clusters clusters" [ "$shown" = 3 ]
check "three cluster galleries on the page" [ "$(grep -o '<section class="cluster"' "$WORK/dom.html" | wc -l)" -eq 3 ]
check "the pager says page 1 of 2" grep -q 'page 1 of 2' "$WORK/dom.html"
check "thumbnails are drawn as images" [ "$(grep -o '<img ' "$WORK/dom.html" | wc -l)" -gt 10 ]
check "missing images are placeholders with their paths" grep -q '<div class="ph">id3/img_0' "$WORK/dom.html"
check "the name is shown" grep -q '<span class="who">Ann Example </span>' "$WORK/dom.html"
timeout 120 "$CHROME" "${flags[@]}" --window-size=1280,1700 --screenshot="$WORK/report.png" \
    "file://$WORK/report.html" >/dev/null 2>>"$WORK/chrome.log"
check "screenshot saved ($WORK/report.png)" [ -s "$WORK/report.png" ]
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
