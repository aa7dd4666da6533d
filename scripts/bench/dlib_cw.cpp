// dlib's Chinese whispers on an edge list: the peer "dlib-cw" of bench.sh.
//
//   dlib_cw EDGES.bin LABELS.bin
//
// EDGES.bin (written by peers.py, little-endian): int64 n, int64 e, then e
// int64 first ends, e int64 second ends (0 <= id < n). Each undirected edge
// appears once; dlib's sample_pair version of chinese_whispers() adds both
// directions. Edges are unweighted, as in dlib's face clustering example
// (dnn_face_recognition_ex.cpp), which also links every face to itself.
// LABELS.bin: n int64 cluster ids (a face no edge touches is its own cluster).
// Prints one JSON line: {"seconds": {...}, "clusters": K}.
//
// Build: g++ -O2 -std=c++14 dlib_cw.cpp -o dlib_cw $(pkg-config --cflags --libs dlib-1)

#include <dlib/clustering.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool read_all(std::FILE *f, void *buf, size_t size, size_t count) {
    return std::fread(buf, size, count, f) == count;
}

}  // namespace

int main(int argc, char **argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: dlib_cw EDGES.bin LABELS.bin\n");
        return 2;
    }
    auto t0 = std::chrono::steady_clock::now();
    std::FILE *in = std::fopen(argv[1], "rb");
    if (!in) {
        std::perror(argv[1]);
        return 1;
    }
    int64_t header[2];
    if (!read_all(in, header, sizeof(int64_t), 2) || header[0] <= 0 || header[1] < 0) {
        std::fprintf(stderr, "dlib_cw: %s: bad header\n", argv[1]);
        return 1;
    }
    const int64_t n = header[0], e = header[1];
    std::vector<int64_t> a(static_cast<size_t>(e)), b(static_cast<size_t>(e));
    if (!read_all(in, a.data(), sizeof(int64_t), a.size()) ||
        !read_all(in, b.data(), sizeof(int64_t), b.size())) {
        std::fprintf(stderr, "dlib_cw: %s: truncated\n", argv[1]);
        return 1;
    }
    std::fclose(in);

    std::vector<dlib::sample_pair> edges;
    edges.reserve(static_cast<size_t>(e + n));
    for (int64_t i = 0; i < n; ++i)
        edges.emplace_back(static_cast<unsigned long>(i), static_cast<unsigned long>(i));
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] < 0 || a[i] >= n || b[i] < 0 || b[i] >= n) {
            std::fprintf(stderr, "dlib_cw: %s: edge %zu out of range\n", argv[1], i);
            return 1;
        }
        edges.emplace_back(static_cast<unsigned long>(a[i]), static_cast<unsigned long>(b[i]));
    }
    const double t_read = seconds_since(t0);

    auto t1 = std::chrono::steady_clock::now();
    std::vector<unsigned long> labels;
    const unsigned long clusters = dlib::chinese_whispers(edges, labels);
    const double t_cw = seconds_since(t1);

    auto t2 = std::chrono::steady_clock::now();
    std::vector<int64_t> out(static_cast<size_t>(n));
    for (size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<int64_t>(labels[i]);
    std::FILE *o = std::fopen(argv[2], "wb");
    if (!o || std::fwrite(out.data(), sizeof(int64_t), out.size(), o) != out.size() || std::fclose(o) != 0) {
        std::perror(argv[2]);
        return 1;
    }
    std::printf("{\"seconds\": {\"read\": %.6f, \"cw\": %.6f, \"write\": %.6f}, \"clusters\": %lu}\n",
                t_read, t_cw, seconds_since(t2), clusters);
    return 0;
}
