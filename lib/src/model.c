/* Saved clustering models: build from a clustering, HDF5 file, assignment
 * of new faces (rules in model.h). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "h5_impl.h"
#include "knn_impl.h"
#include "magclust/knn.h"
#include "magclust/linkage.h"
#include "magclust/model.h"
#include "util_impl.h"

#define MODEL_FORMAT "magclust-model"
#define MODEL_VERSION 1
#define MODEL_G "/model"

struct mc_model {
    size_t d, C, E, capC, capE;
    size_t k; /* neighbours per face of the graph the clustering used */
    double threshold, core_q, noise_q;
    float *center; /* d, or NULL */
    char algorithm[64], quality_name[256], source[1024];
    float *mean;      /* capC x d: mean of the core faces' directions */
    int64_t *n_core;  /* capC */
    int64_t *n_members;
    float *spread;    /* capC: |mean|, the core faces' mean cosine to their normalised mean */
    char **cname;     /* capC: the person a cluster is, or NULL */
    float *ex_dir;    /* capE x d */
    int64_t *ex_cluster; /* -1 for a face in no cluster */
    uint8_t *ex_role;    /* mc_role: core, border or noise */
    float *ex_quality;
    char **ex_path;   /* capE, or NULL when no exemplar has a path */
};

mc_model_params mc_model_params_default(void)
{
    mc_model_params p;
    memset(&p, 0, sizeof p);
    p.threshold = 0.5;
    p.k = 30;
    p.core_q = -INFINITY;
    p.noise_q = -INFINITY;
    p.algorithm = "linkage";
    p.quality_name = "magnitude";
    return p;
}

mc_assign_params mc_assign_params_default(void)
{
    mc_assign_params p;
    memset(&p, 0, sizeof p);
    return p;
}

void mc_model_free(mc_model_t *m)
{
    if (!m) return;
    free(m->center);
    free(m->mean);
    free(m->n_core);
    free(m->n_members);
    free(m->spread);
    if (m->cname)
        for (size_t c = 0; c < m->C; c++) free(m->cname[c]);
    free(m->cname);
    free(m->ex_dir);
    free(m->ex_cluster);
    free(m->ex_role);
    free(m->ex_quality);
    if (m->ex_path)
        for (size_t i = 0; i < m->E; i++) free(m->ex_path[i]);
    free(m->ex_path);
    free(m);
}

size_t mc_model_dim(const mc_model_t *m) { return m ? m->d : 0; }
size_t mc_model_n_clusters(const mc_model_t *m) { return m ? m->C : 0; }
size_t mc_model_n_exemplars(const mc_model_t *m) { return m ? m->E : 0; }
double mc_model_threshold(const mc_model_t *m) { return m ? m->threshold : NAN; }
double mc_model_core_q(const mc_model_t *m) { return m ? m->core_q : NAN; }
double mc_model_noise_q(const mc_model_t *m) { return m ? m->noise_q : NAN; }
const float *mc_model_center(const mc_model_t *m) { return m ? m->center : NULL; }
const char *mc_model_algorithm(const mc_model_t *m) { return m ? m->algorithm : NULL; }
const char *mc_model_quality_name(const mc_model_t *m) { return m ? m->quality_name : NULL; }
size_t mc_model_cluster_size(const mc_model_t *m, size_t id)
{
    return m && id < m->C ? (size_t)m->n_members[id] : 0;
}
const char *mc_model_cluster_name(const mc_model_t *m, size_t id)
{
    return m && id < m->C ? m->cname[id] : NULL;
}
const char *mc_model_exemplar_path(const mc_model_t *m, size_t i)
{
    return m && m->ex_path && i < m->E ? m->ex_path[i] : NULL;
}
const int64_t *mc_model_exemplar_clusters(const mc_model_t *m) { return m ? m->ex_cluster : NULL; }
const float *mc_model_exemplar_quality(const mc_model_t *m) { return m ? m->ex_quality : NULL; }

