/* Model assignment: placing new faces by the rules in model.h, the update
 * that folds them in, and the constraints over the model's faces and the new
 * ones. Calls down into model.c only. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confidence_impl.h"
#include "embeddings_impl.h"
#include "knn_impl.h"
#include "magclust/knn.h"
#include "magclust/linkage.h"
#include "model_impl.h"
#include "util_impl.h"

mc_assign_params mc_assign_params_default(void)
{
    mc_assign_params p;
    memset(&p, 0, sizeof p);
    return p;
}

#define MATCH_QB 256
#define MATCH_DB 8192

/* The k most similar reference faces of each new face (rows sorted best
 * first, -1 padded), by the exact search the k-NN graph uses. */
static mc_status top_matches(const float *q, size_t nq, const float *db, size_t ndb, size_t d, size_t k,
                             int n_threads, int64_t *ids, float *sims)
{
    mc_knn_exact_job j = {q, nq, db, ndb, NULL, 0, d, k, SIZE_MAX, MATCH_QB, MATCH_DB, 0,
                          n_threads, NULL, NULL};
    return mc_knn_exact_search(&j, ids, sims);
}

/* The most similar core face among the k nearest (rows sorted best first),
 * or -1. */
static int64_t nearest_core(const mc_model_t *m, const int64_t *ids, size_t k)
{
    for (size_t a = 0; a < k && ids[a] >= 0; a++)
        if (m->ex_role[ids[a]] == MC_ROLE_CORE) return (int64_t)a;
    return -1;
}

/* Clusters the unassigned faces rows[0..nu) of the new faces (directions dir,
 * centred as the model's; quality q) among themselves (average linkage, the
 * model's threshold and gates, an exact graph), as new clusters from id m->C
 * on, which are added to the model, empty. Labels and roles of those faces
 * are set; returns MC_OK or an error. */
