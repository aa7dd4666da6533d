/* k-NN graph files: /knn/ids and /knn/sims (N x k, chunked by rows) with the
 * provenance as attributes of /knn, and the embeddings fingerprint that lets
 * a caller check a saved graph against the data it is about to cluster. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "knn_impl.h"
#include "magclust/knn_io.h"
#include "magclust/knn_shard.h"
#include "util_impl.h"
#include "h5_impl.h"

#define KNN_FORMAT "magclust-knn"
#define KNN_VERSION 1
#define PART_FORMAT "magclust-knn-part"
#define KNN_G "/knn" /* the group, as messages name it */

void mc_knn_graph_meta_init(mc_knn_graph_meta *m)
{
    if (!m) return;
    memset(m, 0, sizeof *m);
    m->center_shift = NAN;
    memcpy(m->index, "Flat", sizeof "Flat");
}

/* ---- fingerprint --------------------------------------------------------- */

/* The constants and the lane round are xxHash64's: four independent lanes
 * keep the multiplier busy, so the hash runs at memory speed rather than at
 * the latency of one multiply chain. */
#define FP_P1 0x9E3779B185EBCA87ull
#define FP_P2 0xC2B2AE3D27D4EB4Full
#define FP_P3 0x165667B19E3779F9ull
#define FP_P4 0x85EBCA77C2B2AE63ull
#define FP_P5 0x27D4EB2F165667C5ull

static inline uint64_t fp_rotl(uint64_t x, unsigned r) { return (x << r) | (x >> (64u - r)); }

static inline uint64_t fp_load(const unsigned char *p)
{
    uint64_t w;
    memcpy(&w, p, sizeof w); /* unaligned-safe; compiles to one load */
    return w;
}

static inline uint64_t fp_round(uint64_t acc, uint64_t w)
{
    acc += w * FP_P2;
    acc = fp_rotl(acc, 31);
    return acc * FP_P1;
}

/* Folds one more word into a running state. */
static inline uint64_t fp_fold(uint64_t h, uint64_t w)
{
    return fp_rotl(h ^ fp_round(0, w), 27) * FP_P1 + FP_P4;
}

/* Final avalanche: xor-shift / multiply. */
static inline uint64_t fp_avalanche(uint64_t h)
{
    h ^= h >> 33;
    h *= FP_P2;
    h ^= h >> 29;
    h *= FP_P3;
    h ^= h >> 32;
    return h;
}

/* Hashes len bytes into the state h. The length goes in too, so that
 * consecutive buffers cannot trade bytes without changing the result. Done
 * as a stream (mc_fp_stream_*) so that a buffer spread over processes
 * (knn_mpi.c) hashes to the same value, fed to it piece by piece. */
void mc_fp_stream_init(mc_fp_stream *s, uint64_t h, size_t len)
{
    memset(s, 0, sizeof *s);
    s->h = h;
    s->len = len;
    s->lanes = len >= 32;
    s->v[0] = h + FP_P1 + FP_P2;
    s->v[1] = h + FP_P2;
    s->v[2] = h;
    s->v[3] = h - FP_P1;
}

static void fp_stripe(mc_fp_stream *s, const unsigned char *p)
{
    for (int l = 0; l < 4; l++) s->v[l] = fp_round(s->v[l], fp_load(p + 8 * l));
}

void mc_fp_stream_update(mc_fp_stream *s, const void *data, size_t len)
{
    const unsigned char *p = data;
    /* whole stripes only while more than a tail of the total is left: the
     * one-buffer hash takes stripes while 32 bytes remain of the total */
    while (len > 0) {
        if (s->nbuf == 0 && s->lanes && len >= 32 && s->len - s->done >= 32) {
            fp_stripe(s, p);
            s->done += 32;
            p += 32;
            len -= 32;
            continue;
        }
        size_t take = 32 - s->nbuf < len ? 32 - s->nbuf : len;
        memcpy(s->buf + s->nbuf, p, take);
        s->nbuf += take;
        p += take;
        len -= take;
        if (s->nbuf == 32 && s->lanes && s->len - s->done >= 32) {
            fp_stripe(s, s->buf);
            s->done += 32;
            s->nbuf = 0;
        }
    }
}

