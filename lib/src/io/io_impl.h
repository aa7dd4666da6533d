/* Private interface between io.c (dispatch) and the per-format modules
 * io_h5.c, io_magface.c, io_csv.c, io_npy.c, io_l2c.c, plus shared helpers
 * for text (io_text.c), labels (io_labels.c) and the binary formats
 * (io_binary.c). Never installed. */
#ifndef MAGCLUST_IO_IMPL_H
#define MAGCLUST_IO_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "magclust/io.h"
#include "util_impl.h"

/* ---- readers ------------------------------------------------------------ */

struct mc_reader {
    mc_format format;
    const char *path;   /* the file name given to mc_reader_open (owned by io.c) */
    size_t dim;         /* set by the opener */
    uint64_t count;     /* N if known up front, else 0 */
    int has_labels, has_paths;
    int has_photos;     /* CSV with a photo column */
    const char *const *block_photos; /* the last block's photos (has_photos), valid until the next call */
    size_t n_extras;                 /* CSV quality columns: per-face numbers */
    const char *const *extra_names;  /* their names (the format's state owns them) */
    const float *block_extras;       /* the last block's, n x n_extras row-major */
    const char *columns;             /* CSV: the columns and their roles, one line; else NULL */
    void *state;        /* the format's own */
    /* Deliver up to max rows; *out_n = 0 at the end. labels/paths may be NULL
     * (the caller does not want them) even when the reader has them. */
    mc_status (*next)(mc_reader_t *r, size_t max, float *rows, int64_t *labels,
                      const char **paths, size_t *out_n);
    /* Label names, if labels came from names; 0 otherwise. May be NULL. */
    size_t (*label_names)(const mc_reader_t *r, const char *const **out);
    /* Free state (NULL-safe on state). */
    void (*close)(mc_reader_t *r);
};

/* Per-format openers. On success they set dim, count, has_labels, has_paths,
 * state, next, close (and label_names). On failure they free what they
 * allocated, leave r->state NULL and return a status with a detail naming
 * r->path. p is never NULL. */
mc_status mc_io_open_h5(mc_reader_t *r, const mc_reader_params *p);
mc_status mc_io_open_magface(mc_reader_t *r, const mc_reader_params *p);
mc_status mc_io_open_csv(mc_reader_t *r, const mc_reader_params *p);
mc_status mc_io_open_npy(mc_reader_t *r, const mc_reader_params *p);
mc_status mc_io_open_l2c(mc_reader_t *r, const mc_reader_params *p);

/* ---- writers ------------------------------------------------------------ */

struct mc_writer {
    mc_format format;
    const char *path;  /* destination (owned by io.c) */
    size_t dim;
    int with_labels, with_paths;
    int with_photos;   /* H5 and CSV only */
    size_t n_extras;   /* H5 only: extra per-face numbers a row carries */
    char **extra_names; /* their names (io.c owns the copies) */
    uint64_t rows;     /* rows appended so far (io.c counts) */
    void *state;
    /* photos: NULL unless with_photos; extras (n x n_extras): NULL unless n_extras */
    mc_status (*append)(mc_writer_t *w, size_t n, const float *rows, const int64_t *labels,
                        const char *const *paths, const char *const *photos, const float *extras);
    mc_status (*set_label_names)(mc_writer_t *w, size_t n, const char *const *names); /* may be NULL */
    /* Flush, close, rename into place; free state. On failure remove temporaries. */
    mc_status (*commit)(mc_writer_t *w);
    /* Remove temporaries, free state. */
    void (*abort)(mc_writer_t *w);
};

/* Per-format writer openers: set state and the function pointers; write to
 * temporaries (mc_temp_path_for) only. p is never NULL. */
mc_status mc_io_writer_h5(mc_writer_t *w, const mc_writer_params *p);
mc_status mc_io_writer_csv(mc_writer_t *w, const mc_writer_params *p);
mc_status mc_io_writer_npy(mc_writer_t *w, const mc_writer_params *p);
mc_status mc_io_writer_l2c(mc_writer_t *w, const mc_writer_params *p);

/* ---- text helpers (io_text.c) ------------------------------------------- */

/* Line reader: any line length, LF or CRLF ends, a UTF-8 BOM at the start
 * skipped, a NUL byte refused (binary file given as text). */
typedef struct {
    FILE *fp;
    const char *path;
    char *buf;
    size_t cap;
    uint64_t line;   /* number of the line last returned (1-based) */
    uint64_t offset; /* byte offset of the start of that line */
    uint64_t next_offset;
    char eol[3];     /* how that line ended: "\n", "\r\n", "\r" (old Mac) or "" (end of file) */
} mc_line_reader;

