/* The result format, owned by result_io.c: what `magclust cluster -o` writes
 * and what --previous, `eval` and `report` read back. Never installed.
 *
 * CSV: a header "index,path,cluster,role,quality[,person][,similarity,
 * margin,representative]" (CRLF ends), one row a face: its file row, its
 * path and person as guarded text (mc_csv_put_field), its cluster (-1
 * noise), role name and quality (%.7g), and when scored its similarity and
 * margin (%.6f, empty for NaN) and 1 or 0 (the cluster's representative).
 * Readers find the columns by name, in any order, and ignore the others.
 *
 * HDF5: /cluster (int64), /role (an int8 enum of the role names), /quality
 * (float32), /similarity and /margin (float32) and /representative (int8)
 * when scored, /paths and /person (variable-length UTF-8) when there are
 * any, and the run's parameters as root attributes (quality_key among
 * them). The writers are mc_clustering_write_csv / _write_h5 (clustering.h);
 * the readers below serve mc_clustering_read_csv and previous.c. */
#ifndef MAGCLUST_RESULT_IMPL_H
#define MAGCLUST_RESULT_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "io_impl.h"

/* ---- CSV, row by row ------------------------------------------------------ */

typedef struct {
    mc_csv_records r;
    const char *path;
    size_t nf;        /* fields of the header */
    size_t n_index;   /* rows an index may name (0..n_index-1); SIZE_MAX: not checked */
    /* columns; SIZE_MAX: absent */
    size_t col_index, col_path, col_cluster, col_role, col_quality, col_person;
    size_t col_similarity, col_margin, col_representative;
} mc_result_csv;

/* One row; the strings point into the reader and last until the next row. */
typedef struct {
    unsigned long long line; /* where the row starts */
    int64_t index;           /* the index column (checked, see open); -1 without one or unchecked */
    int64_t cluster;         /* as written */
    int role;                /* an mc_role, -1 without a role column or an unknown name */
    float quality;           /* NAN without a quality column or a number in it */
    float similarity, margin; /* likewise */
    int representative;      /* 1 or 0; -1 without the column or a 0/1 in it */
    const char *path;        /* as text (the guarding ' dropped), NULL without a column */
    const char *person;      /* likewise */
} mc_result_row;

/* Opens path and reads the header. need_path: the caller matches rows by
 * path (--previous), so 'path' and 'cluster' columns are both required;
 * otherwise only 'cluster' is. Unless n_index is SIZE_MAX, an index column
 * must hold integers in 0..n_index-1. MC_OK, MC_ERR_IO, MC_ERR_BAD_DATA
 * ("FILE: empty file (...)", "FILE: line N: ..."), MC_ERR_NOMEM; on failure
 * nothing is left open. */
mc_status mc_result_csv_open(mc_result_csv *rc, const char *path, int need_path, size_t n_index);
/* 1 and the next row, 0 at the end, -1 with *err: a row whose field count
 * is not the header's, an index out of range, a cluster that is not an
 * integer ("FILE: line N: ..."). */
int mc_result_csv_next(mc_result_csv *rc, mc_result_row *row, mc_status *err);
void mc_result_csv_close(mc_result_csv *rc);

/* ---- HDF5, whole ------------------------------------------------------------ */

typedef struct {
    size_t n;
    int64_t *cluster;   /* n (+1), as written */
    int8_t *role;       /* n (+1), -1 where unknown (no /role) */
    float *quality;     /* n (+1), NAN where unknown (no /quality) */
    float *similarity;  /* n (+1), NAN where unknown (no /similarity) */
    float *margin;      /* n (+1), NAN where unknown (no /margin) */
    int8_t *representative; /* n (+1), -1 where unknown (no /representative) */
    char **paths;       /* n (+1) strings, HDF5's (an entry may be NULL: "") */
    char **persons;     /* n (+1) strings, or NULL without /person */
    char *quality_name; /* the quality_key attribute, or NULL */
} mc_result_h5;

/* Reads a result file whole: /cluster and /paths are required, the rest
 * optional; the sizes are checked against the memory limit first. A
 * missing file is MC_ERR_IO, anything HDF5 cannot read MC_ERR_HDF5 (with
 * its reason). On failure t holds nothing. The caller may take arrays
 * over (setting the pointer NULL) before mc_result_h5_free. */
mc_status mc_result_read_h5(const char *path, mc_result_h5 *t);
void mc_result_h5_free(mc_result_h5 *t);

#endif
