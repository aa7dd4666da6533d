/* The "Int8" index: an exhaustive search on 8-bit directions, its best
 * candidates re-ranked with the full-precision cosines.
 *
 * Every direction component is rounded to an integer in [-127, 127] on one
 * scale for all faces (127 over the data's largest component), so an integer inner
 * product is proportional to the rounded directions' cosine and ranks a
 * face's neighbours as the cosine does, up to the rounding (about 0.4 of a
 * step, 127 steps to the largest component: a cosine error near 1e-3 on
 * 512-d faces). Each face keeps its best k + max(16, k / 4) by that integer score
 * (ties to the smaller id); their cosines are then computed in floats and
 * the best k kept in the canonical order. A true neighbour is lost only
 * when the rounding pushes it below k + margin others.
 *
 * The integer products are exact, so the candidates are the same on every
 * CPU and thread count; only the speed differs. With AVX-512 VNNI (vpdpbusd:
 * 64 byte products a lane-group, four times the multiply-adds of a float
 * FMA) the kernel runs at about 4x OpenBLAS's sgemm on the same cores; on
 * any other CPU a portable C kernel computes the same integers, more slowly
 * than sgemm ("auto" then keeps "Flat").
 *
 * Layout: the data rows are packed in panels of 64 rows, a panel stored as
 * [d4 / 4][64][4] bytes (d4: d rounded up to 4) holding each component plus
 * 128 as an unsigned byte, which is what vpdpbusd multiplies with the
 * query's signed bytes. The +128 adds 128 times the query's byte sum to
 * every score of that query: the same constant along a row, so no rank
 * changes. Queries are quantised block by block (signed, rows of d4).
 *
 * Order: a row admits a candidate at or above its kk-th best so far (ties
 * included) and keeps the best kk by one key (score, then smaller column),
 * so the kept set does not depend on the order its columns come in. That
 * lets the faces searched among themselves go by symmetric tiles
 * (i8_search_sym: each pair of blocks multiplied once, the products offered
 * to both blocks' rows) with the same bytes as one block at a time
 * (i8_search_blocks). */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <omp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define I8_HAVE_X86 1
#else
#define I8_HAVE_X86 0
#endif

#include "knn_impl.h"
#include "util_impl.h"

#define I8_MR 6        /* query rows a kernel call */
#define I8_NR 64       /* data rows a panel */
#define I8_QBLOCK 384  /* queries a block (a multiple of I8_MR and I8_NR): 192 KiB at d 512 */
/* The symmetric search keeps every row's candidates (and search codes) to
 * the end: it is used while they take at most this many bytes (a GiB:
 * 340,000 faces at k 60 on 256 principal axes, 745,000 with plain Int8 on
 * 512-d faces) and a quarter of the memory available, and the
 * one-block-at-a-time search beyond or when they cannot be allocated. */
#define MC_I8_SYM_BYTES ((size_t)1 << 30)

/* out[i][j] = <q_i, panel_j> (with the +128 bias) for i < I8_MR, j < I8_NR;
 * mask[i]: bit j set when out[i][j] > thr[i]. Row i of out need only be
 * written when mask[i] is not 0 (the fast kernel skips the others), or
 * when all is set (the symmetric search reads every product). */
typedef void (*i8_kernel_fn)(const int8_t *q, size_t d4, const uint8_t *panel,
                             const int32_t *thr, int32_t *out, uint64_t *mask, int all);
/* The symmetric search's other direction: tmask[i] bit j set when
 * out[i][j] - qbias[i] (the unbiased product) > tthr[j]. Apart from the
 * kernel, whose registers it would crowd (a fifth slower when fused). */
typedef void (*i8_tmask_fn)(const int32_t *out, const int32_t *qbias, const int32_t *tthr,
                            uint64_t *tmask);

static void kernel_generic(const int8_t *q, size_t d4, const uint8_t *panel, const int32_t *thr,
                           int32_t *out, uint64_t *mask, int all)
{
    (void)all;
    for (size_t a = 0; a < (size_t)I8_MR * I8_NR; a++) out[a] = 0;
    for (size_t s = 0; s < d4 / 4; s++) {
        const uint8_t *ps = panel + s * (4 * I8_NR);
        for (size_t i = 0; i < I8_MR; i++) {
            const int8_t *qi = q + i * d4 + 4 * s;
            int32_t q0 = qi[0], q1 = qi[1], q2 = qi[2], q3 = qi[3];
            int32_t *oi = out + i * I8_NR;
            for (size_t j = 0; j < I8_NR; j++) {
                const uint8_t *pj = ps + 4 * j;
                oi[j] += q0 * (int32_t)pj[0] + q1 * (int32_t)pj[1] + q2 * (int32_t)pj[2] +
                         q3 * (int32_t)pj[3];
            }
        }
    }
    for (size_t i = 0; i < I8_MR; i++) {
        uint64_t m = 0;
        for (size_t j = 0; j < I8_NR; j++)
            if (out[i * I8_NR + j] > thr[i]) m |= (uint64_t)1 << j;
        mask[i] = m;
    }
}

static void tmask_generic(const int32_t *out, const int32_t *qbias, const int32_t *tthr,
                          uint64_t *tmask)
{
    for (size_t i = 0; i < I8_MR; i++) {
        uint64_t m = 0;
        for (size_t j = 0; j < I8_NR; j++)
            if (out[i * I8_NR + j] - qbias[i] > tthr[j]) m |= (uint64_t)1 << j;
        tmask[i] = m;
    }
}

#if I8_HAVE_X86
/* Written out: 24 accumulators, 4 data vectors and a broadcast fill 29 of
 * the 32 registers. GCC 12's scheduling for Zen 3 runs it 25 % faster than
 * its generic or Intel tunings on the AMD EPYC this was measured on (440
 * against 350 G multiply-adds/s on two cores); tuning changes no result. */
