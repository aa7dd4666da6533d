#!/usr/bin/python3
"""Prints measure.py's JSON (a list of results) as the markdown table of
docs/experiments.md. Usage: table.py FIT.json"""
import json
import os
import sys

COLS = [("centre cos std", "centre_cos_std"), ("centre top-10 PCs", "centre_top10"),
        ("centre top-32", "centre_top32"), ("within top-32", "within_top32"),
        ("4-of-30 10-NN locality", "locality"), ("other-id locality", "locality_other"),
        ("pos mean", "pos_mean"), ("neg std", "neg_std"), ("neg p99", None),
        ("top-q pos", "top_pos"), ("bottom-q pos", "bot_pos"), ("1-NN same id", "nn1_same")]


def main(path):
    rows = json.load(open(path))
    print("| set | N | D | ids | " + " | ".join(c for c, _ in COLS) + " |")
    print("|---|---:|---:|---:|" + "---:|" * len(COLS))
    for r in rows:
        vals = [("%.3f" % r["neg_q05_50_95_99"][3]) if k is None else "%.3f" % r[k] for _, k in COLS]
        name = os.path.basename(r["file"]).replace(".h5", "")
        print("| %s | %d | %d | %d | %s |" % (name, r["n"], r["dim"], r["n_ids"], " | ".join(vals)))


if __name__ == "__main__":
    main(sys.argv[1])
