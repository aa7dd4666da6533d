/**
 * @file io.h
 * @brief Streaming readers and writers of embedding files in several formats.
 *
 * @code
 * mc_reader_params rp = mc_reader_params_default();
 * rp.format = MC_FMT_MAGFACE;
 * rp.label_from_dir = 1;                       // identity = parent folder
 * mc_reader_t *r = NULL;
 * if (mc_reader_open("feat.list", &rp, &r) != MC_OK) return 1;
 * mc_writer_params wp = mc_writer_params_default();
 * wp.compress = 1;
 * mc_status st = mc_convert(r, "faces.h5", &wp);   // streams, atomic
 * mc_reader_free(r);
 * @endcode
 *
 * A reader yields rows in blocks (raw embeddings, optional labels and paths)
 * and never holds the whole file: memory is bounded by the block. A writer
 * takes blocks and writes them to a temporary file beside its destination,
 * renamed into place by mc_writer_commit(), so a failure leaves no partial
 * output and never touches an existing file.
 *
 * Formats:
 *  - MC_FMT_H5: the magclust HDF5 schema (embeddings.h), read with the same
 *    keys, checks and messages as mc_embeddings_read_h5 (raw rows, labels
 *    and paths; a NULL or "" embeddings_key means "embeddings").
 *  - MC_FMT_MAGFACE: MagFace's gen_feat.py output, one face per line: an image
 *    path, then D floats, separated by spaces.
 *  - MC_FMT_L2C: learn-to-cluster's raw little-endian float32 N x D `.bin`
 *    (D given by `dim`), labels from an optional `.meta` (one integer a line).
 *  - MC_FMT_NPY: NumPy `.npy`, versions 1-3, float32/float64/float16, C order.
 *  - MC_FMT_CSV: a header row, delimited by ',', ';' or tab. Each column
 *    gets a role from its name (or from the csv_* params, which win): the
 *    path (path, file, filename, image; else a face id: id, face_id, faceId,
 *    marker_uid), the photo (photo, photo_id, assetId, file_uid), the label
 *    (label, identity, person, class, personId, subj_uid), quality columns
 *    (det_score, quality, score, confidence, face_size, blur, magnitude,
 *    norm, ...: per-face numbers carried to the output, H5 /NAME), ignored
 *    ones (Immich's boundingBoxX1.. and imageWidth/Height), and the
 *    embedding: numbered columns (a common prefix and consecutive integers
 *    from 0 or 1: e0..eN, emb_1.., dim_0.., or pandas' 0..N) or one column
 *    holding the whole vector as numbers separated by spaces or commas,
 *    optionally in [ ] (embedding, vector, descriptor, encoding, ...). When
 *    no column follows either convention, the columns without another role
 *    are the embedding. A column left without a role, or two candidates for
 *    the embedding, is refused with MC_ERR_BAD_DATA and a detail that lists
 *    every column with the role it got (mc_reader_columns()).
 *
 * Malformed input is refused with MC_ERR_BAD_DATA and a detail that names the
 * file and the line (text) or byte offset (binary) and says what is wrong.
 * Thread safety: a reader or writer is used by one thread at a time; distinct
 * objects are independent.
 */
#ifndef MAGCLUST_IO_H
#define MAGCLUST_IO_H

#include <stddef.h>
#include <stdint.h>

#include "embeddings.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** File formats. */
typedef enum {
    MC_FMT_AUTO = 0, /**< from the file name's extension (.h5/.hdf5, .list, .bin, .npy, .csv/.tsv) */
    MC_FMT_H5,
    MC_FMT_MAGFACE,
    MC_FMT_L2C,
    MC_FMT_NPY,
    MC_FMT_CSV
} mc_format;

/**
 * @brief Format from its name ("h5", "magface", "l2c", "npy", "csv").
 * @return the format, or MC_FMT_AUTO when the name is unknown.
 */
MC_API mc_format mc_format_from_name(const char *name);
/** @brief Format from a path's extension; MC_FMT_AUTO when unknown. */
MC_API mc_format mc_format_from_path(const char *path);
/** @brief "h5", "magface", ...; "auto" for MC_FMT_AUTO. */
MC_API const char *mc_format_name(mc_format f);