/* The longest line a text reader takes (or a quarter of the memory limit,
 * if less): a 4096-d embedding written as text is about 60 KiB. */
#define MC_MAX_LINE ((size_t)64 << 20)

mc_status mc_lines_open(mc_line_reader *lr, const char *path);
/* Returns 1 and the line (NUL-terminated, without its end) in *out and *out_len,
 * 0 at end of file, or -1 with *err set (detail names file and line). */
int mc_lines_next(mc_line_reader *lr, char **out, size_t *out_len, mc_status *err);
void mc_lines_close(mc_line_reader *lr);

/* RFC 4180 records on top of the line reader: quoted fields (which may span
 * lines), doubled quotes, any one-character delimiter; blank lines allowed
 * only at the end of the file. The current record's fields lie back to back
 * in buf, each NUL-terminated. */
typedef struct {
    mc_line_reader lr;
    char delim;
    int unread;           /* the first line was peeked at */
    char *peek;
    size_t peek_len;
    char *buf;
    size_t len, cap;
    size_t *offs;         /* start of each field in buf */
    size_t nf, offs_cap;
    uint64_t line;        /* line where the current record starts */
    uint64_t blank_line;  /* first blank line not yet followed by a record; 0 = none */
    int loose;            /* hand-written files (corrections): blank lines and
                             lines starting with '#' are skipped anywhere */
} mc_csv_records;

/* Opens the file; the delimiter may be set (c->delim) after peeking. */
mc_status mc_csv_open(mc_csv_records *c, const char *path, char delim);
/* The first line, without consuming it (for delimiter detection): 1, 0 (empty
 * file) or -1 with *err. */
int mc_csv_peek(mc_csv_records *c, char **line, size_t *len, mc_status *err);
/* Reads the next record: 1, 0 at the end of the file, -1 with *err (detail
 * names the file and line). */
int mc_csv_next(mc_csv_records *c, mc_status *err);
/* Writes one text field (a path, a name) as RFC 4180 requires, quoted when
 * it holds a comma, a quote, CR or LF, with quotes doubled, and safe to open
 * in a spreadsheet (OWASP CSV injection): a field that starts with = + - @,
 * a tab or a CR, or with quotes followed by one of those, gets one more
 * leading ' so that no spreadsheet takes it for a formula. mc_csv_text()
 * undoes exactly that, so every string reads back as written. */
void mc_csv_put_field(FILE *fp, const char *s);
const char *mc_csv_field(const mc_csv_records *c, size_t i);
size_t mc_csv_field_len(const mc_csv_records *c, size_t i);
/* Field i as text: without the ' that mc_csv_put_field() added. */
const char *mc_csv_text(const mc_csv_records *c, size_t i);
/* Whether s would get a leading ' (mc_csv_put_field) / has one to drop. */
int mc_csv_needs_guard(const char *s);
void mc_csv_close(mc_csv_records *c);

/* Narrows s[0..*len) to leave out leading and trailing spaces and tabs. */
void mc_trim(const char **s, size_t *len);

/* Strict parse of the token s[0..len) as a float32 (locale-independent '.'
 * decimal point): 0 ok, MC_PARSE_NOT_NUMBER, MC_PARSE_NOT_FINITE (NaN, Inf,
 * or beyond the float32 range). */
enum { MC_PARSE_OK = 0, MC_PARSE_NOT_NUMBER = -1, MC_PARSE_NOT_FINITE = -2 };
int mc_parse_float(const char *s, size_t len, float *out);
/* Strict parse of an integer token: 0 ok, MC_PARSE_NOT_NUMBER. */
int mc_parse_int64(const char *s, size_t len, int64_t *out);

/* ---- labels (io_labels.c) ----------------------------------------------- */

/* Names -> dense ids 0, 1, 2, ... in order of first appearance (hash map). */
typedef struct mc_label_map mc_label_map;
mc_label_map *mc_label_map_new(void);
/* The id of name[0..len), adding it if new; -1 when out of memory. */
int64_t mc_label_map_id(mc_label_map *m, const char *name, size_t len);
/* The id of name, or -1 when the map does not hold it (adds nothing). */
int64_t mc_label_map_find(const mc_label_map *m, const char *name, size_t len);
size_t mc_label_map_count(const mc_label_map *m);
const char *const *mc_label_map_names(const mc_label_map *m);
void mc_label_map_free(mc_label_map *m);

/* The parent folder name of a path ("a/b/c.jpg" -> "b", "c.jpg" -> ""),
 * as a pointer into path and a length. Both '/' and '\\' separate. */
