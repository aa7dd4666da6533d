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
 * changes. Queries are quantised block by block (signed, rows of d4). */
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
#define I8_QBLOCK 384  /* queries a block (a multiple of I8_MR): 192 KiB at d 512 */

/* out[i][j] = <q_i, panel_j> (with the +128 bias) for i < I8_MR, j < I8_NR;
 * mask[i]: bit j set when out[i][j] > thr[i]. Row i of out need only be
 * written when mask[i] is not 0 (the fast kernel skips the others). */
typedef void (*i8_kernel_fn)(const int8_t *q, size_t d4, const uint8_t *panel,
                             const int32_t *thr, int32_t *out, uint64_t *mask);

static void kernel_generic(const int8_t *q, size_t d4, const uint8_t *panel, const int32_t *thr,
                           int32_t *out, uint64_t *mask)
{
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
        if (mask[i]) {                                                                        \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR), c##i##0);                        \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 16), c##i##1);                   \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 32), c##i##2);                   \
            _mm512_storeu_si512((void *)(out + (i) * I8_NR + 48), c##i##3);                   \
        }                                                                                     \
    } while (0)
__attribute__((target("avx512f,avx512bw,avx512vnni,tune=znver3"))) static void
kernel_vnni(const int8_t *q, size_t d4, const uint8_t *panel, const int32_t *thr, int32_t *out,
            uint64_t *mask)
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
#endif

static int force_generic;

void mc_knn_int8_force_generic(int on) { force_generic = on; }

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
#if I8_HAVE_X86
    if (kern == kernel_vnni) {
        idot = idot_vnni;
        fdot = dot16_avx512;
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

    size_t qb = I8_QBLOCK;
    size_t nblocks = (n + qb - 1) / qb;
    int cancelled = 0;
    size_t done = 0;
#pragma omp parallel num_threads(nt)
    {
        int8_t *qbuf = mc_malloc_array(qb, dl4);
        int8_t *qfull = w ? mc_malloc_array(qb, d4) : NULL;
        float *qpr = w ? mc_malloc_array(qb, dl * sizeof(float)) : NULL;
        /* each row's candidates: up to 2 kk1 keys, cut back to kk1 when full */
        uint64_t *keys = mc_malloc_array(qb * 2 * kk1, sizeof *keys);
        int32_t *hs2 = mc_malloc_array(kk, sizeof *hs2);
        int64_t *hi2 = mc_malloc_array(kk, sizeof *hi2);
        size_t *cnt = mc_malloc_array(qb, sizeof *cnt);
        int32_t *thr = mc_malloc_array(qb, sizeof *thr);
        float *cs = mc_malloc_array(kk, sizeof *cs);
        size_t *cid = mc_malloc_array(kk, sizeof *cid);
        int32_t out[I8_MR * I8_NR];
        uint64_t mask[I8_MR];
        int ok = qbuf && keys && hs2 && hi2 && cnt && thr && cs && cid && (!w || (qfull && qpr));
        if (mc_knn_omp_all_ok(ok, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                if (mc_knn_block_skip(&cancelled)) continue;
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                size_t nqp = (nq + I8_MR - 1) / I8_MR * I8_MR;
                memset(qbuf, 0, nqp * dl4);
                if (w)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)nq, (blasint)dl,
                                (blasint)d, 1.0f, j->xq + q0 * d, (blasint)d, w, (blasint)dl, 0.0f,
                                qpr, (blasint)dl);
                for (size_t r = 0; r < nq; r++) {
                    const float *row = j->xq + (q0 + r) * d;
                    if (w) {
                        for (size_t t = 0; t < dl; t++)
                            qbuf[r * dl4 + t] = quant(qpr[r * dl + t], lscale);
                        for (size_t t = 0; t < d; t++) qfull[r * d4 + t] = quant(row[t], scale);
                        for (size_t t = d; t < d4; t++) qfull[r * d4 + t] = 0;
                    } else {
                        for (size_t t = 0; t < d; t++) qbuf[r * dl4 + t] = quant(row[t], scale);
                    }
                    cnt[r] = 0;
                    thr[r] = INT32_MIN;
                }
                for (size_t r = nq; r < nqp; r++) thr[r] = INT32_MAX;
                for (size_t p = 0; p < npan; p++) {
                    size_t valid = m - p * I8_NR < I8_NR ? m - p * I8_NR : I8_NR;
                    uint64_t vmask = valid == 64 ? ~(uint64_t)0 : (((uint64_t)1 << valid) - 1);
                    const uint8_t *pp = pan + p * pan_bytes;
                    for (size_t g = 0; g < nqp; g += I8_MR) {
                        kern(qbuf + g * dl4, dl4, pp, thr + g, out, mask);
                        for (size_t i = 0; i < I8_MR; i++) {
                            uint64_t bits = mask[i] & vmask;
                            size_t r = g + i;
                            if (!bits || r >= nq) continue;
                            size_t self = j->self_base == SIZE_MAX ? SIZE_MAX : j->self_base + q0 + r;
                            uint64_t *rk = keys + r * 2 * kk1;
                            while (bits) {
                                int jb = __builtin_ctzll(bits);
                                bits &= bits - 1;
                                size_t col = p * I8_NR + (size_t)jb;
                                size_t id = j->cand ? j->cand[col] : col;
                                if (id == self) continue;
                                /* columns: their order is the ids' */
                                rk[cnt[r]++] = ckey(out[i * I8_NR + (size_t)jb], col);
                                /* a later column loses a tie with the kk1-th */
                                if (cnt[r] == 2 * kk1) thr[r] = compact_row(rk, &cnt[r], kk1);
                            }
                        }
                    }
                }
                for (size_t r = 0; r < nq; r++) {
                    size_t i = q0 + r;
                    uint64_t *rk = keys + r * 2 * kk1;
                    compact_row(rk, &cnt[r], kk1);
                    size_t c = cnt[r];
                    const int64_t *rc = hi2;
                    if (w) {
                        /* the full-dimension codes pick kk of the kk1 */
                        size_t c2 = 0;
                        for (size_t a = 0; a < c; a++) {
                            size_t col = ckey_col(rk[a]);
                            i8_push(hs2, hi2, &c2, kk,
                                    idot(qfull + r * d4, full + col * d4, d4), (int64_t)col);
                        }
                        c = c2;
                    } else {
                        for (size_t a = 0; a < c; a++) hi2[a] = (int64_t)ckey_col(rk[a]);
                    }
                    /* re-rank with the float cosines */
                    const float *qrow = j->xq + i * d;
                    for (size_t a = 0; a < c; a++) {
                        cid[a] = j->cand ? j->cand[rc[a]] : (size_t)rc[a];
                        cs[a] = fdot(qrow, j->xb + cid[a] * d, d);
                    }
                    size_t got = mc_knn_push_row(cs, c, cid, 0, SIZE_MAX, k, sims + i * k,
                                                 ids + i * k, 0);
                    mc_knn_finish_row(ids + i * k, sims + i * k, k, got, j->clamp);
                }
                mc_knn_block_done(&done, nq, n, "search", j->progress,
                                  j->progress_data, &cancelled);
            }
        }
        free(qbuf);
        free(qfull);
        free(qpr);
        free(keys);
        free(hs2);
        free(hi2);
        free(cnt);
        free(thr);
        free(cs);
        free(cid);
    }
    free(pan);
    free(full);
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu queries x %zu candidates)",
                       qb, kk1);
    return mc_knn_search_end(cancelled, n, j->progress, j->progress_data);
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
