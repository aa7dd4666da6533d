/* Private interface of the model module: the struct body and the helpers
 * its files share. model.c (the object: build, getters, growth, adding a
 * face) is the bottom; model_h5.c (the file) and model_assign.c (assignment,
 * update, constraints) call down into it and never into each other. Never
 * installed. */
#ifndef MAGCLUST_MODEL_IMPL_H
#define MAGCLUST_MODEL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/model.h"

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

/* ---- model.c ---- */

/* An empty model of dimension d (no room reserved); NULL when out of memory. */
mc_model_t *mc_model_alloc(size_t d);
/* Room for at least C clusters and E exemplars (contents kept), and for
 * paths when paths is set. 0 / -1. */
int mc_model_reserve(mc_model_t *m, size_t C, size_t E, int paths);
/* Clusters m->C..C-1 added, empty (zero mean, no members, no name). 0 / -1. */
int mc_model_grow_clusters(mc_model_t *m, size_t C);
/* Cluster c's spread from its mean; recomputed once after a build or an
 * update, not per face. */
void mc_model_set_spread(mc_model_t *m, size_t c);
/* Adds face x (direction, quality, path) as a reference face of cluster c
 * (-1: none) with role r; a core face also moves c's mean. The caller
 * reserved the room. 0 / -1 (out of memory for the path). */
int mc_model_add_face(mc_model_t *m, const float *x, float q, const char *path, int64_t c,
                      uint8_t r);

#endif
