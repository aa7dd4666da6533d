/* Per-face confidence and per-cluster representatives (rules in
 * confidence_impl.h), and mc_clustering_score(), which applies them to a
 * result and its k-NN graph. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "confidence_impl.h"
#include "knn_impl.h" /* mc_knn_threads */
#include "magclust/knn.h"
#include "util_impl.h"

/* Faces grouped by cluster, in face order within each: start (nc + 1) and
 * members (the faces with a cluster). 0, or -1 out of memory. */
static int group_members(size_t n, const int64_t *labels, size_t nc, size_t **start,
                         size_t **members)
{
    *start = mc_calloc_array(nc + 2, sizeof **start);
    *members = mc_malloc_array(n + 1, sizeof **members);
    if (!*start || !*members) return -1;
    size_t *s = *start;
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= 0 && (size_t)labels[i] < nc) s[labels[i] + 2]++;
    for (size_t c = 0; c < nc; c++) s[c + 2] += s[c + 1];
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= 0 && (size_t)labels[i] < nc) (*members)[s[labels[i] + 1]++] = i;
    return 0; /* s[c] .. s[c + 1] now spans cluster c */
}

mc_status mc_conf_centres(const float *dir, size_t n, size_t d, const int64_t *labels,
                          const uint8_t *roles, size_t nc, int n_threads, float **out)
{
    *out = NULL;
    mc_status st = mc_check_memory(NULL, "the cluster centres", nc ? nc : 1, d, sizeof(float));
    if (st != MC_OK) return st;
    size_t *start = NULL, *members = NULL;
    float *cen = mc_calloc_array(nc ? nc : 1, d * sizeof *cen);
    if (!cen || group_members(n, labels, nc, &start, &members) != 0) {
        free(cen);
        free(start);
        free(members);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the centres of %zu clusters", nc);
    }
    int failed = 0;
#pragma omp parallel num_threads(mc_knn_threads(n_threads))
    {
        double *acc = mc_malloc_array(d ? d : 1, sizeof *acc);
        if (!acc) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 16)
        for (ptrdiff_t c = 0; c < (ptrdiff_t)nc; c++) {
            if (!acc) continue;
            const size_t *mem = members + start[c];
            size_t m = start[c + 1] - start[c], used = 0;
            memset(acc, 0, d * sizeof *acc);
            /* the core members; all of them when none is core */
            for (int pass = 0; pass < 2 && used == 0; pass++)
                for (size_t a = 0; a < m; a++) {
                    size_t i = mem[a];
                    if (pass == 0 && roles && roles[i] != MC_ROLE_CORE) continue;
                    const float *x = dir + i * d;
                    for (size_t t = 0; t < d; t++) acc[t] += x[t];
                    used++;
                }
            double nn = 0.0;
            for (size_t t = 0; t < d; t++) nn += acc[t] * acc[t];
            if (nn > 0.0) {
                double inv = 1.0 / sqrt(nn);
                float *y = cen + (size_t)c * d;
                for (size_t t = 0; t < d; t++) y[t] = (float)(acc[t] * inv);
            }
        }
        free(acc);
    }
    free(start);
    free(members);
    if (failed) {
        free(cen);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the centres of %zu clusters", nc);
    }
    *out = cen;
    return MC_OK;
}

static double dot(const float *a, const float *b, size_t d)
{
    double s = 0.0;
    for (size_t t = 0; t < d; t++) s += (double)a[t] * b[t];
    return s;
}

void mc_conf_score(const mc_conf_job *j, float *sim, float *margin)
{
    size_t d = j->d, k = j->k;
#pragma omp parallel for schedule(static) num_threads(mc_knn_threads(j->n_threads))
    for (ptrdiff_t ii = 0; ii < (ptrdiff_t)j->n; ii++) {
        size_t i = (size_t)ii;
        if (j->only && !j->only[i]) continue;
        const float *x = j->dir + i * d;
        const int64_t *nb = j->nbr + i * k;
        int64_t own = j->labels[i];
        if (own >= (int64_t)j->nc) own = -1;
        double best = -INFINITY;
        /* each distinct candidate cluster once, in neighbour order */
        for (size_t a = 0; a < k; a++) {
            int64_t c = nb[a] >= 0 && (size_t)nb[a] < j->n_nbr_labels ? j->nbr_labels[nb[a]] : -1;
            if (c < 0 || c == own || c >= (int64_t)j->nc) continue;
            int seen = 0;
            for (size_t b = 0; b < a && !seen; b++)
                seen = nb[b] >= 0 && (size_t)nb[b] < j->n_nbr_labels && j->nbr_labels[nb[b]] == c;
            if (seen) continue;
            double s = dot(x, j->centres + (size_t)c * d, d);
            if (s > best) best = s;
        }
        if (own >= 0) {
            double s = dot(x, j->centres + (size_t)own * d, d);
            sim[i] = (float)s;
            margin[i] = (float)(isinf(best) ? s : s - best);
        } else {
            sim[i] = isinf(best) ? NAN : (float)best;
            margin[i] = NAN;
        }
    }
}