/** How to read a file. */
typedef struct {
    mc_format format;        /**< MC_FMT_AUTO: from the extension */
    mc_h5_read_params h5;    /**< MC_FMT_H5: dataset names */
    int label_from_dir;      /**< MAGFACE/CSV: the identity is the path's parent folder name */
    const char *labels_path; /**< MAGFACE/NPY/L2C: labels in a separate file: text, one
                                  label a line, or (NPY) an integer .npy; for L2C the .meta */
    size_t dim;              /**< L2C: the dimension D (required) */
    char delimiter;          /**< CSV: ',', ';' or '\t'; 0 = detect from the header */
    /* CSV column roles, each NULL = from the column names. A column is named
     * by its header name or its 1-based number. A list is comma-separated;
     * its items may be ranges (e0-e127, 3-130: both ends included, in that
     * order) and prefixes (emb_*: every column whose name starts so, in the
     * order of the number at their end). */
    const char *csv_embedding_columns; /**< CSV: the embedding, in order; one column = the
                                            column holding the whole vector */
    const char *csv_quality_columns;   /**< CSV: per-face numbers to carry (H5: a float32
                                            dataset /NAME each); "" = none. Replaces the
                                            names taken by default, which are then ignored */
    const char *csv_ignore_columns;    /**< CSV: columns to leave out */
    const char *csv_path_column;       /**< CSV: the path (or face id) column */
    const char *csv_label_column;      /**< CSV: the label column */
    const char *csv_photo_column;      /**< CSV: the photo column */
} mc_reader_params;

/** @brief Defaults: MC_FMT_AUTO, default HDF5 names, no labels file, dim 0, delimiter detected. */
MC_API mc_reader_params mc_reader_params_default(void);

/** Opaque streaming reader. */
typedef struct mc_reader mc_reader_t;

/**
 * @brief Open a file for streaming. Headers are read and checked now (a
 * labels file's length against N where N is known up front).
 * @return MC_OK, MC_ERR_IO (cannot open), MC_ERR_BAD_DATA (malformed header,
 *         empty file), MC_ERR_INVALID_ARG (unknown format, l2c without dim),
 *         MC_ERR_HDF5, MC_ERR_NOMEM.
 */
MC_API mc_status mc_reader_open(const char *path, const mc_reader_params *p, mc_reader_t **out);
/** @brief The dimension D (known once open). */
MC_API size_t mc_reader_dim(const mc_reader_t *r);
/** @brief N when the format tells it up front (h5, npy, l2c), else 0. */
MC_API uint64_t mc_reader_count(const mc_reader_t *r);
/** @brief Whether rows carry labels / paths. */
MC_API int mc_reader_has_labels(const mc_reader_t *r);
MC_API int mc_reader_has_paths(const mc_reader_t *r);
/** @brief Whether rows carry the photo they come from (CSV: a `photo` or
 * `photo_id` column). */
MC_API int mc_reader_has_photos(const mc_reader_t *r);
/** @brief The photos of the rows the last mc_reader_next() delivered (one
 * string each, "" = unknown), or NULL without photos; valid until the next
 * call. */
MC_API const char *const *mc_reader_photos(const mc_reader_t *r);
/**
 * @brief The extra per-face numbers the rows carry (CSV quality columns): their
 * names, in the order of mc_reader_extras().
 * @param out_names  receives the names (valid while @p r lives), or NULL when none.
 * @return how many; 0 for formats without such columns.
 */
MC_API size_t mc_reader_extra_names(const mc_reader_t *r, const char *const **out_names);
/** @brief The extra numbers of the rows the last mc_reader_next() delivered:
 * n x mc_reader_extra_names() floats, row-major; NULL without them. Valid
 * until the next call. */
MC_API const float *mc_reader_extras(const mc_reader_t *r);
/**
 * @brief The columns and the role each was given, as one line of text, e.g.
 * "path (path), det_score (quality), e0..e127 (embedding, 128-d)".
 * @return the text (valid while @p r lives), or NULL for formats without columns.
 */
MC_API const char *mc_reader_columns(const mc_reader_t *r);
/** @brief The format actually read. */
MC_API mc_format mc_reader_format(const mc_reader_t *r);

/**
 * @brief Read the next rows.
 * @param max     rows wanted (> 0).
 * @param rows    caller buffer of max*D floats: raw embeddings as stored.
 * @param labels  caller buffer of max labels, or NULL (ignored when the reader has none).
 * @param paths   caller array of max pointers, or NULL; each points into the
 *                reader and stays valid until the next call.
 * @param out_n   rows delivered; 0 at the end of the file.
 * @return MC_OK, MC_ERR_BAD_DATA (detail: file, line or byte offset, reason),
 *         MC_ERR_IO, MC_ERR_HDF5, MC_ERR_NOMEM. After an error the reader can only be freed.
 */
MC_API mc_status mc_reader_next(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                                const char **paths, size_t *out_n);

/**
 * @brief Names of the labels, when they came from names (folders, text
 * labels that are not integers): label i is called names[i]. Lists the names
 * seen so far; the array is valid until the next mc_reader_next() or
 * mc_reader_free() call.
 * @return the number of names, 0 when labels are plain integers.
 */
MC_API size_t mc_reader_label_names(const mc_reader_t *r, const char *const **out_names);

/** @brief Free; NULL-safe. */
MC_API void mc_reader_free(mc_reader_t *r);

