/* The k-NN graph over MPI ranks (knn_mpi.h): slices read apart, the
 * centring and the fingerprint summed in row order from rank to rank; then
 * either the exact search -- the data blocks sent round a ring while each
 * rank searches its own rows with the one-process search's sgemm blocks
 * (mc_knn_exact_push) -- or the Cells search -- trained on rank 0, the cells
 * owned by ranks, each chunk's queries sent to the owners of the cells they
 * visit (mc_knn_cells_products) -- and the rows gathered on the root.
 * Compiled only with -DMAGCLUST_MPI=ON. */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <omp.h>
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
    size_t qunit;        /* queries are split in whole units: exact blocks or Cells chunks */
    size_t qlo, qrows;   /* this rank's queries */
    size_t hlo, hrows;   /* the rows read: the hull of the queries and the data (Flat),
                            or the queries widened to whole assignment blocks (Cells) */
    mc_embeddings_t *e;  /* rows [hlo, hlo + hrows); NULL when none */
    float *qall;         /* every face's quality */
    float *mag_all;      /* root, with a quality key: every face's magnitude */
    int *counts, *displs;
    MPI_Datatype row_f;  /* d floats */
} ctx;

/* After a collective call: every rank learns whether it failed anywhere
 * (so that all leave together, none waiting in the next collective). */
static mc_status agree_call(const ctx *x, int err, const char *call)
{
    return agree(x->c, x->rank, err != MPI_SUCCESS ? mpi_fail(err, call) : MC_OK);
}

/* The index, resolved as mc_knn_graph_build_ex() resolves it: "Flat"
 * (*nlist 0; auto as on a CPU without the 8-bit kernel) or "Cells<nlist>"
 * into spec, any other refused; for Cells the candidate list too (*cand
 * NULL and *nc n: every face). */
static mc_status resolve_index(const mc_knn_params *kp, size_t n, size_t **cand, size_t *nc,
                               char *spec, size_t size, size_t *nlist)
{
    char s[64];
    int automatic = !kp->index || !kp->index[0] || strcmp(kp->index, "auto") == 0;
    *nlist = 0;
    if (automatic) {
        /* the ring search has no 8-bit kernel: what a CPU without one gets */
        mc_knn_auto_index_for(n, 0, 0, s, sizeof s);
    }
    else if (strlen(kp->index) >= sizeof s)
        return mc_fail(MC_ERR_INVALID_ARG, "index description \"%.40s...\" is too long (max %zu)",
                       kp->index, sizeof s - 1);
    else snprintf(s, sizeof s, "%s", kp->index);
    if (strcmp(s, "Flat") == 0) {
        if (kp->candidates)
            return mc_fail(MC_ERR_INVALID_ARG, "an exact MPI search takes no candidate set (the "
                           "Cells index does)");
        snprintf(spec, size, "Flat");
        return MC_OK;
    }
    size_t L = 0;
    int c = mc_knn_parse_cells(s, &L);
    if (c < 0)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index \"%s\": expected Cells or Cells<nlist>, nlist a positive number", s);
    if (c == 0)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "index %s%s%s: an MPI search supports only the exact index Flat and the "
                       "Cells<nlist> index (HNSW's and FAISS's indexes are built in one process)",
                       automatic ? "auto = " : "", s, automatic ? " for this many faces" : "");
    mc_status st = mc_knn_candidate_list(kp->candidates, n, cand, nc);
    if (st != MC_OK) return st;
    *nlist = L ? L : mc_knn_auto_cells(*nc);
    snprintf(spec, size, "Cells%zu", *nlist);
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

/* ---- the Cells search ----------------------------------------------------- */

/* What the Cells search did on this rank (into mc_knn_mpi_info). */
typedef struct {
    size_t cells_first, cells, members, queries_in;
    uint64_t pairs; /* summed over the ranks: similarities computed */
    uint64_t bytes_sent;
    double t_train, t_add; /* seconds: training (with its gather and broadcast); assignment and
                              distribution */
} cells_stats;

/* The rank whose queries hold face i (the query split of x). */
static int query_owner(const ctx *x, size_t i)
{
    int lo = 0, hi = x->R - 1;
    while (lo < hi) { /* the last rank whose first row is <= i */
        int mid = (lo + hi + 1) / 2;
        if ((size_t)x->displs[mid] <= i) lo = mid;
        else hi = mid - 1;
    }
    /* a rank without rows starts where the next one does: never the last
     * whose first row is <= i < N */
    return lo;
}

