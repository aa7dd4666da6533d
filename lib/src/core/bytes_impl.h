/* Bytes for the binary formats (.npy, l2c): byte order, float bits, and the
 * raw reads and writes both formats make, with their messages (bytes.c).
 * Below every binary reader and writer. Never installed. */
#ifndef MAGCLUST_BYTES_IMPL_H
#define MAGCLUST_BYTES_IMPL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util_impl.h"

static inline int mc_host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* The unsigned integer of `size` bytes at p, stored big-endian or little-endian. */
static inline uint64_t mc_load_uint(const unsigned char *p, unsigned size, int big)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned k = big ? i : size - 1 - i;
        v = (v << 8) | p[k];
    }
    return v;
}

/* v's low `size` bytes at p, little-endian. */
static inline void mc_store_le(unsigned char *p, uint64_t v, unsigned size)
{
    for (unsigned i = 0; i < size; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* Bit test for a float32 NaN or Inf: exponent all ones. Robust under
 * -ffast-math, where isfinite() may be folded to 1. */
static inline int mc_f32_bits_bad(uint32_t u) { return (u & 0x7f800000u) == 0x7f800000u; }

/* Opens path for reading, refusing anything but a regular file ("PATH: not a
 * regular file" + note); *out_size: its size in bytes. Nothing is left open
 * on failure. */
mc_status mc_open_regular(const char *path, const char *note, FILE **out, uint64_t *out_size);

/* The status of a short fread at byte offset: MC_ERR_IO on a read error,
 * MC_ERR_BAD_DATA when the file ended (changed while being read). */
mc_status mc_read_fail(FILE *fp, const char *path, uint64_t offset);

/* MC_ERR_BAD_DATA: "PATH: row R (byte offset O): NaN or infinite value". */
mc_status mc_f32_bad_value(const char *path, uint64_t row, uint64_t offset);

/* Refuses a NaN or Inf among the count floats at rows (rows of dim values,
 * the first being row first_row, stored from byte offset on), naming the
 * first one's row and offset. */
mc_status mc_check_f32_rows(const float *rows, size_t count, size_t dim, uint64_t first_row,
                            uint64_t offset, const char *path);

/* Writes count floats little-endian (byte-swapped on a big-endian host);
 * "PATH: write failed: REASON" on failure. */
mc_status mc_write_f32_le(FILE *fp, const float *rows, size_t count, const char *path);

#endif