#define I8_ROW(i)                                                                             \
    do {                                                                                      \
        int32_t w;                                                                            \
        memcpy(&w, q + (size_t)(i) * d4 + 4 * s, sizeof w);                                   \
        __m512i a = _mm512_set1_epi32(w);                                                     \
        c##i##0 = _mm512_dpbusd_epi32(c##i##0, b0, a);                                        \
        c##i##1 = _mm512_dpbusd_epi32(c##i##1, b1, a);                                        \
        c##i##2 = _mm512_dpbusd_epi32(c##i##2, b2, a);                                        \
        c##i##3 = _mm512_dpbusd_epi32(c##i##3, b3, a);                                        \
    } while (0)
#define I8_OUT(i)                                                                             \
    do {                                                                                      \
        __m512i t = _mm512_set1_epi32(thr[i]);                                                \
        mask[i] = (uint64_t)_mm512_cmpgt_epi32_mask(c##i##0, t) |                             \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##1, t) << 16 |                       \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##2, t) << 32 |                       \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##3, t) << 48;                        \
        if (mask[i] || all) {                                                                 \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR), c##i##0);                        \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 16), c##i##1);                   \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 32), c##i##2);                   \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 48), c##i##3);                   \
        }                                                                                     \
    } while (0)
__attribute__((target("avx512f,avx512bw,avx512vnni,tune=znver3"))) static void
kernel_vnni(const int8_t *q, size_t d4, const uint8_t *panel, const int32_t *thr, int32_t *out,
            uint64_t *mask, int all)
{
    __m512i z = _mm512_setzero_si512();
    __m512i c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z;
    __m512i c20 = z, c21 = z, c22 = z, c23 = z, c30 = z, c31 = z, c32 = z, c33 = z;
    __m512i c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
    for (size_t s = 0; s < d4 / 4; s++) {
        const uint8_t *ps = panel + s * (4 * I8_NR);
        __m512i b0 = _mm512_loadu_si512((const void *)ps);
        __m512i b1 = _mm512_loadu_si512((const void *)(ps + 64));
        __m512i b2 = _mm512_loadu_si512((const void *)(ps + 128));
        __m512i b3 = _mm512_loadu_si512((const void *)(ps + 192));
        I8_ROW(0);
        I8_ROW(1);
        I8_ROW(2);
        I8_ROW(3);
        I8_ROW(4);
        I8_ROW(5);
    }
    I8_OUT(0);
    I8_OUT(1);
    I8_OUT(2);
    I8_OUT(3);
    I8_OUT(4);
    I8_OUT(5);
}
#undef I8_ROW
#undef I8_OUT

__attribute__((target("avx512f,avx512bw"))) static void
tmask_avx512(const int32_t *out, const int32_t *qbias, const int32_t *tthr, uint64_t *tmask)
{
    __m512i u[4];
    for (size_t v = 0; v < 4; v++) u[v] = _mm512_loadu_si512((const void *)(tthr + 16 * v));
    for (size_t i = 0; i < I8_MR; i++) {
        __m512i bi = _mm512_set1_epi32(qbias[i]);
        uint64_t m = 0;
        for (size_t v = 0; v < 4; v++) {
            __m512i o = _mm512_loadu_si512((const void *)(out + i * I8_NR + 16 * v));
            m |= (uint64_t)_mm512_cmpgt_epi32_mask(_mm512_sub_epi32(o, bi), u[v]) << (16 * v);
        }
        tmask[i] = m;
    }
}
#endif

static int force_generic, force_one_sided;

void mc_knn_int8_force_generic(int on) { force_generic = on; }
void mc_knn_int8_force_one_sided(int on) { force_one_sided = on; }

static int cpu_fast;

static void cpu_fast_init(void)
{
#if I8_HAVE_X86
    __builtin_cpu_init();
    cpu_fast = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vnni");
#endif
}

int mc_knn_int8_fast(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, cpu_fast_init);
    return cpu_fast;
}

static i8_kernel_fn pick_kernel(void)
{
#if I8_HAVE_X86
    if (!force_generic && mc_knn_int8_fast()) return kernel_vnni;
#endif
    return kernel_generic;
}

size_t mc_knn_pca_candidates(size_t k) { return 4 * k; }

size_t mc_knn_int8_margin(size_t k)
{
    size_t r = k / 4;
    return r < 16 ? 16 : r;
}

static int8_t quant(float v, float scale)
{
    long q = lrintf(v * scale);
    if (q > 127) q = 127;
    if (q < -127) q = -127;
    return (int8_t)q;
}

/* A top-kk heap of integer scores: the root is the worst entry (lower
 * score, or at equal score the larger id). */
