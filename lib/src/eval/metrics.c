/* External clustering metrics (BCubed, pairwise, NMI) from a sparse
 * contingency table.
 *
 * Every metric here is a sum over the nonzero cells n_ij of the contingency
 * table plus the row and column sums, so the table is never stored densely:
 * with ~n clusters of face identities a C x K matrix would need n^2 cells.
 * Labels are first renumbered to dense ids 0..C-1 (a radix sort, or a direct
 * table when the label range is small), items are bucketed by true class with
 * a counting sort, and each class's row is gathered with a sparse accumulator
 * over the predicted ids. Time O(n) after the sort, memory about 32 bytes per
 * item at peak; ids are 32-bit, hence n <= UINT32_MAX. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/metrics.h"
#include "util_impl.h"

#define RADIX_BITS 16u
#define RADIX_SIZE ((size_t)1 << RADIX_BITS)
#define RADIX_PASSES (64u / RADIX_BITS)

/* Stable LSD radix sort of (key, idx) pairs by key. A pass whose digit is the
 * same for every key is skipped, so labels below 2^32 cost at most two
 * passes. The sorted data may end up in the *_tmp buffers: the final arrays
 * are returned through out_key / out_idx. */
static void radix_sort(uint64_t *key, uint32_t *idx, uint64_t *key_tmp, uint32_t *idx_tmp,
                       size_t n, size_t *hist, uint64_t **out_key, uint32_t **out_idx)
{
    memset(hist, 0, RADIX_PASSES * RADIX_SIZE * sizeof *hist);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key[i];
        for (unsigned d = 0; d < RADIX_PASSES; d++)
            hist[d * RADIX_SIZE + (size_t)((k >> (d * RADIX_BITS)) & (RADIX_SIZE - 1))]++;
    }
    for (unsigned d = 0; d < RADIX_PASSES; d++) {
        size_t *h = hist + d * RADIX_SIZE;
        unsigned shift = d * RADIX_BITS;
        /* The histograms were taken before any pass, but a pass only permutes
         * the keys, so they stay valid. */
        if (h[(size_t)((key[0] >> shift) & (RADIX_SIZE - 1))] == n) continue;
        size_t sum = 0;
        for (size_t b = 0; b < RADIX_SIZE; b++) {
            size_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t pos = h[(size_t)((key[i] >> shift) & (RADIX_SIZE - 1))]++;
            key_tmp[pos] = key[i];
            idx_tmp[pos] = idx[i];
        }
        uint64_t *tk = key;
        key = key_tmp;
        key_tmp = tk;
        uint32_t *ti = idx;
        idx = idx_tmp;
        idx_tmp = ti;
    }
    *out_key = key;
    *out_idx = idx;
}

/* Renumber lab[0..n) to dense ids: the distinct non-negative values get
 * 0..D-1 (in increasing order of value), then every negative label gets a
 * fresh id of its own (the singleton convention of metrics.h). */