/* Room for at least C clusters and E exemplars (contents kept). 0 / -1. */
static int model_reserve(mc_model_t *m, size_t C, size_t E, int paths)
{
    size_t d = m->d;
    if (C > m->capC) {
        size_t cap = m->capC ? m->capC : 16;
        while (cap < C) cap *= 2;
        float *mean = realloc(m->mean, cap * d * sizeof *mean);
        if (mean) m->mean = mean;
        int64_t *nc = realloc(m->n_core, cap * sizeof *nc);
        if (nc) m->n_core = nc;
        int64_t *nm = realloc(m->n_members, cap * sizeof *nm);
        if (nm) m->n_members = nm;
        float *sp = realloc(m->spread, cap * sizeof *sp);
        if (sp) m->spread = sp;
        char **cn = realloc(m->cname, cap * sizeof *cn);
        if (cn) {
            for (size_t c = m->capC; c < cap; c++) cn[c] = NULL;
            m->cname = cn;
        }
        if (!mean || !nc || !nm || !sp || !cn) return -1;
        m->capC = cap;
    }
    if (E > m->capE || (paths && !m->ex_path)) {
        size_t cap = m->capE ? m->capE : 16;
        while (cap < E) cap *= 2;
        float *dir = realloc(m->ex_dir, cap * d * sizeof *dir);
        if (dir) m->ex_dir = dir;
        int64_t *cl = realloc(m->ex_cluster, cap * sizeof *cl);
        if (cl) m->ex_cluster = cl;
        float *q = realloc(m->ex_quality, cap * sizeof *q);
        if (q) m->ex_quality = q;
        uint8_t *ro = realloc(m->ex_role, cap * sizeof *ro);
        if (ro) m->ex_role = ro;
        if (!dir || !cl || !q || !ro) return -1;
        if (paths || m->ex_path) {
            char **p = realloc(m->ex_path, cap * sizeof *p);
            if (!p) return -1;
            if (!m->ex_path)
                for (size_t i = 0; i < m->E; i++) p[i] = NULL;
            m->ex_path = p;
        }
        m->capE = cap;
    }
    return 0;
}

/* Clusters m->C..C-1 added, empty (zero mean, no members, no name). 0 / -1. */
static int model_grow_clusters(mc_model_t *m, size_t C)
{
    if (C <= m->C) return 0;
    if (model_reserve(m, C, m->E, 0) != 0) return -1;
    memset(m->mean + m->C * m->d, 0, (C - m->C) * m->d * sizeof *m->mean);
    for (size_t c = m->C; c < C; c++) m->n_core[c] = m->n_members[c] = 0;
    m->C = C;
    return 0;
}

static mc_model_t *model_alloc(size_t d)
{
    mc_model_t *m = calloc(1, sizeof *m);
    if (m) m->d = d;
    return m;
}

static void set_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

/* Cluster c's spread from its mean; recomputed once after a build or an
 * update, not per face. */
static void update_spread(mc_model_t *m, size_t c)
{
    const float *mu = m->mean + c * m->d;
    double nn = 0.0;
    for (size_t j = 0; j < m->d; j++) nn += (double)mu[j] * mu[j];
    m->spread[c] = (float)sqrt(nn);
}

/* Adds face x (direction, quality, path) as a reference face of cluster c
 * (-1: none) with role r; a core face also moves c's mean. The caller
 * reserved the room. */
static int add_face(mc_model_t *m, const float *x, float q, const char *path, int64_t c, uint8_t r)
{
    size_t d = m->d, e = m->E;
    memcpy(m->ex_dir + e * d, x, d * sizeof *x);
    m->ex_cluster[e] = c;
    m->ex_role[e] = c < 0 ? MC_ROLE_NOISE : r == MC_ROLE_CORE ? MC_ROLE_CORE : MC_ROLE_BORDER;
    m->ex_quality[e] = q;
    if (m->ex_path) {
        m->ex_path[e] = NULL;
        if (path && !(m->ex_path[e] = strdup(path))) return -1;
    }
    m->E = e + 1;
    if (c < 0 || m->ex_role[e] != MC_ROLE_CORE) return 0;
    float *mu = m->mean + (size_t)c * d;
    double w = (double)m->n_core[c];
    for (size_t j = 0; j < d; j++) mu[j] = (float)(((double)mu[j] * w + x[j]) / (w + 1.0));
    m->n_core[c]++;
    return 0;
}

