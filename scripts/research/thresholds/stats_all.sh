#!/bin/bash
cd /tmp/h19; export OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2
while IFS='|' read -r name f opt; do echo "$name $f ${opt#--quality-key }" | sed "s/ *$//"; done < sets.txt | xargs -P 4 -L 1 /usr/bin/python3 stats2.py > stats/all2.log 2>&1