typedef struct {
    float s;
    size_t i;
} sim_face;

static int cmp_sim_desc(const void *a, const void *b)
{
    const sim_face *x = a, *y = b;
    if (x->s != y->s) return x->s > y->s ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

mc_status mc_conf_representatives(size_t n, const int64_t *labels, const float *sim,
                                  const float *q, size_t nc, int64_t *rep)
{
    size_t *start = NULL, *members = NULL;
    sim_face *buf = mc_malloc_array(n + 1, sizeof *buf);
    if (!buf || group_members(n, labels, nc, &start, &members) != 0) {
        free(buf);
        free(start);
        free(members);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the representatives");
    }
    for (size_t c = 0; c < nc; c++) {
        size_t m = start[c + 1] - start[c];
        rep[c] = -1;
        if (m == 0) continue;
        for (size_t a = 0; a < m; a++) {
            size_t i = members[start[c] + a];
            /* a NaN similarity (no centre) sorts last */
            buf[a] = (sim_face){isnan(sim[i]) ? -INFINITY : sim[i], i};
        }
        qsort(buf, m, sizeof *buf, cmp_sim_desc);
        float cut = buf[(m - 1) / 2].s; /* the upper median: ceil(m/2) faces reach it */
        size_t best = buf[0].i;
        float best_s = buf[0].s;
        for (size_t a = 1; a < m && buf[a].s >= cut; a++) {
            size_t i = buf[a].i;
            float qi = q ? q[i] : 0.0f, qb = q ? q[best] : 0.0f;
            int better = qi > qb || (qi == qb && (buf[a].s > best_s || (buf[a].s == best_s && i < best)));
            if (better) {
                best = i;
                best_s = buf[a].s;
            }
        }
        rep[c] = (int64_t)best;
    }
    free(buf);
    free(start);
    free(members);
    return MC_OK;
}

mc_status mc_clustering_score(mc_clustering_t *c, const mc_embeddings_t *e,
                              const mc_knn_graph_t *g, int n_threads)
{
    mc_clear_error();
    if (!c || !e || !g) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_clustering_score");
    size_t n = mc_clustering_n(c), d = mc_embeddings_dim(e), nc = mc_clustering_n_clusters(c);
    if (mc_embeddings_n(e) != n || mc_knn_graph_n(g) != n)
        return mc_fail(MC_ERR_DIM_MISMATCH,
                       "mc_clustering_score: the clustering has %zu faces, the embeddings %zu, "
                       "the graph %zu",
                       n, mc_embeddings_n(e), mc_knn_graph_n(g));
    const float *dir = mc_embeddings_directions(e);
    const int64_t *labels = mc_clustering_labels(c);
    float *cen = NULL;
    mc_status st = mc_conf_centres(dir, n, d, labels, mc_clustering_roles(c), nc, n_threads, &cen);
    if (st != MC_OK) return st;
    float *sim = mc_malloc_array(n, sizeof *sim);
    float *margin = mc_malloc_array(n, sizeof *margin);
    int64_t *rep = mc_malloc_array(nc + 1, sizeof *rep);
    if (!sim || !margin || !rep) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for the confidence of %zu faces", n);
        goto fail;
    }
    mc_conf_job j = {dir, n, d, labels, mc_knn_graph_ids(g), mc_knn_graph_k(g), labels, n,
                     cen, nc, n_threads, NULL};
    mc_conf_score(&j, sim, margin);
    if ((st = mc_conf_representatives(n, labels, sim, mc_embeddings_quality(e), nc, rep)) != MC_OK)
        goto fail;
    free(cen);
    mc_clustering_take_confidence(c, sim, margin, rep);
    return MC_OK;
fail:
    free(cen);
    free(sim);
    free(margin);
    free(rep);
    return st;
}