uint64_t mc_fp_stream_final(const mc_fp_stream *s)
{
    uint64_t h = s->h;
    if (s->lanes) {
        h = fp_rotl(s->v[0], 1) + fp_rotl(s->v[1], 7) + fp_rotl(s->v[2], 12) + fp_rotl(s->v[3], 18);
        for (int l = 0; l < 4; l++) h = fp_fold(h, s->v[l]);
    } else {
        h += FP_P5;
    }
    size_t i = 0;
    for (; i + 8 <= s->nbuf; i += 8) h = fp_fold(h, fp_load(s->buf + i));
    if (i < s->nbuf) {
        uint64_t w = 0;
        memcpy(&w, s->buf + i, s->nbuf - i);
        h = fp_fold(h, w);
    }
    return fp_avalanche(h ^ fp_fold(FP_P3, (uint64_t)s->len));
}

static uint64_t fp_bytes(uint64_t h, const void *data, size_t len)
{
    mc_fp_stream s;
    mc_fp_stream_init(&s, h, len);
    mc_fp_stream_update(&s, data, len);
    return mc_fp_stream_final(&s);
}

uint64_t mc_fp_start(size_t n, size_t d)
{
    return fp_fold(fp_fold(FP_P5, (uint64_t)n), (uint64_t)d);
}

uint64_t mc_fp_finish(uint64_t h) { return h ? h : 1; }

uint64_t mc_embeddings_fingerprint(const mc_embeddings_t *e)
{
    if (!e) return 0;
    size_t n = mc_embeddings_n(e), d = mc_embeddings_dim(e);
    const float *dir = mc_embeddings_directions(e), *mag = mc_embeddings_magnitudes(e);
    uint64_t h = mc_fp_start(n, d);
    h = fp_bytes(h, dir, dir ? n * d * sizeof *dir : 0);
    h = fp_bytes(h, mag, mag ? n * sizeof *mag : 0);
    return mc_fp_finish(h); /* 0 means "unknown" in a graph file */
}

/* ---- shared -------------------------------------------------------------- */


/* ---- writer -------------------------------------------------------------- */

static int terminated(const char *s, size_t cap) { return memchr(s, '\0', cap) != NULL; }

/* Where a part's rows lie in the whole graph (knn_shard.h). */
typedef struct {
    size_t shard, n_shards, first, rows;
} part_pos;

/* Writes rows x k ids and sims with the provenance m (checked by the
 * caller) to path atomically: a graph file, or a part's when pp is set. */
static mc_status write_knn(const char *path, const int64_t *ids, const float *sims, size_t rows,
                           size_t k, const mc_knn_graph_meta *mp, const part_pos *pp)
{
    const mc_knn_graph_meta m = *mp;
    if (!terminated(m.index, sizeof m.index) || !terminated(m.source, sizeof m.source) ||
        !terminated(m.embeddings_key, sizeof m.embeddings_key))
        return mc_fail(MC_ERR_INVALID_ARG, "%s: a metadata string is not NUL-terminated", path);
    mc_h5_out out;
    mc_status st = mc_h5_out_create(&out, path);
    if (st != MC_OK) return st;
    h5_quiet q;
    quiet_on(&q);
    hid_t grp = H5I_INVALID_HID, gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
        grp = H5Gcreate2(out.file, "knn", H5P_DEFAULT, gcpl, H5P_DEFAULT);
    int bad = grp < 0;
    if (bad) mc_h5_note();
    bad = bad || mc_h5_put_matrix(grp, "ids", H5T_STD_I64LE, H5T_NATIVE_INT64, rows, k,
                                  sizeof(int64_t), ids) != 0;
    bad = bad || mc_h5_put_matrix(grp, "sims", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, rows, k,
                                  sizeof(float), sims) != 0;
    bad = bad || mc_h5_put_str_attr(grp, "format", pp ? PART_FORMAT : KNN_FORMAT) != 0 ||
          mc_h5_put_i32_attr(grp, "version", KNN_VERSION) != 0 ||
          mc_h5_put_u64_attr(grp, "n", m.n) != 0 || mc_h5_put_u64_attr(grp, "k", k) != 0 ||
          mc_h5_put_u64_attr(grp, "dim", m.dim) != 0 ||
          mc_h5_put_u64_attr(grp, "fingerprint", m.fingerprint) != 0 ||
          mc_h5_put_i32_attr(grp, "centered", m.centered ? 1 : 0) != 0 ||
          mc_h5_put_f64_attr(grp, "center_shift", m.center_shift) != 0 ||
          mc_h5_put_str_attr(grp, "index", m.index) != 0 ||
          mc_h5_put_str_attr(grp, "source", m.source) != 0 ||
          mc_h5_put_str_attr(grp, "embeddings_key", m.embeddings_key) != 0;
    bad = bad || (pp && (mc_h5_put_u64_attr(grp, "shard", pp->shard) != 0 ||
                         mc_h5_put_u64_attr(grp, "n_shards", pp->n_shards) != 0 ||
                         mc_h5_put_u64_attr(grp, "first_row", pp->first) != 0 ||
                         mc_h5_put_u64_attr(grp, "rows", pp->rows) != 0));
    if (bad)
        st = mc_h5_fail(MC_ERR_HDF5, "%s: cannot write the k-NN graph%s (disk full?)", path,
                        pp ? " part" : "");
    if (grp >= 0) H5Gclose(grp);
    if (gcpl >= 0) H5Pclose(gcpl);
    quiet_off(&q);
    if (st != MC_OK) {
        mc_h5_out_abort(&out);
        return st;
    }
    return mc_h5_out_commit(&out, pp ? "the k-NN graph part" : "the k-NN graph");
}

