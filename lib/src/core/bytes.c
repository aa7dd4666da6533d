/* The raw reads and writes of the binary formats, shared by the .npy and l2c
 * readers and writers (and the .npy header reader) so that they read, check
 * and report alike. */
#define _POSIX_C_SOURCE 200809L
#define _FILE_OFFSET_BITS 64 /* st_size of files over 2 GiB on 32-bit glibc */
#include "bytes_impl.h"

#include <errno.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Floats per conversion chunk on a big-endian host. */
#define SWAP_CHUNK 1024

mc_status mc_open_regular(const char *path, const char *note, FILE **out, uint64_t *out_size)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(fp), &sb) != 0) {
        int err = errno;
        fclose(fp);
        return mc_fail(MC_ERR_IO, "%s: cannot stat: %s", path, strerror(err));
    }
    if (!S_ISREG(sb.st_mode)) {
        fclose(fp);
        return mc_fail(MC_ERR_IO, "%s: not a regular file%s", path, note);
    }
    *out = fp;
    *out_size = (uint64_t)sb.st_size;
    return MC_OK;
}

mc_status mc_read_fail(FILE *fp, const char *path, uint64_t offset)
{
    if (ferror(fp))
        return mc_fail(MC_ERR_IO, "%s: read error near byte offset %" PRIu64 ": %s", path, offset,
                       strerror(errno));
    return mc_fail(MC_ERR_BAD_DATA, "%s: truncated: the file ended near byte offset %" PRIu64
                   " (changed while being read?)", path, offset);
}

mc_status mc_f32_bad_value(const char *path, uint64_t row, uint64_t offset)
{
    return mc_fail(MC_ERR_BAD_DATA, "%s: row %" PRIu64 " (byte offset %" PRIu64 "): NaN or infinite value",
                   path, row, offset);
}

mc_status mc_check_f32_rows(const float *rows, size_t count, size_t dim, uint64_t first_row,
                            uint64_t offset, const char *path)
{
    /* One branch-free pass (vectorises); the offender is looked for only
     * when there is one. */
    int bad = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, rows + i, sizeof u);
        bad |= mc_f32_bits_bad(u);
    }
    if (!bad) return MC_OK;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, rows + i, sizeof u);
        if (mc_f32_bits_bad(u)) return mc_f32_bad_value(path, first_row + i / dim, offset + (uint64_t)i * 4);
    }
    return MC_OK;
}

mc_status mc_write_f32_le(FILE *fp, const float *rows, size_t count, const char *path)
{
    if (mc_host_is_little_endian()) {
        if (fwrite(rows, sizeof *rows, count, fp) != count)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        return MC_OK;
    }
    unsigned char buf[4 * SWAP_CHUNK];
    for (size_t done = 0; done < count;) {
        size_t k = count - done < SWAP_CHUNK ? count - done : SWAP_CHUNK;
        for (size_t i = 0; i < k; i++) {
            uint32_t u;
            memcpy(&u, rows + done + i, 4);
            mc_store_le(buf + 4 * i, u, 4);
        }
        if (fwrite(buf, 4, k, fp) != k)
            return mc_fail(MC_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        done += k;
    }
    return MC_OK;
}