static int i8_worse(int32_t sa, int64_t ia, int32_t sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void i8_push(int32_t *hs, int64_t *hi, size_t *cnt, size_t kk, int32_t s, int64_t id)
{
    size_t n = *cnt, c;
    if (n < kk) {
        c = n;
        while (c > 0) {
            size_t par = (c - 1) / 2;
            if (!i8_worse(s, id, hs[par], hi[par])) break;
            hs[c] = hs[par];
            hi[c] = hi[par];
            c = par;
        }
        hs[c] = s;
        hi[c] = id;
        *cnt = n + 1;
        return;
    }
    if (!i8_worse(hs[0], hi[0], s, id)) return;
    c = 0;
    for (;;) {
        size_t ch = 2 * c + 1;
        if (ch >= kk) break;
        if (ch + 1 < kk && i8_worse(hs[ch + 1], hi[ch + 1], hs[ch], hi[ch])) ch++;
        if (!i8_worse(hs[ch], hi[ch], s, id)) break;
        hs[c] = hs[ch];
        hi[c] = hi[ch];
        c = ch;
    }
    hs[c] = s;
    hi[c] = id;
}

/* The float inner product of the re-ranking, in a fixed order (16 partial
 * sums), so it is the same in every thread. */
static float dot16(const float *a, const float *b, size_t d)
{
    float acc[16] = {0};
    size_t t = 0;
    for (; t + 16 <= d; t += 16)
        for (size_t u = 0; u < 16; u++) acc[u] += a[t + u] * b[t + u];
    for (size_t u = 0; t < d; t++, u++) acc[u] += a[t] * b[t];
    float s = 0.0f;
    for (size_t u = 0; u < 16; u++) s += acc[u];
    return s;
}

/* A candidate as one number that orders as the canonical row does: the
 * score (biased to unsigned) above the complement of the column, so a
 * larger key is a larger score or, at equal score, a smaller column. */
static uint64_t ckey(int32_t score, size_t col)
{
    return (uint64_t)((uint32_t)score ^ 0x80000000u) << 32 | (uint64_t)(0xffffffffu - (uint32_t)col);
}
static int32_t ckey_score(uint64_t key) { return (int32_t)((uint32_t)(key >> 32) ^ 0x80000000u); }
static size_t ckey_col(uint64_t key) { return (size_t)(0xffffffffu - (uint32_t)key); }

/* Move the kk largest of the n distinct keys to a[0..kk) (in no particular
 * order): quickselect around the median of three keys, with a Lomuto
 * partition that swaps every key and advances on a larger one, so no
 * branch depends on the keys (the scores arrive in no order a branch
 * predictor could learn: a branchy partition spent most of its time on
 * mispredictions). */
static void select_top(uint64_t *a, size_t n, size_t kk)
{
    size_t lo = 0, hi = n;
    while (kk > lo && kk < hi && hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        uint64_t x = a[lo], y = a[mid], z = a[hi - 1];
        /* the median of the three, and where it is */
        size_t pi = (x < y) == (y < z) ? mid : (y < x) == (x < z) ? lo : hi - 1;
        uint64_t piv = a[pi];
        a[pi] = a[hi - 1];
        a[hi - 1] = piv;
        size_t store = lo;
        for (size_t i = lo; i + 1 < hi; i++) {
            /* a[lo..store) > piv >= a[store..i) */
            uint64_t t = a[i];
            a[i] = a[store];
            a[store] = t;
            store += t > piv;
        }
        a[hi - 1] = a[store];
        a[store] = piv;
        /* a[lo..store) > piv = a[store] > a(store..hi) */
        if (store == kk || store + 1 == kk) break;
        if (kk < store) hi = store;
        else lo = store + 1;
    }
}

/* Keep a row's best kk of its c keys; the smallest kept score. */
static int32_t compact_row(uint64_t *keys, size_t *c, size_t kk)
{
    if (*c > kk) {
        select_top(keys, *c, kk);
        *c = kk;
    }
    uint64_t mn = UINT64_MAX;
    for (size_t a = 0; a < *c; a++)
        if (keys[a] < mn) mn = keys[a];
    return ckey_score(mn);
}

/* The exact integer inner product of a query's signed codes and a data
 * row's biased ones (code + 128, as in the panels). */
static int32_t idot_generic(const int8_t *q, const uint8_t *c, size_t d)
{
    int32_t s = 0;
    for (size_t t = 0; t < d; t++) s += (int32_t)q[t] * (int32_t)c[t];
    return s;
}

#if I8_HAVE_X86
__attribute__((target("avx512f,avx512bw,avx512vnni"))) static int32_t
idot_vnni(const int8_t *q, const uint8_t *c, size_t d)
{
    __m512i acc = _mm512_setzero_si512();
    size_t t = 0;
    for (; t + 64 <= d; t += 64)
        acc = _mm512_dpbusd_epi32(acc, _mm512_loadu_si512((const void *)(c + t)),
                                  _mm512_loadu_si512((const void *)(q + t)));
    if (t < d) {
        __mmask64 mk = ((__mmask64)1 << (d - t)) - 1;
        acc = _mm512_dpbusd_epi32(acc, _mm512_maskz_loadu_epi8(mk, c + t),
                                  _mm512_maskz_loadu_epi8(mk, q + t));
    }
    return _mm512_reduce_add_epi32(acc);
}

/* dot16 on 16 lanes at once: each lane's multiplies and adds are the
 * portable loop's, in its order, so the sum is the same bit for bit. */
__attribute__((target("avx512f"))) static float dot16_avx512(const float *a, const float *b,
                                                             size_t d)
{
    __m512 acc = _mm512_setzero_ps();
    size_t t = 0;
    for (; t + 16 <= d; t += 16)
        acc = _mm512_add_ps(acc, _mm512_mul_ps(_mm512_loadu_ps(a + t), _mm512_loadu_ps(b + t)));
    float lane[16];
    _mm512_storeu_ps(lane, acc);
    for (size_t u = 0; t < d; t++, u++) lane[u] += a[t] * b[t];
    float s = 0.0f;
    for (size_t u = 0; u < 16; u++) s += lane[u];
    return s;
}
#endif

typedef int32_t (*i8_idot_fn)(const int8_t *q, const uint8_t *c, size_t d);
typedef float (*i8_fdot_fn)(const float *a, const float *b, size_t d);

/* The largest |component| of the data rows (columns c of the search), or
 * of their projection x w (D x dl) when w is set. */
static float data_amax(const mc_knn_exact_job *j, size_t m, const float *w, size_t dl, int nt)
{
    size_t d = j->d;
    float amax = 0.0f;
    if (!w) {
        for (size_t c = 0; c < m; c++) {
            const float *row = j->xb + (j->cand ? j->cand[c] : c) * d;
            for (size_t t = 0; t < d; t++) {
                float v = fabsf(row[t]);
                if (v > amax) amax = v;
            }
        }
        return amax;
    }
    size_t npan = (m + I8_NR - 1) / I8_NR;
#pragma omp parallel num_threads(nt) reduction(max : amax)
    {
        float *rows = mc_malloc_array(I8_NR * d, sizeof *rows);
        float *pr = mc_malloc_array(I8_NR * dl, sizeof *pr);
#pragma omp for schedule(static)
        for (ptrdiff_t p = 0; p < (ptrdiff_t)npan; p++) {
            if (!rows || !pr) continue;
            size_t c0 = (size_t)p * I8_NR, nr = m - c0 < I8_NR ? m - c0 : I8_NR;
            for (size_t r = 0; r < nr; r++)
                memcpy(rows + r * d, j->xb + (j->cand ? j->cand[c0 + r] : c0 + r) * d,
                       d * sizeof *rows);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nr, (blasint)dl,
                        (blasint)d, 1.0f, rows, (blasint)d, w, (blasint)dl, 0.0f, pr, (blasint)dl);
            for (size_t a = 0; a < nr * dl; a++) {
                float v = fabsf(pr[a]);
                if (v > amax) amax = v;
            }
        }
        free(rows);
        free(pr);
    }
    return amax;
}

