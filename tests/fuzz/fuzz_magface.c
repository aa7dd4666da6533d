/* libFuzzer harness: the MagFace feature list (gen_feat.py output: a path
 * then D floats a line). The first byte picks the options: identity from the
 * parent folder or not, and whether the same bytes are also read as a
 * separate labels file (text, one label a line). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t flags = data[0];
    fuzz_file f;
    fuzz_file_open(&f, data + 1, size - 1);
    mc_reader_params p = mc_reader_params_default();
    p.format = MC_FMT_MAGFACE;
    p.label_from_dir = flags & 1;
    if (flags & 2) p.labels_path = f.path;
    mc_reader_t *r = NULL;
    if (mc_reader_open(f.path, &p, &r) == MC_OK) fuzz_drain(r);
    fuzz_file_close(&f);
    return 0;
}