/* Bytes of the counts[] items of `size` bytes sent to ranks other than me. */
static uint64_t bytes_out(const int *counts, int R, int me, size_t size)
{
    uint64_t b = 0;
    for (int o = 0; o < R; o++)
        if (o != me) b += (uint64_t)counts[o] * size;
    return b;
}

/* Exclusive prefix sums of counts into displs; the total, or -1 past INT_MAX. */
static long long prefix(const int *counts, int R, int *displs)
{
    long long t = 0;
    for (int o = 0; o < R; o++) {
        displs[o] = (int)t;
        t += counts[o];
        if (t > INT_MAX) return -1;
    }
    return t;
}

/* The training rows, in the one-process sample's order, on rank 0: each
 * rank sends the sampled rows it read (already centred: reading them again
 * on rank 0 would mean a scattered point selection of t rows and the
 * centring over again), then rank 0 trains and broadcasts the centroids. */
static mc_status cells_train(ctx *x, const mc_knn_params *par, const size_t *cand, size_t m,
                             const mc_knn_cells_plan *pl, float *cent, cells_stats *cs)
{
    size_t d = x->d, t = pl->t, L = pl->L;
    size_t *rows = mc_knn_sample_rows(cand, m, t, par->seed);
    int *rc = calloc((size_t)x->R, sizeof *rc), *rd = calloc((size_t)x->R, sizeof *rd);
    size_t mine = 0;
    float *sendb = NULL, *recvb = NULL, *sx = NULL;
    mc_status st = rows && rc && rd ? MC_OK : mc_fail(MC_ERR_NOMEM, "out of memory for the training sample");
    if (st == MC_OK) {
        for (size_t s = 0; s < t; s++) {
            int o = query_owner(x, rows[s]);
            rc[o]++;
            if (o == x->rank) mine++;
        }
        prefix(rc, x->R, rd);
        sendb = mc_malloc_array(mine ? mine * d : 1, sizeof *sendb);
        if (x->rank == 0) {
            recvb = mc_malloc_array(t * d, sizeof *recvb);
            sx = mc_malloc_array(t * d, sizeof *sx);
        }
        if (!sendb || (x->rank == 0 && (!recvb || !sx)))
            st = mc_fail(MC_ERR_NOMEM, "out of memory for training %zu cells on %zu faces", L, t);
    }
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    const float *xh = x->hrows ? mc_embeddings_directions(x->e) : NULL;
    size_t a = 0;
    for (size_t s = 0; s < t; s++)
        if (rows[s] >= x->qlo && rows[s] < x->qlo + x->qrows)
            memcpy(sendb + (a++) * d, xh + (rows[s] - x->hlo) * d, d * sizeof *sendb);
    int err = MPI_Gatherv(sendb, (int)mine, x->row_f, recvb, rc, rd, x->row_f, 0, x->c);
    if ((st = agree_call(x, err, "MPI_Gatherv")) != MC_OK) goto done;
    if (x->rank != 0) cs->bytes_sent += (uint64_t)mine * d * sizeof(float);
    if (x->rank == 0) {
        /* back into sample order: rank o's rows came in the order of s */
        for (int o = 0; o < x->R; o++) rc[o] = 0;
        for (size_t s = 0; s < t; s++) {
            int o = query_owner(x, rows[s]);
            memcpy(sx + s * d, recvb + ((size_t)rd[o] + (size_t)rc[o]++) * d, d * sizeof *sx);
        }
        free(recvb);
        recvb = NULL;
        st = mc_knn_cells_train(sx, t, d, L, cent, par);
    }
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    st = agree_call(x, MPI_Bcast(cent, (int)L, x->row_f, 0, x->c), "MPI_Bcast");
done:
    free(rows);
    free(rc);
    free(rd);
    free(sendb);
    free(recvb);
    free(sx);
    return st;
}

/* The members of the cells this rank owns, in cell order and within a cell
 * in id order (the one-process lists). Every candidate's cell is known only
 * to the rank that read it (its nearest centroid), so the rows go from
 * their readers to the owners in one all-to-all: each row crosses the
 * network at most once, and no rank opens the file a second time for a
 * scattered selection. */
typedef struct {
    size_t L, clo, chi; /* this rank owns cells [clo, chi) */
    size_t *lstart;     /* L + 1: every cell's first member, over all ranks */
    int *cown;          /* L: each cell's owner */
    size_t mbase, nm;   /* lstart[clo], and the members held */
    float *mem;         /* nm x d */
    size_t *mid;        /* nm ids */
} cells_own;

static void cells_own_free(cells_own *w)
{
    free(w->lstart);
    free(w->cown);
    free(w->mem);
    free(w->mid);
}