/* What a search's compare-and-push steps share. */
typedef struct {
    i8_kernel_fn kern;
    i8_tmask_fn tmask;
    const uint8_t *pan;   /* the data rows' panels */
    size_t pan_bytes;     /* bytes a panel: dl4 x I8_NR */
    size_t dl4;           /* bytes a code (search codes) */
    size_t m;             /* data rows (columns) */
    size_t kk1;           /* candidates kept a row */
    size_t cap;           /* a row's reservoir: kk1 kept plus room for new ones */
    const size_t *cand;   /* column -> face id, or NULL (the identity) */
} i8_scan;

/* A row's reservoir takes one candidate; when full it is cut back to the
 * best kk1, and the row's bar rises to admit only scores at or above the
 * kk1-th (ties included, so that columns may come in any order and the
 * kept set is still the best kk1 by the canonical key). */
static void i8_take(const i8_scan *s, uint64_t *rk, size_t *cnt, int32_t *thr, int32_t score,
                    size_t col)
{
    rk[(*cnt)++] = ckey(score, col);
    if (*cnt == s->cap) {
        int32_t t = compact_row(rk, cnt, s->kk1);
        *thr = t > INT32_MIN ? t - 1 : t;
    }
}

static int32_t sat32(int64_t v)
{
    return v < INT32_MIN ? INT32_MIN : v > INT32_MAX ? INT32_MAX : (int32_t)v;
}

/* Query rows qa (na rows of signed search codes, dl4 apart, padded with
 * zero rows to a multiple of I8_MR) against the panels p0..p1: each query
 * row r's candidates go to its reservoir ka + r cap (count ca[r], bar ta[r];
 * ta has the padding rows' entries at INT32_MAX), skipping the column whose
 * face id is self0 + r (self0 SIZE_MAX: none). With kb, the symmetric
 * search: the panels' rows take the same products as candidates of their
 * own (row c - p0 I8_NR of kb, cb, tb), the query rows being columns a0 + r;
 * qbias and dbias are the rows' code sums times 128, the constant the
 * panels' +128 adds to a row's products. */
static void i8_tile(const i8_scan *s, const int8_t *qa, size_t na, size_t self0, uint64_t *ka,
                    size_t *ca, int32_t *ta, size_t p0, size_t p1, size_t a0, uint64_t *kb,
                    size_t *cb, int32_t *tb, const int32_t *qbias, const int32_t *dbias)
{
    int32_t out[I8_MR * I8_NR];
    uint64_t mask[I8_MR], tmask[I8_MR];
    int32_t tthr[I8_NR];
    size_t nap = (na + I8_MR - 1) / I8_MR * I8_MR;
    for (size_t p = p0; p < p1; p++) {
        size_t c0 = p * I8_NR;
        size_t valid = s->m - c0 < I8_NR ? s->m - c0 : I8_NR;
        uint64_t vmask = valid == 64 ? ~(uint64_t)0 : (((uint64_t)1 << valid) - 1);
        const uint8_t *pp = s->pan + p * s->pan_bytes;
        size_t b0 = c0 - p0 * I8_NR; /* the panel's first row in kb */
        if (kb)
            for (size_t jb = 0; jb < I8_NR; jb++)
                tthr[jb] = jb < valid ? sat32((int64_t)tb[b0 + jb] - dbias[b0 + jb]) : INT32_MAX;
        for (size_t g = 0; g < nap; g += I8_MR) {
            s->kern(qa + g * s->dl4, s->dl4, pp, ta + g, out, mask, kb != NULL);
            for (size_t i = 0; i < I8_MR; i++) {
                uint64_t bits = mask[i] & vmask;
                size_t r = g + i;
                if (!bits || r >= na) continue;
                uint64_t *rk = ka + r * s->cap;
                size_t cr = ca[r];
                int32_t tr = ta[r];
                while (bits) {
                    int jb = __builtin_ctzll(bits);
                    bits &= bits - 1;
                    size_t col = c0 + (size_t)jb;
                    if (self0 != SIZE_MAX && (s->cand ? s->cand[col] : col) == self0 + r) continue;
                    i8_take(s, rk, &cr, &tr, out[i * I8_NR + (size_t)jb], col);
                }
                ca[r] = cr;
                ta[r] = tr;
            }
            if (!kb) continue;
            s->tmask(out, qbias + g, tthr, tmask);
            for (size_t i = 0; i < I8_MR; i++) {
                uint64_t bits = tmask[i] & vmask;
                size_t r = g + i;
                if (!bits || r >= na) continue;
                while (bits) {
                    int jb = __builtin_ctzll(bits);
                    bits &= bits - 1;
                    size_t row = b0 + (size_t)jb;
                    int32_t t0 = tb[row];
                    i8_take(s, kb + row * s->cap, &cb[row], &tb[row],
                            out[i * I8_NR + (size_t)jb] - qbias[r] + dbias[row], a0 + r);
                    if (tb[row] != t0) tthr[jb] = sat32((int64_t)tb[row] - dbias[row]);
                }
            }
        }
    }
}

