/* libFuzzer harness: CSV embeddings (header, columns given roles by name or
 * by the csv_* options: path, label, photo, quality, ignored, the embedding as
 * numbered columns or one column holding the vector). The first byte picks
 * the delimiter (bits 0-1: detected, ',', ';' or tab), whether the identity
 * comes from the path's parent folder (bit 2) and a set of column options
 * (bits 3-4: none, a prefix, ranges of numbers, single columns). */
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
    switch ((flags >> 3) & 3) {
    case 1:
        p.csv_embedding_columns = "e*";
        p.csv_quality_columns = "2";
        p.csv_ignore_columns = "label,x-y";
        break;
    case 2:
        p.csv_embedding_columns = "3-5,7";
        p.csv_quality_columns = "";
        break;
    case 3:
        p.csv_embedding_columns = "embedding";
        p.csv_label_column = "id";
        p.csv_photo_column = "2";
        p.csv_path_column = "1";
        break;
    default: break;
    }
    mc_reader_t *r = NULL;
    if (mc_reader_open(f.path, &p, &r) == MC_OK) fuzz_drain(r);
    fuzz_file_close(&f);
    return 0;
}