/* The caller's meta, or the defaults for an n x k graph. */
static mc_knn_graph_meta meta_or_default(const mc_knn_graph_meta *meta, size_t n, size_t k)
{
    mc_knn_graph_meta m;
    if (meta) return *meta;
    mc_knn_graph_meta_init(&m);
    m.n = n;
    m.k = k;
    return m;
}

mc_status mc_knn_graph_write_h5(const mc_knn_graph_t *g, const mc_knn_graph_meta *meta,
                                const char *path)
{
    mc_clear_error();
    if (!g || !path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_write_h5");
    size_t n = mc_knn_graph_n(g), k = mc_knn_graph_k(g);
    mc_knn_graph_meta m = meta_or_default(meta, n, k);
    if (m.n != n || m.k != k)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: the metadata describes a %zu x %zu graph, the graph is %zu x %zu", path,
                       m.n, m.k, n, k);
    return write_knn(path, mc_knn_graph_ids(g), mc_knn_graph_sims(g), n, k, &m, NULL);
}

mc_status mc_knn_part_write_h5(const mc_knn_part_t *part, const mc_knn_graph_meta *meta,
                               const char *path)
{
    mc_clear_error();
    if (!part || !path) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_part_write_h5");
    size_t n = mc_knn_part_n(part), k = mc_knn_part_k(part);
    mc_knn_graph_meta m = meta_or_default(meta, n, k);
    if (m.n != n || m.k != k)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "%s: the metadata describes a graph of %zu faces and k = %zu, the part one "
                       "of %zu faces and k = %zu",
                       path, m.n, m.k, n, k);
    part_pos pp = {mc_knn_part_shard(part), mc_knn_part_n_shards(part), mc_knn_part_first_row(part),
                   mc_knn_part_rows(part)};
    return write_knn(path, mc_knn_part_ids(part), mc_knn_part_sims(part), pp.rows, k, &m, &pp);
}

/* ---- reader -------------------------------------------------------------- */

/* Opens attribute `name` of loc if it exists and holds one value of class
 * cls: MC_OK with *out >= 0, MC_OK with *out < 0 when absent, or
 * MC_ERR_BAD_DATA / MC_ERR_HDF5 naming the file. */