static mc_status dense_ids(const int64_t *lab, size_t n, const char *what, uint32_t *ids,
                           size_t *out_count)
{
    size_t n_pos = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (lab[i] < 0) continue;
        n_pos++;
        if (lab[i] < lo) lo = lab[i];
        if (lab[i] > hi) hi = lab[i];
    }
    size_t next = 0;
    if (n_pos > 0) {
        uint64_t range = (uint64_t)(hi - lo); /* 0 <= lo <= hi: no overflow */
        if (range < (uint64_t)n * 2u + 1024u) {
            /* Compact labels (the usual 0..K-1): a direct lookup table. */
            size_t m = (size_t)range + 1;
            uint32_t *tab = mc_calloc_array(m, sizeof *tab);
            if (!tab) return mc_fail(MC_ERR_NOMEM, "metrics: %s label table of %zu entries", what, m);
            for (size_t i = 0; i < n; i++)
                if (lab[i] >= 0) tab[(size_t)(lab[i] - lo)] = 1;
            for (size_t v = 0; v < m; v++)
                if (tab[v]) tab[v] = (uint32_t)++next; /* id + 1; 0 = absent */
            for (size_t i = 0; i < n; i++)
                if (lab[i] >= 0) ids[i] = tab[(size_t)(lab[i] - lo)] - 1u;
            free(tab);
        } else {
            /* Sparse labels (hashes, 64-bit ids): sort (value, item) pairs. */
            uint64_t *key = mc_malloc_array(n_pos, sizeof *key);
            uint64_t *key_tmp = mc_malloc_array(n_pos, sizeof *key_tmp);
            uint32_t *idx = mc_malloc_array(n_pos, sizeof *idx);
            uint32_t *idx_tmp = mc_malloc_array(n_pos, sizeof *idx_tmp);
            size_t *hist = mc_malloc_array(RADIX_PASSES * RADIX_SIZE, sizeof *hist);
            if (!key || !key_tmp || !idx || !idx_tmp || !hist) {
                free(key);
                free(key_tmp);
                free(idx);
                free(idx_tmp);
                free(hist);
                return mc_fail(MC_ERR_NOMEM, "metrics: sorting %zu %s labels", n_pos, what);
            }
            size_t j = 0;
            for (size_t i = 0; i < n; i++) {
                if (lab[i] < 0) continue;
                key[j] = (uint64_t)(lab[i] - lo);
                idx[j] = (uint32_t)i;
                j++;
            }
            uint64_t *sk;
            uint32_t *si;
            radix_sort(key, idx, key_tmp, idx_tmp, n_pos, hist, &sk, &si);
            for (j = 0; j < n_pos; j++) {
                if (j > 0 && sk[j] != sk[j - 1]) next++;
                ids[si[j]] = (uint32_t)next;
            }
            next++;
            free(key);
            free(key_tmp);
            free(idx);
            free(idx_tmp);
            free(hist);
        }
    }
    for (size_t i = 0; i < n; i++)
        if (lab[i] < 0) ids[i] = (uint32_t)next++;
    *out_count = next;
    return MC_OK;
}

static double f_score(double p, double r) { return p + r > 0.0 ? 2.0 * p * r / (p + r) : 0.0; }

/* sum over a partition's set sizes of s * log(s / n), i.e. -n * entropy. */
static double size_entropy_sum(const uint32_t *size, size_t count, double dn)
{
    double s = 0.0;
    for (size_t k = 0; k < count; k++) {
        double x = (double)size[k];
        s += x * log(x / dn);
    }
    return s;
}