/** How to write a file. */
typedef struct {
    mc_format format;    /**< MC_FMT_AUTO: from the extension (h5, npy, csv, l2c .bin) */
    int compress;        /**< H5: deflate level 0-9 (0 = none) */
    size_t chunk_rows;   /**< H5: rows per chunk; 0 = chosen from D (about 1 MiB) */
    const char *source;  /**< H5: provenance, stored as the root attribute "source" */
    int with_photos;     /**< rows carry photos (mc_writer_append_photos): H5 /photo strings, CSV a
                              photo column; refused for npy and l2c */
    size_t n_extras;     /**< H5: extra per-face numbers each row carries (mc_writer_append_extras),
                              written as float32 datasets /NAME; refused for other formats */
    const char *const *extra_names; /**< H5: their n_extras names (not those of the schema's own
                                         datasets: embeddings, labels, paths, photo, label_names) */
} mc_writer_params;

/** @brief Defaults: format from the extension, no compression, automatic chunks. */
MC_API mc_writer_params mc_writer_params_default(void);

/** Opaque streaming writer. */
typedef struct mc_writer mc_writer_t;

/**
 * @brief Start writing (to a temporary file beside @p path).
 *
 * H5 writes /embeddings (chunked, extendible), /labels, /paths. NPY writes a
 * float32 .npy and, with labels, PATH minus ".npy" plus ".labels.npy" (int64).
 * L2C writes the .bin and, with labels, a .meta beside it. CSV writes
 * `path,label,e0..e{D-1}` (path and label only when present).
 * @param dim          D (> 0).
 * @param with_labels  rows will carry labels.
 * @param with_paths   rows will carry paths.
 * @return MC_OK, MC_ERR_IO, MC_ERR_HDF5, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_writer_open(const char *path, size_t dim, int with_labels, int with_paths,
                                const mc_writer_params *p, mc_writer_t **out);

/**
 * @brief Append n rows (labels/paths as declared at open; NULL otherwise).
 * @return MC_OK, MC_ERR_IO, MC_ERR_HDF5, MC_ERR_NOMEM.
 */
MC_API mc_status mc_writer_append(mc_writer_t *w, size_t n, const float *rows,
                                  const int64_t *labels, const char *const *paths);

/** @brief mc_writer_append() with the photo of each row (@p photos: n
 * strings, "" = unknown; required when the writer was opened with_photos,
 * ignored otherwise). */
MC_API mc_status mc_writer_append_photos(mc_writer_t *w, size_t n, const float *rows,
                                         const int64_t *labels, const char *const *paths,
                                         const char *const *photos);

/**
 * @brief mc_writer_append_photos() with the extra per-face numbers of each row.
 * @param extras  n x p->n_extras floats, row-major (mc_reader_extras()'s
 *                layout); required when the writer was opened with extras,
 *                ignored otherwise.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_BAD_DATA (NaN or Inf), MC_ERR_IO, MC_ERR_HDF5.
 */
MC_API mc_status mc_writer_append_extras(mc_writer_t *w, size_t n, const float *rows,
                                         const int64_t *labels, const char *const *paths,
                                         const char *const *photos, const float *extras);

/** @brief H5 only: store label names as /label_names (names[i] for label i). */
MC_API mc_status mc_writer_set_label_names(mc_writer_t *w, size_t n, const char *const *names);

/**
 * @brief Finish: flush, close and rename every file into place. Frees @p w
 * whatever the outcome; on failure nothing is left at the destination.
 */
MC_API mc_status mc_writer_commit(mc_writer_t *w);

/** @brief Give up: remove the temporary files and free @p w. NULL-safe. */
MC_API void mc_writer_abort(mc_writer_t *w);

/**
 * @brief Stream every row of @p r into a new file at @p out_path, then commit.
 * Label names, if any, are carried over (H5).
 * @param out_rows  optional: receives the number of rows written.
 * @return any status of mc_reader_next / mc_writer_*; on failure no output exists.
 */
MC_API mc_status mc_convert(mc_reader_t *r, const char *out_path, const mc_writer_params *p,
                            uint64_t *out_rows);

/**
 * @brief Import several files of one format into one new file (typically
 * HDF5): the rows of each input in turn. The inputs must agree on D, on
 * whether they carry labels and paths, and (into HDF5) on their quality
 * columns (mc_reader_extra_names), which become datasets /NAME. Labels given as names (folders, text
 * names) are merged by name across the inputs, so "alice" is one identity
 * whichever file she appears in; integer labels are kept as they are; a mix
 * of the two is refused.
 * @param inputs    n_inputs file names (>= 1).
 * @param rp        how to read each input (its labels_path, if any, applies
 *                  to a single input only).
 * @param out_rows  optional: rows written.
 * @return any status of the readers and the writer; on failure no output exists.
 */
MC_API mc_status mc_import_files(const char *const *inputs, size_t n_inputs,
                                 const mc_reader_params *rp, const char *out_path,
                                 const mc_writer_params *wp, uint64_t *out_rows);

#ifdef __cplusplus
}
#endif
#endif