/* Per-thread buffers of the re-ranking. */
typedef struct {
    int32_t *hs2;
    int64_t *hi2;
    float *cs;
    size_t *cid;
} i8_rerank_buf;

/* Nonzero when all of a thread's re-ranking buffers (kk each) were
 * allocated; i8_rerank_free frees them either way. */
static int i8_rerank_alloc(i8_rerank_buf *bf, size_t kk)
{
    bf->hs2 = mc_malloc_array(kk, sizeof *bf->hs2);
    bf->hi2 = mc_malloc_array(kk, sizeof *bf->hi2);
    bf->cs = mc_malloc_array(kk, sizeof *bf->cs);
    bf->cid = mc_malloc_array(kk, sizeof *bf->cid);
    return bf->hs2 && bf->hi2 && bf->cs && bf->cid;
}

static void i8_rerank_free(i8_rerank_buf *bf)
{
    free(bf->hs2);
    free(bf->hi2);
    free(bf->cs);
    free(bf->cid);
}

/* Query row i's kept candidates (rk, c of them, cut to kk1 here) re-ranked:
 * with full (the projected search), the full-dimension codes (qf: the
 * query's, signed) pick kk of them, then the float cosines the best k. */
static void i8_finish(const mc_knn_exact_job *j, const i8_scan *s, size_t i, uint64_t *rk,
                      size_t c, const int8_t *qf, const uint8_t *full, size_t d4, size_t kk,
                      i8_idot_fn idot, i8_fdot_fn fdot, const i8_rerank_buf *bf, int64_t *ids,
                      float *sims)
{
    size_t d = j->d, k = j->k;
    compact_row(rk, &c, s->kk1);
    if (full) {
        size_t c2 = 0;
        for (size_t a = 0; a < c; a++) {
            size_t col = ckey_col(rk[a]);
            i8_push(bf->hs2, bf->hi2, &c2, kk, idot(qf, full + col * d4, d4), (int64_t)col);
        }
        c = c2;
    } else {
        for (size_t a = 0; a < c; a++) bf->hi2[a] = (int64_t)ckey_col(rk[a]);
    }
    const float *qrow = j->xq + i * d;
    for (size_t a = 0; a < c; a++) {
        bf->cid[a] = s->cand ? s->cand[bf->hi2[a]] : (size_t)bf->hi2[a];
        bf->cs[a] = fdot(qrow, j->xb + bf->cid[a] * d, d);
    }
    size_t got = mc_knn_push_row(bf->cs, c, bf->cid, 0, SIZE_MAX, k, sims + i * k, ids + i * k, 0);
    mc_knn_finish_row(ids + i * k, sims + i * k, k, got, j->clamp);
}

/* Rows r0..r0+nr of the panels as signed search codes (rows of dl4 bytes,
 * zero rows up to a multiple of I8_MR): the codes a face has as a query
 * are exactly its codes as a data row. */
static void i8_codes_from_panels(const i8_scan *s, size_t r0, size_t nr, int8_t *q)
{
    size_t nrp = (nr + I8_MR - 1) / I8_MR * I8_MR;
    memset(q, 0, nrp * s->dl4);
    for (size_t r = 0; r < nr; r++) {
        size_t row = r0 + r;
        const uint8_t *pp = s->pan + (row / I8_NR) * s->pan_bytes + (row % I8_NR) * 4;
        for (size_t t = 0; t < s->dl4; t++)
            q[r * s->dl4 + t] = (int8_t)((int)pp[(t / 4) * (4 * I8_NR) + t % 4] - 128);
    }
}

/* The search one block of I8_QBLOCK queries at a time against every panel,
 * the blocks shared among the threads: each row's candidates are final when
 * its block is done, so only a block's reservoirs are kept a thread. */