void mc_path_parent(const char *path, const char **out, size_t *out_len);

/* Labels from a separate file, consumed in step with the rows: a text file
 * with one label per line (all integers, used as they are; or all names,
 * mapped to ids by first appearance), or an integer .npy (loaded whole:
 * 8 bytes a row). */
typedef struct mc_label_stream mc_label_stream;
mc_status mc_label_stream_open(const char *path, mc_label_stream **out);
/* N when known up front (.npy), else 0. */
uint64_t mc_label_stream_count(const mc_label_stream *s);
/* The next n labels; MC_ERR_DIM_MISMATCH if the file has fewer left
 * ("PATH has K labels, fewer than the rows of DATA"). */
mc_status mc_label_stream_next(mc_label_stream *s, size_t n, int64_t *out, const char *data_path);
/* After the last row: MC_ERR_DIM_MISMATCH if labels remain. */
mc_status mc_label_stream_finish(mc_label_stream *s, uint64_t rows, const char *data_path);
/* For readers that know N: the labels of the next n rows (out may be NULL to
 * skip them) and, once row `rows_total` is reached, the check that no label
 * is left over, so that a caller that stops after N rows still hears of
 * surplus labels. rows_done counts the rows before these n. */
mc_status mc_label_stream_step(mc_label_stream *s, size_t n, int64_t *out, uint64_t rows_done,
                               uint64_t rows_total, const char *data_path);
size_t mc_label_stream_names(const mc_label_stream *s, const char *const **out);
void mc_label_stream_free(mc_label_stream *s);

/* ---- binary formats (io_binary.c): what the .npy and l2c readers and
 * writers share --------------------------------------------------------- */

/* A reader of N rows of dim float32 values read in order from fp, with the
 * labels file (if any) consumed in step: the reader's state. A format's
 * state starts with it (so that one pointer is both) and sets read, and
 * release when it holds more than the struct. */
typedef struct mc_bin_rows mc_bin_rows;
struct mc_bin_rows {
    FILE *fp;
    uint64_t n, row;         /* rows in the file, next row */
    size_t dim, row_bytes;
    mc_label_stream *labels; /* NULL without a labels file */
    /* The format's: read the next n rows (from row on) into rows, checked. */
    mc_status (*read)(mc_bin_rows *b, const char *path, size_t n, float *rows);
    /* Free the format's state (NULL: free(b)). */
    void (*release)(mc_bin_rows *b);
};

/* With labels_path (else nothing): opens the labels file for the b->n rows
 * of path; one that states another count (.npy) is refused with
 * MC_ERR_DIM_MISMATCH ("L has K labels, but PATH has N rows"). */
mc_status mc_bin_rows_open_labels(mc_bin_rows *b, const char *labels_path, const char *path);
/* Makes b the state of the reader r (dim, count, labels, next, label_names,
 * close): the end of a format's opener. */
void mc_bin_rows_install(mc_reader_t *r, mc_bin_rows *b);
/* Closes and frees a b that was not installed (an opener's failure); NULL-safe. */
void mc_bin_rows_free(mc_bin_rows *b);

/* A writer of float32 rows into a data file, with the labels (if any) in a
 * file beside it, both written to temporaries and committed as one
 * (mc_atomic_commit_pair): the writer's state. A format's state starts
 * with it and sets put_labels, and finish when it has more to write. */
typedef struct mc_bin_writer mc_bin_writer;
struct mc_bin_writer {
    mc_atomic_file data, labels;
    int with_labels;
    size_t dim;
    uint64_t n; /* rows appended */
    /* The format's: write the n labels of the rows just appended. */
    mc_status (*put_labels)(mc_bin_writer *b, size_t n, const int64_t *labels);
    /* The format's, or NULL: called before the commit. */
    mc_status (*finish)(mc_bin_writer *b);
};

/* Opens the temporaries of w->path and, with w->with_labels, of its labels
 * file: the path with its extension ext (any case) replaced by labels_ext,
 * or labels_ext added ("x.npy" -> "x.labels.npy", "x.bin" -> "x.meta").
 * b must be zeroed; on failure mc_bin_writer_free() releases it. */
mc_status mc_bin_writer_open(mc_bin_writer *b, const mc_writer_t *w, const char *ext,
                             const char *labels_ext);
/* Makes b the state of the writer w (append, commit, abort): the end of a
 * format's opener. Rows are written little-endian float32. */
void mc_bin_writer_install(mc_writer_t *w, mc_bin_writer *b);
/* Removes the temporaries and frees b (not installed; NULL-safe). */
void mc_bin_writer_free(mc_bin_writer *b);

#endif
