#!/usr/bin/env python3
"""Regenerate the seed corpora of tests/fuzz/corpus/ (committed; run this
only to change them). Needs a built magclust (build/magclust), numpy, h5py.
Usage: tests/fuzz/make_corpus.py [path/to/magclust]"""
import os
import shutil
import struct
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
MC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "..", "..", "build", "magclust")
OUT = os.path.join(HERE, "corpus")


def put(h, name, data):
    d = os.path.join(OUT, h)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def npy_bytes(a, version=1, fortran=False):
    import io
    buf = io.BytesIO()
    if version == 1 and not fortran:
        np.save(buf, a)
    else:
        np.lib.format.write_array(buf, np.asfortranarray(a) if fortran else a,
                                  version=(version, 0) if version > 1 else None)
    return buf.getvalue()


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    tmp = tempfile.mkdtemp()
    run = lambda *a: subprocess.run([MC, *a], check=True, cwd=tmp, capture_output=True)
    run("synth", "-o", "s.h5", "--ids", "4", "--dim", "8", "--max-size", "6", "--min-size", "3", "--seed", "3")
    run("cluster", "s.h5", "-o", "r.csv", "--save-model", "m.h5", "-q", "-k", "8", "--min-samples", "3")
    run("cluster", "s.h5", "-o", "r.h5", "-q", "-k", "8", "--min-samples", "3")
    run("knn", "s.h5", "-o", "g.h5", "-k", "4", "-q")
    with h5py.File(os.path.join(tmp, "s.h5"), "r") as f:
        e = f["embeddings"][:]
        labels = f["labels"][:]
        paths = [p.decode() if isinstance(p, bytes) else p for p in f["paths"][:]]
    n = len(e)
    with h5py.File(os.path.join(tmp, "q16.h5"), "w") as g:
        g["embeddings"] = e.astype("float16")
        g["labels"] = labels
        g["det_score"] = np.linspace(0, 1, n).astype("float32")
        g["photo"] = np.arange(n) // 2
        g["paths"] = np.array([p.encode() for p in paths])
    with h5py.File(os.path.join(tmp, "q64.h5"), "w") as g:
        g.create_dataset("embeddings", data=e.astype("float64"), chunks=(4, 8), compression="gzip")
        g["labels"] = np.arange(n).reshape(n, 1)
        g["photo"] = np.array([b"p%d" % (i // 2) for i in range(n)])
        g["det_score"] = np.ones(n)
    for name in ["s.h5", "r.h5", "m.h5", "g.h5", "q16.h5", "q64.h5"]:
        with open(os.path.join(tmp, name), "rb") as f:
            put("h5", name, f.read())

    # MagFace lists: byte 0 = flags (1 folder labels, 2 same bytes as labels file)
    rows = "".join("%s %s\n" % (paths[i], " ".join("%.5g" % v for v in e[i][:4])) for i in range(6))
    put("magface", "plain", b"\x00" + rows.encode())
    put("magface", "dirs", b"\x01" + rows.encode())
    put("magface", "crlf_bom", b"\x01\xef\xbb\xbf" + rows.replace("\n", "\r\n").encode())
    put("magface", "labels_file", b"\x02" + "a 1 2\nb 3 4\n".encode())
    put("magface", "sci", b"\x00" + b"x/a.jpg 1e-3 -2.5E+2 0x1p3 inf\nx/b.jpg 1 2 3 4\n")

    # l2c: byte 0 = D - 1 (bit 7: no labels), bytes 1-2 = .meta length, .meta, .bin
    binb = e[:5, :4].astype("<f4").tobytes()
    for name, meta, flags in [("ints", "0\n0\n1\n1\n2\n", 3), ("names", "ann\nbob\nann\ncid\nbob\n", 3),
                              ("nolabels", "", 0x80 | 3), ("short_meta", "1\n2\n", 3)]:
        mb = meta.encode()
        put("l2c", name, bytes([flags, len(mb) & 255, len(mb) >> 8]) + mb + binb)

    # npy
    put("npy", "f32", npy_bytes(e[:4].astype("<f4")))
    put("npy", "f64_v2", npy_bytes(e[:3].astype("<f8"), version=2))
    put("npy", "f16_v3", npy_bytes(e[:3].astype("<f2"), version=3))
    put("npy", "f32_big_endian", npy_bytes(e[:2].astype(">f4")))
    put("npy", "fortran", npy_bytes(e[:3].astype("<f4"), fortran=True))
    put("npy", "labels_i64", npy_bytes(labels[:6].astype("<i8")))
    put("npy", "labels_i32_col", npy_bytes(labels[:6].astype("<i4").reshape(6, 1)))

    # CSV: byte 0 = flags (bits 0-1 delimiter: detect , ; tab; bit 2 folder labels)
    hdr = "path,label," + ",".join("e%d" % j for j in range(4))
    body = "".join("%s,%d,%s\n" % (paths[i], labels[i], ",".join("%.5g" % v for v in e[i][:4])) for i in range(5))
    put("csv", "columns", b"\x00" + (hdr + "\n" + body).encode())
    put("csv", "semicolon", b"\x02" + (hdr + "\n" + body).replace(",", ";").encode())
    put("csv", "tab_dirs", b"\x07" + (hdr + "\n" + body).replace(",", "\t").encode())
    vec = "path,photo,embedding\n" + "".join('"%s",p%d,"%s"\n' % (paths[i], i // 2, " ".join("%.5g" % v for v in e[i][:4])) for i in range(5))
    put("csv", "vector_column", b"\x01" + vec.encode())
    put("csv", "quoted", b"\x04" + b'path,e0,e1\n"a,""b""/x.jpg",1,2\n"\'=c/y.jpg",3,4\n')
    # column roles: a quality column, Immich's and PhotoPrism's names, the options (bits 3-4)
    put("csv", "det_score", b"\x00" + b"path,det_score,e0,e1,e2\na.jpg,0.9,1,2,3\nb.jpg,0.5,3,2,1\n")
    put("csv", "immich", b"\x00" + b"id,assetId,personId,imageWidth,imageHeight,boundingBoxX1,boundingBoxY1,"
        b"boundingBoxX2,boundingBoxY2,embedding\nf1,a1,p1,40,30,1,2,11,14,\"[0.1,0.2,0.3]\"\n"
        b"f2,a1,p2,40,30,5,2,16,14,\"[0.3,0.2,0.1]\"\n")
    put("csv", "photoprism", b"\x00" + b'marker_uid,file_uid,subj_uid,embeddings_json\nm1,f1,s1,"[[1,2,3]]"\n')
    put("csv", "options_prefix", b"\x09" + b"path,age,label,x,y,e1,e0\na.jpg,31,1,0,0,1,2\n")
    put("csv", "options_ranges", b"\x11" + b"path,det_score,a,b,c,d,e\na.jpg,0.9,1,2,3,4,5\n")
    put("csv", "options_single", b"\x19" + b"path,p,id,embedding\na.jpg,p1,7,\"1 2\"\n")
    put("csv", "ambiguous", b"\x00" + b"e0,e1,f0,f1,age\n1,2,3,4,5\n")

    # corrections (the harness knows a/1.jpg a/2.jpg b/1.jpg b/2.jpg c/1.jpg c/2.jpg d/1.jpg =x.jpg)
    put("corrections", "names", "path,person\na/1.jpg,Ann\nb/1.jpg,!Ann\nc/1.jpg,Cid\n# note\n\n'=x.jpg,Eve\n")
    put("corrections", "pairs", "path_a,path_b,relation\na/1.jpg,b/2.jpg,same\nc/1.jpg,c/2.jpg,different\n")
    put("corrections", "ids", "a/2.jpg,0\nb/1.jpg,!1\nd/1.jpg,Bob\n\"c/2.jpg\",\"Ann\"\n")
    put("corrections", "conflict", "a/1.jpg,Ann\na/1.jpg,Bob\na/1.jpg,b/1.jpg,same\na/1.jpg,b/1.jpg,different\n")
    with open(os.path.join(tmp, "r.csv")) as f:
        put("corrections", "previous_csv", f.read())

    # options: byte 0 = subcommand (cluster sweep assign eval import export knn info report)
    opts = {
        "cluster": (0, ["--eps", "0.4", "-k", "20", "--min-samples", "3", "--core-quality", "p30",
                        "--noise-quality", "off", "--threads", "2", "--max-memory", "2G", "-o", "x.csv"]),
        "cluster_bad": (0, ["--eps", "1e999", "-k", "-1", "--calib-z", "nan", "--seed", "18446744073709551616"]),
        "sweep": (1, ["--param", "eps=0.2:0.5:0.05", "--param", "core=10:50:10", "--algo", "linkage,dbscan", "-o", "s.csv"]),
        "assign": (2, ["--model", "m.h5", "--threshold", "0.5", "--update", "-o", "a.csv"]),
        "eval": (3, ["--pred", "p.csv", "--keys", "bcubed,pairwise"]),
        "import": (4, ["--format", "l2c", "--dim", "512", "--compress", "9", "-o", "o.h5"]),
        "export": (5, ["--format", "npy", "-o", "o.npy"]),
        "knn": (6, ["-k", "30", "--index", "IVF256,Flat", "--nprobe", "32", "-o", "g.h5"]),
        "info": (7, ["--json"]),
        "report": (8, ["--max-faces", "100", "-o", "r.html"]),
    }
    for name, (cmd, args) in opts.items():
        put("options", name, bytes([cmd]) + "\n".join(args).encode())
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