static mc_status i8_search_blocks(const mc_knn_exact_job *j, const i8_scan *s, int self,
                                  const float *w, size_t dl, float lscale, float scale,
                                  const uint8_t *full, size_t d4, size_t kk, i8_idot_fn idot,
                                  i8_fdot_fn fdot, int nt, int64_t *ids, float *sims)
{
    size_t n = j->nq, d = j->d, dl4 = s->dl4, kk1 = s->kk1;
    size_t npan = (s->m + I8_NR - 1) / I8_NR;
    size_t qb = I8_QBLOCK;
    size_t nblocks = (n + qb - 1) / qb;
    int cancelled = 0, failed = 0;
    size_t done = 0;
#pragma omp parallel num_threads(nt)
    {
        int8_t *qbuf = mc_malloc_array(qb, dl4);
        int8_t *qfull = w ? mc_malloc_array(qb, d4) : NULL;
        float *qpr = w && !self ? mc_malloc_array(qb, dl * sizeof(float)) : NULL;
        uint64_t *keys = mc_malloc_array(qb * s->cap, sizeof *keys);
        size_t *cnt = mc_malloc_array(qb, sizeof *cnt);
        int32_t *thr = mc_malloc_array(qb, sizeof *thr);
        i8_rerank_buf bf;
        int ok = i8_rerank_alloc(&bf, kk) && qbuf && keys && cnt && thr &&
                 (!w || (qfull && (self || qpr)));
        if (mc_knn_omp_all_ok(ok, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                size_t nqp = (nq + I8_MR - 1) / I8_MR * I8_MR;
                if (self) {
                    i8_codes_from_panels(s, q0, nq, qbuf);
                } else {
                    memset(qbuf, 0, nqp * dl4);
                    if (w)
                        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nq,
                                    (blasint)dl, (blasint)d, 1.0f, j->xq + q0 * d, (blasint)d, w,
                                    (blasint)dl, 0.0f, qpr, (blasint)dl);
                    for (size_t r = 0; r < nq; r++) {
                        const float *row = j->xq + (q0 + r) * d;
                        for (size_t t = 0; t < dl; t++)
                            qbuf[r * dl4 + t] =
                                w ? quant(qpr[r * dl + t], lscale) : quant(row[t], scale);
                    }
                }
                if (w)
                    for (size_t r = 0; r < nq; r++) {
                        const float *row = j->xq + (q0 + r) * d;
                        for (size_t t = 0; t < d; t++) qfull[r * d4 + t] = quant(row[t], scale);
                        for (size_t t = d; t < d4; t++) qfull[r * d4 + t] = 0;
                    }
                for (size_t r = 0; r < nq; r++) {
                    cnt[r] = 0;
                    thr[r] = INT32_MIN;
                }
                for (size_t r = nq; r < nqp; r++) thr[r] = INT32_MAX;
                size_t self0 = j->self_base == SIZE_MAX ? SIZE_MAX : j->self_base + q0;
                i8_tile(s, qbuf, nq, self0, keys, cnt, thr, 0, npan, 0, NULL, NULL, NULL, NULL,
                        NULL);
                for (size_t r = 0; r < nq; r++)
                    i8_finish(j, s, q0 + r, keys + r * s->cap, cnt[r], w ? qfull + r * d4 : NULL,
                              full, d4, kk, idot, fdot, &bf, ids, sims);
                mc_knn_block_done(&done, nq, n, "search", j->progress, j->progress_data,
                                  &cancelled);
            }
        }
        free(qbuf);
        free(qfull);
        free(qpr);
        free(keys);
        free(cnt);
        free(thr);
        i8_rerank_free(&bf);
    }
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu queries x %zu candidates)",
                       qb, kk1);
    return mc_knn_search_end(cancelled, n, j->progress, j->progress_data);
}

/* The symmetric search (the data rows searched among themselves): the
 * rows are cut into blocks of I8_QBLOCK and every pair of blocks is one
 * tile, computed once, its products offered to the rows of both. The tiles
 * are scheduled in rounds of the circle method (a round-robin tournament:
 * in round t, block t computes its own tile and blocks t + i and t - i,
 * modulo an odd count, pair up), so the tiles of a round touch disjoint
 * rows and run in parallel without locks. A row's candidates are the best
 * kk1 by the canonical key whatever the order its columns came in
 * (i8_take), so the graph is the one-block-at-a-time search's, byte for
 * byte, on any thread count. */
static mc_status i8_search_sym(const mc_knn_exact_job *j, const i8_scan *s, size_t cap,
                               const uint8_t *full, size_t d4, size_t kk, i8_idot_fn idot,
                               i8_fdot_fn fdot, int nt, int64_t *ids, float *sims, int *no_room)
{
    size_t n = j->nq, dl4 = s->dl4, qb = I8_QBLOCK;
    i8_scan sc = *s;
    sc.cap = cap;
    size_t nblocks = (n + qb - 1) / qb;
    size_t players = nblocks | 1; /* odd: one block rests (computes its own tile) a round */
    size_t per_round = (players + 1) / 2;
    size_t ntiles = nblocks * (nblocks + 1) / 2;
    uint64_t *keys = mc_malloc_array(n, cap * sizeof *keys);
    size_t *cnt = calloc(n, sizeof *cnt);
    int32_t *thr = mc_malloc_array(n + I8_MR, sizeof *thr);
    int32_t *bias = mc_malloc_array(n + I8_MR, sizeof *bias);
    /* the last block's rows padded to a multiple of I8_MR */
    int8_t *codes = mc_malloc_array(nblocks * qb, dl4);
    if (!keys || !cnt || !thr || !bias || !codes) {
        free(keys);
        free(cnt);
        free(thr);
        free(bias);
        free(codes);
        *no_room = 1; /* the caller goes one block at a time */
        return MC_ERR_NOMEM;
    }
    /* every row's signed codes, for its block's tiles as the query side */
#pragma omp parallel for num_threads(nt) schedule(static)
    for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
        size_t r0 = (size_t)b * qb, nr = n - r0 < qb ? n - r0 : qb;
        i8_codes_from_panels(s, r0, nr, codes + r0 * dl4);
        for (size_t i = r0; i < r0 + nr; i++) {
            thr[i] = INT32_MIN;
            int32_t sum = 0;
            for (size_t t = 0; t < dl4; t++) sum += codes[i * dl4 + t];
            bias[i] = 128 * sum;
        }
    }
    for (size_t i = n; i < n + I8_MR; i++) {
        thr[i] = INT32_MAX;
        bias[i] = 0;
    }
    int cancelled = 0, failed = 0;
    size_t tiles_done = 0;