static mc_status open_new_clusters(mc_model_t *m, const float *dir, const float *q,
                                   const size_t *rows, size_t nu, int n_threads, int64_t *labels,
                                   uint8_t *roles)
{
    size_t d = m->d;
    int64_t *sub_lab = mc_malloc_array(nu, sizeof *sub_lab);
    uint8_t *sub_role = mc_malloc_array(nu, 1);
    if (!sub_lab || !sub_role) {
        free(sub_lab);
        free(sub_role);
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    mc_status s = MC_OK;
    size_t n_new = 0;
    if (nu == 1) { /* a graph needs two faces: one face is a cluster when core-quality */
        int core = (double)q[rows[0]] >= m->core_q;
        sub_lab[0] = core ? 0 : -1;
        sub_role[0] = core ? MC_ROLE_CORE : MC_ROLE_NOISE;
        n_new = core ? 1 : 0;
    } else {
        float *x = mc_malloc_array(nu * d, sizeof *x);
        float *qq = mc_malloc_array(nu, sizeof *qq);
        mc_embeddings_t *sub = NULL;
        mc_knn_graph_t *g = NULL;
        mc_clustering_t *c = NULL;
        if (!x || !qq) s = mc_fail(MC_ERR_NOMEM, "out of memory");
        if (s == MC_OK) {
            for (size_t a = 0; a < nu; a++) {
                memcpy(x + a * d, dir + rows[a] * d, d * sizeof *x);
                qq[a] = q[rows[a]];
            }
            s = mc_embeddings_new(x, nu, d, &sub);
        }
        if (s == MC_OK) s = mc_embeddings_set_quality(sub, qq, mc_model_quality_name(m));
        if (s == MC_OK) {
            mc_knn_params kp = mc_knn_params_default();
            kp.k = nu - 1 < 30 ? nu - 1 : 30;
            kp.index = "Flat";
            kp.n_threads = n_threads;
            s = mc_knn_graph_build(sub, &kp, &g);
        }
        if (s == MC_OK) {
            mc_linkage_params lp = mc_linkage_params_default();
            lp.threshold = m->threshold;
            lp.core_quality.kind = isinf(m->core_q) ? MC_THRESH_OFF : MC_THRESH_ABSOLUTE;
            lp.core_quality.value = m->core_q;
            lp.noise_quality.kind = isinf(m->noise_q) ? MC_THRESH_OFF : MC_THRESH_ABSOLUTE;
            lp.noise_quality.value = m->noise_q;
            lp.n_threads = n_threads;
            s = mc_linkage_run(g, qq, &lp, &c, NULL, NULL);
        }
        if (s == MC_OK) {
            memcpy(sub_lab, mc_clustering_labels(c), nu * sizeof *sub_lab);
            memcpy(sub_role, mc_clustering_roles(c), nu);
            n_new = mc_clustering_n_clusters(c);
        }
        mc_clustering_free(c);
        mc_knn_graph_free(g);
        mc_embeddings_free(sub);
        free(x);
        free(qq);
    }
    if (s == MC_OK) {
        size_t C0 = m->C;
        if (mc_model_grow_clusters(m, C0 + n_new) != 0) {
            s = mc_fail(MC_ERR_NOMEM, "out of memory for the new clusters");
        } else {
            for (size_t a = 0; a < nu; a++) {
                size_t i = rows[a];
                labels[i] = sub_lab[a] < 0 ? -1 : (int64_t)(C0 + (size_t)sub_lab[a]);
                roles[i] = sub_lab[a] < 0 ? (uint8_t)MC_ROLE_NOISE : sub_role[a];
            }
        }
    }
    free(sub_lab);
    free(sub_role);
    return s;
}

/* Merges, for each of the n new faces, its k best reference faces (ids
 * 0..E-1) with its k best other new faces (ids E + j, self left out) into the
 * k best of both, best first: the neighbours of the faces in the combined
 * index space of a constraint set, once new faces can sit in new clusters. */
static int merge_new_neighbours(const float *dir, size_t n, size_t d, size_t E, size_t k,
                                int n_threads, int64_t *ids, float *sims)
{
    size_t k2 = k + 1 < n ? k + 1 : n;
    int64_t *ni = mc_malloc_array(n * k2, sizeof *ni);
    float *ns = mc_malloc_array(n * k2, sizeof *ns);
    if (!ni || !ns || top_matches(dir, n, dir, n, d, k2, n_threads, ni, ns) != MC_OK) {
        free(ni);
        free(ns);
        return -1;
    }
    int64_t row_i[2 * 64];
    float row_s[2 * 64];
    int64_t *mi = k <= 64 ? row_i : mc_malloc_array(2 * k, sizeof *mi);
    float *ms = k <= 64 ? row_s : mc_malloc_array(2 * k, sizeof *ms);
    if (!mi || !ms) {
        if (mi != row_i) free(mi);
        if (ms != row_s) free(ms);
        free(ni);
        free(ns);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        size_t a = 0, b = 0, o = 0;
        const int64_t *ri = ids + i * k, *qi = ni + i * k2;
        const float *rs = sims + i * k, *qs = ns + i * k2;
        while (o < k) {
            while (b < k2 && (qi[b] < 0 || (size_t)qi[b] == i)) b++;
            int take_ref = a < k && ri[a] >= 0 && (b >= k2 || rs[a] >= qs[b]);
            if (take_ref) {
                mi[o] = ri[a];
                ms[o++] = rs[a++];
            } else if (b < k2) {
                mi[o] = (int64_t)E + qi[b];
                ms[o++] = qs[b++];
            } else {
                break;
            }
        }
        for (; o < k; o++) {
            mi[o] = -1;
            ms[o] = -INFINITY;
        }
        memcpy(ids + i * k, mi, k * sizeof *mi);
        memcpy(sims + i * k, ms, k * sizeof *ms);
    }
    if (mi != row_i) free(mi);
    if (ms != row_s) free(ms);
    free(ni);
    free(ns);
    return 0;
}

static void add_constraint_stats(mc_constraint_stats *to, const mc_constraint_stats *s)
{
    to->violations += s->violations;
    to->moved += s->moved;
    to->to_noise += s->to_noise;
    to->gathered += s->gathered;
    to->new_clusters += s->new_clusters;
    to->unresolved += s->unresolved;
}

/* Applies cs to the new faces' labels and roles (the model's reference faces
 * fixed in their clusters); nbr rows are the new faces'. */
static mc_status apply_constraints(const mc_model_t *m, const mc_constraints_t *cs, size_t n,
                                   size_t k, const int64_t *ids, const float *sims,
                                   int may_open, uint8_t out_role, int64_t *labels,
                                   uint8_t *roles, mc_constraint_stats *acc)
{
    size_t E = m->E, N = E + n;
    int64_t *cl = mc_malloc_array(N, sizeof *cl);
    uint8_t *cr = mc_malloc_array(N, 1), *fixed = mc_malloc_array(N, 1);
    mc_status s = MC_OK;
    if (!cl || !cr || !fixed) {
        s = mc_fail(MC_ERR_NOMEM, "out of memory for the constraints");
        goto done;
    }
    memcpy(cl, m->ex_cluster, E * sizeof *cl);
    memcpy(cr, m->ex_role, E);
    memset(fixed, 1, E);
    memcpy(cl + E, labels, n * sizeof *cl);
    memcpy(cr + E, roles, n);
    memset(fixed + E, 0, n);
    mc_constraint_input in = {k, E, ids, sims, m->threshold, fixed, out_role, !may_open};
    mc_constraint_stats cst;
    if ((s = mc_constraints_apply(cs, &in, cl, cr, &cst)) != MC_OK) goto done;
    add_constraint_stats(acc, &cst);
    memcpy(labels, cl + E, n * sizeof *labels);
    memcpy(roles, cr + E, n);
done:
    free(cl);
    free(cr);
    free(fixed);
    return s;
}

/* Names for the clusters of a result with labels[0..n) (ids < nc): the
 * model's, else a person the constraints gave a new face in it (new face i
 * is constraint face E0 + i, E0 the reference faces before any update). */
static mc_status name_clusters(const mc_model_t *m, const mc_constraints_t *cs, size_t E0,
                               size_t n, const int64_t *labels, size_t nc, mc_clustering_t *out)
{
    int any = 0;
    for (size_t c = 0; c < m->C && !any; c++) any = m->cname[c] != NULL;
    for (size_t i = 0; cs && i < n && !any; i++) any = mc_constraints_name(cs, E0 + i) != NULL;
    if (!any) return MC_OK;
    const char **names = calloc(nc + 1, sizeof *names);
    if (!names) return mc_fail(MC_ERR_NOMEM, "out of memory");
    for (size_t c = 0; c < nc && c < m->C; c++) names[c] = m->cname[c];
    for (size_t i = 0; cs && i < n; i++) {
        const char *nm = mc_constraints_name(cs, E0 + i);
        if (nm && labels[i] >= 0 && !names[labels[i]]) names[labels[i]] = nm;
    }
    mc_status s = mc_clustering_set_names(out, names);
    free(names);
    return s;
}

/* What placing the new faces by the rules found; shared by assignment and
 * update. */
typedef struct {
    size_t n, k;
    const float *dir;  /* n x d: the new faces' directions, centred as the model's */
    float *own_dir;    /* the private centred copy behind dir, or NULL (dir is e's) */
    const float *q;    /* n: their quality */
    int64_t *ids;      /* n x k: their k best reference faces, best first */
    float *sims;
    int64_t *labels;   /* n */
    uint8_t *roles;
    size_t *un, nu;    /* the unassigned faces, in face order */
    mc_assign_stats st;
} placement;

static void placement_free(placement *pl)
{
    free(pl->own_dir);
    free(pl->sims);
    free(pl->ids);
    free(pl->labels);
    free(pl->roles);
    free(pl->un);
}

/* Checks the faces e against m (fn names the caller in errors), centres a
 * private copy of their directions by the model's centring, and places them
 * by the rules in model.h, constraints included, among the model's clusters
 * only; neither m nor e is changed. pl is always set up (placement_free). */
static mc_status place(const mc_model_t *m, const mc_embeddings_t *e, const mc_assign_params *par,
                       const char *fn, placement *pl)
{
    memset(pl, 0, sizeof *pl);
    size_t n = mc_embeddings_n(e), d = m->d;
    if (mc_embeddings_dim(e) != d)
        return mc_fail(MC_ERR_DIM_MISMATCH, "the faces are %zu-d, the model %zu-d",
                       mc_embeddings_dim(e), d);
    const mc_constraints_t *cs = par->constraints;
    if (cs && mc_constraints_n(cs) != m->E + n)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "the constraints are over %zu faces; the model has %zu and the input %zu "
                       "(mc_model_constraints_new makes them)",
                       mc_constraints_n(cs), m->E, n);
    /* the model centres the faces itself: centring them twice would move
     * them away from the space the model's faces are in */
    if (m->center && mc_embeddings_is_centered(e))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: the faces were centred already; pass them as read (the model "
                       "centres them by its own centring vector)", fn);
    const float *q = mc_embeddings_quality(e);
    size_t k = m->k < m->E ? m->k : m->E;
    if (k == 0) k = 1;
    pl->n = n;
    pl->k = k;
    pl->q = q;
    pl->sims = n && k <= SIZE_MAX / n ? mc_malloc_array(n * k, sizeof *pl->sims) : NULL;
    pl->ids = pl->sims ? mc_malloc_array(n * k, sizeof *pl->ids) : NULL;
    pl->labels = mc_malloc_array(n, sizeof *pl->labels);
    pl->roles = mc_malloc_array(n, 1);
    pl->un = mc_malloc_array(n, sizeof *pl->un);
    if (!pl->sims || !pl->ids || !pl->labels || !pl->roles || !pl->un)
        return mc_fail(MC_ERR_NOMEM, "out of memory for assigning %zu faces", n);
    /* new faces are usually few next to the model: centre a copy of them
     * rather than ask the caller to change its embeddings */
    pl->dir = mc_embeddings_directions(e);
    if (m->center) {
        if (!(pl->own_dir = mc_malloc_array(n * d, sizeof *pl->own_dir)))
            return mc_fail(MC_ERR_NOMEM, "out of memory for centring %zu faces", n);
        memcpy(pl->own_dir, pl->dir, n * d * sizeof *pl->own_dir);
        mc_status s = mc_directions_center_by(pl->own_dir, n, d, m->center);
        if (s != MC_OK) return s;
        pl->dir = pl->own_dir;
    }
    int64_t *ids = pl->ids, *labels = pl->labels;
    float *sims = pl->sims;
    uint8_t *roles = pl->roles;
    mc_status s = top_matches(pl->dir, n, m->ex_dir, m->E, d, k, par->n_threads, ids, sims);
    if (s != MC_OK) return s;
    for (size_t i = 0; i < n; i++) {
        labels[i] = -1;
        roles[i] = MC_ROLE_NOISE;
        double qi = (double)q[i];
        const int64_t *ri = ids + i * k;
        const float *rs = sims + i * k;
        if (qi < m->noise_q) continue;
        /* the cluster of the most similar core face among the k nearest,
         * when it is similar enough */
        int64_t a = nearest_core(m, ri, k);
        if (a >= 0 && (double)rs[a] >= m->threshold) {
            labels[i] = m->ex_cluster[ri[a]];
            roles[i] = qi >= m->core_q ? MC_ROLE_CORE : MC_ROLE_BORDER;
        } else {
            roles[i] = MC_ROLE_UNASSIGNED;
        }
    }
    /* constraints among the existing clusters: the model's faces stay put;
     * a face moved out is unassigned, and no cluster is opened here (new
     * ids belong to an update) */
    if (cs && (s = apply_constraints(m, cs, n, k, ids, sims, 0, MC_ROLE_UNASSIGNED, labels, roles,
                                     &pl->st.constraints)) != MC_OK)
        return s;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 && roles[i] == MC_ROLE_UNASSIGNED) pl->un[pl->nu++] = i;
    pl->st.n_unassigned = pl->nu;
    return MC_OK;
}

