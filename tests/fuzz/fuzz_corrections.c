/* libFuzzer harness: the hand-written corrections file (`assign` and
 * `cluster --corrections`: path,NAME / path,!NAME / path,ID /
 * pathA,pathB,same|different, with quoting, comments and blank lines)
 * against eight known faces, two of them with a previous cluster and a
 * person; then the constraint set's own check. The same bytes are also read
 * as a previous result's CSV (`--previous`, the clusters CSV that cluster
 * writes). */
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[8] = {"a/1.jpg", "a/2.jpg", "b/1.jpg", "b/2.jpg",
                                         "c/1.jpg", "c/2.jpg", "d/1.jpg", "=x.jpg"};
    static const float quality[8] = {9, 8, 7, 6, 5, 4, 3, 2};
    static const int64_t prev_cluster[8] = {0, 0, 1, 1, -1, -1, 2, -1};
    static const char *const prev_person[8] = {"Ann", "Ann", "", NULL, "", "", "Bob", ""};
    fuzz_file f;
    fuzz_file_open(&f, data, size);

    mc_constraints_t *c = NULL;
    if (mc_constraints_new(8, &c) == MC_OK) {
        mc_corrections_info info;
        if (mc_corrections_read(c, f.path, paths, quality, prev_cluster, prev_person, &info) ==
            MC_OK)
            (void)mc_constraints_check(c);
        mc_constraints_free(c);
    }
    c = NULL;
    if (mc_constraints_new(8, &c) == MC_OK) {
        (void)mc_corrections_read(c, f.path, paths, NULL, NULL, NULL, NULL);
        mc_constraints_free(c);
    }

    mc_previous_t *prev = NULL;
    if (mc_previous_read_csv(f.path, &prev) == MC_OK) {
        int64_t pc[8];
        const char *pp[8];
        size_t found = 0;
        if (mc_previous_lookup(prev, 8, paths, pc, pp, &found) == MC_OK)
            for (size_t i = 0; i < 8; i++)
                if (pp[i]) (void)strlen(pp[i]);
        for (size_t i = 0; i < mc_previous_n(prev); i++) {
            (void)strlen(mc_previous_path(prev, i));
            const char *person = mc_previous_person(prev, i);
            if (person) (void)strlen(person);
        }
        mc_previous_free(prev);
    }
    fuzz_file_close(&f);
    return 0;
}
