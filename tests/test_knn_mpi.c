/* knn_mpi.h under mpirun (tests/mpi_test.sh runs it on 1 to 4 ranks):
 * mc_knn_mpi_rows splits whole blocks; mc_knn_mpi_build_h5 gives, on the
 * root, the graph mc_knn_graph_build gives on the centred faces, bit for
 * bit, with the one-process fingerprint and centring; a missing file fails
 * alike on every rank. Usage: test_knn_mpi FILE.h5 [k]. Exit 0 when every
 * check holds on every rank. */
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
    CHECK(mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, NULL, NULL, &p, &g, NULL) == MC_ERR_INVALID_ARG);

    int mine = failures, all = 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank == 0) printf("test_knn_mpi: %s (%d failed checks over all ranks)\n", all ? "FAIL" : "ok", all);
    MPI_Finalize();
    return all ? 1 : 0;
}