/* Counts what happened on the final labels (ids from C0 on: clusters the
 * update opened; m->C - C0 of them), makes the result and names its
 * clusters (E0: the model's reference faces before any update). */
static mc_status finish(const mc_model_t *m, const mc_constraints_t *cs, size_t C0, size_t E0,
                        placement *pl, mc_clustering_t **out)
{
    size_t n = pl->n;
    const int64_t *labels = pl->labels;
    const uint8_t *roles = pl->roles;
    mc_assign_stats *st = &pl->st;
    st->n_new_clusters = m->C - C0;
    st->n_new_clustered = st->n_core = st->n_border = st->n_noise = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= (int64_t)C0) st->n_new_clustered++;
        else if (labels[i] >= 0 && roles[i] == MC_ROLE_CORE) st->n_core++;
        else if (labels[i] >= 0) st->n_border++;
        else if (roles[i] == MC_ROLE_NOISE) st->n_noise++;
    }
    mc_status s = mc_clustering_new_keep_ids(n, labels, roles, out);
    if (s == MC_OK) {
        s = name_clusters(m, cs, E0, n, labels, mc_clustering_n_clusters(*out), *out);
        if (s != MC_OK) {
            mc_clustering_free(*out);
            *out = NULL;
        }
    }
    return s;
}

