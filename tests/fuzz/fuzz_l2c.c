/* libFuzzer harness: learn-to-cluster's raw float32 .bin with its .meta
 * labels (text, one integer or name a line). Input layout: byte 0 picks D
 * (1 + byte % 32), bytes 1-2 the length of the .meta (little-endian), then
 * the .meta, then the .bin (whatever is left). Bit 7 of byte 0 reads the
 * .bin without labels. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    size_t dim = 1 + (size_t)(data[0] % 32);
    size_t meta_len = (size_t)data[1] | (size_t)data[2] << 8;
    data += 3;
    size -= 3;
    if (meta_len > size) meta_len = size;
    fuzz_file meta, bin;
    fuzz_file_open(&meta, data, meta_len);
    fuzz_file_open(&bin, data + meta_len, size - meta_len);
    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_L2C;
    p.dim = dim;
    if (!(data[-3] & 0x80)) p.labels_path = meta.path;
    mc_reader_t *r = NULL;
    if (mc_reader_open(bin.path, &p, &r) == MC_OK) fuzz_drain(r);
    fuzz_file_close(&bin);
    fuzz_file_close(&meta);
    return 0;
}
