/* libFuzzer harness: CSV embeddings (header, optional path, label and photo
 * columns, D numeric columns or one column holding the vector). The first
 * byte picks the delimiter (detected, ',', ';' or tab) and whether the
 * identity comes from the path's parent folder. */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char delims[4] = {0, ',', ';', '\t'};
    uint8_t flags = data[0];
    fuzz_file f;
    fuzz_file_open(&f, data + 1, size - 1);
    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_CSV;
    p.delimiter = delims[flags & 3];
    p.label_from_dir = (flags >> 2) & 1;
    mc_reader_t *r = NULL;
    if (mc_reader_open(f.path, &p, &r) == MC_OK) fuzz_drain(r);
    fuzz_file_close(&f);
    return 0;
}
