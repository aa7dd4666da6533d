// hnswlib (Debian's header-only libhnswlib-dev) behind a small C interface
// (lib/src/knn/knn_hnsw_shim.h) for the "HNSW<M>" index of knn_hnsw.c.
//
// SIMD: hnswlib picks its kernels at compile time from the target macros.
// Compiled with the distribution's default flags (x86-64 baseline) it sees
// __SSE__ but not __AVX__, so it would use its SSE kernels only and its own
// run-time AVX/AVX-512 dispatch is compiled out. Building with -march=native
// would make a binary that faults on older CPUs. So this file brings its own
// inner-product space whose kernels are compiled per target with function
// attributes (SSE2 baseline, AVX2+FMA, AVX-512F) and chosen once at run time
// from what the CPU supports.
//
// Errors: hnswlib throws std::runtime_error (and std::bad_alloc); every
// entry point catches everything and returns a code with the message. It
// prints only for M > 10000, which the caller never passes.
#define NO_MANUAL_VECTORIZATION 1 // hnswlib's own kernels are not used
#include <hnswlib/hnswlib.h>

#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define MC_HNSW_X86 1
#endif

#include "knn_hnsw_shim.h"

namespace {

typedef float (*dot_fn)(const float *, const float *, size_t);

#ifndef MC_HNSW_X86
float dot_scalar(const float *a, const float *b, size_t d) {
    float s[4] = {0, 0, 0, 0};
    size_t j = 0;
    for (; j + 4 <= d; j += 4)
        for (size_t l = 0; l < 4; l++) s[l] += a[j + l] * b[j + l];
    for (; j < d; j++) s[0] += a[j] * b[j];
    return (s[0] + s[1]) + (s[2] + s[3]);
}
#else
float dot_sse2(const float *a, const float *b, size_t d) {
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps();
    size_t j = 0;
    for (; j + 8 <= d; j += 8) {
        s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(a + j), _mm_loadu_ps(b + j)));
        s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(a + j + 4), _mm_loadu_ps(b + j + 4)));
    }
    float t[4];
    _mm_storeu_ps(t, _mm_add_ps(s0, s1));
    float s = (t[0] + t[1]) + (t[2] + t[3]);
    for (; j < d; j++) s += a[j] * b[j];
    return s;
}

__attribute__((target("avx2,fma"))) float dot_avx2(const float *a, const float *b, size_t d) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t j = 0;
    for (; j + 16 <= d; j += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j), _mm256_loadu_ps(b + j), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + j + 8), _mm256_loadu_ps(b + j + 8), s1);
    }
    __m256 s8 = _mm256_add_ps(s0, s1);
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
    float t[4];
    _mm_storeu_ps(t, s4);
    float s = (t[0] + t[1]) + (t[2] + t[3]);
    for (; j < d; j++) s += a[j] * b[j];
    return s;
}

__attribute__((target("avx512f"))) float dot_avx512(const float *a, const float *b, size_t d) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t j = 0;
    for (; j + 32 <= d; j += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j), _mm512_loadu_ps(b + j), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + j + 16), _mm512_loadu_ps(b + j + 16), s1);
    }
    float t[16];
    _mm512_storeu_ps(t, _mm512_add_ps(s0, s1));
    float s = 0.0f;
    for (int l = 0; l < 16; l++) s += t[l];
    for (; j < d; j++) s += a[j] * b[j];
    return s;
}
#endif

struct kernel {
    dot_fn fn;
    const char *name;
};

kernel pick_kernel() {
#ifdef MC_HNSW_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return {dot_avx512, "avx512f"};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return {dot_avx2, "avx2+fma"};
    return {dot_sse2, "sse2"};
#else
    return {dot_scalar, "scalar"};
#endif
}

const kernel &the_kernel() {
    static const kernel k = pick_kernel(); // thread-safe initialisation (C++11)
    return k;
}

struct dims {
    size_t d;
    dot_fn fn;
};

float ip_distance(const void *a, const void *b, const void *param) {
    const dims *p = static_cast<const dims *>(param);
    return 1.0f - p->fn(static_cast<const float *>(a), static_cast<const float *>(b), p->d);
}

// hnswlib's InnerProductSpace, with the kernel chosen at run time.
class ip_space : public hnswlib::SpaceInterface<float> {
  public:
    explicit ip_space(size_t d) : dims_{d, the_kernel().fn} {}
    size_t get_data_size() override { return dims_.d * sizeof(float); }
    hnswlib::DISTFUNC<float> get_dist_func() override { return ip_distance; }
    void *get_dist_func_param() override { return &dims_; }

  private:
    dims dims_;
};

void set_error(char *err, size_t errsize, const char *what) {
    if (!err || errsize == 0) return;
    std::strncpy(err, what, errsize - 1);
    err[errsize - 1] = '\0';
}

template <typename F> int guarded(char *err, size_t errsize, F &&f) {
    try {
        f();
        return 0;
    } catch (const std::bad_alloc &) {
        set_error(err, errsize, "out of memory");
        return MC_HNSW_NOMEM;
    } catch (const std::exception &e) {
        // hnswlib reports its allocation failures as runtime_error("Not enough memory...")
        set_error(err, errsize, e.what());
        return std::strncmp(e.what(), "Not enough memory", 17) == 0 ? MC_HNSW_NOMEM : MC_HNSW_FAIL;
    } catch (...) {
        set_error(err, errsize, "unknown hnswlib error");
        return MC_HNSW_FAIL;
    }
}

} // namespace

struct mc_hnsw {
    ip_space space;
    hnswlib::HierarchicalNSW<float> index;
    mc_hnsw(size_t d, size_t max_elements, size_t M, size_t efc)
        : space(d), index(&space, max_elements, M, efc) {
        // Levels come from the caller through addPoint's level argument,
        // which hnswlib honours only when positive; with mult_ 0 its own
        // draw gives level 0 for the rest, so no level is left to chance
        // (or to the order in which threads insert).
        index.mult_ = 0.0;
    }
};

extern "C" {

int mc_hnsw_new(size_t d, size_t max_elements, size_t M, size_t ef_construction, mc_hnsw **out,
                char *err, size_t errsize) {
    *out = nullptr;
    return guarded(err, errsize, [&] { *out = new mc_hnsw(d, max_elements, M, ef_construction); });
}

int mc_hnsw_add(mc_hnsw *h, const float *x, size_t label, int level, char *err, size_t errsize) {
    return guarded(err, errsize, [&] { h->index.addPoint(x, label, level); });
}

void mc_hnsw_set_ef(mc_hnsw *h, size_t ef) { h->index.setEf(ef); }

int mc_hnsw_search(const mc_hnsw *h, const float *q, size_t k, int64_t *labels, float *sims,
                   char *err, size_t errsize) {
    return guarded(err, errsize, [&] {
        auto res = h->index.searchKnn(q, k);
        size_t n = res.size();
        for (size_t c = n; c < k; c++) {
            labels[c] = -1;
            sims[c] = -std::numeric_limits<float>::infinity();
        }
        // a max-heap on distance: the worst first
        for (size_t c = n; c-- > 0;) {
            labels[c] = static_cast<int64_t>(res.top().second);
            sims[c] = 1.0f - res.top().first;
            res.pop();
        }
    });
}

void mc_hnsw_free(mc_hnsw *h) { delete h; }

const char *mc_hnsw_kernel(void) { return the_kernel().name; }

float mc_hnsw_dot(const float *a, const float *b, size_t d) { return the_kernel().fn(a, b, d); }

} // extern "C"
