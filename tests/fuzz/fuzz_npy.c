/* libFuzzer harness: NumPy .npy, as embeddings (float16/32/64, versions 1-3)
 * and as an integer labels file (mc_npy_read_int64, through a labels path
 * beside the embeddings file that is the same bytes). */
#include "fuzz_util.h"
#include "npy_format_impl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_file f;
    fuzz_file_open(&f, data, size);
    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_NPY;
    mc_reader_t *r = NULL;
    if (mc_reader_open(f.path, &p, &r) == MC_OK) fuzz_drain(r);
    int64_t *labels = NULL;
    size_t n = 0;
    if (mc_npy_read_int64(f.path, &labels, &n) == MC_OK) free(labels);
    fuzz_file_close(&f);
    return 0;
}