/* Reads the provenance attributes into m (which holds the defaults). */
static mc_status read_meta(hid_t grp, const char *path, int part, mc_knn_graph_meta *m,
                           int *has_n, int *has_k)
{
    const char *want = part ? PART_FORMAT : KNN_FORMAT;
    char format[64];
    int found;
    mc_status st = mc_h5_get_str_attr(grp, path, KNN_G, "format", format, sizeof format, 1, &found);
    if (st != MC_OK) return st;
    if (!found)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: /knn has no format attribute (not a magclust k-NN graph file)", path);
    if (!part && strcmp(format, PART_FORMAT) == 0)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: one part of a sharded k-NN graph, not a whole graph: join the parts "
                       "first (mc_knn_parts_merge_h5, 'magclust knn --merge')",
                       path);
    if (part && strcmp(format, KNN_FORMAT) == 0)
        return mc_fail(MC_ERR_BAD_DATA,
                       "%s: a whole k-NN graph, not a part of one (only the parts of a sharded "
                       "search are merged)",
                       path);
    if (strcmp(format, want) != 0)
        return mc_fail(MC_ERR_BAD_DATA, "%s: /knn format is \"%s\", expected \"%s\"", path, format,
                       want);
    int64_t version = 0;
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "version", H5T_NATIVE_INT64, &version,
                                 &found)) != MC_OK)
        return st;
    if (!found) return mc_fail(MC_ERR_BAD_DATA, "%s: /knn has no version attribute", path);
    if (version != KNN_VERSION)
        return mc_fail(
            MC_ERR_BAD_DATA,
            "%s: k-NN graph file version %lld is not supported (this build reads version %d)", path,
            (long long)version, KNN_VERSION);

    uint64_t v = 0;
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "n", H5T_NATIVE_UINT64, &v, has_n)) != MC_OK)
        return st;
    if (*has_n) m->n = (size_t)v;
    if (*has_n && v != (uint64_t)m->n)
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn n = %llu is too large", path,
                       (unsigned long long)v);
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "k", H5T_NATIVE_UINT64, &v, has_k)) != MC_OK)
        return st;
    if (*has_k) m->k = (size_t)v;
    if (*has_k && v != (uint64_t)m->k)
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn k = %llu is too large", path,
                       (unsigned long long)v);
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "dim", H5T_NATIVE_UINT64, &v, &found)) != MC_OK)
        return st;
    if (found) m->dim = (size_t)v;
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "fingerprint", H5T_NATIVE_UINT64,
                                 &m->fingerprint, &found)) != MC_OK)
        return st;
    int64_t centered = 0;
    if ((st = mc_h5_get_int_attr(grp, path, KNN_G, "centered", H5T_NATIVE_INT64, &centered,
                                 &found)) != MC_OK)
        return st;
    m->centered = centered != 0;
    if ((st = mc_h5_get_f64_attr(grp, path, KNN_G, "center_shift", &m->center_shift)) != MC_OK)
        return st;
    if ((st = mc_h5_get_str_attr(grp, path, KNN_G, "index", m->index, sizeof m->index, 0,
                                 &found)) != MC_OK)
        return st;
    if ((st = mc_h5_get_str_attr(grp, path, KNN_G, "source", m->source, sizeof m->source, 1,
                                 &found)) != MC_OK)
        return st;
    return mc_h5_get_str_attr(grp, path, KNN_G, "embeddings_key", m->embeddings_key,
                              sizeof m->embeddings_key, 0, &found);
}

