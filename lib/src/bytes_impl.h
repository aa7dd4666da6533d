/* Byte order and float bits, for the binary formats (.npy, l2c). Never installed. */
#ifndef MAGCLUST_BYTES_IMPL_H
#define MAGCLUST_BYTES_IMPL_H

#include <stdint.h>
#include <string.h>

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

#endif
