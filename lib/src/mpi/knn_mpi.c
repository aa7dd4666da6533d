/* The exact k-NN graph over MPI ranks (knn_mpi.h): slices read apart, the
 * centring and the fingerprint summed in row order from rank to rank, the
 * data blocks sent round a ring while each rank searches its own rows with
 * the one-process search's sgemm blocks (mc_knn_exact_push), the rows
 * gathered on the root. Compiled only with -DMAGCLUST_MPI=ON. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/knn_mpi.h"
#include "embeddings_impl.h"
#include "knn_impl.h"
#include "util_impl.h"

/* ---- the split -------------------------------------------------------------- */

/* Units [floor(r u / R), floor((r + 1) u / R)) of u, without overflowing r u. */
static void split_units(size_t u, size_t r, size_t R, size_t *lo, size_t *hi)
{
    size_t a = u / R, b = u % R;
    *lo = r * a + r * b / R;
    *hi = (r + 1) * a + (r + 1) * b / R;
}

/* Rows of units of `unit` rows, clipped to n. */
static void split_rows(size_t n, size_t unit, size_t r, size_t R, size_t *first, size_t *rows)
{
    size_t lo, hi;
    split_units((n + unit - 1) / unit, r, R, &lo, &hi);
    size_t a = lo * unit < n ? lo * unit : n, b = hi * unit < n ? hi * unit : n;
    *first = a;
    *rows = b - a;
}

static size_t query_block(size_t n, size_t block_size)
{
    size_t qb = block_size ? block_size : 1024;
    return qb < n ? qb : n;
}

mc_status mc_knn_mpi_rows(size_t n, size_t block_size, size_t rank, size_t n_ranks,
                          size_t *out_first, size_t *out_rows)
{
    if (!out_first || !out_rows) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_mpi_rows");
    *out_first = *out_rows = 0;
    if (n_ranks == 0 || rank >= n_ranks)
        return mc_fail(MC_ERR_INVALID_ARG, "rank %zu of %zu ranks", rank, n_ranks);
    if (n == 0) return MC_OK;
    split_rows(n, query_block(n, block_size), rank, n_ranks, out_first, out_rows);
    return MC_OK;
}

/* ---- agreeing on failure ---------------------------------------------------- */

static mc_status mpi_fail(int err, const char *call)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, msg, &len) != MPI_SUCCESS) snprintf(msg, sizeof msg, "error %d", err);
    return mc_fail(MC_ERR_IO, "%s failed: %s", call, msg);
}

/* Every rank learns whether any failed; all then hold the first failing
 * rank's status and detail. */
static mc_status agree(MPI_Comm c, int rank, mc_status st)
{
    int mine = st != MC_OK ? rank : INT_MAX, first = INT_MAX;
    int err = MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, c);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Allreduce");
    if (first == INT_MAX) return MC_OK;
    struct {
        int st;
        char detail[1024];
    } msg;
    memset(&msg, 0, sizeof msg);
    if (rank == first) {
        msg.st = (int)st;
        snprintf(msg.detail, sizeof msg.detail, "%s", mc_last_error_detail());
    }
    err = MPI_Bcast(&msg, (int)sizeof msg, MPI_BYTE, first, c);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Bcast");
    return mc_fail((mc_status)msg.st, "%s", msg.detail);
}

/* ---- the build -------------------------------------------------------------- */

typedef struct {
    MPI_Comm c;
    int rank, R;
    size_t n, d, k, qb;
    size_t qlo, qrows;   /* this rank's queries */
    size_t hlo, hrows;   /* the rows read: the hull of the queries and the data */
    mc_embeddings_t *e;  /* rows [hlo, hlo + hrows); NULL when none */
    float *qall;         /* every face's quality */
    float *mag_all;      /* root, with a quality key: every face's magnitude */
    int *counts, *displs;
    MPI_Datatype row_f;  /* d floats */
} ctx;

