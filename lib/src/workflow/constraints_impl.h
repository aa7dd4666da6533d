/* The constraint set's body, shared by constraints.c (building, check),
 * constraints_apply.c (enforcement) and corrections.c (the corrections
 * file). Never installed. */
#ifndef MAGCLUST_CONSTRAINTS_IMPL_H
#define MAGCLUST_CONSTRAINTS_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/constraints.h"
#include "io_impl.h"

#define MC_MAX_GROUP 4096 /* faces in one photo; more means a wrong key */
#define NO_SRC UINT32_MAX

typedef struct {
    size_t i, j;
    uint32_t src; /* index into sources; NO_SRC for a photo pair */
} edge;

typedef struct {
    size_t i;
    int64_t name;
    uint32_t src;
} name_ref;

struct mc_constraints {
    size_t n;
    char **src;
    size_t n_src, src_cap;
    edge *ml, *cl;
    size_t n_ml, ml_cap, n_cl, cl_cap;
    size_t n_cl_user; /* cannot-links added by the user (before photo pairs) */
    mc_label_map *names;
    int64_t *name_of;   /* n, -1; allocated on the first name */
    uint32_t *name_src; /* n */
    size_t n_named;
    name_ref *nn;       /* not-name lines */
    size_t n_nn, nn_cap;
    int64_t *group;     /* n or NULL */
    char *group_what;
    const char *const *face_text; /* n, borrowed until check(), or NULL */
    /* after check() */
    int checked;
    size_t n_units;
    size_t *unit_of;    /* n */
    size_t *u_start;    /* n_units + 1 */
    size_t *u_members;  /* n */
    int64_t *u_name;    /* n_units: name id or -1 */
    size_t *adj_start;  /* n_units + 1 */
    size_t *adj;        /* units that may not meet each unit */
};

#endif