static mc_status cells_distribute(ctx *x, const uint8_t *flags, const uint32_t *qprobes,
                                  const mc_knn_cells_plan *pl, size_t m, cells_own *w,
                                  cells_stats *cs)
{
    size_t d = x->d, L = pl->L, P = pl->p;
    int R = x->R;
    uint64_t *cnt = calloc(L, sizeof *cnt), *gcnt = calloc(L, sizeof *gcnt);
    int *sc = calloc((size_t)R, sizeof *sc), *sd = calloc((size_t)R, sizeof *sd);
    int *rc = calloc((size_t)R, sizeof *rc), *rd = calloc((size_t)R, sizeof *rd);
    int *cur = calloc((size_t)R, sizeof *cur);
    float *sbuf = NULL, *rbuf = NULL;
    int64_t *sid = NULL, *rid = NULL;
    uint32_t *scell = NULL, *rcell = NULL;
    size_t *wcur = NULL;
    w->L = L;
    w->lstart = calloc(L + 1, sizeof *w->lstart);
    w->cown = mc_malloc_array(L, sizeof *w->cown);
    mc_status st = cnt && gcnt && sc && sd && rc && rd && cur && w->lstart && w->cown
                       ? MC_OK
                       : mc_fail(MC_ERR_NOMEM, "out of memory for the counts of %zu cells", L);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    uint64_t pairs = 0;
    for (size_t r = 0; r < x->qrows; r++)
        if (!flags || flags[x->qlo + r]) cnt[qprobes[r * P]]++;
    int err = MPI_Allreduce(cnt, gcnt, (int)L, MPI_UINT64_T, MPI_SUM, x->c);
    if ((st = agree_call(x, err, "MPI_Allreduce")) != MC_OK) goto done;
    for (size_t c = 0; c < L; c++) w->lstart[c + 1] = w->lstart[c] + (size_t)gcnt[c];
    for (size_t r = 0; r < x->qrows * P; r++) {
        uint32_t c = qprobes[r];
        pairs += gcnt[c];
    }
    err = MPI_Allreduce(&pairs, &cs->pairs, 1, MPI_UINT64_T, MPI_SUM, x->c);
    if ((st = agree_call(x, err, "MPI_Allreduce")) != MC_OK) goto done;
    /* the owners: contiguous runs of cells, balanced by member count -- a
     * cell goes to the rank whose share of the m members holds its middle */
    w->clo = L;
    w->chi = 0;
    for (size_t c = 0; c < L; c++) {
        uint64_t mid2 = 2 * (uint64_t)w->lstart[c] + gcnt[c];
        uint64_t o = mid2 * (uint64_t)R / (2 * (uint64_t)m);
        w->cown[c] = o >= (uint64_t)R ? R - 1 : (int)o;
        if (w->cown[c] == x->rank) {
            if (c < w->clo) w->clo = c;
            w->chi = c + 1;
        }
    }
    if (w->clo > w->chi) w->clo = w->chi = 0;
    w->mbase = w->lstart[w->clo];
    w->nm = w->lstart[w->chi] - w->mbase;
    cs->cells_first = w->clo;
    cs->cells = w->chi - w->clo;
    cs->members = w->nm;

    /* my candidates to their cells' owners, by owner, in id order */
    size_t ns = 0;
    for (size_t r = 0; r < x->qrows; r++)
        if (!flags || flags[x->qlo + r]) {
            sc[w->cown[qprobes[r * P]]]++;
            ns++;
        }
    prefix(sc, R, sd);
    sbuf = mc_malloc_array(ns ? ns * d : 1, sizeof *sbuf);
    sid = mc_malloc_array(ns ? ns : 1, sizeof *sid);
    scell = mc_malloc_array(ns ? ns : 1, sizeof *scell);
    w->mem = mc_malloc_array(w->nm ? w->nm * d : 1, sizeof *w->mem);
    w->mid = mc_malloc_array(w->nm ? w->nm : 1, sizeof *w->mid);
    rbuf = mc_malloc_array(w->nm ? w->nm * d : 1, sizeof *rbuf);
    rid = mc_malloc_array(w->nm ? w->nm : 1, sizeof *rid);
    rcell = mc_malloc_array(w->nm ? w->nm : 1, sizeof *rcell);
    wcur = mc_malloc_array(L, sizeof *wcur);
    st = sbuf && sid && scell && w->mem && w->mid && rbuf && rid && rcell && wcur
             ? MC_OK
             : mc_fail(MC_ERR_NOMEM, "out of memory for the members of %zu cells (%zu faces)",
                       cs->cells, w->nm);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    const float *xq = x->qrows ? mc_embeddings_directions(x->e) + (x->qlo - x->hlo) * d : NULL;
    for (size_t r = 0; r < x->qrows; r++) {
        if (flags && !flags[x->qlo + r]) continue;
        uint32_t c = qprobes[r * P];
        size_t j = (size_t)sd[w->cown[c]] + (size_t)cur[w->cown[c]]++;
        memcpy(sbuf + j * d, xq + r * d, d * sizeof *sbuf);
        sid[j] = (int64_t)(x->qlo + r);
        scell[j] = c;
    }
    err = MPI_Alltoall(sc, 1, MPI_INT, rc, 1, MPI_INT, x->c);
    if ((st = agree_call(x, err, "MPI_Alltoall")) != MC_OK) goto done;
    if (prefix(rc, R, rd) != (long long)w->nm)
        st = mc_fail(MC_ERR_IO, "the cells' members do not add up (%zu expected)", w->nm);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    /* each call made by every rank, whatever an earlier one returned */
    int e1 = MPI_Alltoallv(sbuf, sc, sd, x->row_f, rbuf, rc, rd, x->row_f, x->c);
    int e2 = MPI_Alltoallv(sid, sc, sd, MPI_INT64_T, rid, rc, rd, MPI_INT64_T, x->c);
    int e3 = MPI_Alltoallv(scell, sc, sd, MPI_UINT32_T, rcell, rc, rd, MPI_UINT32_T, x->c);
    err = e1 != MPI_SUCCESS ? e1 : e2 != MPI_SUCCESS ? e2 : e3;
    if ((st = agree_call(x, err, "MPI_Alltoallv")) != MC_OK) goto done;
    cs->bytes_sent += bytes_out(sc, R, x->rank, d * sizeof(float) + sizeof(int64_t) + sizeof(uint32_t));
    /* by source rank, each in id order, so by id: a stable placement by
     * cell keeps every cell's members in id order, as one process lists them */
    for (size_t c = w->clo; c < w->chi; c++) wcur[c] = w->lstart[c] - w->mbase;
    for (size_t j = 0; j < w->nm; j++) {
        uint32_t c = rcell[j];
        if (c < w->clo || c >= w->chi) {
            st = mc_fail(MC_ERR_IO, "face %lld came to the wrong rank", (long long)rid[j]);
            break;
        }
        size_t pos = wcur[c]++;
        memcpy(w->mem + pos * d, rbuf + j * d, d * sizeof *w->mem);
        w->mid[pos] = (size_t)rid[j];
    }
done:
    free(cnt);
    free(gcnt);
    free(sc);
    free(sd);
    free(rc);
    free(rd);
    free(cur);
    free(sbuf);
    free(rbuf);
    free(sid);
    free(rid);
    free(scell);
    free(rcell);
    free(wcur);
    return agree(x->c, x->rank, st);
}

