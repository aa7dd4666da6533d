/* How sure a result is of each face, and each cluster's representative:
 * the rules of mc_clustering_score() (clustering.h), shared with the
 * model's assignment (model_assign.c), which scores new faces against the
 * model's clusters. Never installed.
 *
 * centre of a cluster: the normalised mean of its core members' unit
 *   directions (of all its members when none is core); the model's cluster
 *   mean (model.h) is the same sum before normalising.
 * similarity of a face: the cosine of its direction to its cluster's
 *   centre; for a face in no cluster, to the nearest centre among its
 *   candidates (NaN with none).
 * candidates of a face: the clusters of its k-NN neighbours, own excluded.
 * margin: similarity - the best candidate's cosine (similarity itself with
 *   no candidate: the other clusters count as orthogonal); NaN for a face in
 *   no cluster.
 * representative of a cluster: among the ceil(m/2) members most similar to
 *   the centre (all tied with the last of them included), the one of highest
 *   quality, then highest similarity, then lowest index.
 * Cost: O(N D) for the centres, O(N D c) for the scores (c: distinct
 * candidate clusters of a face, at most k, usually one or two), O(N log N)
 * for the representatives; memory C x D floats. The same for any thread
 * count: every sum runs in face order. */
#ifndef MAGCLUST_CONFIDENCE_IMPL_H
#define MAGCLUST_CONFIDENCE_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/clustering.h"

/* The centres of clusters 0..nc-1 of the n faces dir (n x d unit
 * directions) with labels (ids < nc, -1 none) and roles (NULL: all core):
 * a new nc x d array (a cluster with no member, or members summing to zero,
 * gets a zero centre). MC_OK, MC_ERR_NOMEM (over the memory limit too). */
mc_status mc_conf_centres(const float *dir, size_t n, size_t d, const int64_t *labels,
                          const uint8_t *roles, size_t nc, int n_threads, float **out);

/* The faces scored and where their candidates come from. */
typedef struct {
    const float *dir;          /* n x d: the faces' directions (the centres' space) */
    size_t n, d;
    const int64_t *labels;     /* n: their clusters (< nc, -1 none) */
    const int64_t *nbr;        /* n x k: neighbour ids, -1 padded */
    size_t k;
    const int64_t *nbr_labels; /* the cluster of each neighbour id (-1 none) */
    size_t n_nbr_labels;       /* ids at or above it are ignored */
    const float *centres;      /* nc x d */
    size_t nc;
    int n_threads;
    const uint8_t *only;       /* n flags, or NULL: faces flagged 0 are not scored (their
                                  sim and margin are left as they were) */
} mc_conf_job;

/* sim and margin: caller-allocated, n each. */
void mc_conf_score(const mc_conf_job *j, float *sim, float *margin);

/* The representative of each cluster 0..nc-1 among the n faces with labels
 * (similarity sim, quality q or NULL): rep, caller-allocated nc (-1 for a
 * cluster with no member). MC_OK or MC_ERR_NOMEM. */
mc_status mc_conf_representatives(size_t n, const int64_t *labels, const float *sim,
                                  const float *q, size_t nc, int64_t *rep);

/* Hands sim, margin (n) and rep (n_clusters) over to c, replacing any
 * scores it had (clustering.c). */
void mc_clustering_take_confidence(mc_clustering_t *c, float *sim, float *margin, int64_t *rep);

#endif
