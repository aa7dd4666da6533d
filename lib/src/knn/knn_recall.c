/* How faithful an approximate k-NN graph is: recall@k on a seeded sample of
 * query faces against the exact search, overall and for the better half. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/knn.h"
#include "magclust/quality.h"
#include "knn_impl.h"
#include "util_impl.h"

/* Queries per sgemm block. Fixed, not derived from the thread count, so the
 * exact rows (and the estimate) are the same however many threads run; small
 * enough that a thousand queries make 16 blocks to share among threads. */
#define RECALL_QUERY_BLOCK 64

/* A face listed by the graph but not in the exact row still counts when it
 * is as similar as the exact row's last face: ties at the k-th place may be
 * broken either way, and the two searches round differently. */
#define RECALL_TIE_EPS 1e-6

mc_knn_recall_params mc_knn_recall_params_default(void)
{
    mc_knn_recall_params p;
    memset(&p, 0, sizeof p);
    p.n_sample = 1000;
    p.seed = 1;
    return p;
}

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t j = 0; j < d; j++) s += (double)a[j] * (double)b[j];
    return s;
}

/* Found and expected neighbours of query face i: exact row ei/es (kk
 * entries, -1 padded, may include i itself) against graph row gi (k). */
static void score_row(const float *x, size_t d, size_t i, const int64_t *ei, const float *es,
                      size_t kk, const int64_t *gi, size_t k, size_t *found, size_t *expected)
{
    size_t c = 0;
    float last = -INFINITY;
    /* the exact row without the face itself: its first k real entries */
    for (size_t a = 0; a < kk && c < k; a++) {
        if (ei[a] < 0 || ei[a] == (int64_t)i) continue;
        last = es[a];
        c++;
    }
    size_t f = 0;
    for (size_t b = 0; b < k; b++) {
        int64_t j = gi[b];
        if (j < 0 || j == (int64_t)i) continue;
        int in = 0;
        for (size_t a = 0, cc = 0; a < kk && cc < c; a++) {
            if (ei[a] < 0 || ei[a] == (int64_t)i) continue;
            cc++;
            if (ei[a] == j) {
                in = 1;
                break;
            }
        }
        if (!in && c == k && dot(x + i * d, x + (size_t)j * d, d) >= (double)last - RECALL_TIE_EPS)
            in = 1;
        f += (size_t)in;
    }
    *found = f < c ? f : c;
    *expected = c;
}

mc_status mc_knn_recall_sample(const mc_knn_graph_t *g, const mc_embeddings_t *e,
                               const mc_knn_recall_params *p, mc_knn_recall *out)
{
    mc_clear_error();
    if (!g || !e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_recall_sample");
    memset(out, 0, sizeof *out);
    out->recall = out->recall_better = NAN;
    mc_knn_recall_params par = p ? *p : mc_knn_recall_params_default();
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e), gk = mc_knn_graph_k(g);
    size_t k = par.k ? par.k : gk;
    if (mc_knn_graph_n(g) != n)
        return mc_fail(MC_ERR_INVALID_ARG, "the graph has %zu faces, the embeddings %zu",
                       mc_knn_graph_n(g), n);
    if (par.n_sample == 0) return mc_fail(MC_ERR_INVALID_ARG, "n_sample must be at least 1");
    if (k > gk)
        return mc_fail(MC_ERR_INVALID_ARG, "recall@%zu needs a graph of at least %zu neighbours (it has %zu)",
                       k, k, gk);
    double t0 = mc_knn_now();
    size_t ns = par.n_sample < n ? par.n_sample : n, kk = k + 1;
    const float *x = mc_embeddings_directions(e);
    const float *q = mc_embeddings_quality(e);
    out->k = k;
    out->n_sampled = ns;
    out->median_quality = mc_percentile(q, n, 50.0);
    if (isnan(out->median_quality)) return mc_fail(MC_ERR_NOMEM, "out of memory for the median quality");

    size_t *cand = NULL, m = n;
    if (par.candidates) {
        m = 0;
        for (size_t i = 0; i < n; i++) m += par.candidates[i] != 0;
        if (m == 0) return mc_fail(MC_ERR_INVALID_ARG, "the candidate set is empty");
        if (m < n) {
            if (!(cand = mc_malloc_array(m, sizeof *cand)))
                return mc_fail(MC_ERR_NOMEM, "out of memory for the candidate list");
            for (size_t i = 0, a = 0; i < n; i++)
                if (par.candidates[i]) cand[a++] = i;
        }
    }
    mc_status st = MC_OK;
    size_t *rows = mc_knn_sample_rows(NULL, n, ns, par.seed);
    float *xq = mc_malloc_array(ns, d * sizeof *xq);
    int64_t *ids = mc_malloc_array(ns, kk * sizeof *ids);
    float *sims = mc_malloc_array(ns, kk * sizeof *sims);
    if (!rows || !xq || !ids || !sims) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for a recall sample of %zu faces", ns);
        goto done;
    }
    mc_knn_gather_rows(x, d, rows, ns, xq);
    mc_knn_exact_job j = {xq, ns, x, n, cand, m, d, kk, SIZE_MAX, RECALL_QUERY_BLOCK, 0, 1,
                          par.n_threads, NULL, NULL};
    if ((st = mc_knn_exact_search(&j, ids, sims)) != MC_OK) goto done;

    size_t f_all = 0, e_all = 0, f_bet = 0, e_bet = 0;
    const int64_t *gids = mc_knn_graph_ids(g);
    for (size_t r = 0; r < ns; r++) {
        size_t i = rows[r], f, ex;
        score_row(x, d, i, ids + r * kk, sims + r * kk, kk, gids + i * gk, k, &f, &ex);
        f_all += f;
        e_all += ex;
        if ((double)q[i] >= out->median_quality) {
            out->n_better++;
            f_bet += f;
            e_bet += ex;
        }
    }
    out->recall = e_all ? (double)f_all / (double)e_all : 1.0;
    if (out->n_better) out->recall_better = e_bet ? (double)f_bet / (double)e_bet : 1.0;
    out->seconds = mc_knn_now() - t0;

done:
    free(cand);
    free(rows);
    free(xq);
    free(ids);
    free(sims);
    return st;
}
