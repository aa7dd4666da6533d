/* Shared by the libFuzzer harnesses: hand the fuzzer's bytes to path-based
 * parsers through an anonymous memory file (memfd_create), named
 * /proc/self/fd/N, so that no file is ever written to disk. */
#ifndef MAGCLUST_FUZZ_UTIL_H
#define MAGCLUST_FUZZ_UTIL_H

#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "magclust/magclust.h"

typedef struct {
    int fd;
    char path[64];
} fuzz_file;

/* Abort on failure: the harness cannot run without it. */
static inline void fuzz_file_open(fuzz_file *f, const uint8_t *data, size_t size)
{
    f->fd = memfd_create("magclust-fuzz", MFD_CLOEXEC);
    if (f->fd < 0) {
        perror("memfd_create");
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(f->fd, data + done, size - done);
        if (w <= 0) {
            perror("write");
            abort();
        }
        done += (size_t)w;
    }
    snprintf(f->path, sizeof f->path, "/proc/self/fd/%d", f->fd);
}

static inline void fuzz_file_close(fuzz_file *f) { close(f->fd); }

/* Read every row of an open reader, as import does, then free it. */
static inline void fuzz_drain(mc_reader_t *r)
{
    size_t d = mc_reader_dim(r);
    if (mc_reader_columns(r)) (void)strlen(mc_reader_columns(r));
    const char *const *xn = NULL;
    for (size_t i = 0, nx = mc_reader_extra_names(r, &xn); i < nx; i++) (void)strlen(xn[i]);
    size_t max = 64;
    float *rows = malloc(max * (d ? d : 1) * sizeof *rows);
    int64_t labels[64];
    const char *paths[64];
    if (rows) {
        size_t n = 0;
        while (mc_reader_next(r, max, rows, labels, paths, &n) == MC_OK && n > 0) {
            const char *const *ph = mc_reader_photos(r);
            for (size_t i = 0; i < n; i++) {
                /* Touch what the reader handed back: ASan sees a bad pointer. */
                if (mc_reader_has_paths(r) && paths[i]) (void)strlen(paths[i]);
                if (ph && ph[i]) (void)strlen(ph[i]);
            }
            const float *x = mc_reader_extras(r);
            size_t nx = mc_reader_extra_names(r, NULL);
            volatile float sum = 0;
            for (size_t i = 0; x && i < n * nx; i++) sum += x[i];
            const char *const *names = NULL;
            size_t nn = mc_reader_label_names(r, &names);
            for (size_t i = 0; i < nn; i++) (void)strlen(names[i]);
        }
    }
    free(rows);
    mc_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Called once by libFuzzer (and by standalone_main.c): keep the memory a
 * header may ask for far under libFuzzer's limit (and each run fast), so
 * that an absurd size is refused by the library's own check (what is being
 * tested) rather than killing the fuzzer. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mc_set_memory_limit((uint64_t)16 << 20);
    return 0;
}

#endif
