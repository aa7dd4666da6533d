/* The magclust HDF5 schema (embeddings.h), read in one place: an N x D
 * floating-point embeddings dataset and the optional per-face datasets
 * beside it (labels, paths, quality, photo groups), each named by a key of
 * mc_h5_read_params. Both the streaming reader (io_h5.c: export, import
 * from .h5) and mc_embeddings_read_h5 (embeddings_h5.c) read through it,
 * so a key, a shape or a type means the same to both, and so do the
 * messages. Never installed.
 *
 * Keys may be nested paths and are normalised first: leading, doubled and
 * trailing slashes and "." components go, so "meta/q", "/meta/q",
 * "//meta//q/" and "./meta/./q" all name /meta/q (the messages use that
 * form). A key that names nothing ("", "/") disables an optional dataset.
 * A missing group along the path is "no dataset /a/b", like a missing
 * dataset.
 *
 * One schema handle is for one thread at a time. */
#ifndef MAGCLUST_H5_SCHEMA_IMPL_H
#define MAGCLUST_H5_SCHEMA_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <hdf5.h>

#include "magclust/embeddings.h"

typedef struct mc_h5_schema mc_h5_schema;

typedef enum {
    MC_H5_LABELS,  /* integers; optional under its default name "labels" */
    MC_H5_PATHS,   /* strings, fixed (NUL- or space-padded) or variable length; likewise "paths" */
    MC_H5_QUALITY, /* integers or floating point; required when its key is set */
    MC_H5_GROUPS,  /* integers or strings (photo ids); required when its key is set */
    MC_H5_N_FIELDS
} mc_h5_field;

/* Opens file and checks its embeddings dataset (p->embeddings_key): a
 * floating-point N x D dataset with N, D > 0, its element size and chunks
 * checked against the memory limit (mc_h5_check_dataset), and with `whole`
 * (the caller holds every row: mc_embeddings_read_h5) the whole dataset
 * too. MC_ERR_INVALID_ARG (a key that names nothing), MC_ERR_IO (missing,
 * unreadable, a directory, not HDF5), MC_ERR_HDF5 (no such dataset, not a
 * dataset, wrong type or rank), MC_ERR_BAD_DATA (N or D is 0),
 * MC_ERR_NOMEM. HDF5's error printing is off for the handle's calls. */
mc_status mc_h5_schema_open(const char *file, const mc_h5_read_params *p, int whole,
                            mc_h5_schema **out);
/* Closes everything (NULL-safe) and returns st: the status of what the
 * caller did, replaced by MC_ERR_HDF5 when that was MC_OK and the file
 * cannot be closed. */
mc_status mc_h5_schema_close(mc_h5_schema *s, mc_status st);

uint64_t mc_h5_schema_rows(const mc_h5_schema *s);
size_t mc_h5_schema_dim(const mc_h5_schema *s);
/* The embeddings are stored in more than 4 bytes a value (float64). */
int mc_h5_schema_wide(const mc_h5_schema *s);
/* "/embeddings", or where the key points. */
const char *mc_h5_schema_embeddings_path(const mc_h5_schema *s);

/* Rows [row0, row0 + n) of the embeddings into dst (n*D floats, or doubles
 * with as_double), converted by HDF5. MC_ERR_HDF5 naming the rows. */
mc_status mc_h5_schema_read_rows(mc_h5_schema *s, uint64_t row0, size_t n, int as_double,
                                 void *dst);

/* Opens the dataset of field f (its key in the params given to open) and
 * checks it: rank 1 (N) or N x 1, a type class the field takes, N values.
 * 1 when it is there, 0 when it is not wanted (empty key) or absent under
 * its default name, -1 with *err otherwise ("no dataset /KEY", "/KEY has a
 * floating-point type; labels must be integers", MC_ERR_DIM_MISMATCH "/KEY
 * has 39 values, /embeddings has 40 rows"). Opening it again answers the
 * same without touching the file. */
int mc_h5_schema_field(mc_h5_schema *s, mc_h5_field f, mc_status *err);
/* The field's dataset as a normalised path ("/labels"); its type class. */
const char *mc_h5_schema_field_path(const mc_h5_schema *s, mc_h5_field f);
H5T_class_t mc_h5_schema_field_class(const mc_h5_schema *s, mc_h5_field f);
/* 1 when field f (open) holds unsigned 64-bit integers: mc_h5_schema_read_ints
 * then gives their bits, to be read as uint64. */
int mc_h5_schema_field_u64(const mc_h5_schema *s, mc_h5_field f);

/* Values [row0, row0 + n) of an opened field: integers as int64, numbers
 * as float, strings as a table of n pointers into one buffer (both
 * malloc'd, the caller frees them; padding stripped, as embeddings.h says).
 * MC_ERR_HDF5 (with HDF5's reason), MC_ERR_NOMEM. */
mc_status mc_h5_schema_read_ints(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                 int64_t *dst);
mc_status mc_h5_schema_read_floats(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                   float *dst);
mc_status mc_h5_schema_read_strings(mc_h5_schema *s, mc_h5_field f, uint64_t row0, size_t n,
                                    char ***out_strings, char **out_buf);

#endif
