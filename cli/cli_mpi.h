/* The CLI under mpirun (a -DMAGCLUST_MPI=ON build only): 'knn' and
 * 'cluster' started by an MPI launcher search over the ranks
 * (magclust/knn_mpi.h); rank 0 alone prints and writes. */
#ifndef MAGCLUST_CLI_MPI_H
#define MAGCLUST_CLI_MPI_H

#include "magclust/knn_mpi.h"
#include "pipeline.h"

/* 1 when an MPI launcher (mpirun, srun with PMI/PMIx) started this process. */
int cli_mpi_launched(void);
/* MPI_Init, errors returned rather than fatal, and the output of every rank
 * but 0 sent to /dev/null. 0, or -1 after printing an error. */
int cli_mpi_init(void);
/* MPI_Finalize; returns rc. */
int cli_mpi_finish(int rc);
/* 1 between cli_mpi_init and cli_mpi_finish. */
int cli_mpi_on(void);
/* This process's rank and the rank count (0 and 1 without MPI). */
int cli_mpi_rank(void);
int cli_mpi_size(void);
/* The options a search over the ranks cannot take, as a usage error
 * (CLI_USAGE), else CLI_OK. */
int cli_mpi_check_opts(const char *cmd, const cli_opts *o);
/* The graph (Flat or Cells) of in_path over every rank (collective),
 * centred as p says: on rank 0 in *out, NULL elsewhere. CLI_OK on every rank, or
 * CLI_FAIL on every rank with rank 0 printing the error. */
int cli_mpi_graph(const char *in_path, const cli_opts *o, const mc_cluster_params *p,
                  mc_knn_graph_t **out, mc_knn_mpi_info *info);
/* The search's line of a summary: ranks, seconds, bytes sent (rank 0). */
void cli_mpi_print(FILE *f, const mc_knn_mpi_info *info);

#endif