#pragma omp parallel num_threads(nt)
    {
        int8_t *qfull = full ? mc_malloc_array(1, d4) : NULL;
        i8_rerank_buf bf;
        int ok = i8_rerank_alloc(&bf, kk) && (!full || qfull);
        if (mc_knn_omp_all_ok(ok, &failed)) {
            /* round 0: every block's own tile; then the circle's rounds */
            for (size_t round = 0; round <= players; round++) {
                size_t ntask = round == 0 ? nblocks : per_round - 1;
#pragma omp for schedule(dynamic, 1)
                for (ptrdiff_t t = 0; t < (ptrdiff_t)ntask; t++) {
                    if (mc_knn_block_skip(&cancelled)) continue;
                    size_t a = (size_t)t, c = (size_t)t;
                    if (round > 0) {
                        /* circle round rr: blocks rr + i and rr - i, i >= 1 */
                        size_t rr = round - 1, i = (size_t)t + 1;
                        a = (rr + i) % players;
                        c = (rr + players - i) % players;
                    }
                    if (a >= nblocks || c >= nblocks) continue;
                    if (a > c) {
                        size_t x = a;
                        a = c;
                        c = x;
                    }
                    size_t a0 = a * qb, na = n - a0 < qb ? n - a0 : qb;
                    size_t c0 = c * qb, nc = n - c0 < qb ? n - c0 : qb;
                    size_t p0 = c0 / I8_NR, p1 = (c0 + nc + I8_NR - 1) / I8_NR;
                    const int8_t *qa = codes + a0 * dl4;
                    if (a == c)
                        i8_tile(&sc, qa, na, a0, keys + a0 * cap, cnt + a0, thr + a0, p0, p1, a0,
                                NULL, NULL, NULL, NULL, NULL);
                    else
                        i8_tile(&sc, qa, na, SIZE_MAX, keys + a0 * cap, cnt + a0, thr + a0, p0, p1,
                                a0, keys + c0 * cap, cnt + c0, thr + c0, bias + a0, bias + c0);
                    size_t now_done;
#pragma omp atomic capture
                    now_done = ++tiles_done;
                    if (omp_get_thread_num() == 0 &&
                        mc_progress_stop(j->progress, j->progress_data, "search",
                                         now_done * (n - 1) / ntiles, n)) {
#pragma omp atomic write
                        cancelled = 1;
                    }
                }
            }
#pragma omp for schedule(dynamic, 256)
            for (ptrdiff_t ii = 0; ii < (ptrdiff_t)n; ii++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t i = (size_t)ii;
                if (full)
                    for (size_t t = 0; t < d4; t++) qfull[t] = (int8_t)((int)full[i * d4 + t] - 128);
                i8_finish(j, &sc, i, keys + i * cap, cnt[i], qfull, full, d4, kk, idot, fdot, &bf,
                          ids, sims);
            }
        }
        free(qfull);
        i8_rerank_free(&bf);
    }
    free(keys);
    free(cnt);
    free(thr);
    free(bias);
    free(codes);
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for the re-ranking buffers (%zu candidates)",
                       kk);
    return mc_knn_search_end(cancelled, n, j->progress, j->progress_data);
}

mc_status mc_knn_int8_search_ex(const mc_knn_exact_job *j, const float *w, size_t dl, size_t kk1,
                                int64_t *ids, float *sims)
{
    size_t n = j->nq, d = j->d, k = j->k;
    size_t m = j->cand ? j->m : j->nb;
    if (n == 0) return MC_OK;
    if (!w) dl = d;
    size_t d4 = (d + 3) / 4 * 4, dl4 = (dl + 3) / 4 * 4;
    size_t kk = k + mc_knn_int8_margin(k);
    if (kk > m) kk = m;
    /* candidates of the search codes: kk without a projection */
    if (!w || kk1 < kk) kk1 = kk;
    if (kk1 > m) kk1 = m;
    if (m > UINT32_MAX)
        return mc_fail(MC_ERR_INVALID_ARG, "the Int8 index takes at most %u faces (%zu given)",
                       (unsigned)UINT32_MAX, m);
    i8_kernel_fn kern = pick_kernel();
    i8_idot_fn idot = idot_generic;
    i8_fdot_fn fdot = dot16;
    i8_tmask_fn tmask = tmask_generic;
#if I8_HAVE_X86
    if (kern == kernel_vnni) {
        idot = idot_vnni;
        fdot = dot16_avx512;
        tmask = tmask_avx512;
    }
#endif
    int nt = mc_knn_threads(j->n_threads);
    mc_knn_blas_serial();

    /* one scale for each code, from the data rows alone (a query component
     * beyond it is clamped), so that a shard's rows are the whole search's */
    float amax = data_amax(j, m, NULL, 0, nt);
    float scale = amax > 0.0f && isfinite(amax) ? 127.0f / amax : 1.0f;
    float lscale = scale;
    if (w) {
        /* the projection is computed here for its largest component and
         * again below for the codes: keeping it would cost m x dl floats
         * (512 MiB at a million faces and dl 128) to save under a second */
        float la = data_amax(j, m, w, dl, nt);
        lscale = la > 0.0f && isfinite(la) ? 127.0f / la : 1.0f;
    }

    size_t npan = (m + I8_NR - 1) / I8_NR;
    size_t pan_bytes = dl4 * I8_NR;
    uint8_t *pan = mc_malloc_array(npan, pan_bytes);
    uint8_t *full = w ? mc_malloc_array(m, d4) : NULL;
    if (!pan || (w && !full)) {
        free(pan);
        free(full);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the 8-bit copy of %zu faces (%zu bytes each)",
                       m, dl4 + (w ? d4 : 0));
    }
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        float *rows = w ? mc_malloc_array(I8_NR * d, sizeof *rows) : NULL;
        float *pr = w ? mc_malloc_array(I8_NR * dl, sizeof *pr) : NULL;
        if (mc_knn_omp_all_ok(!w || (rows && pr), &failed)) {
#pragma omp for schedule(static)
            for (ptrdiff_t p = 0; p < (ptrdiff_t)npan; p++) {
                uint8_t *pp = pan + (size_t)p * pan_bytes;
                size_t c0 = (size_t)p * I8_NR, nr = m - c0 < I8_NR ? m - c0 : I8_NR;
                memset(pp, 128, pan_bytes);
                const float *src = NULL;
                if (w) {
                    for (size_t r = 0; r < nr; r++) {
                        const float *row = j->xb + (j->cand ? j->cand[c0 + r] : c0 + r) * d;
                        memcpy(rows + r * d, row, d * sizeof *rows);
                        uint8_t *fr = full + (c0 + r) * d4;
                        for (size_t t = 0; t < d; t++) fr[t] = (uint8_t)(quant(row[t], scale) + 128);
                        for (size_t t = d; t < d4; t++) fr[t] = 128;
                    }
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nr,
                                (blasint)dl, (blasint)d, 1.0f, rows, (blasint)d, w, (blasint)dl,
                                0.0f, pr, (blasint)dl);
                }
                for (size_t r = 0; r < nr; r++) {
                    src = w ? pr + r * dl : j->xb + (j->cand ? j->cand[c0 + r] : c0 + r) * d;
                    for (size_t t = 0; t < dl; t++)
                        pp[(t / 4) * (4 * I8_NR) + r * 4 + t % 4] =
                            (uint8_t)(quant(src[t], lscale) + 128);
                }
            }
        }
        free(rows);
        free(pr);
    }
    if (failed) {
        free(pan);
        free(full);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the projection buffers");
    }

    i8_scan s = {kern, tmask, pan, pan_bytes, dl4, m, kk1, 2 * kk1, j->cand};
    /* the search's own rows as queries: their codes are the panels' */
    int self = !j->cand && j->xq == j->xb && j->nq == j->nb && j->self_base == 0;
    /* the symmetric search computes each pair's product once, for both
     * rows, so it keeps every row's candidates until the end */
    size_t sym_cap = kk1 + (kk1 + 1) / 2;
    size_t sym_row = sym_cap * sizeof(uint64_t) + dl4 + sizeof(size_t) + 2 * sizeof(int32_t);
    /* at most a GiB, and a quarter of the memory available (or of the
     * calling thread's limit, mc_set_memory_limit) */
    uint64_t budget = mc_memory_limit() / 4;
    if (budget > MC_I8_SYM_BYTES) budget = MC_I8_SYM_BYTES;
    int sym = self && !force_one_sided && n > I8_QBLOCK && n <= budget / sym_row;
    int no_room = 0;
    mc_status st = MC_ERR_NOMEM;
    if (sym) st = i8_search_sym(j, &s, sym_cap, full, d4, kk, idot, fdot, nt, ids, sims, &no_room);
    if (!sym || no_room)
        st = i8_search_blocks(j, &s, self, w, dl, lscale, scale, full, d4, kk, idot, fdot, nt,
                              ids, sims);
    free(pan);
    free(full);
    return st;
}