mc_status mc_knn_graph_read_h5(const char *path, mc_knn_graph_t **out, mc_knn_graph_meta *meta)
{
    mc_clear_error();
    if (out) *out = NULL;
    if (meta) mc_knn_graph_meta_init(meta);
    if (!path || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_graph_read_h5");
    if (access(path, R_OK) != 0) {
        if (errno == ENOENT) return mc_fail(MC_ERR_IO, "%s: no such file", path);
        return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    mc_knn_graph_t *g = NULL;
    mc_knn_graph_meta m;
    mc_knn_graph_meta_init(&m);
    hid_t grp = H5I_INVALID_HID, ids = H5I_INVALID_HID, sims = H5I_INVALID_HID;
    hid_t f = mc_h5_open_read(path);
    if (f < 0) {
        st = mc_h5_open_fail(MC_ERR_IO, path, "not an HDF5 file?");
        goto done;
    }
    if (H5Lexists(f, "knn", H5P_DEFAULT) <= 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: no /knn group (not a magclust k-NN graph file)", path);
        goto done;
    }
    if ((grp = H5Gopen2(f, "knn", H5P_DEFAULT)) < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: /knn is not a group (not a magclust k-NN graph file)",
                        path);
        goto done;
    }
    int has_n = 0, has_k = 0;
    if ((st = read_meta(grp, path, 0, &m, &has_n, &has_k)) != MC_OK) goto done;

    hsize_t di[2], dsims[2];
    if ((st = mc_h5_open_matrix(grp, path, KNN_G, "ids", H5T_INTEGER, "integers", &ids, di)) !=
            MC_OK ||
        (st = mc_h5_open_matrix(grp, path, KNN_G, "sims", H5T_FLOAT, "floating-point numbers",
                                &sims, dsims)) != MC_OK)
        goto done;
    if (di[0] != dsims[0] || di[1] != dsims[1]) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /knn/ids is %llu x %llu but /knn/sims is %llu x %llu",
                     path, (unsigned long long)di[0], (unsigned long long)di[1],
                     (unsigned long long)dsims[0], (unsigned long long)dsims[1]);
        goto done;
    }
    if (di[0] == 0 || di[1] == 0) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: the graph is %llu x %llu: no faces or no neighbours",
                     path, (unsigned long long)di[0], (unsigned long long)di[1]);
        goto done;
    }
    /* ids are int64 and must reach n - 1; n*k elements must be addressable. */
    if (di[0] > (hsize_t)INT64_MAX || di[0] > (hsize_t)SIZE_MAX || di[1] > (hsize_t)SIZE_MAX ||
        (size_t)di[1] > SIZE_MAX / sizeof(int64_t) / (size_t)di[0]) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: the graph is %llu x %llu, too large for this machine",
                     path, (unsigned long long)di[0], (unsigned long long)di[1]);
        goto done;
    }
    if ((st = mc_check_memory(path, "the graph", di[0], di[1], sizeof(int64_t) + sizeof(float))) !=
        MC_OK)
        goto done;
    size_t n = (size_t)di[0], k = (size_t)di[1];
    if ((has_n && m.n != n) || (has_k && m.k != k)) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: attributes say the graph is %zu x %zu, the datasets are %zu x %zu", path,
                     has_n ? m.n : n, has_k ? m.k : k, n, k);
        goto done;
    }
    m.n = n;
    m.k = k;
    if ((st = mc_knn_graph_alloc(n, k, &g)) != MC_OK) goto done;
    if ((st = mc_h5_read_matrix(ids, path, KNN_G, "ids", H5T_NATIVE_INT64, sizeof(int64_t), n, k,
                          mc_knn_graph_ids_mut(g))) != MC_OK ||
        (st = mc_h5_read_matrix(sims, path, KNN_G, "sims", H5T_NATIVE_FLOAT, sizeof(float), n, k,
                          mc_knn_graph_sims_mut(g))) != MC_OK)
        goto done;
    if ((st = mc_knn_graph_finish(g)) != MC_OK) {
        /* finish's detail names the row, not the file: prefix the path. */
        char why[512];
        snprintf(why, sizeof why, "%s", mc_last_error_detail());
        st = mc_fail(st, "%s: %s", path, why);
        goto done;
    }
done:
    if (sims >= 0) H5Dclose(sims);
    if (ids >= 0) H5Dclose(ids);
    if (grp >= 0) H5Gclose(grp);
    if (f >= 0) H5Fclose(f);
    quiet_off(&q);
    if (st != MC_OK) {
        mc_knn_graph_free(g);
        return st;
    }
    *out = g;
    if (meta) *meta = m;
    return MC_OK;
}

/* ---- parts of a sharded graph ------------------------------------------------ */

/* What a part file says about itself. */
typedef struct {
    mc_knn_graph_meta m;
    part_pos pp;
} part_head;

typedef struct {
    hid_t f, grp, ids, sims;
} part_handles;

static void part_close(part_handles *h)
{
    if (h->sims >= 0) H5Dclose(h->sims);
    if (h->ids >= 0) H5Dclose(h->ids);
    if (h->grp >= 0) H5Gclose(h->grp);
    if (h->f >= 0) H5Fclose(h->f);
    h->f = h->grp = h->ids = h->sims = H5I_INVALID_HID;
}

static mc_status get_required_u64(hid_t grp, const char *path, const char *name, size_t *out)
{
    uint64_t v = 0;
    int found = 0;
    mc_status st = mc_h5_get_int_attr(grp, path, KNN_G, name, H5T_NATIVE_UINT64, &v, &found);
    if (st != MC_OK) return st;
    if (!found)
        return mc_fail(MC_ERR_BAD_DATA, "%s: /knn has no %s attribute (a part needs it)", path, name);
    if (v > (uint64_t)SIZE_MAX)
        return mc_fail(MC_ERR_BAD_DATA, "%s: attribute /knn %s = %llu is too large", path, name,
                       (unsigned long long)v);
    *out = (size_t)v;
    return MC_OK;
}

