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
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
 * mask[i]: bit j set when out[i][j] > thr[i]. */
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
        _mm512_storeu_si512((void *)(out + (i) * I8_NR), c##i##0);                            \
        _mm512_storeu_si512((void *)(out + (i) * I8_NR + 16), c##i##1);                       \
        _mm512_storeu_si512((void *)(out + (i) * I8_NR + 32), c##i##2);                       \
        _mm512_storeu_si512((void *)(out + (i) * I8_NR + 48), c##i##3);                       \
        mask[i] = (uint64_t)_mm512_cmpgt_epi32_mask(c##i##0, t) |                             \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##1, t) << 16 |                       \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##2, t) << 32 |                       \
                  (uint64_t)_mm512_cmpgt_epi32_mask(c##i##3, t) << 48;                        \
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

int mc_knn_int8_fast(void)
{
#if I8_HAVE_X86
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vnni");
#else
    return 0;
#endif
}

static i8_kernel_fn pick_kernel(void)
{
#if I8_HAVE_X86
    if (!force_generic && mc_knn_int8_fast()) return kernel_vnni;
#endif
    return kernel_generic;
}

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

mc_status mc_knn_int8_search(const mc_knn_exact_job *j, int64_t *ids, float *sims)
{
    size_t n = j->nq, d = j->d, k = j->k;
    size_t m = j->cand ? j->m : j->nb;
    if (n == 0) return MC_OK;
    size_t d4 = (d + 3) / 4 * 4;
    size_t kk = k + mc_knn_int8_margin(k);
    if (kk > m) kk = m;
    i8_kernel_fn kern = pick_kernel();

    /* one scale, from the data rows alone (a query component beyond it is
     * clamped), so that a shard's rows are the whole search's */
    float amax = 0.0f;
    for (size_t c = 0; c < m; c++) {
        const float *row = j->xb + (j->cand ? j->cand[c] : c) * d;
        for (size_t t = 0; t < d; t++) {
            float v = fabsf(row[t]);
            if (v > amax) amax = v;
        }
    }
    float scale = amax > 0.0f && isfinite(amax) ? 127.0f / amax : 1.0f;

    size_t npan = (m + I8_NR - 1) / I8_NR;
    size_t pan_bytes = d4 * I8_NR;
    uint8_t *pan = mc_malloc_array(npan, pan_bytes);
    if (!pan)
        return mc_fail(MC_ERR_NOMEM, "out of memory for the 8-bit copy of %zu faces (%zu bytes each)",
                       m, d4);
    int nt = mc_knn_threads(j->n_threads);
#pragma omp parallel for num_threads(nt) schedule(static)
    for (ptrdiff_t p = 0; p < (ptrdiff_t)npan; p++) {
        uint8_t *pp = pan + (size_t)p * pan_bytes;
        memset(pp, 128, pan_bytes);
        for (size_t r = 0; r < I8_NR; r++) {
            size_t c = (size_t)p * I8_NR + r;
            if (c >= m) break;
            const float *row = j->xb + (j->cand ? j->cand[c] : c) * d;
            for (size_t t = 0; t < d; t++)
                pp[(t / 4) * (4 * I8_NR) + r * 4 + t % 4] = (uint8_t)(quant(row[t], scale) + 128);
        }
    }

    size_t qb = I8_QBLOCK;
    size_t nblocks = (n + qb - 1) / qb;
    int failed = 0, cancelled = 0;
    size_t done = 0;
#pragma omp parallel num_threads(nt)
    {
        int8_t *qbuf = mc_malloc_array(qb, d4);
        int32_t *hs = mc_malloc_array(qb * kk, sizeof *hs);
        int64_t *hi = mc_malloc_array(qb * kk, sizeof *hi);
        size_t *cnt = mc_malloc_array(qb, sizeof *cnt);
        int32_t *thr = mc_malloc_array(qb, sizeof *thr);
        float *cs = mc_malloc_array(kk, sizeof *cs);
        size_t *cid = mc_malloc_array(kk, sizeof *cid);
        int32_t out[I8_MR * I8_NR];
        uint64_t mask[I8_MR];
        if (mc_knn_omp_all_ok(qbuf && hs && hi && cnt && thr && cs && cid, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (ptrdiff_t b = 0; b < (ptrdiff_t)nblocks; b++) {
                int c0;
#pragma omp atomic read
                c0 = cancelled;
                if (c0) continue;
                size_t q0 = (size_t)b * qb;
                size_t nq = n - q0 < qb ? n - q0 : qb;
                size_t nqp = (nq + I8_MR - 1) / I8_MR * I8_MR;
                memset(qbuf, 0, nqp * d4);
                for (size_t r = 0; r < nq; r++) {
                    const float *row = j->xq + (q0 + r) * d;
                    for (size_t t = 0; t < d; t++) qbuf[r * d4 + t] = quant(row[t], scale);
                    cnt[r] = 0;
                    thr[r] = INT32_MIN;
                }
                for (size_t r = nq; r < nqp; r++) thr[r] = INT32_MAX;
                for (size_t p = 0; p < npan; p++) {
                    size_t valid = m - p * I8_NR < I8_NR ? m - p * I8_NR : I8_NR;
                    uint64_t vmask = valid == 64 ? ~(uint64_t)0 : (((uint64_t)1 << valid) - 1);
                    const uint8_t *pp = pan + p * pan_bytes;
                    for (size_t g = 0; g < nqp; g += I8_MR) {
                        kern(qbuf + g * d4, d4, pp, thr + g, out, mask);
                        for (size_t i = 0; i < I8_MR; i++) {
                            uint64_t bits = mask[i] & vmask;
                            size_t r = g + i;
                            if (!bits || r >= nq) continue;
                            size_t self = j->self_base == SIZE_MAX ? SIZE_MAX : j->self_base + q0 + r;
                            while (bits) {
                                int jb = __builtin_ctzll(bits);
                                bits &= bits - 1;
                                size_t col = p * I8_NR + (size_t)jb;
                                size_t id = j->cand ? j->cand[col] : col;
                                if (id == self) continue;
                                i8_push(hs + r * kk, hi + r * kk, &cnt[r], kk,
                                        out[i * I8_NR + (size_t)jb], (int64_t)id);
                            }
                            thr[r] = cnt[r] == kk ? hs[r * kk] : INT32_MIN;
                        }
                    }
                }
                /* re-rank each row's candidates with the float cosines */
                for (size_t r = 0; r < nq; r++) {
                    size_t i = q0 + r, c = cnt[r];
                    const float *qrow = j->xq + i * d;
                    for (size_t a = 0; a < c; a++) {
                        cid[a] = (size_t)hi[r * kk + a];
                        cs[a] = dot16(qrow, j->xb + cid[a] * d, d);
                    }
                    size_t got = mc_knn_push_row(cs, c, cid, 0, SIZE_MAX, k, sims + i * k,
                                                 ids + i * k, 0);
                    mc_knn_finish_row(ids + i * k, sims + i * k, k, got, j->clamp);
                }
                size_t now_done;
#pragma omp atomic capture
                now_done = done += nq;
                if (omp_get_thread_num() == 0 &&
                    mc_progress_stop(j->progress, j->progress_data, "search", now_done, n)) {
#pragma omp atomic write
                    cancelled = 1;
                }
            }
        }
        free(qbuf);
        free(hs);
        free(hi);
        free(cnt);
        free(thr);
        free(cs);
        free(cid);
    }
    free(pan);
    if (failed)
        return mc_fail(MC_ERR_NOMEM, "out of memory for search buffers (%zu queries x %zu candidates)",
                       qb, kk);
    if (cancelled || mc_progress_stop(j->progress, j->progress_data, "search", n, n))
        return mc_cancelled("search");
    return MC_OK;
}
