/* knn_mpi.h under mpirun (tests/mpi_test.sh runs it on 3 ranks):
 * mc_knn_mpi_rows splits whole blocks; mc_knn_mpi_build_h5 gives, on the
 * root, the graph mc_knn_graph_build gives on the centred faces, bit for
 * bit, with the one-process fingerprint and centring -- with the exact
 * index, and with the Cells index (alone and with a candidate set, its
 * cells spread over every rank); a missing file, HNSW and candidates with
 * the exact index fail alike on every rank. Usage: test_knn_mpi FILE.h5 [k].
 * Exit 0 when every check holds on every rank. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "magclust/magclust.h"
#include "magclust/knn_mpi.h"

static int failures;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "test_knn_mpi: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            failures++;                                                               \
        }                                                                             \
    } while (0)

static void test_rows(void)
{
    size_t f = 9, r = 9, total = 0, next = 0;
    /* 2713 faces in 1024-row blocks over 4 ranks: 0, 1, 1, 1 blocks */
    for (size_t rank = 0; rank < 4; rank++) {
        CHECK(mc_knn_mpi_rows(2713, 1024, rank, 4, &f, &r) == MC_OK);
        CHECK(f == next);
        CHECK(f % 1024 == 0 || r == 0);
        total += r;
        next = f + r;
    }
    CHECK(total == 2713);
    CHECK(mc_knn_mpi_rows(2713, 0, 0, 1, &f, &r) == MC_OK && f == 0 && r == 2713);
    /* one block of 10 rows over 2 ranks: the last rank takes it */
    CHECK(mc_knn_mpi_rows(10, 1024, 0, 2, &f, &r) == MC_OK && f == 0 && r == 0);
    CHECK(mc_knn_mpi_rows(10, 1024, 1, 2, &f, &r) == MC_OK && f == 0 && r == 10);
    CHECK(mc_knn_mpi_rows(10, 1024, 2, 2, &f, &r) == MC_ERR_INVALID_ARG);
    CHECK(mc_knn_mpi_rows(10, 1024, 0, 0, &f, &r) == MC_ERR_INVALID_ARG);
    CHECK(mc_knn_mpi_rows(10, 1024, 0, 1, NULL, &r) == MC_ERR_INVALID_ARG);
}

/* The Cells index `index` (nlist cells; 0: "Cells", mc_knn_auto_cells()'s
 * count), 3 cells visited: the one-process graph and search figures; every rank owns cells,
 * the ranks' cells and members add up. */