mc_status mc_knn_int8_search(const mc_knn_exact_job *j, int64_t *ids, float *sims)
{
    return mc_knn_int8_search_ex(j, NULL, 0, 0, ids, sims);
}

/* LAPACK's symmetric eigen-decomposition (divide and conquer). */
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w,
             double *work, const int *lwork, int *iwork, const int *liwork, int *info);

#define PCA_SAMPLE 65536
#define PCA_BLOCK 4096

mc_status mc_knn_pca_basis(const float *x, size_t d, const size_t *cand, size_t m, size_t dl,
                           uint64_t seed, float **out_w, size_t *out_sample)
{
    *out_w = NULL;
    size_t t = m < PCA_SAMPLE ? m : PCA_SAMPLE;
    if (out_sample) *out_sample = t;
    if (d > 46340) return mc_fail(MC_ERR_INVALID_ARG, "PCA: dimension %zu is too large", d);
    mc_knn_blas_serial();
    size_t *rows = mc_knn_sample_rows(cand, m, t, seed);
    float *buf = mc_malloc_array(PCA_BLOCK * d, sizeof *buf);
    float *gf = mc_malloc_array(d * d, sizeof *gf);
    double *g = mc_malloc_array(d * d, sizeof *g);
    double *ev = mc_malloc_array(d, sizeof *ev);
    float *w = mc_malloc_array(d * dl, sizeof *w);
    double *work = NULL;
    int *iwork = NULL;
    mc_status st = MC_OK;
    if (!rows || !buf || !gf || !g || !ev || !w) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the PCA of %zu x %zu", t, d);
        goto done;
    }
    /* the second moments of the sample, in sample order: X^T X */
    memset(g, 0, d * d * sizeof *g);
    for (size_t r0 = 0; r0 < t; r0 += PCA_BLOCK) {
        size_t nr = t - r0 < PCA_BLOCK ? t - r0 : PCA_BLOCK;
        mc_knn_gather_rows(x, d, rows + r0, nr, buf);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (blasint)d, (blasint)d, (blasint)nr,
                    1.0f, buf, (blasint)d, buf, (blasint)d, 0.0f, gf, (blasint)d);
        for (size_t a = 0; a < d * d; a++) g[a] += (double)gf[a];
    }
    int dn = (int)d, lwork = -1, liwork = -1, info = 0, iw = 0;
    double wq = 0.0;
    dsyevd_("V", "U", &dn, g, &dn, ev, &wq, &lwork, &iw, &liwork, &info);
    if (info != 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "PCA: LAPACK dsyevd workspace query failed (info %d)", info);
        goto done;
    }
    lwork = (int)wq + 1;
    liwork = iw + 1;
    work = mc_malloc_array((size_t)lwork, sizeof *work);
    iwork = mc_malloc_array((size_t)liwork, sizeof *iwork);
    if (!work || !iwork) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the PCA of %zu x %zu", t, d);
        goto done;
    }
    dsyevd_("V", "U", &dn, g, &dn, ev, work, &lwork, iwork, &liwork, &info);
    if (info != 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "PCA: LAPACK dsyevd failed (info %d)", info);
        goto done;
    }
    /* ascending eigenvalues; column c (column-major) is the c-th vector:
     * the dl largest, largest first, as the columns of w (row-major d x dl) */
    for (size_t c = 0; c < dl; c++)
        for (size_t a = 0; a < d; a++) w[a * dl + c] = (float)g[(d - 1 - c) * d + a];
    *out_w = w;
    w = NULL;
done:
    free(rows);
    free(buf);
    free(gf);
    free(g);
    free(ev);
    free(w);
    free(work);
    free(iwork);
    return st;
}
