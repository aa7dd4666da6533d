/* The CLI under mpirun: see cli_mpi.h. */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mpi.h>

#include "cli_mpi.h"
#include "cli_util.h"

static int mpi_on, mpi_rank, mpi_size = 1;
static unsigned long long most_sent; /* the most bytes any rank sent in the search */

int cli_mpi_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_SIZE") ||
           getenv("PMI_RANK");
}

int cli_mpi_init(void)
{
    if (MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        cli_error("MPI_Init failed");
        return -1;
    }
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    mpi_on = 1;
    /* one voice: rank 0 prints, the others' messages would only repeat it */
    if (mpi_rank != 0 && (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))) {
        /* nowhere to say it: carry on with the streams as they are */
    }
    return 0;
}

int cli_mpi_finish(int rc)
{
    if (mpi_on) MPI_Finalize();
    mpi_on = 0;
    return rc;
}

int cli_mpi_on(void) { return mpi_on; }
int cli_mpi_rank(void) { return mpi_rank; }
int cli_mpi_size(void) { return mpi_size; }

/* One line, "magclust: error: CMD under mpirun: ...", exit 2. */
static int mpi_refuse(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);
static int mpi_refuse(const char *cmd, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cli_error("%s under mpirun: %s", cmd, msg);
    return CLI_USAGE;
}

int cli_mpi_check_opts(const char *cmd, const cli_opts *o)
{
    if (o->graph_path)
        return mpi_refuse(cmd, "--graph: under mpirun the ranks search the graph; give "
                               "either the graph or mpirun, not both");
    if (o->rp.skip_bad_rows)
        return mpi_refuse(cmd, "--skip-bad-rows is not supported under mpirun (each rank "
                               "reads a slice and cannot renumber the rows after it)");
    if (o->rp.quality_key && strcmp(o->rp.quality_key, "auto") == 0)
        return mpi_refuse(cmd, "--quality-key auto is not supported under mpirun: name the "
                               "quality dataset");
    if (o->kp.index && o->kp.index[0] && strcmp(o->kp.index, "Flat") != 0 &&
        strcmp(o->kp.index, "auto") != 0 && strncmp(o->kp.index, "Cells", 5) != 0)
        return mpi_refuse(cmd, "--index %s: under mpirun only the exact index Flat and the "
                               "Cells<nlist> index are supported (HNSW and FAISS indexes are "
                               "built in one process)", o->kp.index);
    if (o->recall_sample > 0 && strcmp(cmd, "knn") == 0)
        return mpi_refuse(cmd, "--recall-sample: no rank holds every face to search them "
                               "exactly (cluster under mpirun measures it on rank 0)");
    return CLI_OK;
}

int cli_mpi_graph(const char *in_path, const cli_opts *o, const mc_cluster_params *p,
                  mc_knn_graph_t **out, mc_knn_mpi_info *info)
{
    mc_cluster_params q = *p;
    q.n_threads = (int)o->threads;
    mc_status st = mc_knn_mpi_build_h5(MPI_COMM_WORLD, 0, in_path, &o->rp, &q, out, info);
    if (st != MC_OK) return cli_fail_status(st);
    unsigned long long sent = info->bytes_sent;
    if (MPI_Allreduce(&sent, &most_sent, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD) !=
        MPI_SUCCESS)
        most_sent = sent;
    return CLI_OK;
}

void cli_mpi_print(FILE *f, const mc_knn_mpi_info *info)
{
    if (info->exact)
        fprintf(f, "  mpi          %d rank%s, exact ring search: read %.3f s  centre %.3f s  search "
                "%.3f s  gather %.3f s (rank 0); sent %llu bytes a rank at most\n",
                mpi_size, mpi_size == 1 ? "" : "s", info->t_read, info->t_center, info->t_search,
                info->t_gather, most_sent);
    else
        fprintf(f, "  mpi          %d rank%s, %s search routed to the cells' owners (rank 0: "
                "cells %zu to %zu, %zu faces): read %.3f s  centre %.3f s  search %.3f s  gather "
                "%.3f s (rank 0); sent %llu bytes a rank at most\n",
                mpi_size, mpi_size == 1 ? "" : "s", info->index, info->cells_first,
                info->cells_first + info->cells - (info->cells > 0), info->members, info->t_read,
                info->t_center, info->t_search, info->t_gather, most_sent);
}
