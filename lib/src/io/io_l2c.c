/* learn-to-cluster's benchmark format: a headerless little-endian float32
 * N x D `.bin` (D given by the caller) and an optional `.meta` of labels,
 * one integer a line.
 *
 * The reader streams: rows are read by fread straight into the caller's
 * buffer, so memory does not grow with the file (benchmark files run to
 * several GB). N comes from the file size, which must be a positive multiple
 * of 4 D; sizes and offsets are 64-bit (off_t is 64-bit on the platforms we
 * build for, and _FILE_OFFSET_BITS=64 makes it so on 32-bit glibc). */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes_impl.h"
#include "io_impl.h"

static uint32_t swap32(uint32_t u)
{
    return (u >> 24) | ((u >> 8) & 0xff00u) | ((u << 8) & 0xff0000u) | (u << 24);
}

/* ---- reader ------------------------------------------------------------- */

static mc_status l2c_read_rows(mc_bin_rows *b, const char *path, size_t n, float *rows)
{
    uint64_t offset = b->row * b->row_bytes;
    if (fread(rows, b->row_bytes, n, b->fp) != n) return mc_read_fail(b->fp, path, offset);
    size_t count = n * b->dim;
    if (!mc_host_is_little_endian())
        for (size_t i = 0; i < count; i++) {
            uint32_t u;
            memcpy(&u, rows + i, sizeof u);
            u = swap32(u);
            memcpy(rows + i, &u, sizeof u);
        }
    return mc_check_f32_rows(rows, count, b->dim, b->row, offset, path);
}

mc_status mc_io_open_l2c(mc_reader_t *r, const mc_reader_params *p)
{
    const char *path = r->path;
    r->state = NULL;
    if (p->dim == 0)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: the l2c format needs the dimension (--dim)", path);
    if (p->label_from_dir)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: labels from folder names need image paths, which l2c files do not have",
                       path);
    if (p->dim > SIZE_MAX / 4 || (uint64_t)p->dim > UINT64_MAX / 4)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension %zu is too large", path, p->dim);
    mc_bin_rows *b = calloc(1, sizeof *b);
    if (!b) return mc_fail(MC_ERR_NOMEM, "out of memory");
    b->read = l2c_read_rows;
    uint64_t size = 0;
    mc_status st = mc_open_regular(path, " (the size gives N)", &b->fp, &size);
    if (st != MC_OK) goto fail;
    b->dim = p->dim;
    b->row_bytes = b->dim * 4;
    if (size == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: empty file (no faces)", path);
        goto fail;
    }
    if (size % b->row_bytes != 0) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: size %" PRIu64 " bytes is not a multiple of D x 4 = %zu bytes (D = %zu; "
                     "truncated file, or wrong --dim?)", path, size, b->row_bytes, b->dim);
        goto fail;
    }
    b->n = size / b->row_bytes;
    if ((st = mc_bin_rows_open_labels(b, p->labels_path, path)) != MC_OK) goto fail;
    mc_bin_rows_install(r, b);
    return MC_OK;
fail:
    mc_bin_rows_free(b);
    return st;
}

/* ---- writer ------------------------------------------------------------- */

/* The .meta: one integer a line. */
static mc_status l2c_put_labels(mc_bin_writer *b, size_t n, const int64_t *labels)
{
    for (size_t i = 0; i < n; i++)
        if (fprintf(b->labels.fp, "%" PRId64 "\n", labels[i]) < 0)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", b->labels.final_path, strerror(errno));
    return MC_OK;
}

mc_status mc_io_writer_l2c(mc_writer_t *w, const mc_writer_params *p)
{
    (void)p;
    w->state = NULL;
    if (w->dim == 0) return mc_fail(MC_ERR_INVALID_ARG, "%s: dimension 0", w->path);
    mc_bin_writer *b = calloc(1, sizeof *b);
    if (!b) return mc_fail(MC_ERR_NOMEM, "out of memory");
    b->put_labels = l2c_put_labels;
    mc_status st = mc_bin_writer_open(b, w, ".bin", ".meta");
    if (st != MC_OK) {
        mc_bin_writer_free(b);
        return st;
    }
    mc_bin_writer_install(w, b);
    return MC_OK;
}
