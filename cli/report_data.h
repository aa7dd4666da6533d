/* What `magclust report` shows, gathered from a result: the clusters largest
 * first with their faces best first, the faces in no cluster, the faces by
 * role, the faces it was least sure of, the thumbnails, and with labels the scores and the worst merges and
 * splits. report_html.c writes it out. */
#ifndef MAGCLUST_CLI_REPORT_DATA_H
#define MAGCLUST_CLI_REPORT_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/magclust.h"

/* Faces listed as "check these": the lowest margins. */
#define REPORT_UNSURE_MAX 20

/* A cluster; its faces are order[start .. start+size), best first. */
typedef struct {
    int64_t id;
    size_t start, size, n_core;
    const char *name; /* the person of its first named face, or NULL (the result's string) */
} report_cluster;

/* A row of a worst-case table, ordered by a (the faces out of place). */
typedef struct {
    int64_t key;   /* cluster (merges) or label (splits) */
    size_t a, b;   /* faces out of place, faces in all */
    size_t parts;  /* splits: parts the label is in */
    int64_t label; /* merges: the cluster's main label */
} report_worst;

/* Which faces get thumbnails, and how they are made. */
typedef struct {
    const char *result_path; /* relative image paths start in its directory... */
    const char *image_root;  /* ...or here, when not NULL */
    size_t size;             /* thumbnail side in pixels */
    size_t per_cluster;      /* the first faces of each cluster; ten times as many noise
                                faces; and the faces to check */
    size_t max;              /* thumbnails in all */
    int progress;            /* count them on stderr (a terminal) */
} report_thumb_params;

typedef struct {
    const mc_previous_t *r; /* the result (not owned) */
    const int64_t *labels;  /* the true labels, or NULL (not owned) */
    size_t n;               /* faces */
    int64_t *pred;          /* each face's cluster (< 0: none) */
    size_t *order, m;       /* the m faces in clusters, cluster by cluster, best first */
    size_t *noise, nn;      /* the nn faces in no cluster, best first */
    size_t *unsure, n_unsure; /* the faces in clusters with the lowest margins (the
                                 result's), lowest first, at most REPORT_UNSURE_MAX
                                 and a tenth of them */
    report_cluster *cl;     /* the nc clusters, largest first */
    size_t nc;
    size_t counts[5];       /* faces by role (mc_role); [4]: any other value */
    int *thumb_of;          /* each face's thumbnail, or -1 */
    unsigned char **thumbs; /* n_thumbs JPEGs of thumb_len bytes */
    size_t *thumb_len, n_thumbs;
    size_t n_missing;       /* images missing or unreadable */
    char *image_dir;        /* where relative image paths were looked for */
    mc_metrics met;         /* with labels: the scores */
    report_worst *merges, *splits; /* with labels: best first (the worst case first) */
    size_t n_merges, n_splits;
} report_data;

/* Gathers d from the result r (n faces, n > 0) and its labels (NULL for
 * none): the clusters, then the thumbnails, then the scores and worst cases.
 * Returns CLI_OK, or CLI_FAIL with the error printed; report_data_free()
 * releases d either way. */
int report_build(report_data *d, const mc_previous_t *r, const int64_t *labels,
                 const report_thumb_params *tp);
void report_data_free(report_data *d);

#endif