static void test_cells(const char *path, const mc_cluster_params *p0, int rank, int with_cand,
                       const char *index, unsigned long long nlist)
{
    mc_cluster_params p = *p0;
    p.knn.index = index;
    p.knn.nprobe = 3;
    mc_embeddings_t *e = NULL;
    uint8_t *flags = NULL;
    unsigned long long nn = 0; /* the face count, from rank 0's copy */
    if (rank == 0) {
        CHECK(mc_embeddings_read_h5(path, NULL, &e) == MC_OK);
        CHECK(mc_cluster_center(e, &p, NULL, NULL) == MC_OK);
        nn = e ? mc_embeddings_n(e) : 0;
    }
    MPI_Bcast(&nn, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    size_t n = (size_t)nn;
    if (nlist == 0) nlist = mc_knn_auto_cells(n);
    char want[32];
    snprintf(want, sizeof want, "Cells%llu", nlist);
    if (with_cand) { /* two faces in three: the flags every rank passes alike */
        flags = malloc(n);
        CHECK(flags != NULL);
        for (size_t i = 0; flags && i < n; i++) flags[i] = i % 3 != 1;
        p.knn.candidates = flags;
    }
    mc_knn_graph_t *g = NULL;
    mc_knn_mpi_info info;
    mc_status st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, path, NULL, &p, &g, &info);
    CHECK(st == MC_OK);
    CHECK((g != NULL) == (rank == 0));
    CHECK(strcmp(info.index, want) == 0 && !info.exact && info.nprobe == 3);
    CHECK(info.cells > 0 && info.members > 0 && info.queries_in > 0);
    unsigned long long mine[2] = {info.cells, info.members}, sum[2] = {0, 0};
    MPI_Allreduce(mine, sum, 2, MPI_UNSIGNED_LONG_LONG, MPI_SUM, MPI_COMM_WORLD);
    CHECK(sum[0] == nlist && sum[1] == info.n_candidates);
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    /* every rank sends something to another once there are two */
    CHECK(size == 1 || info.bytes_sent > 0);
    if (rank == 0 && g && e) {
        mc_knn_params kp = p.knn;
        kp.n_threads = 2; /* the one-process graph does not depend on it */
        mc_knn_graph_t *one = NULL;
        mc_knn_info ki;
        CHECK(mc_knn_graph_build_ex(e, &kp, &one, &ki) == MC_OK);
        if (one) {
            size_t k = mc_knn_graph_k(one);
            CHECK(mc_knn_graph_n(g) == n && mc_knn_graph_k(g) == k);
            CHECK(memcmp(mc_knn_graph_ids(g), mc_knn_graph_ids(one), n * k * sizeof(int64_t)) == 0);
            CHECK(memcmp(mc_knn_graph_sims(g), mc_knn_graph_sims(one), n * k * sizeof(float)) == 0);
            CHECK(info.n_candidates == ki.n_candidates && info.train_size == ki.train_size);
            CHECK(info.n_candidates == (with_cand ? n - (n + 1) / 3 : n));
            CHECK(memcmp(&info.scan_frac, &ki.scan_frac, sizeof ki.scan_frac) == 0);
            /* a face that is no candidate is nobody's neighbour */
            const int64_t *ids = mc_knn_graph_ids(g);
            int bad = 0;
            for (size_t a = 0; flags && a < n * k; a++) bad += ids[a] >= 0 && !flags[ids[a]];
            CHECK(bad == 0);
        }
        mc_knn_graph_free(one);
    }
    mc_embeddings_free(e);
    mc_knn_graph_free(g);
    free(flags);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_knn_mpi FILE.h5 [k]\n");
        return 2;
    }
    MPI_Init(&argc, &argv);
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    test_rows();

    mc_cluster_params p = mc_cluster_params_default(MC_ALGO_DEFAULT);
    if (argc > 2) p.knn.k = (size_t)atoi(argv[2]);
    p.n_threads = 1;
    mc_knn_graph_t *g = NULL;
    mc_knn_mpi_info info;
    mc_status st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, argv[1], NULL, &p, &g, &info);
    CHECK(st == MC_OK);
    CHECK((g != NULL) == (rank == 0));
    if (rank == 0 && g) {
        /* the one-process graph on the centred faces */
        mc_embeddings_t *e = NULL;
        CHECK(mc_embeddings_read_h5(argv[1], NULL, &e) == MC_OK);
        uint64_t fp = mc_embeddings_fingerprint(e);
        double shift = NAN;
        int centered = -1;
        CHECK(mc_cluster_center(e, &p, &shift, &centered) == MC_OK);
        mc_knn_params kp = p.knn;
        kp.n_threads = 1;
        mc_knn_graph_t *one = NULL;
        CHECK(mc_knn_graph_build(e, &kp, &one) == MC_OK);
        size_t n = mc_knn_graph_n(one), k = mc_knn_graph_k(one);
        CHECK(info.fingerprint == fp);
        CHECK(info.centered == centered);
        CHECK(memcmp(&info.center_shift, &shift, sizeof shift) == 0);
        CHECK(mc_knn_graph_n(g) == n && mc_knn_graph_k(g) == k && info.k == k);
        CHECK(memcmp(mc_knn_graph_ids(g), mc_knn_graph_ids(one), n * k * sizeof(int64_t)) == 0);
        CHECK(memcmp(mc_knn_graph_sims(g), mc_knn_graph_sims(one), n * k * sizeof(float)) == 0);
        mc_knn_graph_free(one);
        mc_embeddings_free(e);
    }
    mc_knn_graph_free(g);

    /* the Cells index, without and with candidates; "Cells" picks nlist as
     * one process does */
    for (int with_cand = 0; with_cand < 2; with_cand++)
        test_cells(argv[1], &p, rank, with_cand, "Cells64", 64);
    test_cells(argv[1], &p, rank, 0, "Cells", 0);

    /* a missing file: the same failure on every rank, no graph */
    g = NULL;
    st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, "/nonexistent/none.h5", NULL, &p, &g, NULL);
    CHECK(st == MC_ERR_IO);
    CHECK(g == NULL);
    CHECK(strstr(mc_last_error_detail(), "none.h5") != NULL);
    /* an approximate index is refused on every rank */
    p.knn.index = "HNSW32";
    st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, argv[1], NULL, &p, &g, NULL);
    CHECK(st == MC_ERR_INVALID_ARG && g == NULL);
    CHECK(strstr(mc_last_error_detail(), "HNSW32") != NULL);
    CHECK(mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, NULL, NULL, &p, &g, NULL) == MC_ERR_INVALID_ARG);
    /* candidates with the exact index: refused on every rank */
    uint8_t *flags = calloc(info.n ? info.n : 1, 1);
    CHECK(flags != NULL);
    p.knn.index = "Flat";
    p.knn.candidates = flags;
    st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, argv[1], NULL, &p, &g, NULL);
    CHECK(st == MC_ERR_INVALID_ARG && g == NULL);
    CHECK(strstr(mc_last_error_detail(), "candidate") != NULL);
    /* Cells with no candidate at all: the one-process refusal, on every rank */
    p.knn.index = "Cells8";
    st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, argv[1], NULL, &p, &g, NULL);
    CHECK(st == MC_ERR_INVALID_ARG && g == NULL);
    CHECK(strstr(mc_last_error_detail(), "empty candidate set") != NULL);
    /* more cells than faces */
    p.knn.candidates = NULL;
    p.knn.index = "Cells100000000";
    st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, argv[1], NULL, &p, &g, NULL);
    CHECK(st == MC_ERR_INVALID_ARG && g == NULL);
    CHECK(strstr(mc_last_error_detail(), "index Cells100000000 needs 1 to") != NULL);
    free(flags);

    int mine = failures, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("test_knn_mpi: %s (%d failed checks over all ranks)\n", all ? "FAIL" : "ok", all);
    MPI_Finalize();
    return all ? 1 : 0;
}