mc_status mc_metrics_compute(const int64_t *truth, const int64_t *pred, size_t n,
                             mc_metrics *out)
{
    mc_clear_error();
    if (!truth || !pred || !out)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_metrics_compute: %s is NULL",
                       !truth ? "truth" : !pred ? "pred" : "out");
    if (n == 0) return mc_fail(MC_ERR_INVALID_ARG, "mc_metrics_compute: n == 0 (no items)");
    if ((uint64_t)n > (uint64_t)UINT32_MAX)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_metrics_compute: n = %zu exceeds %lu items", n,
                       (unsigned long)UINT32_MAX);

    mc_status st = MC_OK;
    uint32_t *tid = NULL, *pid = NULL, *csize = NULL, *ksize = NULL, *start = NULL;
    uint32_t *order = NULL, *mark = NULL, *cnt = NULL, *list = NULL;
    size_t n_cls = 0, n_clu = 0;

    tid = mc_malloc_array(n, sizeof *tid);
    pid = mc_malloc_array(n, sizeof *pid);
    if (!tid || !pid) {
        st = mc_fail(MC_ERR_NOMEM, "metrics: label ids for %zu items", n);
        goto cleanup;
    }
    if ((st = dense_ids(truth, n, "true", tid, &n_cls)) != MC_OK) goto cleanup;
    if ((st = dense_ids(pred, n, "predicted", pid, &n_clu)) != MC_OK) goto cleanup;

    csize = mc_calloc_array(n_cls, sizeof *csize);
    ksize = mc_calloc_array(n_clu, sizeof *ksize);
    start = mc_malloc_array(n_cls + 1, sizeof *start);
    order = mc_malloc_array(n, sizeof *order);
    mark = mc_malloc_array(n_clu, sizeof *mark);
    cnt = mc_malloc_array(n_clu, sizeof *cnt);
    if (!csize || !ksize || !start || !order || !mark || !cnt) {
        st = mc_fail(MC_ERR_NOMEM, "metrics: contingency table of %zu items", n);
        goto cleanup;
    }
    for (size_t i = 0; i < n; i++) {
        csize[tid[i]]++;
        ksize[pid[i]]++;
    }

    /* Counting sort by true class. start[c] first holds the end of class c;
     * filling from the back decrements it to the class's first slot and keeps
     * the items of a class in input order. */
    uint32_t max_cls = 0;
    uint32_t end = 0;
    for (size_t c = 0; c < n_cls; c++) {
        end += csize[c];
        start[c] = end;
        if (csize[c] > max_cls) max_cls = csize[c];
    }
    start[n_cls] = (uint32_t)n;
    for (size_t i = n; i-- > 0;) order[--start[tid[i]]] = (uint32_t)i;

    list = mc_malloc_array(max_cls, sizeof *list);
    if (!list) {
        st = mc_fail(MC_ERR_NOMEM, "metrics: row of %lu items", (unsigned long)max_cls);
        goto cleanup;
    }
    memset(mark, 0xff, n_clu * sizeof *mark); /* no class id is UINT32_MAX */

    const double dn = (double)n;
    double bc_p = 0.0, bc_r = 0.0, mi = 0.0;
    uint64_t sum_sq = 0; /* sum n_ij^2 <= n^2 < 2^64 since n <= UINT32_MAX */
    for (size_t c = 0; c < n_cls; c++) {
        /* Gather row c: the distinct predicted ids of the class and counts. */
        size_t m = 0;
        for (uint32_t t = start[c]; t < start[c + 1]; t++) {
            uint32_t j = pid[order[t]];
            if (mark[j] != (uint32_t)c) {
                mark[j] = (uint32_t)c;
                cnt[j] = 0;
                list[m++] = j;
            }
            cnt[j]++;
        }
        const double a = (double)csize[c];
        uint64_t row_sq = 0;
        for (size_t q = 0; q < m; q++) {
            uint32_t j = list[q];
            uint64_t x = cnt[j];
            double dx = (double)x, b = (double)ksize[j];
            row_sq += x * x;
            bc_p += dx * dx / b;
            /* One log per cell, with the ratio formed first: the terms stay
             * accurate instead of cancelling sums of large logs. */
            mi += dx * log(dx * dn / (a * b));
        }
        bc_r += (double)row_sq / a;
        sum_sq += row_sq;
    }

    uint64_t sq_cls = 0, sq_clu = 0;
    for (size_t c = 0; c < n_cls; c++) sq_cls += (uint64_t)csize[c] * csize[c];
    for (size_t k = 0; k < n_clu; k++) sq_clu += (uint64_t)ksize[k] * ksize[k];
    const uint64_t tk = sum_sq - n, pk = sq_clu - n, qk = sq_cls - n;

    out->n = n;
    out->n_classes = n_cls;
    out->n_clusters = n_clu;
    out->bcubed_precision = bc_p / dn;
    out->bcubed_recall = bc_r / dn;
    out->bcubed_f = f_score(out->bcubed_precision, out->bcubed_recall);
    out->pairwise_precision = pk ? (double)tk / (double)pk : 1.0;
    out->pairwise_recall = qk ? (double)tk / (double)qk : 1.0;
    out->pairwise_f = f_score(out->pairwise_precision, out->pairwise_recall);

    /* NMI as scikit-learn: identical single-set partitions score 1; zero
     * mutual information (one side a single set, or independence) scores 0;
     * the mean entropy is floored at DBL_EPSILON and rounding clamped. */
    mi /= dn;
    if (n_cls == 1 && n_clu == 1) {
        out->nmi = 1.0;
    } else if (!(mi > 0.0)) {
        out->nmi = 0.0;
    } else {
        double h_true = -size_entropy_sum(csize, n_cls, dn) / dn;
        double h_pred = -size_entropy_sum(ksize, n_clu, dn) / dn;
        double mean = 0.5 * (h_true + h_pred);
        double v = mi / (mean > DBL_EPSILON ? mean : DBL_EPSILON);
        out->nmi = v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v;
    }

cleanup:
    free(tid);
    free(pid);
    free(csize);
    free(ksize);
    free(start);
    free(order);
    free(mark);
    free(cnt);
    free(list);
    return st;
}