mc_status mc_model_build(const mc_embeddings_t *e, const mc_clustering_t *c,
                         const mc_model_params *p, mc_model_t **out)
{
    mc_clear_error();
    if (!e || !c || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_build");
    *out = NULL;
    mc_model_params par = p ? *p : mc_model_params_default();
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    if (mc_clustering_n(c) != n)
        return mc_fail(MC_ERR_DIM_MISMATCH, "the clustering has %zu faces, the embeddings %zu",
                       mc_clustering_n(c), n);
    if (!isfinite(par.threshold))
        return mc_fail(MC_ERR_INVALID_ARG, "model threshold must be a finite similarity");
    const int64_t *lab = mc_clustering_labels(c);
    const uint8_t *role = mc_clustering_roles(c);
    const float *dir = mc_embeddings_directions(e), *q = mc_embeddings_quality(e);
    size_t C = mc_clustering_n_clusters(c), E = n;
    mc_model_t *m = model_alloc(d);
    int paths = mc_embeddings_path(e, 0) != NULL;
    if (!m || model_reserve(m, C ? C : 1, E ? E : 1, paths) != 0) {
        mc_model_free(m);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a model of %zu clusters", C);
    }
    if (model_grow_clusters(m, C) != 0) {
        mc_model_free(m);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a model of %zu clusters", C);
    }
    m->threshold = par.threshold;
    m->k = par.k ? par.k : 30;
    m->core_q = par.core_q;
    m->noise_q = par.noise_q;
    set_str(m->algorithm, sizeof m->algorithm, par.algorithm ? par.algorithm : "linkage");
    set_str(m->quality_name, sizeof m->quality_name,
            par.quality_name ? par.quality_name : "magnitude");
    set_str(m->source, sizeof m->source, par.source);
    if (par.center) {
        if (!(m->center = mc_malloc_array(d, sizeof *m->center))) {
            mc_model_free(m);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
        memcpy(m->center, par.center, d * sizeof *m->center);
    }
    for (size_t i = 0; i < n; i++) {
        if (lab[i] >= 0) m->n_members[lab[i]]++;
        if (add_face(m, dir + i * d, q[i], mc_embeddings_path(e, i), lab[i], role[i]) != 0) {
            mc_model_free(m);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t k = 0; k < C; k++) {
        update_spread(m, k);
        const char *nm = mc_clustering_name(c, (int64_t)k);
        if (nm && !(m->cname[k] = strdup(nm))) {
            mc_model_free(m);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
    }
    *out = m;
    return MC_OK;
}

/* ---- assignment ----------------------------------------------------------- */

#define MATCH_QB 256
#define MATCH_DB 8192

/* For each of the nq rows of q, the k most similar of the ndb rows of db,
 * best first (ids -1 and similarity -inf past ndb; ties: the lower row). */
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

/* Clusters the unassigned faces rows[0..nu) of e among themselves (average
 * linkage, the model's threshold and gates, an exact graph), as new clusters
 * from id m->C on, folding their core faces into the model. Labels and roles
 * of those faces are set; returns MC_OK or an error. */
static mc_status open_new_clusters(mc_model_t *m, const mc_embeddings_t *e, const size_t *rows,
                                   size_t nu, int n_threads, int64_t *labels, uint8_t *roles)
{
    size_t d = m->d;
    const float *dir = mc_embeddings_directions(e), *q = mc_embeddings_quality(e);
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
        if (model_grow_clusters(m, C0 + n_new) != 0) {
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
 * is constraint face E0 + i, E0 the reference faces before any update). With
 * keep set, names found for unnamed clusters of the model are kept there. */
static mc_status name_clusters(mc_model_t *m, const mc_constraints_t *cs, size_t E0, size_t n,
                               const int64_t *labels, size_t nc, int keep, mc_clustering_t *out)
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
    for (size_t c = 0; s == MC_OK && keep && c < nc && c < m->C; c++)
        if (names[c] && !m->cname[c] && !(m->cname[c] = strdup(names[c])))
            s = mc_fail(MC_ERR_NOMEM, "out of memory");
    free(names);
    return s;
}

mc_status mc_model_assign(mc_model_t *m, const mc_embeddings_t *e, const mc_assign_params *p,
                          mc_clustering_t **out, mc_assign_stats *stats)
{
    mc_clear_error();
    if (!m || !e || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_assign");
    *out = NULL;
    mc_assign_params par = p ? *p : mc_assign_params_default();
    size_t n = mc_embeddings_n(e), d = m->d;
    if (mc_embeddings_dim(e) != d)
        return mc_fail(MC_ERR_DIM_MISMATCH, "the faces are %zu-d, the model %zu-d",
                       mc_embeddings_dim(e), d);
    const mc_constraints_t *cs = par.constraints;
    if (cs && mc_constraints_n(cs) != m->E + n)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "the constraints are over %zu faces; the model has %zu and the input %zu "
                       "(mc_model_constraints_new makes them)",
                       mc_constraints_n(cs), m->E, n);
    mc_assign_stats st;
    memset(&st, 0, sizeof st);
    const float *dir = mc_embeddings_directions(e), *q = mc_embeddings_quality(e);
    size_t k = m->k < m->E ? m->k : m->E;
    if (k == 0) k = 1;
    float *sims = n && k <= SIZE_MAX / n ? mc_malloc_array(n * k, sizeof *sims) : NULL;
    int64_t *ids = sims ? mc_malloc_array(n * k, sizeof *ids) : NULL;
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    size_t *un = mc_malloc_array(n, sizeof *un);
    mc_status s = MC_OK;
    size_t C0 = m->C, E0 = m->E;
    if (!sims || !ids || !labels || !roles || !un) {
        s = mc_fail(MC_ERR_NOMEM, "out of memory for assigning %zu faces", n);
        goto done;
    }
    if ((s = top_matches(dir, n, m->ex_dir, m->E, d, k, par.n_threads, ids, sims)) != MC_OK) goto done;
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
                                     &st.constraints)) != MC_OK)
        goto done;
    size_t nu = 0;
    for (size_t i = 0; i < n; i++)
        if (labels[i] < 0 && roles[i] == MC_ROLE_UNASSIGNED) un[nu++] = i;
    st.n_unassigned = nu;
    if (par.update) {
        /* the unassigned among themselves, then the constraints again (now
         * among new clusters too, which may open one for a named person),
         * then every new face becomes a reference face (in face order:
         * deterministic) */
        if (nu > 0 &&
            (s = open_new_clusters(m, e, un, nu, par.n_threads, labels, roles)) != MC_OK)
            goto done;
        if (cs) {
            if (merge_new_neighbours(dir, n, d, m->E, k, par.n_threads, ids, sims) != 0) {
                s = mc_fail(MC_ERR_NOMEM, "out of memory for the constraints");
                goto done;
            }
            if ((s = apply_constraints(m, cs, n, k, ids, sims, 1, MC_ROLE_NOISE, labels, roles,
                                       &st.constraints)) != MC_OK)
                goto done;
            /* clusters the constraints opened for named people */
            size_t top = m->C;
            for (size_t i = 0; i < n; i++)
                if (labels[i] >= 0 && (size_t)labels[i] + 1 > top) top = (size_t)labels[i] + 1;
            if (model_grow_clusters(m, top) != 0) {
                s = mc_fail(MC_ERR_NOMEM, "out of memory for the new clusters");
                goto done;
            }
        }
        int paths = m->ex_path != NULL || (m->E == 0 && mc_embeddings_path(e, 0) != NULL);
        if (model_reserve(m, m->C, m->E + n, paths) != 0) {
            s = mc_fail(MC_ERR_NOMEM, "out of memory for updating the model");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            if (labels[i] < 0) roles[i] = MC_ROLE_NOISE;
            if (labels[i] >= 0) m->n_members[labels[i]]++;
            if (add_face(m, dir + i * d, q[i], mc_embeddings_path(e, i), labels[i], roles[i]) != 0) {
                s = mc_fail(MC_ERR_NOMEM, "out of memory for updating the model");
                goto done;
            }
        }
        for (size_t c = 0; c < m->C; c++) update_spread(m, c);
    }
    /* what happened, counted on the final labels */
    st.n_new_clusters = m->C - C0;
    st.n_new_clustered = st.n_core = st.n_border = st.n_noise = 0;
    for (size_t i = 0; i < n; i++) {
        if (labels[i] >= (int64_t)C0) st.n_new_clustered++;
        else if (labels[i] >= 0 && roles[i] == MC_ROLE_CORE) st.n_core++;
        else if (labels[i] >= 0) st.n_border++;
        else if (roles[i] == MC_ROLE_NOISE) st.n_noise++;
    }
    if ((s = mc_clustering_new_keep_ids(n, labels, roles, out)) == MC_OK) {
        size_t nc = mc_clustering_n_clusters(*out);
        s = name_clusters(m, cs, E0, n, labels, nc, par.update, *out);
        if (s != MC_OK) {
            mc_clustering_free(*out);
            *out = NULL;
        }
    }
    if (s == MC_OK && stats) *stats = st;
done:
    free(sims);
    free(ids);
    free(labels);
    free(roles);
    free(un);
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

/* ---- file ------------------------------------------------------------------ */

/* A variable-length UTF-8 string dataset of n entries (NULL written as ""). */
static int put_strings(hid_t loc, const char *name, char *const *s, size_t n)
{
    const char **v = mc_malloc_array(n ? n : 1, sizeof *v);
    if (!v) return -1;
    for (size_t i = 0; i < n; i++) v[i] = s[i] ? s[i] : "";
    hid_t t = H5Tcopy(H5T_C_S1);
    int ok = t >= 0 && H5Tset_size(t, H5T_VARIABLE) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             mc_h5_put_vector(loc, name, t, t, n, v) == 0;
    if (t >= 0) H5Tclose(t);
    free(v);
    return ok ? 0 : -1;
}

mc_status mc_model_write_h5(const mc_model_t *m, const char *path)
{
    mc_clear_error();
    if (!m || !path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_write_h5");
    char *tmp = mc_temp_path_for(path);
    if (!tmp) return mc_fail(MC_ERR_NOMEM, "out of memory");
    h5_quiet hq;
    quiet_on(&hq);
    mc_status st = MC_OK;
    hid_t f = h5_create_untimed(tmp), g = H5I_INVALID_HID, gc = H5I_INVALID_HID,
          ge = H5I_INVALID_HID;
    if (f < 0) {
        st = mc_fail(MC_ERR_IO, "%s: cannot create", path);
        goto done;
    }
    size_t d = m->d;
    int any_name = 0;
    for (size_t c = 0; c < m->C; c++) any_name |= m->cname[c] != NULL;
    int bad = (g = H5Gcreate2(f, "model", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_str_attr(g, "format", MODEL_FORMAT) ||
              mc_h5_put_i32_attr(g, "version", MODEL_VERSION) ||
              mc_h5_put_u64_attr(g, "dim", (uint64_t)d) ||
              mc_h5_put_f64_attr(g, "threshold", m->threshold) ||
              mc_h5_put_u64_attr(g, "k", (uint64_t)m->k) ||
              mc_h5_put_f64_attr(g, "core_q", m->core_q) ||
              mc_h5_put_f64_attr(g, "noise_q", m->noise_q) ||
              mc_h5_put_str_attr(g, "algorithm", m->algorithm) ||
              mc_h5_put_str_attr(g, "quality_name", m->quality_name) ||
              mc_h5_put_str_attr(g, "source", m->source) ||
              (m->center &&
               mc_h5_put_vector(g, "center", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, d, m->center)) ||
              (gc = H5Gcreate2(g, "clusters", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_matrix(gc, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->C, d, sizeof(float),
                               m->mean) ||
              mc_h5_put_vector(gc, "n_core", H5T_STD_I64LE, H5T_NATIVE_INT64, m->C, m->n_core) ||
              mc_h5_put_vector(gc, "n_members", H5T_STD_I64LE, H5T_NATIVE_INT64, m->C,
                               m->n_members) ||
              mc_h5_put_vector(gc, "spread", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->C, m->spread) ||
              (any_name && put_strings(gc, "name", m->cname, m->C)) ||
              (ge = H5Gcreate2(g, "exemplars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
              mc_h5_put_matrix(ge, "direction", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->E, d,
                               sizeof(float), m->ex_dir) ||
              mc_h5_put_vector(ge, "cluster", H5T_STD_I64LE, H5T_NATIVE_INT64, m->E,
                               m->ex_cluster) ||
              mc_h5_put_vector(ge, "quality", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, m->E,
                               m->ex_quality) ||
              mc_h5_put_vector(ge, "role", H5T_STD_U8LE, H5T_NATIVE_UINT8, m->E, m->ex_role) ||
              (m->ex_path && put_strings(ge, "path", m->ex_path, m->E)) ||
              H5Fflush(f, H5F_SCOPE_GLOBAL) < 0;
    if (bad) st = mc_fail(MC_ERR_HDF5, "%s: cannot write the model (disk full?)", path);
done:
    if (ge >= 0) H5Gclose(ge);
    if (gc >= 0) H5Gclose(gc);
    if (g >= 0) H5Gclose(g);
    if (f >= 0 && H5Fclose(f) < 0 && st == MC_OK) st = mc_fail(MC_ERR_HDF5, "%s: cannot close", path);
    quiet_off(&hq);
    if (st == MC_OK) st = mc_rename_into_place(tmp, path);
    else unlink(tmp);
    free(tmp);
    return st;
}

/* Opens loc/name, a 1-D dataset of class cls with exactly n entries. */
static mc_status open_vector(hid_t loc, const char *path, const char *where, const char *name,
                             H5T_class_t cls, const char *what, size_t n, hid_t *out)
{
    hid_t ds;
    mc_h5_shape sh;
    mc_status st = mc_h5_open_checked(loc, path, where, name, MC_ERR_BAD_DATA, &ds, &sh);
    if (st != MC_OK) return st;
    if (sh.cls != cls || sh.rank != 1 || sh.dims[0] != (hsize_t)n) {
        H5Dclose(ds);
        return mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s must hold %zu %s", path, where, name, n, what);
    }
    *out = ds;
    return MC_OK;
}

static mc_status read_vector(hid_t loc, const char *path, const char *where, const char *name,
                             H5T_class_t cls, const char *what, hid_t mtype, size_t n, void *dst)
{
    hid_t ds;
    mc_status st = open_vector(loc, path, where, name, cls, what, n, &ds);
    if (st != MC_OK) return st;
    if (n > 0 && H5Dread(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
        st = mc_fail(MC_ERR_HDF5, "%s: cannot read %s/%s", path, where, name);
    H5Dclose(ds);
    return st;
}

/* Opens <where>/<name>, an n x d float matrix, and gives its n; d must match. */
static mc_status open_rows(hid_t loc, const char *path, const char *where, const char *name,
                           size_t d, hid_t *ds, size_t *n)
{
    *ds = H5I_INVALID_HID;
    if (H5Lexists(loc, name, H5P_DEFAULT) <= 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: no dataset %s/%s", path, where, name);
    hsize_t dims[2];
    mc_status st = mc_h5_open_matrix(loc, path, where, name, H5T_FLOAT, "floating-point numbers",
                                     ds, dims);
    if (st != MC_OK) return st;
    if (dims[1] != (hsize_t)d || dims[0] > (hsize_t)(SIZE_MAX / 4096)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: %s/%s is %llu x %llu, expected N x %zu", path, where,
                     name, (unsigned long long)dims[0], (unsigned long long)dims[1], d);
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        return st;
    }
    if ((st = mc_check_memory(path, name, dims[0], dims[1], sizeof(float))) != MC_OK) {
        H5Dclose(*ds);
        *ds = H5I_INVALID_HID;
        return st;
    }
    *n = (size_t)dims[0];
    return MC_OK;
}

/* <where>/<name>, n strings, into dst (each allocated; "" as NULL when
 * empty_null). */
static mc_status read_strings(hid_t loc, const char *path, const char *where, const char *name,
                              size_t n, int empty_null, char **dst)
{
    hid_t ds;
    mc_status st = open_vector(loc, path, where, name, H5T_STRING, "strings", n, &ds);
    if (st != MC_OK) return st;
    hid_t t = H5Tcopy(H5T_C_S1);
    char **v = mc_malloc_array(n ? n : 1, sizeof *v);
    int ok = t >= 0 && v && H5Tset_size(t, H5T_VARIABLE) >= 0 &&
             H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
             (n == 0 || H5Dread(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    if (ok) {
        for (size_t i = 0; i < n; i++) {
            int none = !v[i] || (empty_null && !v[i][0]);
            dst[i] = none && empty_null ? NULL : strdup(v[i] ? v[i] : "");
            if (v[i]) H5free_memory(v[i]);
            if (!dst[i] && !none) ok = 0;
        }
    }
    if (t >= 0) H5Tclose(t);
    H5Dclose(ds);
    free(v);
    if (!ok) return mc_fail(MC_ERR_HDF5, "%s: cannot read %s/%s", path, where, name);
    return MC_OK;
}

mc_status mc_model_read_h5(const char *path, mc_model_t **out)
{
    mc_clear_error();
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_model_read_h5");
    *out = NULL;
    if (!mc_h5_image_in_use() && access(path, R_OK) != 0) return mc_fail(MC_ERR_IO, "%s: no such file or not readable", path);
    h5_quiet hq;
    quiet_on(&hq);
    mc_status st = MC_OK;
    mc_model_t *m = NULL;
    hid_t g = H5I_INVALID_HID, gc = H5I_INVALID_HID, ge = H5I_INVALID_HID;
    hid_t dmean = H5I_INVALID_HID, ddir = H5I_INVALID_HID;
    hid_t f = mc_h5_open_read(path);
    if (f < 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: not an HDF5 file", path);
        goto done;
    }
    if (H5Lexists(f, "model", H5P_DEFAULT) <= 0 || (g = H5Gopen2(f, "model", H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: no /model group (not a magclust model file)", path);
        goto done;
    }
    char format[64];
    int found = 0;
    if ((st = mc_h5_get_str_attr(g, path, MODEL_G, "format", format, sizeof format, 1, &found)) !=
        MC_OK)
        goto done;
    if (!found || strcmp(format, MODEL_FORMAT) != 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model format is not \"%s\" (not a magclust model file)",
                     path, MODEL_FORMAT);
        goto done;
    }
    int64_t version = 0;
    uint64_t dim = 0;
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "version", H5T_NATIVE_INT64, &version,
                                 &found)) != MC_OK)
        goto done;
    if (!found || version != MODEL_VERSION) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: model file version %lld is not supported (this build reads version %d)",
                     path, (long long)version, MODEL_VERSION);
        goto done;
    }
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "dim", H5T_NATIVE_UINT64, &dim, &found)) !=
        MC_OK)
        goto done;
    if (!found || dim == 0 || dim > 65536) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model dim is missing or not in 1..65536", path);
        goto done;
    }
    size_t d = (size_t)dim, C = 0, E = 0;
    if (!(m = model_alloc(d))) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory");
        goto done;
    }
    m->threshold = NAN;
    m->core_q = m->noise_q = -INFINITY;
    uint64_t kk = 0;
    if ((st = mc_h5_get_int_attr(g, path, MODEL_G, "k", H5T_NATIVE_UINT64, &kk, &found)) != MC_OK)
        goto done;
    if (!found || kk == 0 || kk > 100000) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model k is missing or not in 1..100000", path);
        goto done;
    }
    m->k = (size_t)kk;
    if ((st = mc_h5_get_f64_attr(g, path, MODEL_G, "threshold", &m->threshold)) != MC_OK ||
        (st = mc_h5_get_f64_attr(g, path, MODEL_G, "core_q", &m->core_q)) != MC_OK ||
        (st = mc_h5_get_f64_attr(g, path, MODEL_G, "noise_q", &m->noise_q)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "algorithm", m->algorithm, sizeof m->algorithm,
                                 1, &found)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "quality_name", m->quality_name,
                                 sizeof m->quality_name, 0, &found)) != MC_OK ||
        (st = mc_h5_get_str_attr(g, path, MODEL_G, "source", m->source, sizeof m->source, 1,
                                 &found)) != MC_OK)
        goto done;
    if (!isfinite(m->threshold) || isnan(m->core_q) || isnan(m->noise_q)) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /model threshold or gates missing or not numbers", path);
        goto done;
    }
    if (!m->quality_name[0]) set_str(m->quality_name, sizeof m->quality_name, "magnitude");
    if (H5Lexists(g, "center", H5P_DEFAULT) > 0) {
        if (!(m->center = mc_malloc_array(d, sizeof *m->center))) {
            st = mc_fail(MC_ERR_NOMEM, "out of memory");
            goto done;
        }
        if ((st = read_vector(g, path, MODEL_G, "center", H5T_FLOAT, "floating-point numbers",
                              H5T_NATIVE_FLOAT, d, m->center)) != MC_OK)
            goto done;
    }
    if ((gc = H5Gopen2(g, "clusters", H5P_DEFAULT)) < 0 ||
        (ge = H5Gopen2(g, "exemplars", H5P_DEFAULT)) < 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: no /model/clusters or /model/exemplars group", path);
        goto done;
    }
    if ((st = open_rows(gc, path, MODEL_G "/clusters", "mean", d, &dmean, &C)) != MC_OK ||
        (st = open_rows(ge, path, MODEL_G "/exemplars", "direction", d, &ddir, &E)) != MC_OK)
        goto done;
    int paths = H5Lexists(ge, "path", H5P_DEFAULT) > 0;
    if (model_reserve(m, C ? C : 1, E ? E : 1, paths) != 0) {
        st = mc_fail(MC_ERR_NOMEM, "%s: out of memory for a model of %zu clusters, %zu exemplars",
                     path, C, E);
        goto done;
    }
    if ((C > 0 && (st = mc_h5_read_matrix(dmean, path, MODEL_G "/clusters", "mean",
                                          H5T_NATIVE_FLOAT, sizeof(float), C, d, m->mean)) != MC_OK) ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "n_core", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, C, m->n_core)) != MC_OK ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "n_members", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, C, m->n_members)) != MC_OK ||
        (st = read_vector(gc, path, MODEL_G "/clusters", "spread", H5T_FLOAT,
                          "floating-point numbers", H5T_NATIVE_FLOAT, C, m->spread)) != MC_OK ||
        (E > 0 && (st = mc_h5_read_matrix(ddir, path, MODEL_G "/exemplars", "direction",
                                          H5T_NATIVE_FLOAT, sizeof(float), E, d, m->ex_dir)) != MC_OK) ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "cluster", H5T_INTEGER, "integers",
                          H5T_NATIVE_INT64, E, m->ex_cluster)) != MC_OK ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "quality", H5T_FLOAT,
                          "floating-point numbers", H5T_NATIVE_FLOAT, E, m->ex_quality)) != MC_OK ||
        (st = read_vector(ge, path, MODEL_G "/exemplars", "role", H5T_INTEGER, "integers",
                          H5T_NATIVE_UINT8, E, m->ex_role)) != MC_OK)
        goto done;
    if (paths) {
        for (size_t i = 0; i < E; i++) m->ex_path[i] = NULL;
        m->E = E; /* so that free releases the strings read so far */
        if ((st = read_strings(ge, path, MODEL_G "/exemplars", "path", E, 0, m->ex_path)) != MC_OK)
            goto done;
    }
    m->C = C; /* so that free releases the names */
    if (H5Lexists(gc, "name", H5P_DEFAULT) > 0 &&
        (st = read_strings(gc, path, MODEL_G "/clusters", "name", C, 1, m->cname)) != MC_OK)
        goto done;
    m->E = E;
    for (size_t i = 0; i < E; i++) {
        int64_t c = m->ex_cluster[i];
        uint8_t r = m->ex_role[i];
        if (c < -1 || (c >= 0 && (size_t)c >= C) || r > MC_ROLE_NOISE || (r == MC_ROLE_NOISE) != (c < 0)) {
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: reference face %zu has cluster %lld and role %u (clusters 0..%zu; "
                         "noise, role 2, exactly when the cluster is -1)",
                         path, i, (long long)c, (unsigned)r, C ? C - 1 : 0);
            goto done;
        }
    }
    for (size_t i = 0; i < C * d; i++)
        if (!isfinite(m->mean[i])) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: cluster %zu has a non-finite mean", path, i / d);
            goto done;
        }
    for (size_t i = 0; i < E * d; i++)
        if (!isfinite(m->ex_dir[i])) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: exemplar %zu has a non-finite direction", path, i / d);
            goto done;
        }
done:
    if (ddir >= 0) H5Dclose(ddir);
    if (dmean >= 0) H5Dclose(dmean);
    if (ge >= 0) H5Gclose(ge);
    if (gc >= 0) H5Gclose(gc);
    if (g >= 0) H5Gclose(g);
    if (f >= 0) H5Fclose(f);
    quiet_off(&hq);
    if (st != MC_OK) {
        mc_model_free(m);
        return st;
    }
    *out = m;
    return MC_OK;
}
