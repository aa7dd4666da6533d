#!/bin/bash
# usage: evalall.sh MAGCLUST TAG [extra cluster options]
M=$1; TAG=$2; shift 2
D=/work/shared/datasets
sets=("mfn|$D/real-mfn128-dev.h5|" "mob|$D/real-mobileface256-dev.h5|" "mobdet|$D/real-mobileface256-dev.h5|--quality-key det_score" "fapidet|$D/celeba-faceapi128-dev.h5|--quality-key det_score" "fapin|$D/celeba-faceapi128-dev.h5|" "sample|/work/main/datasets/sample.h5|" "s128x4|s128_x4_d20.h5|" "s512x4|s512_x4_d20.h5|" "s128x1|s128_x1_d5.h5|" "s22k|s512_22k.h5|" "real5k|real5k.h5|" "shuf128|shuf128.h5|" "shuf128x1|shuf128x1.h5|")
for algo in ${ALGOS:-map linkage cw dbscan}; do
  line="$algo"
  for s in "${sets[@]}"; do IFS='|' read -r name path extra <<<"$s"
    f=$($M cluster $path $extra --algo $algo "$@" -o out/$TAG-$algo-$name.csv --force 2>&1 | awk '/BCubed/ {print $7}')
    line="$line $name=$f"
  done
  echo "$line"
done