/* Opens a part file, reads and checks what it says about itself (a valid
 * part of its own graph); the handles stay open for the rows on MC_OK. */
static mc_status part_open(const char *path, part_head *hd, part_handles *h)
{
    h->f = h->grp = h->ids = h->sims = H5I_INVALID_HID;
    mc_knn_graph_meta_init(&hd->m);
    memset(&hd->pp, 0, sizeof hd->pp);
    if (access(path, R_OK) != 0) {
        if (errno == ENOENT) return mc_fail(MC_ERR_IO, "%s: no such file", path);
        return mc_fail(MC_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    }
    mc_status st = MC_OK;
    if ((h->f = mc_h5_open_read(path)) < 0) return mc_h5_open_fail(MC_ERR_IO, path, "not an HDF5 file?");
    if (H5Lexists(h->f, "knn", H5P_DEFAULT) <= 0) {
        st = mc_fail(MC_ERR_HDF5, "%s: no /knn group (not a magclust k-NN graph part)", path);
        goto fail;
    }
    if ((h->grp = H5Gopen2(h->f, "knn", H5P_DEFAULT)) < 0) {
        st = mc_h5_fail(MC_ERR_HDF5, "%s: /knn is not a group (not a magclust k-NN graph part)", path);
        goto fail;
    }
    int has_n = 0, has_k = 0;
    if ((st = read_meta(h->grp, path, 1, &hd->m, &has_n, &has_k)) != MC_OK) goto fail;
    if (!has_n || !has_k) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: /knn has no %s attribute (a part needs it)", path,
                     has_n ? "k" : "n");
        goto fail;
    }
    part_pos *pp = &hd->pp;
    if ((st = get_required_u64(h->grp, path, "shard", &pp->shard)) != MC_OK ||
        (st = get_required_u64(h->grp, path, "n_shards", &pp->n_shards)) != MC_OK ||
        (st = get_required_u64(h->grp, path, "first_row", &pp->first)) != MC_OK ||
        (st = get_required_u64(h->grp, path, "rows", &pp->rows)) != MC_OK)
        goto fail;
    size_t first = 0, rows = 0;
    if (hd->m.k == 0 || hd->m.n <= hd->m.k || pp->n_shards == 0 || pp->n_shards > hd->m.n ||
        pp->shard >= pp->n_shards) {
        st = mc_fail(MC_ERR_BAD_DATA, "%s: shard %zu of %zu of a graph of %zu faces with k = %zu "
                     "is impossible", path, pp->shard, pp->n_shards, hd->m.n, hd->m.k);
        goto fail;
    }
    mc_knn_shard_rows(hd->m.n, pp->shard, pp->n_shards, &first, &rows);
    if (pp->first != first || pp->rows != rows) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: holds rows %zu to %zu, but shard %zu of %zu of %zu faces is rows %zu "
                     "to %zu (a gap or an overlap)",
                     path, pp->first, pp->first + pp->rows - 1, pp->shard, pp->n_shards, hd->m.n,
                     first, first + rows - 1);
        goto fail;
    }
    hsize_t di[2], ds[2];
    if ((st = mc_h5_open_matrix(h->grp, path, KNN_G, "ids", H5T_INTEGER, "integers", &h->ids, di)) !=
            MC_OK ||
        (st = mc_h5_open_matrix(h->grp, path, KNN_G, "sims", H5T_FLOAT, "floating-point numbers",
                                &h->sims, ds)) != MC_OK)
        goto fail;
    if (di[0] != rows || di[1] != hd->m.k || ds[0] != rows || ds[1] != hd->m.k) {
        st = mc_fail(MC_ERR_BAD_DATA,
                     "%s: /knn/ids is %llu x %llu and /knn/sims %llu x %llu, but the part has "
                     "%zu rows of k = %zu",
                     path, (unsigned long long)di[0], (unsigned long long)di[1],
                     (unsigned long long)ds[0], (unsigned long long)ds[1], rows, hd->m.k);
        goto fail;
    }
    return MC_OK;