/* Index spec check: only the exact search (or auto while it means it). */
static mc_status check_index(const mc_knn_params *kp, size_t n)
{
    char spec[64];
    if (!kp->index || !kp->index[0] || strcmp(kp->index, "auto") == 0)
        mc_knn_auto_index(n, spec, sizeof spec);
    else
        snprintf(spec, sizeof spec, "%s", kp->index);
    if (strcmp(spec, "Flat") != 0)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index %s%s%s: an MPI search supports only the exact index Flat (an "
                       "approximate index's rows depend on its training and on which faces are "
                       "searched together)",
                       kp->index && kp->index[0] ? "" : "auto = ", spec,
                       kp->index && kp->index[0] ? "" : " for this many faces");
    if (kp->candidates)
        return mc_fail(MC_ERR_INVALID_ARG, "an MPI search takes no candidate set");
    return MC_OK;
}

/* Read the slice and share every face's quality (and, for the root, its
 * magnitude when the quality is another dataset). */
static mc_status read_share(ctx *x, const char *path, const mc_h5_read_params *rp)
{
    mc_status st = MC_OK;
    if (x->hrows > 0) st = mc_embeddings_read_h5_rows(path, rp, x->hlo, x->hrows, &x->e);
    if (st == MC_OK && !(x->qall = mc_malloc_array(x->n, sizeof *x->qall)))
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu qualities", x->n);
    if (st == MC_OK && x->rank == 0 && rp && rp->quality_key &&
        !(x->mag_all = mc_malloc_array(x->n, sizeof *x->mag_all)))
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu magnitudes", x->n);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) return st;
    size_t off = x->qlo - x->hlo;
    const float *q = x->qrows ? mc_embeddings_quality(x->e) + off : NULL;
    float dummy = 0.0f;
    int err = MPI_Allgatherv(q ? q : &dummy, (int)x->qrows, MPI_FLOAT, x->qall, x->counts,
                             x->displs, MPI_FLOAT, x->c);
    if (err != MPI_SUCCESS) return agree(x->c, x->rank, mpi_fail(err, "MPI_Allgatherv"));
    if (rp && rp->quality_key) {
        const float *m = x->qrows ? mc_embeddings_magnitudes(x->e) + off : &dummy;
        err = MPI_Gatherv(m, (int)x->qrows, MPI_FLOAT, x->mag_all, x->counts, x->displs, MPI_FLOAT,
                          0, x->c);
        if (err != MPI_SUCCESS) return agree(x->c, x->rank, mpi_fail(err, "MPI_Gatherv"));
    }
    return MC_OK;
}

/* The centring and the fingerprint, in row order from rank 0 to the last
 * rank, then broadcast: the same doubles and hash as one process. */