/* Scores the new faces of out (clustering.h's rules) against the model's
 * clusters as they stand, after an update with the new faces in them: the
 * centres from the model's reference faces, each face's candidates the
 * clusters of its k best reference faces; each cluster's representative is
 * chosen among the new faces in it (the rows of this result). */
static mc_status score_new(const mc_model_t *m, const placement *pl, int n_threads,
                           mc_clustering_t *out)
{
    size_t n = pl->n, nc = mc_clustering_n_clusters(out);
    const int64_t *labels = mc_clustering_labels(out);
    float *cen = NULL;
    mc_status s = mc_conf_centres(m->ex_dir, m->E, m->d, m->ex_cluster, m->ex_role, m->C,
                                  n_threads, &cen);
    if (s != MC_OK) return s;
    float *sim = mc_malloc_array(n, sizeof *sim), *margin = mc_malloc_array(n, sizeof *margin);
    int64_t *rep = mc_malloc_array(nc + 1, sizeof *rep);
    if (!sim || !margin || !rep) {
        s = mc_fail(MC_ERR_NOMEM, "out of memory for the confidence of %zu faces", n);
    } else {
        mc_conf_job j = {pl->dir, n, m->d, labels, pl->ids, pl->k, m->ex_cluster, m->E,
                         cen, m->C, n_threads, NULL};
        mc_conf_score(&j, sim, margin);
        s = mc_conf_representatives(n, labels, sim, pl->q, nc, rep);
    }
    free(cen);
    if (s != MC_OK) {
        free(sim);
        free(margin);
        free(rep);
        return s;
    }
    mc_clustering_take_confidence(out, sim, margin, rep);
    return MC_OK;
}

