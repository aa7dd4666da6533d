/* Saved clustering models: the object, its build from a clustering, its
 * getters and growth (rules in model.h). The file is model_h5.c, assignment
 * and update model_assign.c. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_impl.h"
#include "util_impl.h"

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

/* ---- growth (model_impl.h) ---- */

mc_model_t *mc_model_alloc(size_t d)
{
    mc_model_t *m = calloc(1, sizeof *m);
    if (m) m->d = d;
    return m;
}

int mc_model_reserve(mc_model_t *m, size_t C, size_t E, int paths)
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

int mc_model_grow_clusters(mc_model_t *m, size_t C)
{
    if (C <= m->C) return 0;
    if (mc_model_reserve(m, C, m->E, 0) != 0) return -1;
    memset(m->mean + m->C * m->d, 0, (C - m->C) * m->d * sizeof *m->mean);
    for (size_t c = m->C; c < C; c++) m->n_core[c] = m->n_members[c] = 0;
    m->C = C;
    return 0;
}

void mc_model_set_spread(mc_model_t *m, size_t c)
{
    const float *mu = m->mean + c * m->d;
    double nn = 0.0;
    for (size_t j = 0; j < m->d; j++) nn += (double)mu[j] * mu[j];
    m->spread[c] = (float)sqrt(nn);
}

int mc_model_add_face(mc_model_t *m, const float *x, float q, const char *path, int64_t c, uint8_t r)
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

static void set_str(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
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
    mc_model_t *m = mc_model_alloc(d);
    int paths = mc_embeddings_path(e, 0) != NULL;
    if (!m || mc_model_reserve(m, C ? C : 1, E ? E : 1, paths) != 0) {
        mc_model_free(m);
        return mc_fail(MC_ERR_NOMEM, "out of memory for a model of %zu clusters", C);
    }
    if (mc_model_grow_clusters(m, C) != 0) {
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
        if (mc_model_add_face(m, dir + i * d, q[i], mc_embeddings_path(e, i), lab[i], role[i]) != 0) {
            mc_model_free(m);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
    }
    for (size_t k = 0; k < C; k++) {
        mc_model_set_spread(m, k);
        const char *nm = mc_clustering_name(c, (int64_t)k);
        if (nm && !(m->cname[k] = strdup(nm))) {
            mc_model_free(m);
            return mc_fail(MC_ERR_NOMEM, "out of memory");
        }
    }
    *out = m;
    return MC_OK;
}