static mc_status center_chain(ctx *x, const mc_cluster_params *p, uint64_t *out_fp,
                              int *out_centered, double *out_shift)
{
    size_t d = x->d;
    mc_calibrate_params cp = p->calibrate;
    double minq = mc_threshold_resolve(&cp.sample_quality, x->qall, x->n);
    /* the message: the hash state, the count and the sum of d doubles */
    size_t bytes = sizeof(mc_fp_stream) + sizeof(uint64_t) + d * sizeof(double);
    unsigned char *msg = calloc(1, bytes);
    double *sum = malloc(d * sizeof *sum);
    mc_status st = msg && sum ? MC_OK : mc_fail(MC_ERR_NOMEM, "out of memory for a %zu-d mean", d);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    mc_fp_stream fp;
    uint64_t m = 0;
    int err = MPI_SUCCESS;
    if (x->rank == 0) {
        mc_fp_stream_init(&fp, mc_fp_start(x->n, d), x->n * d * sizeof(float));
        memset(sum, 0, d * sizeof *sum);
    } else {
        err = MPI_Recv(msg, (int)bytes, MPI_BYTE, x->rank - 1, 1, x->c, MPI_STATUS_IGNORE);
        if (err != MPI_SUCCESS) {
            st = mpi_fail(err, "MPI_Recv");
            goto done;
        }
        memcpy(&fp, msg, sizeof fp);
        memcpy(&m, msg + sizeof fp, sizeof m);
        memcpy(sum, msg + sizeof fp + sizeof m, d * sizeof *sum);
    }
    if (x->qrows > 0) {
        size_t off = x->qlo - x->hlo;
        const float *dir = mc_embeddings_directions(x->e) + off * d;
        mc_fp_stream_update(&fp, dir, x->qrows * d * sizeof *dir);
        size_t cnt = (size_t)m;
        mc_center_sum_rows(dir, x->qrows, d, x->qall + x->qlo, minq, sum, &cnt);
        m = cnt;
    }
    int last = x->R - 1;
    if (x->rank < last) {
        memcpy(msg, &fp, sizeof fp);
        memcpy(msg + sizeof fp, &m, sizeof m);
        memcpy(msg + sizeof fp + sizeof m, sum, d * sizeof *sum);
        err = MPI_Send(msg, (int)bytes, MPI_BYTE, x->rank + 1, 1, x->c);
        if (err != MPI_SUCCESS) {
            st = mpi_fail(err, "MPI_Send");
            goto done;
        }
    }
    /* the last rank finishes: the direction hash and the mean (in sum) */
    struct {
        uint64_t h, m;
        double shift;
    } fin = {0, 0, 0.0};
    if (x->rank == last) {
        fin.h = mc_fp_stream_final(&fp);
        fin.m = m;
        fin.shift = mc_center_mean(sum, d, (size_t)m);
    }
    if ((err = MPI_Bcast(&fin, (int)sizeof fin, MPI_BYTE, last, x->c)) != MPI_SUCCESS ||
        (err = MPI_Bcast(sum, (int)d, MPI_DOUBLE, last, x->c)) != MPI_SUCCESS) {
        st = mpi_fail(err, "MPI_Bcast");
        goto done;
    }
    /* the magnitudes' hash: the qualities when they are the magnitudes */
    uint64_t h = 0;
    if (x->rank == 0) {
        const float *mags = x->mag_all ? x->mag_all : x->qall;
        mc_fp_stream s2;
        mc_fp_stream_init(&s2, fin.h, x->n * sizeof *mags);
        mc_fp_stream_update(&s2, mags, x->n * sizeof *mags);
        h = mc_fp_finish(mc_fp_stream_final(&s2));
    }
    if ((err = MPI_Bcast(&h, 1, MPI_UINT64_T, 0, x->c)) != MPI_SUCCESS) {
        st = mpi_fail(err, "MPI_Bcast");
        goto done;
    }
    *out_fp = h;
    *out_shift = p->center ? fin.shift : NAN;
    *out_centered = p->center && mc_center_removes(fin.shift, (size_t)fin.m);
    if (*out_centered && x->hrows > 0)
        mc_directions_subtract_mean(mc_embeddings_directions_mut(x->e), x->hrows, d, sum);
done:
    free(msg);
    free(sum);
    return agree(x->c, x->rank, st);
}

/* The ring: each rank's data blocks visit every rank; the next block is
 * received while the current one is searched. */