mc_status mc_model_representatives(const mc_model_t *m, int n_threads, int64_t *out_faces)
{
    mc_clear_error();
    if (!m || (m->C && !out_faces))
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_representatives");
    float *cen = NULL;
    mc_status s = mc_conf_centres(m->ex_dir, m->E, m->d, m->ex_cluster, m->ex_role, m->C,
                                  n_threads, &cen);
    if (s != MC_OK) return s;
    float *sim = mc_malloc_array(m->E + 1, sizeof *sim);
    if (!sim) {
        free(cen);
        return mc_fail(MC_ERR_NOMEM, "out of memory for the representatives");
    }
    /* a member's similarity is its cosine to its own centre */
    for (size_t i = 0; i < m->E; i++) {
        int64_t c = m->ex_cluster[i];
        double acc = 0.0;
        for (size_t t = 0; c >= 0 && t < m->d; t++)
            acc += (double)m->ex_dir[i * m->d + t] * cen[(size_t)c * m->d + t];
        sim[i] = (float)acc;
    }
    s = mc_conf_representatives(m->E, m->ex_cluster, sim, m->ex_quality, m->C, out_faces);
    free(sim);
    free(cen);
    return s;
}

mc_status mc_model_assign(const mc_model_t *m, const mc_embeddings_t *e,
                          const mc_assign_params *p, mc_clustering_t **out,
                          mc_assign_stats *stats)
{
    mc_clear_error();
    if (!m || !e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_assign");
    *out = NULL;
    mc_assign_params par = p ? *p : mc_assign_params_default();
    placement pl;
    mc_status s = place(m, e, &par, "mc_model_assign", &pl);
    if (s == MC_OK) s = finish(m, par.constraints, m->C, m->E, &pl, out);
    if (s == MC_OK && (s = score_new(m, &pl, par.n_threads, *out)) != MC_OK) {
        mc_clustering_free(*out);
        *out = NULL;
    }
    if (s == MC_OK && stats) *stats = pl.st;
    placement_free(&pl);
    return s;
}

mc_status mc_model_update(mc_model_t *m, const mc_embeddings_t *e, const mc_assign_params *p,
                          mc_clustering_t **out, mc_assign_stats *stats)
{
    mc_clear_error();
    if (!m || !e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_update");
    *out = NULL;
    mc_assign_params par = p ? *p : mc_assign_params_default();
    const mc_constraints_t *cs = par.constraints;
    size_t C0 = m->C, E0 = m->E, d = m->d;
    placement pl;
    mc_status s = place(m, e, &par, "mc_model_update", &pl);
    if (s != MC_OK) goto done;
    size_t n = pl.n, k = pl.k;
    int64_t *labels = pl.labels;
    uint8_t *roles = pl.roles;
    /* the unassigned among themselves, then the constraints again (now
     * among new clusters too, which may open one for a named person), then
     * every new face becomes a reference face (in face order:
     * deterministic) */
    if (pl.nu > 0 && (s = open_new_clusters(m, pl.dir, pl.q, pl.un, pl.nu, par.n_threads, labels,
                                            roles)) != MC_OK)
        goto done;
    if (cs) {
        if (merge_new_neighbours(pl.dir, n, d, m->E, k, par.n_threads, pl.ids, pl.sims) != 0) {
            s = mc_fail(MC_ERR_NOMEM, "out of memory for the constraints");
            goto done;
        }
        if ((s = apply_constraints(m, cs, n, k, pl.ids, pl.sims, 1, MC_ROLE_NOISE, labels, roles,
                                   &pl.st.constraints)) != MC_OK)
            goto done;
        /* clusters the constraints opened for named people */
        size_t top = m->C;
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= 0 && (size_t)labels[i] + 1 > top) top = (size_t)labels[i] + 1;
        if (mc_model_grow_clusters(m, top) != 0) {
            s = mc_fail(MC_ERR_NOMEM, "out of memory for the new clusters");
            goto done;
        }
    }
    int paths = m->ex_path != NULL || (m->E == 0 && mc_embeddings_path(e, 0) != NULL);
    if (mc_model_reserve(m, m->C, m->E + n, paths) != 0) {
        s = mc_fail(MC_ERR_NOMEM, "out of memory for updating the model");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        if (labels[i] < 0) roles[i] = MC_ROLE_NOISE;
        if (labels[i] >= 0) m->n_members[labels[i]]++;
        if (mc_model_add_face(m, pl.dir + i * d, pl.q[i], mc_embeddings_path(e, i), labels[i],
                              roles[i]) != 0) {
            s = mc_fail(MC_ERR_NOMEM, "out of memory for updating the model");
            goto done;
        }
    }
    for (size_t c = 0; c < m->C; c++) mc_model_set_spread(m, c);
    if ((s = finish(m, cs, C0, E0, &pl, out)) != MC_OK) goto done;
    /* names the result found for unnamed clusters of the model stay there */
    size_t nc = mc_clustering_n_clusters(*out);
    for (size_t c = 0; s == MC_OK && c < nc && c < m->C; c++) {
        const char *nm = mc_clustering_name(*out, (int64_t)c);
        if (nm && !m->cname[c] && !(m->cname[c] = strdup(nm)))
            s = mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    if (s == MC_OK) s = score_new(m, &pl, par.n_threads, *out);
    if (s != MC_OK) {
        mc_clustering_free(*out);
        *out = NULL;
    }
done:
    if (s == MC_OK && stats) *stats = pl.st;
    placement_free(&pl);
    return s;
}

mc_status mc_model_constraints_new(const mc_model_t *m, const mc_embeddings_t *e,
                                   const char *corrections, mc_constraints_t **out,
                                   mc_corrections_info *info)
{
    mc_clear_error();
    if (!m || !e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_constraints_new");
    *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    size_t E = m->E, n = mc_embeddings_n(e), N = E + n;
    if (corrections && (!mc_embeddings_path(e, 0) || (E > 0 && !m->ex_path)))
        return mc_fail(MC_ERR_INVALID_ARG, "%s: corrections match faces by path, and the %s no paths",
                       corrections, mc_embeddings_path(e, 0) ? "model has" : "input has");
    mc_constraints_t *cs = NULL;
    mc_status s = mc_constraints_new(N, &cs);
    const char **paths = NULL, **person = NULL, **text = NULL;
    char *rows = NULL;
    float *quality = NULL;
    int64_t *groups = NULL, *prev = NULL;
    size_t *best = NULL;
    if (s != MC_OK) return s;
    if (mc_embeddings_groups(e)) {
        if (!(groups = mc_malloc_array(N, sizeof *groups))) goto nomem;
        for (size_t i = 0; i < E; i++) groups[i] = -1;
        memcpy(groups + E, mc_embeddings_groups(e), n * sizeof *groups);
        char what[300];
        snprintf(what, sizeof what, "photo key '%s'", mc_embeddings_group_name(e));
        if ((s = mc_constraints_set_groups(cs, groups, what)) != MC_OK) goto done;
    }
    /* each named cluster's best face carries its name */
    if (!(best = mc_malloc_array(m->C + 1, sizeof *best))) goto nomem;
    for (size_t c = 0; c < m->C; c++) best[c] = SIZE_MAX;
    for (size_t i = 0; i < E; i++) {
        int64_t c = m->ex_cluster[i];
        if (c >= 0 && m->cname[c] && (best[c] == SIZE_MAX || m->ex_quality[i] > m->ex_quality[best[c]]))
            best[c] = i;
    }
    for (size_t c = 0; c < m->C; c++) {
        if (best[c] == SIZE_MAX) continue;
        char src[1200];
        snprintf(src, sizeof src, "the model's name for cluster %zu", c);
        if ((s = mc_constraints_add_name(cs, best[c], m->cname[c], src)) != MC_OK) goto done;
    }
    if (corrections) {
        paths = mc_malloc_array(N, sizeof *paths);
        person = mc_malloc_array(N, sizeof *person);
        quality = mc_malloc_array(N, sizeof *quality);
        prev = mc_malloc_array(N, sizeof *prev);
        if (!paths || !person || !quality || !prev) goto nomem;
        const float *q = mc_embeddings_quality(e);
        for (size_t i = 0; i < E; i++) {
            paths[i] = m->ex_path[i];
            quality[i] = m->ex_quality[i];
            prev[i] = m->ex_cluster[i];
            person[i] = prev[i] >= 0 ? m->cname[prev[i]] : NULL;
        }
        for (size_t i = 0; i < n; i++) {
            paths[E + i] = mc_embeddings_path(e, i);
            quality[E + i] = q[i];
            prev[E + i] = -1;
            person[E + i] = NULL;
        }
        if ((s = mc_corrections_read(cs, corrections, paths, quality, prev, person, info)) != MC_OK)
            goto done;
    }
    /* a photo's faces that may not meet are named in errors: only new faces
     * have a photo, named by path, else by row */
    if (mc_embeddings_groups(e)) {
        int by_path = mc_embeddings_path(e, 0) != NULL;
        if (!(text = mc_malloc_array(N, sizeof *text))) goto nomem;
        if (!by_path && !(rows = mc_malloc_array(n ? n : 1, 32))) goto nomem;
        for (size_t i = 0; i < E; i++) text[i] = "a face of the model";
        for (size_t i = 0; i < n; i++) {
            if (!by_path) snprintf(rows + i * 32, 32, "row %zu", i);
            text[E + i] = by_path ? mc_embeddings_path(e, i) : rows + i * 32;
        }
        mc_constraints_set_face_text(cs, text);
    }
    s = mc_constraints_check(cs);
    goto done;
nomem:
    s = mc_fail(MC_ERR_NOMEM, "out of memory for the constraints");
done:
    free(text);
    free(rows);
    free(paths);
    free(person);
    free(quality);
    free(groups);
    free(prev);
    free(best);
    if (s != MC_OK) mc_constraints_free(cs);
    else *out = cs;
    return s;
}