/* Grow *p to hold n items of size bytes (at least one). 0, or -1 when out
 * of memory (*p kept). */
static int grow(void *pp, size_t *cap, size_t n, size_t size)
{
    void **p = pp;
    if (n == 0) n = 1;
    if (*p && *cap >= n) return 0;
    void *q = n > SIZE_MAX / size ? NULL : realloc(*p, n * size);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

/* One round's buffers (grown as needed, freed at the end). */
typedef struct {
    float *svec, *rvec, *rs, *hs;
    int64_t *sid, *rid, *ri, *hi;
    uint32_t *snp, *rnp;       /* per (query, owner): how many of its cells the owner owns */
    uint32_t *scell, *rcell;   /* those cells, in the query's probe order */
    uint32_t *rprobe;          /* per received query: its cells there, UINT32_MAX padded to P */
    size_t *sq, *qid, *hcnt;
    size_t c_svec, c_rvec, c_rs, c_hs, c_sid, c_rid, c_ri, c_hi, c_snp, c_rnp, c_scell, c_rcell,
        c_rprobe, c_sq, c_qid, c_hcnt;
} round_buf;

static void round_buf_free(round_buf *b)
{
    free(b->svec);
    free(b->rvec);
    free(b->rs);
    free(b->hs);
    free(b->sid);
    free(b->rid);
    free(b->ri);
    free(b->hi);
    free(b->snp);
    free(b->rnp);
    free(b->scell);
    free(b->rcell);
    free(b->rprobe);
    free(b->sq);
    free(b->qid);
    free(b->hcnt);
}

/* The owner's part of a round: for each source rank's chunk on its own,
 * the products of its queries (in the order they came: the chunk's order)
 * with my cells, the one-process sgemm calls; per query the top k among my
 * cells, unsorted, -1 padded, into b->hs / b->hi. Parallel over the
 * sources; each is the same computation at any thread count. */
static mc_status cells_products(const ctx *x, const cells_own *w, const mc_knn_cells_plan *pl,
                                const int *rc, const int *rd, round_buf *b, int n_threads)
{
    size_t d = x->d, k = x->k, P = pl->p, L = pl->L, maxq = 0;
    for (int s = 0; s < x->R; s++)
        if ((size_t)rc[s] > maxq) maxq = (size_t)rc[s];
    int failed = 0;
#pragma omp parallel num_threads(mc_knn_threads(n_threads))
    {
        size_t *cstart = mc_malloc_array(L + 1, sizeof *cstart);
        uint32_t *cq = mc_malloc_array(maxq ? maxq * P : 1, sizeof *cq);
        mc_knn_cells_scratch *sb = mc_knn_cells_scratch_new(d);
        if (mc_knn_omp_all_ok(cstart && cq && sb, &failed)) {
#pragma omp for schedule(dynamic, 1)
            for (int s = 0; s < x->R; s++) {
                size_t q0 = (size_t)rd[s], nq = (size_t)rc[s];
                if (nq == 0) continue;
                memset(b->hcnt + q0, 0, nq * sizeof *b->hcnt);
                if (w->chi > w->clo) {
                    mc_knn_cells_group(b->rprobe + q0 * P, nq, P, L, w->clo, w->chi, cstart, cq);
                    mc_knn_cells_scan sc = {d, k, b->rvec, q0, b->qid + q0, cstart, cq, w->mem,
                                            NULL, w->mid, w->lstart, w->mbase, w->clo, w->chi};
                    mc_knn_cells_products(&sc, sb, b->hcnt + q0, b->hs, b->hi);
                }
                for (size_t r = q0; r < q0 + nq; r++)
                    for (size_t a = b->hcnt[r]; a < k; a++) {
                        b->hi[r * k + a] = -1;
                        b->hs[r * k + a] = -INFINITY;
                    }
            }
        }
        free(cstart);
        free(cq);
        mc_knn_cells_scratch_free(sb);
    }
    return failed ? mc_fail(MC_ERR_NOMEM, "out of memory for search buffers") : MC_OK;
}

/* The search in rounds: in round j every rank routes its j-th chunk of
 * queries to the owners of the cells they visit (a query once per owner,
 * with the numbers of the cells it visits there), the owners compute the
 * one-process products and send back each query's top k among their cells,
 * and the query's rank merges them into its row heap (the kept set does
 * not depend on the order of arrival). */
static mc_status cells_rounds(ctx *x, const cells_own *w, const uint32_t *qprobes,
                              const mc_knn_cells_plan *pl, int n_threads, int64_t *ids,
                              float *sims, cells_stats *cs)
{
    size_t d = x->d, k = x->k, P = pl->p, chunk = pl->chunk;
    int R = x->R;
    round_buf b;
    memset(&b, 0, sizeof b);
    /* per rank: pairs (counts, displacements), cells (counts, displacements) */
    int *sc = calloc((size_t)R, sizeof *sc), *sd = calloc((size_t)R, sizeof *sd);
    int *rc = calloc((size_t)R, sizeof *rc), *rd = calloc((size_t)R, sizeof *rd);
    int *scc = calloc((size_t)R, sizeof *scc), *scd = calloc((size_t)R, sizeof *scd);
    int *rcc = calloc((size_t)R, sizeof *rcc), *rcd = calloc((size_t)R, sizeof *rcd);
    int *two_s = calloc(2 * (size_t)R, sizeof *two_s), *two_r = calloc(2 * (size_t)R, sizeof *two_r);
    int *cur = calloc((size_t)R, sizeof *cur), *ccur = calloc((size_t)R, sizeof *ccur);
    int *seen = calloc((size_t)R, sizeof *seen);
    size_t *slot = calloc((size_t)R, sizeof *slot);
    size_t *cnt = calloc(x->qrows ? x->qrows : 1, sizeof *cnt), *tmp = NULL;
    tmp = mc_malloc_array(k, sizeof *tmp);
    MPI_Datatype row_i = MPI_DATATYPE_NULL, row_s = MPI_DATATYPE_NULL;
    int err = MPI_Type_contiguous((int)k, MPI_INT64_T, &row_i);
    if (err == MPI_SUCCESS) err = MPI_Type_commit(&row_i);
    if (err == MPI_SUCCESS) err = MPI_Type_contiguous((int)k, MPI_FLOAT, &row_s);
    if (err == MPI_SUCCESS) err = MPI_Type_commit(&row_s);
    mc_status st = err != MPI_SUCCESS ? mpi_fail(err, "MPI_Type_commit")
                   : sc && sd && rc && rd && scc && scd && rcc && rcd && two_s && two_r && cur &&
                           ccur && seen && slot && cnt && tmp
                       ? MC_OK
                       : mc_fail(MC_ERR_NOMEM, "out of memory for the search");
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    unsigned long long mine = (x->qrows + chunk - 1) / chunk, rounds = 0;
    err = MPI_Allreduce(&mine, &rounds, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, x->c);
    if ((st = agree_call(x, err, "MPI_Allreduce")) != MC_OK) goto done;
    const float *xq = x->qrows ? mc_embeddings_directions(x->e) + (x->qlo - x->hlo) * d : NULL;
    for (unsigned long long j = 0; j < rounds; j++) {
        size_t q0 = (size_t)j * chunk, nq = 0;
        if (q0 < x->qrows) nq = x->qrows - q0 < chunk ? x->qrows - q0 : chunk;
        /* each query to each owner among its cells' owners, once, with the
         * cells it visits there */
        for (int o = 0; o < R; o++) {
            sc[o] = scc[o] = cur[o] = ccur[o] = 0;
            seen[o] = -1;
        }
        size_t ns = 0;
        for (size_t r = 0; r < nq; r++)
            for (size_t a = 0; a < P; a++) {
                int o = w->cown[qprobes[(q0 + r) * P + a]];
                scc[o]++;
                if (seen[o] != (int)r) {
                    seen[o] = (int)r;
                    sc[o]++;
                    ns++;
                }
            }
        if (prefix(sc, R, sd) < 0 || prefix(scc, R, scd) < 0)
            st = mc_fail(MC_ERR_INVALID_ARG, "too many queries in a chunk for MPI's counts");
        else if (grow(&b.svec, &b.c_svec, ns * d, sizeof *b.svec) ||
                 grow(&b.sid, &b.c_sid, ns, sizeof *b.sid) ||
                 grow(&b.snp, &b.c_snp, ns, sizeof *b.snp) ||
                 grow(&b.scell, &b.c_scell, nq * P, sizeof *b.scell) ||
                 grow(&b.sq, &b.c_sq, ns, sizeof *b.sq))
            st = mc_fail(MC_ERR_NOMEM, "out of memory for routing %zu queries", nq);
        if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
        for (int o = 0; o < R; o++) seen[o] = -1;
        for (size_t r = 0; r < nq; r++)
            for (size_t a = 0; a < P; a++) {
                uint32_t c = qprobes[(q0 + r) * P + a];
                int o = w->cown[c];
                if (seen[o] != (int)r) {
                    seen[o] = (int)r;
                    size_t at = (size_t)sd[o] + (size_t)cur[o]++;
                    memcpy(b.svec + at * d, xq + (q0 + r) * d, d * sizeof *b.svec);
                    b.sid[at] = (int64_t)(x->qlo + q0 + r);
                    b.snp[at] = 0;
                    b.sq[at] = q0 + r;
                    slot[o] = at;
                }
                b.scell[(size_t)scd[o] + (size_t)ccur[o]++] = c;
                b.snp[slot[o]]++;
            }
        for (int o = 0; o < R; o++) {
            two_s[2 * o] = sc[o];
            two_s[2 * o + 1] = scc[o];
        }
        err = MPI_Alltoall(two_s, 2, MPI_INT, two_r, 2, MPI_INT, x->c);
        if ((st = agree_call(x, err, "MPI_Alltoall")) != MC_OK) goto done;
        for (int o = 0; o < R; o++) {
            rc[o] = two_r[2 * o];
            rcc[o] = two_r[2 * o + 1];
        }
        long long nr = prefix(rc, R, rd), ncr = prefix(rcc, R, rcd);
        if (nr < 0 || ncr < 0) st = mc_fail(MC_ERR_INVALID_ARG, "too many queries for one rank in a round");
        else if (grow(&b.rvec, &b.c_rvec, (size_t)nr * d, sizeof *b.rvec) ||
                 grow(&b.rid, &b.c_rid, (size_t)nr, sizeof *b.rid) ||
                 grow(&b.rnp, &b.c_rnp, (size_t)nr, sizeof *b.rnp) ||
                 grow(&b.rcell, &b.c_rcell, (size_t)ncr, sizeof *b.rcell) ||
                 grow(&b.rprobe, &b.c_rprobe, (size_t)nr * P, sizeof *b.rprobe) ||
                 grow(&b.qid, &b.c_qid, (size_t)nr, sizeof *b.qid) ||
                 grow(&b.hs, &b.c_hs, (size_t)nr * k, sizeof *b.hs) ||
                 grow(&b.hi, &b.c_hi, (size_t)nr * k, sizeof *b.hi) ||
                 grow(&b.hcnt, &b.c_hcnt, (size_t)nr, sizeof *b.hcnt) ||
                 grow(&b.rs, &b.c_rs, ns * k, sizeof *b.rs) || grow(&b.ri, &b.c_ri, ns * k, sizeof *b.ri))
            st = mc_fail(MC_ERR_NOMEM, "out of memory for %lld routed queries", nr);
        if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
        int e[4] = {
            MPI_Alltoallv(b.svec, sc, sd, x->row_f, b.rvec, rc, rd, x->row_f, x->c),
            MPI_Alltoallv(b.sid, sc, sd, MPI_INT64_T, b.rid, rc, rd, MPI_INT64_T, x->c),
            MPI_Alltoallv(b.snp, sc, sd, MPI_UINT32_T, b.rnp, rc, rd, MPI_UINT32_T, x->c),
            MPI_Alltoallv(b.scell, scc, scd, MPI_UINT32_T, b.rcell, rcc, rcd, MPI_UINT32_T, x->c)};
        err = e[0] != MPI_SUCCESS ? e[0] : e[1] != MPI_SUCCESS ? e[1] : e[2] != MPI_SUCCESS ? e[2] : e[3];
        if ((st = agree_call(x, err, "MPI_Alltoallv")) != MC_OK) goto done;
        cs->bytes_sent += bytes_out(sc, R, x->rank, d * sizeof(float) + sizeof(int64_t) + sizeof(uint32_t)) +
                          bytes_out(scc, R, x->rank, sizeof(uint32_t));
        cs->queries_in += (size_t)nr;
        /* the cells of each query, padded to P with a number no rank owns:
         * the grouping then sees the probe order of one process */
        size_t at = 0;
        for (long long q = 0; q < nr; q++) {
            b.qid[q] = (size_t)b.rid[q];
            uint32_t np = b.rnp[q];
            if (np > P || at + np > (size_t)ncr) {
                st = mc_fail(MC_ERR_IO, "face %lld came with %u cells", (long long)b.rid[q], np);
                break;
            }
            for (size_t a = 0; a < P; a++) b.rprobe[(size_t)q * P + a] = a < np ? b.rcell[at + a] : UINT32_MAX;
            at += np;
        }
        if (st == MC_OK) st = cells_products(x, w, pl, rc, rd, &b, n_threads);
        if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
        /* each query's top k among the owner's cells, back to its rank */
        int e4 = MPI_Alltoallv(b.hs, rc, rd, row_s, b.rs, sc, sd, row_s, x->c);
        int e5 = MPI_Alltoallv(b.hi, rc, rd, row_i, b.ri, sc, sd, row_i, x->c);
        if ((st = agree_call(x, e4 != MPI_SUCCESS ? e4 : e5, "MPI_Alltoallv")) != MC_OK) goto done;
        cs->bytes_sent += bytes_out(rc, R, x->rank, k * (sizeof(float) + sizeof(int64_t)));
        for (size_t a = 0; a < ns; a++) {
            size_t r = b.sq[a], nv = 0;
            while (nv < k && b.ri[a * k + nv] >= 0) {
                tmp[nv] = (size_t)b.ri[a * k + nv];
                nv++;
            }
            cnt[r] = mc_knn_push_row(b.rs + a * k, nv, tmp, 0, SIZE_MAX, k, sims + r * k,
                                     ids + r * k, cnt[r]);
        }
    }
    for (size_t r = 0; r < x->qrows; r++) mc_knn_finish_row(ids + r * k, sims + r * k, k, cnt[r], 1);
done:
    if (row_i != MPI_DATATYPE_NULL) MPI_Type_free(&row_i);
    if (row_s != MPI_DATATYPE_NULL) MPI_Type_free(&row_s);
    round_buf_free(&b);
    free(sc);
    free(sd);
    free(rc);
    free(rd);
    free(scc);
    free(scd);
    free(rcc);
    free(rcd);
    free(two_s);
    free(two_r);
    free(cur);
    free(ccur);
    free(seen);
    free(slot);
    free(cnt);
    free(tmp);
    return st;
}

/* The Cells search of the ranks' rows (ids, sims: this rank's qrows x k). */
static mc_status cells_search(ctx *x, const mc_cluster_params *p, const size_t *cand, size_t m,
                              const mc_knn_cells_plan *pl, int64_t *ids, float *sims,
                              cells_stats *cs)
{
    mc_knn_params par = p->knn;
    par.k = x->k;
    par.n_threads = p->n_threads;
    par.progress = NULL;
    par.log = NULL;
    size_t L = pl->L, P = pl->p, d = x->d;
    cells_own w;
    memset(&w, 0, sizeof w);
    float *cent = mc_malloc_array(L * d, sizeof *cent);
    uint32_t *probes = mc_malloc_array(x->hrows ? x->hrows * P : 1, sizeof *probes);
    mc_status st = cent && probes ? MC_OK
                                  : mc_fail(MC_ERR_NOMEM, "out of memory for %zu cells", L);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    double t0 = MPI_Wtime();
    if ((st = cells_train(x, &par, cand, m, pl, cent, cs)) != MC_OK) goto done;
    double t1 = MPI_Wtime();
    /* the nprobe cells of every row read: the hull starts at a multiple of
     * MC_KNN_CELLS_AB and ends at one or at N, so each assignment sgemm is
     * one the one-process search makes */
    if (x->hrows)
        st = mc_knn_cells_assign(mc_embeddings_directions(x->e), x->hrows, d, cent, L, P, probes,
                                 &par);
    if ((st = agree(x->c, x->rank, st)) != MC_OK) goto done;
    const uint32_t *qprobes = x->qrows ? probes + (x->qlo - x->hlo) * P : probes;
    if ((st = cells_distribute(x, p->knn.candidates, qprobes, pl, m, &w, cs)) != MC_OK) goto done;
    cs->t_train = t1 - t0;
    cs->t_add = MPI_Wtime() - t1;
    st = agree(x->c, x->rank,
               cells_rounds(x, &w, qprobes, pl, p->n_threads, ids, sims, cs));
done:
    cells_own_free(&w);
    free(cent);
    free(probes);
    return st;
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
    size_t *cand = NULL, nc = 0, nlist = 0; /* nc: n unless Cells has candidates */
    char spec[64] = "Flat";
    mc_knn_cells_plan plan;
    memset(&plan, 0, sizeof plan);
    cells_stats cs;
    memset(&cs, 0, sizeof cs);

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
        st = resolve_index(&p->knn, x.n, &cand, &nc, spec, sizeof spec, &nlist);
    if (st == MC_OK && nlist) {
        mc_knn_params kp = p->knn;
        st = mc_knn_cells_plan_make(x.n, nc, &kp, nlist, &plan);
    }
    if ((st = agree(x.c, x.rank, st)) != MC_OK) goto done;
    x.k = p->knn.k < x.n ? p->knn.k : x.n - 1;
    x.qb = query_block(x.n, p->knn.block_size);
    x.qunit = nlist ? plan.chunk : x.qb;

    /* who does what: whole query blocks (Cells: chunks), whole data blocks,
     * and the hull read */
    size_t dfirst = 0, drows = 0;
    split_rows(x.n, x.qunit, (size_t)x.rank, (size_t)x.R, &x.qlo, &x.qrows);
    if (!nlist) split_rows(x.n, MC_KNN_EXACT_DB_BLOCK, (size_t)x.rank, (size_t)x.R, &dfirst, &drows);
    if (nlist) {
        /* the queries widened to whole assignment blocks (mc_knn_cells_assign) */
        if (x.qrows) {
            size_t u = MC_KNN_CELLS_AB, e1 = (x.qlo + x.qrows + u - 1) / u * u;
            x.hlo = x.qlo / u * u;
            x.hrows = (e1 < x.n ? e1 : x.n) - x.hlo;
        }
    } else if (x.qrows && drows) {
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
        split_rows(x.n, x.qunit, (size_t)r, (size_t)x.R, &f, &n_r);
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
    if (nlist) st = cells_search(&x, p, cand, nc, &plan, ids, sims, &cs);
    else st = ring_search(&x, p, ids, sims, &sent);
    if (st != MC_OK) goto done;
    if (nlist) sent = cs.bytes_sent;
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
        snprintf(info->index, sizeof info->index, "%s", spec);
        info->exact = nlist == 0;
        info->n_candidates = nlist ? nc : x.n;
        info->nprobe = plan.p;
        info->train_size = plan.t;
        info->scan_frac = nlist ? (double)cs.pairs / ((double)x.n * (double)nc) : 1.0;
        info->cells_first = cs.cells_first;
        info->cells = cs.cells;
        info->members = cs.members;
        info->queries_in = cs.queries_in;
        info->t_train = cs.t_train;
        info->t_add = cs.t_add;
        info->t_read = t1 - t0;
        info->t_center = t2 - t1;
        info->t_search = t3 - t2;
        info->t_gather = MPI_Wtime() - t3;
    }
done:
    free(cand);
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
