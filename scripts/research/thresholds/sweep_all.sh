#!/bin/bash
# sweep every set in sets.txt, gate default (sw/NAME.csv) and --core-quality off (sw/NAME_off.csv)
# usage: sweep_all.sh [MAGCLUST]; 4 jobs x 2 threads
MC=${1:-/tmp/wt-r19/build/magclust}
cd /tmp/h19
job() { IFS='|' read -r name f opt <<<"$1"; g=$2; suf=""; extra=""; [ "$g" = off ] && { suf=_off; extra="--core-quality off"; }
  $MC sweep $f $opt $extra --threads 2 -q --algo linkage,cw,dbscan --param eps=0.05:0.95:0.01 -o sw/$name$suf.csv --force; }
export -f job; export MC
while read -r row; do echo "$row|on"; echo "$row|off"; done < sets.txt | \
  xargs -P 4 -I{} bash -c 'r="{}"; job "${r%|*}" "${r##*|}"'
