/* The NumPy .npy format itself: the header (versions 1.0, 2.0, 3.0) parsed
 * into a description of the array, the whole-file integer reader of label
 * files, and the fixed header the writer puts down. Below both io_npy.c (the
 * embeddings reader and writer) and io_labels.c (label files), and calls
 * neither. Never installed. */
#ifndef MAGCLUST_NPY_FORMAT_IMPL_H
#define MAGCLUST_NPY_FORMAT_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util_impl.h"

#define MC_NPY_MAX_RANK 64

/* What a header says of its array. */
typedef struct {
    char kind;      /* 'f', 'i', 'u', or 0 when the descr is not a simple type */
    unsigned size;  /* bytes per element */
    int big;        /* stored big-endian */
    char descr[48]; /* the descr as written, for messages */
    int fortran;
    int rank;
    uint64_t shape[MC_NPY_MAX_RANK];
    uint64_t data_offset; /* bytes before the array data */
    uint64_t data_bytes;  /* bytes after them in the file */
} mc_npy_header;

/* Whether the n bytes at p start with the .npy magic (\x93NUMPY). */
int mc_npy_has_magic(const unsigned char *p, size_t n);

/* Opens path (a regular file) and reads its header into h, leaving the file
 * at the start of the data. On failure (MC_ERR_IO, MC_ERR_BAD_DATA with the
 * byte offset, MC_ERR_NOMEM) nothing is left open. */
mc_status mc_npy_open(const char *path, FILE **out_fp, mc_npy_header *h);

/* The shape as Python writes it: "(5,)", "(2, 3, 4)". */
void mc_npy_format_shape(const mc_npy_header *h, char *buf, size_t size);

/* MC_OK when the data after the header is exactly prod(shape) * size bytes;
 * else MC_ERR_BAD_DATA (truncated, trailing bytes, overflow). */
mc_status mc_npy_check_data_size(const char *path, const mc_npy_header *h);

/* Load a rank-1 (or N x 1) integer .npy whole into a malloc'd int64 array. */
mc_status mc_npy_read_int64(const char *path, int64_t **out, size_t *out_n);

/* The writer's fixed header: 10 bytes of magic, version and length, then the
 * dict padded with spaces to 118 bytes ending in '\n'. 128 is a multiple of
 * 64, numpy's alignment of the data, and the dict leaves room for 20-digit N
 * and D (the longest dict is 97 bytes). */
#define MC_NPY_WRITE_HEADER 128

/* The version 1.0 header of an array of descr ("<f4", "<i8"), N x d, or (N,)
 * when d == 0. */
void mc_npy_make_header(unsigned char out[MC_NPY_WRITE_HEADER], const char *descr, uint64_t n,
                        size_t d);

#endif
