/* A main() for the harnesses without libFuzzer (gcc builds, ctest): runs
 * LLVMFuzzerTestOneInput once on every file named, and on every file of
 * every directory named (the seed corpus and the regression inputs), so
 * every input that ever crashed a parser is replayed by the ordinary test
 * suite, under the sanitizers when the build has them.
 *
 * Besides a crash, an input fails when the process's peak memory passes
 * MC_REPLAY_MAX_RSS_MB (512 MiB): the harnesses cap what a header may ask for
 * at 16 MiB (fuzz_util.h), so a file that gets that far got past a size check
 * (tests/fuzz/regressions/ holds headers claiming gigabytes to petabytes). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#define MC_REPLAY_MAX_RSS_MB 512

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional, as in libFuzzer: called once before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static int run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "fuzz-replay: cannot open %s\n", path);
        return -1;
    }
    size_t cap = 1 << 16, len = 0;
    uint8_t *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + len, 1, cap - len, f)) > 0) {
        len += got;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap *= 2);
            if (!nb) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (!buf) return -1;
    LLVMFuzzerTestOneInput(buf, len);
    free(buf);
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) == 0 && ru.ru_maxrss / 1024 > MC_REPLAY_MAX_RSS_MB) {
        fprintf(stderr, "fuzz-replay: %s: peak memory %ld MiB, over %d MiB: a size in its header "
                "got past the memory limit\n", path, ru.ru_maxrss / 1024, MC_REPLAY_MAX_RSS_MB);
        return -1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    size_t runs = 0;
    if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) != 0) {
            fprintf(stderr, "fuzz-replay: no such file or directory: %s\n", argv[i]);
            return 1;
        }
        if (!S_ISDIR(sb.st_mode)) {
            if (run_file(argv[i]) != 0) return 1;
            runs++;
            continue;
        }
        DIR *d = opendir(argv[i]);
        if (!d) return 1;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (de->d_name[0] == '.') continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                char **nn = realloc(names, cap * sizeof *nn);
                if (!nn) return 1;
                names = nn;
            }
            size_t l = strlen(argv[i]) + strlen(de->d_name) + 2;
            names[n] = malloc(l);
            if (!names[n]) return 1;
            snprintf(names[n++], l, "%s/%s", argv[i], de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof *names, cmp_str);
        for (size_t j = 0; j < n; j++) {
            if (run_file(names[j]) != 0) return 1;
            runs++;
            free(names[j]);
        }
        free(names);
    }
    printf("fuzz-replay: %zu inputs, no crash\n", runs);
    return runs > 0 ? 0 : 1;
}