fail:
    part_close(h);
    return st;
}

/* 0 when b belongs to the same graph as a; else a refusal naming pb. */
static mc_status part_agrees(const part_head *a, const char *pa, const part_head *b, const char *pb)
{
    const mc_knn_graph_meta *x = &a->m, *y = &b->m;
    char va[160], vb[160];
    const char *what = NULL;
    if (x->n != y->n) {
        what = "faces";
        snprintf(va, sizeof va, "%zu", y->n);
        snprintf(vb, sizeof vb, "%zu", x->n);
    } else if (y->fingerprint != x->fingerprint) {
        what = "embeddings fingerprint";
        snprintf(va, sizeof va, "%016llx", (unsigned long long)y->fingerprint);
        snprintf(vb, sizeof vb, "%016llx", (unsigned long long)x->fingerprint);
    } else if (x->dim != y->dim) {
        what = "dimension";
        snprintf(va, sizeof va, "%zu", y->dim);
        snprintf(vb, sizeof vb, "%zu", x->dim);
    } else if (x->k != y->k) {
        what = "k";
        snprintf(va, sizeof va, "%zu", y->k);
        snprintf(vb, sizeof vb, "%zu", x->k);
    } else if (strcmp(x->index, y->index) != 0) {
        what = "index";
        snprintf(va, sizeof va, "%s", y->index);
        snprintf(vb, sizeof vb, "%s", x->index);
    } else if (x->centered != y->centered ||
               memcmp(&x->center_shift, &y->center_shift, sizeof x->center_shift) != 0) {
        what = "centring";
        if (y->centered) snprintf(va, sizeof va, "on, shift %.17g", y->center_shift);
        else snprintf(va, sizeof va, "off");
        if (x->centered) snprintf(vb, sizeof vb, "on, shift %.17g", x->center_shift);
        else snprintf(vb, sizeof vb, "off");
    } else if (strcmp(x->embeddings_key, y->embeddings_key) != 0) {
        what = "embeddings key";
        snprintf(va, sizeof va, "%s", y->embeddings_key);
        snprintf(vb, sizeof vb, "%s", x->embeddings_key);
    } else if (a->pp.n_shards != b->pp.n_shards) {
        what = "shard count";
        snprintf(va, sizeof va, "%zu", b->pp.n_shards);
        snprintf(vb, sizeof vb, "%zu", a->pp.n_shards);
    }
    if (!what) return MC_OK;
    return mc_fail(MC_ERR_BAD_DATA, "%s: %s %s, but %s has %s: not parts of the same graph", pb,
                   what, va, pa, vb);
}

/* A part's place in the shard order. */
typedef struct {
    size_t shard, file;
} part_slot;

static int by_shard(const void *a, const void *b)
{
    const part_slot *x = a, *y = b;
    if (x->shard != y->shard) return x->shard < y->shard ? -1 : 1;
    return x->file < y->file ? -1 : x->file > y->file;
}

/* Each shard once, none missing: order[] sorted by shard. */
static mc_status check_cover(const char *const *paths, size_t n_paths, size_t n_shards,
                             const part_slot *order)
{
    for (size_t i = 1; i < n_paths; i++)
        if (order[i].shard == order[i - 1].shard)
            return mc_fail(MC_ERR_BAD_DATA, "%s: shard %zu of %zu is given twice (also %s)",
                           paths[order[i].file], order[i].shard, n_shards, paths[order[i - 1].file]);
    for (size_t s = 0; s < n_shards; s++) {
        if (s < n_paths && order[s].shard == s) continue;
        char given[160];
        size_t len = 0;
        given[0] = '\0';
        for (size_t i = 0; i < n_paths && len < sizeof given - 8; i++) {
            int w = snprintf(given + len, sizeof given - len, "%s%zu", i ? ", " : "",
                             order[i].shard);
            if (w < 0 || (size_t)w >= sizeof given - len) {
                snprintf(given + len, sizeof given - len, ", ...");
                break;
            }
            len += (size_t)w;
        }
        return mc_fail(MC_ERR_BAD_DATA,
                       "shard %zu of %zu is missing: the %zu file%s given hold%s shard%s %s", s,
                       n_shards, n_paths, n_paths == 1 ? "" : "s", n_paths == 1 ? "s" : "",
                       n_paths == 1 ? "" : "s", given);
    }
    return MC_OK;
}