static mc_status ring_search(ctx *x, const mc_cluster_params *p, int64_t *ids, float *sims,
                             uint64_t *bytes_sent)
{
    size_t d = x->d, k = x->k, unit = MC_KNN_EXACT_DB_BLOCK, P = 0;
    for (int o = 0; o < x->R; o++) {
        size_t f, r;
        split_rows(x->n, unit, (size_t)o, (size_t)x->R, &f, &r);
        if (r > P) P = r;
    }
    float *buf[2] = {mc_malloc_array(P * d, sizeof(float)), mc_malloc_array(P * d, sizeof(float))};
    size_t *cnt = calloc(x->qrows ? x->qrows : 1, sizeof *cnt);
    mc_status st = buf[0] && buf[1] && cnt
                       ? MC_OK
                       : mc_fail(MC_ERR_NOMEM, "out of memory for two ring buffers of %zu x %zu "
                                 "floats", P, d);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    size_t dfirst, drows;
    split_rows(x->n, unit, (size_t)x->rank, (size_t)x->R, &dfirst, &drows);
    if (drows)
        memcpy(buf[0], mc_embeddings_directions(x->e) + (dfirst - x->hlo) * d,
               drows * d * sizeof(float));
    const float *xq = x->qrows ? mc_embeddings_directions(x->e) + (x->qlo - x->hlo) * d : NULL;
    int next = (x->rank + 1) % x->R, prev = (x->rank + x->R - 1) % x->R, cur = 0;
    mc_status cst = MC_OK; /* a search failure: the ring still turns, to stay matched */
    for (int s = 0; s < x->R; s++) {
        int owner = (x->rank - s + x->R) % x->R, from = (owner - 1 + x->R) % x->R;
        size_t of, orows, ff, frows;
        split_rows(x->n, unit, (size_t)owner, (size_t)x->R, &of, &orows);
        split_rows(x->n, unit, (size_t)from, (size_t)x->R, &ff, &frows);
        MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
        int err = MPI_SUCCESS;
        if (s < x->R - 1) {
            if ((err = MPI_Irecv(buf[1 - cur], (int)frows, x->row_f, prev, 2, x->c, &req[0])) !=
                    MPI_SUCCESS ||
                (err = MPI_Isend(buf[cur], (int)orows, x->row_f, next, 2, x->c, &req[1])) !=
                    MPI_SUCCESS) {
                st = mpi_fail(err, "MPI_Isend/MPI_Irecv");
                break;
            }
            *bytes_sent += (uint64_t)orows * d * sizeof(float);
        }
        if (cst == MC_OK && orows > 0 && x->qrows > 0) {
            mc_knn_exact_job j = {xq, x->qrows, buf[cur], orows, NULL, 0, d, k, x->qlo, x->qb, 0,
                                  1, p->n_threads, NULL, NULL};
            cst = mc_knn_exact_push(&j, x->qb, of, cnt, ids, sims);
        }
        if ((err = MPI_Waitall(2, req, MPI_STATUSES_IGNORE)) != MPI_SUCCESS) {
            st = mpi_fail(err, "MPI_Waitall");
            break;
        }
        cur = 1 - cur;
    }
    if (st == MC_OK) st = cst;
    if (st == MC_OK)
        for (size_t r = 0; r < x->qrows; r++) mc_knn_finish_row(ids + r * k, sims + r * k, k, cnt[r], 1);
done:
    free(buf[0]);
    free(buf[1]);
    free(cnt);
    return agree(x->c, x->rank, st);
}

static mc_status gather_rows(ctx *x, const int64_t *ids, const float *sims, mc_knn_graph_t **out,
                             int root)
{
    mc_knn_graph_t *g = NULL;
    mc_status st = MC_OK;
    if (x->rank == root) st = mc_knn_graph_alloc(x->n, x->k, &g);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) return st;
    MPI_Datatype row_i = MPI_DATATYPE_NULL, row_s = MPI_DATATYPE_NULL;
    int err = MPI_Type_contiguous((int)x->k, MPI_INT64_T, &row_i);
    if (err == MPI_SUCCESS) err = MPI_Type_commit(&row_i);
    if (err == MPI_SUCCESS) err = MPI_Type_contiguous((int)x->k, MPI_FLOAT, &row_s);
    if (err == MPI_SUCCESS) err = MPI_Type_commit(&row_s);
    int64_t di = 0;
    float ds = 0.0f;
    if (err == MPI_SUCCESS)
        err = MPI_Gatherv(x->qrows ? ids : &di, (int)x->qrows, row_i,
                          g ? mc_knn_graph_ids_mut(g) : NULL, x->counts, x->displs, row_i, root,
                          x->c);
    if (err == MPI_SUCCESS)
        err = MPI_Gatherv(x->qrows ? sims : &ds, (int)x->qrows, row_s,
                          g ? mc_knn_graph_sims_mut(g) : NULL, x->counts, x->displs, row_s, root,
                          x->c);
    if (err != MPI_SUCCESS) st = mpi_fail(err, "MPI_Gatherv");
    if (row_i != MPI_DATATYPE_NULL) MPI_Type_free(&row_i);
    if (row_s != MPI_DATATYPE_NULL) MPI_Type_free(&row_s);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) {
        mc_knn_graph_free(g);
        return st;
    }
    *out = g;
    return MC_OK;
}

