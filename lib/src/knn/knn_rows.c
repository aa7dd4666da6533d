/* The rows of a k-NN result: a top-k heap per row, the canonical row order,
 * and the small row utilities every search shares (exact, Cells, FAISS,
 * model assignment). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "knn_impl.h"
#include "util_impl.h"

double mc_knn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

float mc_knn_clamp_cos(float s) { return s > 1.0f ? 1.0f : s < -1.0f ? -1.0f : s; }

/* Canonical row order: similarity descending, then id ascending, -1 last.
 * FAISS already sorts by similarity; this fixes the order of exact ties so the
 * graph does not depend on how the search was split across threads. k is
 * small, so insertion sort. */
void mc_knn_sort_row(int64_t *ids, float *sims, size_t k)
{
    for (size_t a = 1; a < k; a++) {
        int64_t id = ids[a];
        float s = sims[a];
        size_t b = a;
        while (b > 0) {
            int64_t pid = ids[b - 1];
            float ps = sims[b - 1];
            int before;
            if (id < 0) before = 0;
            else if (pid < 0) before = 1;
            else before = s > ps || (s == ps && id < pid);
            if (!before) break;
            ids[b] = pid;
            sims[b] = ps;
            b--;
        }
        ids[b] = id;
        sims[b] = s;
    }
}

/* Row heaps: the root is the worst kept neighbour, "worse" meaning a lower
 * similarity or, at equal similarity, a larger id, so that ties keep the
 * smaller ids as the canonical order requires. */
static int worse(float sa, int64_t ia, float sb, int64_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void heap_swap(float *hs, int64_t *hi, size_t a, size_t b)
{
    float ts = hs[a];
    int64_t ti = hi[a];
    hs[a] = hs[b];
    hi[a] = hi[b];
    hs[b] = ts;
    hi[b] = ti;
}

static void heap_sift_down(float *hs, int64_t *hi, size_t n, size_t r)
{
    for (;;) {
        size_t c = 2 * r + 1;
        if (c >= n) break;
        if (c + 1 < n && worse(hs[c + 1], hi[c + 1], hs[c], hi[c])) c++;
        if (!worse(hs[c], hi[c], hs[r], hi[r])) break;
        heap_swap(hs, hi, r, c);
        r = c;
    }
}

static void heap_push(float *hs, int64_t *hi, size_t *cnt, size_t k, float s, int64_t id)
{
    size_t n = *cnt;
    if (n < k) {
        size_t c = n;
        hs[c] = s;
        hi[c] = id;
        while (c > 0) {
            size_t par = (c - 1) / 2;
            if (!worse(hs[c], hi[c], hs[par], hi[par])) break;
            heap_swap(hs, hi, c, par);
            c = par;
        }
        *cnt = n + 1;
        return;
    }
    if (!worse(hs[0], hi[0], s, id)) return;
    hs[0] = s;
    hi[0] = id;
    heap_sift_down(hs, hi, k, 0);
}

size_t mc_knn_push_row(const float *row, size_t nd, const size_t *ids, size_t d0, size_t i, size_t k,
                       float *hs, int64_t *hi, size_t c)
{
    size_t j = 0;
    for (; j < nd && c < k; j++) {
        size_t id = ids ? ids[j] : d0 + j;
        if (id != i) heap_push(hs, hi, &c, k, row[j], (int64_t)id);
    }
    float floor_s = c == k ? hs[0] : -INFINITY;
    for (; j < nd; j++) {
        if (row[j] < floor_s) continue;
        size_t id = ids ? ids[j] : d0 + j;
        if (id == i) continue;
        heap_push(hs, hi, &c, k, row[j], (int64_t)id);
        floor_s = hs[0];
    }
    return c;
}

void mc_knn_finish_row(int64_t *ids, float *sims, size_t k, size_t cnt, int clamp)
{
    for (size_t c = 0; c < k; c++) {
        if (c >= cnt) {
            ids[c] = -1;
            sims[c] = -INFINITY;
        } else if (clamp) {
            sims[c] = mc_knn_clamp_cos(sims[c]);
        }
    }
    mc_knn_sort_row(ids, sims, k);
}

void mc_knn_gather_rows(const float *x, size_t d, const size_t *rows, size_t m, float *buf)
{
    for (size_t a = 0; a < m; a++) memcpy(buf + a * d, x + rows[a] * d, d * sizeof *buf);
}

/* A seeded sample of t of the m candidates (all faces when cand is NULL),
 * without replacement (partial Fisher-Yates), into out[0..t). NULL when out
 * of memory. */
size_t *mc_knn_sample_rows(const size_t *cand, size_t m, size_t t, uint64_t seed)
{
    size_t *rows = mc_malloc_array(m, sizeof *rows);
    if (!rows) return NULL;
    for (size_t i = 0; i < m; i++) rows[i] = i;
    uint64_t s = seed;
    for (size_t i = 0; i < t; i++) {
        size_t j = i + (size_t)(mc_splitmix64(&s) % (uint64_t)(m - i));
        size_t tmp = rows[i];
        rows[i] = rows[j];
        rows[j] = tmp;
    }
    if (cand)
        for (size_t i = 0; i < t; i++) rows[i] = cand[rows[i]];
    return rows;
}