mc_status mc_knn_parts_merge_h5(const char *const *paths, size_t n_paths, mc_knn_graph_t **out,
                                mc_knn_graph_meta *out_meta)
{
    mc_clear_error();
    if (out) *out = NULL;
    if (out_meta) mc_knn_graph_meta_init(out_meta);
    if (!paths || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_knn_parts_merge_h5");
    if (n_paths == 0) return mc_fail(MC_ERR_INVALID_ARG, "no k-NN graph part to merge");
    for (size_t i = 0; i < n_paths; i++)
        if (!paths[i]) return mc_fail(MC_ERR_INVALID_ARG, "NULL path to mc_knn_parts_merge_h5");
    h5_quiet q;
    quiet_on(&q);
    mc_status st = MC_OK;
    mc_knn_graph_t *g = NULL;
    part_handles h = {H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID, H5I_INVALID_HID};
    part_head *hd = mc_malloc_array(n_paths, sizeof *hd);
    part_slot *order = mc_malloc_array(n_paths, sizeof *order);
    if (!hd || !order) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for %zu k-NN graph parts", n_paths);
        goto done;
    }
    /* every file, in the order given: a valid part, of the first one's graph */
    for (size_t i = 0; i < n_paths; i++) {
        if ((st = part_open(paths[i], &hd[i], &h)) != MC_OK) goto done;
        part_close(&h);
        if (i > 0 && (st = part_agrees(&hd[0], paths[0], &hd[i], paths[i])) != MC_OK) goto done;
        order[i].shard = hd[i].pp.shard;
        order[i].file = i;
    }
    qsort(order, n_paths, sizeof *order, by_shard);
    if ((st = check_cover(paths, n_paths, hd[0].pp.n_shards, order)) != MC_OK) goto done;
    size_t n = hd[0].m.n, k = hd[0].m.k;
    if ((st = mc_check_memory(NULL, "the merged k-NN graph", n, k,
                              sizeof(int64_t) + sizeof(float))) != MC_OK ||
        (st = mc_knn_graph_alloc(n, k, &g)) != MC_OK)
        goto done;
    int64_t *gid = mc_knn_graph_ids_mut(g);
    float *gsim = mc_knn_graph_sims_mut(g);
    for (size_t i = 0; i < n_paths; i++) {
        part_head again;
        if ((st = part_open(paths[i], &again, &h)) != MC_OK) goto done;
        if (memcmp(&again.pp, &hd[i].pp, sizeof again.pp) != 0 ||
            (st = part_agrees(&hd[i], paths[i], &again, paths[i])) != MC_OK) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s: changed while the parts were being merged", paths[i]);
            goto done;
        }
        size_t first = hd[i].pp.first, rows = hd[i].pp.rows;
        int64_t *ri = gid + first * k;
        float *rs = gsim + first * k;
        if ((st = mc_h5_read_matrix(h.ids, paths[i], KNN_G, "ids", H5T_NATIVE_INT64, sizeof(int64_t),
                                    rows, k, ri)) != MC_OK ||
            (st = mc_h5_read_matrix(h.sims, paths[i], KNN_G, "sims", H5T_NATIVE_FLOAT, sizeof(float),
                                    rows, k, rs)) != MC_OK)
            goto done;
        part_close(&h);
        for (size_t e = 0; e < rows * k; e++) {
            if (ri[e] < -1 || ri[e] >= (int64_t)n || (ri[e] >= 0 && !isfinite(rs[e]))) {
                st = mc_fail(MC_ERR_BAD_DATA,
                             "%s: graph row %zu: neighbour %lld or its similarity is invalid",
                             paths[i], first + e / k, (long long)ri[e]);
                goto done;
            }
        }
    }
    if ((st = mc_knn_graph_finish(g)) != MC_OK) goto done;
done:
    part_close(&h);
    quiet_off(&q);
    if (st == MC_OK) {
        *out = g;
        if (out_meta) *out_meta = hd[order[0].file].m;
    } else {
        mc_knn_graph_free(g);
    }
    free(hd);
    free(order);
    return st;
}