mc_status mc_knn_mpi_build_h5(MPI_Comm comm, int root, const char *path,
                              const mc_h5_read_params *rp, const mc_cluster_params *p,
                              mc_knn_graph_t **out, mc_knn_mpi_info *info)
{
    mc_clear_error();
    if (out) *out = NULL;
    if (info) memset(info, 0, sizeof *info);
    mc_cluster_params defaults = mc_cluster_params_default(MC_ALGO_DEFAULT);
    if (!p) p = &defaults;
    ctx x;
    memset(&x, 0, sizeof x);
    x.row_f = MPI_DATATYPE_NULL;
    int err = MPI_Comm_dup(comm, &x.c);
    if (err != MPI_SUCCESS) return mpi_fail(err, "MPI_Comm_dup");
    MPI_Comm_set_errhandler(x.c, MPI_ERRORS_RETURN);
    MPI_Comm_rank(x.c, &x.rank);
    MPI_Comm_size(x.c, &x.R);
    double t0 = MPI_Wtime(), t1 = t0, t2 = t0, t3 = t0;
    int64_t *ids = NULL;
    float *sims = NULL;
    uint64_t sent = 0, fp = 0;
    int centered = 0;
    double shift = NAN;

    /* the shape, the same on every rank, and the parameters */
    mc_status st = MC_OK;
    if (!path || !out) st = mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_mpi_build_h5");
    else if (root < 0 || root >= x.R)
        st = mc_fail(MC_ERR_INVALID_ARG, "root %d of %d ranks", root, x.R);
    else if (rp && rp->skip_bad_rows)
        st = mc_fail(MC_ERR_INVALID_ARG, "skipping bad rows needs the whole file in one process: "
                     "an MPI search refuses it");
    else
        st = mc_embeddings_h5_shape(path, rp, &x.n, &x.d);
    if ((st = agree(x.c, x.rank, st)) != MC_OK) goto done;
    uint64_t shape[2] = {x.n, x.d}, lo[2], hi[2];
    if ((err = MPI_Allreduce(shape, lo, 2, MPI_UINT64_T, MPI_MIN, x.c)) != MPI_SUCCESS ||
        (err = MPI_Allreduce(shape, hi, 2, MPI_UINT64_T, MPI_MAX, x.c)) != MPI_SUCCESS)
        st = mpi_fail(err, "MPI_Allreduce");
    else if (lo[0] != hi[0] || lo[1] != hi[1])
        st = mc_fail(MC_ERR_BAD_DATA, "%s: the ranks see different files (%llu to %llu rows, %llu "
                     "to %llu columns)", path, (unsigned long long)lo[0], (unsigned long long)hi[0],
                     (unsigned long long)lo[1], (unsigned long long)hi[1]);
    else if (x.n < 2)
        st = mc_fail(MC_ERR_INVALID_ARG, "%s: %zu face: a graph needs at least 2", path, x.n);
    else if (x.n > (size_t)INT_MAX)
        st = mc_fail(MC_ERR_INVALID_ARG, "%s: %zu faces: an MPI search takes at most %d", path,
                     x.n, INT_MAX);
    else if (p->knn.k == 0)
        st = mc_fail(MC_ERR_INVALID_ARG, "k must be at least 1");
    else
        st = check_index(&p->knn, x.n);
    if ((st = agree(x.c, x.rank, st)) != MC_OK) goto done;
    x.k = p->knn.k < x.n ? p->knn.k : x.n - 1;
    x.qb = query_block(x.n, p->knn.block_size);

    /* who does what: whole query blocks, whole data blocks, and the hull read */
    size_t dfirst, drows;
    split_rows(x.n, x.qb, (size_t)x.rank, (size_t)x.R, &x.qlo, &x.qrows);
    split_rows(x.n, MC_KNN_EXACT_DB_BLOCK, (size_t)x.rank, (size_t)x.R, &dfirst, &drows);
    if (x.qrows && drows) {
        x.hlo = x.qlo < dfirst ? x.qlo : dfirst;
        size_t e1 = x.qlo + x.qrows, e2 = dfirst + drows;
        x.hrows = (e1 > e2 ? e1 : e2) - x.hlo;
    } else if (x.qrows || drows) {
        x.hlo = x.qrows ? x.qlo : dfirst;
        x.hrows = x.qrows ? x.qrows : drows;
    }
    x.counts = malloc((size_t)x.R * sizeof *x.counts);
    x.displs = malloc((size_t)x.R * sizeof *x.displs);
    st = x.counts && x.displs ? MC_OK : mc_fail(MC_ERR_NOMEM, "out of memory");
    for (int r = 0; st == MC_OK && r < x.R; r++) {
        size_t f, n_r;
        split_rows(x.n, x.qb, (size_t)r, (size_t)x.R, &f, &n_r);
        x.counts[r] = (int)n_r;
        x.displs[r] = (int)f;
    }
    if (st == MC_OK && ((err = MPI_Type_contiguous((int)x.d, MPI_FLOAT, &x.row_f)) != MPI_SUCCESS ||
                        (err = MPI_Type_commit(&x.row_f)) != MPI_SUCCESS))
        st = mpi_fail(err, "MPI_Type_commit");
    if ((st = agree(x.c, x.rank, st)) != MC_OK) goto done;

    if ((st = read_share(&x, path, rp)) != MC_OK) goto done;
    t1 = MPI_Wtime();
    if ((st = center_chain(&x, p, &fp, &centered, &shift)) != MC_OK) goto done;
    t2 = MPI_Wtime();
    ids = mc_malloc_array(x.qrows ? x.qrows * x.k : 1, sizeof *ids);
    sims = mc_malloc_array(x.qrows ? x.qrows * x.k : 1, sizeof *sims);
    st = ids && sims ? MC_OK
                     : mc_fail(MC_ERR_NOMEM, "out of memory for %zu x %zu rows of the k-NN graph",
                               x.qrows, x.k);
    if ((st = agree(x.c, x.rank, st)) != MC_OK) goto done;
    if ((st = ring_search(&x, p, ids, sims, &sent)) != MC_OK) goto done;
    t3 = MPI_Wtime();
    mc_knn_graph_t *g = NULL;
    if ((st = gather_rows(&x, ids, sims, &g, root)) != MC_OK) goto done;
    *out = g;
    if (info) {
        info->n = x.n;
        info->d = x.d;
        info->k = x.k;
        info->n_ranks = (size_t)x.R;
        info->first = x.qlo;
        info->rows = x.qrows;
        info->data_first = dfirst;
        info->data_rows = drows;
        info->read_rows = x.hrows;
        info->fingerprint = fp;
        info->centered = centered;
        info->center_shift = shift;
        info->bytes_sent = sent;
        info->t_read = t1 - t0;
        info->t_center = t2 - t1;
        info->t_search = t3 - t2;
        info->t_gather = MPI_Wtime() - t3;
    }
done:
    free(ids);
    free(sims);
    free(x.counts);
    free(x.displs);
    free(x.qall);
    free(x.mag_all);
    mc_embeddings_free(x.e);
    if (x.row_f != MPI_DATATYPE_NULL) MPI_Type_free(&x.row_f);
    /* the detail survives the frees: they leave it alone */
    MPI_Comm_free(&x.c);
    return st;
}
