/* Quality-aware agglomerative clustering on the sparse k-NN graph (rules in
 * linkage.h).
 *
 * Clusters are named by one of their faces. Each cluster keeps a hash map
 * from neighbouring clusters to a shared record of the pairs observed between
 * the two (sum, minimum, maximum and count of the similarities). A max-heap
 * holds candidate merges with the linkage value they had when pushed; a
 * popped entry whose clusters have changed since is stale and skipped
 * (lazy deletion: the value is recomputed and compared). A merge folds the
 * smaller neighbour map into the larger, renames the merged cluster in its
 * neighbours' maps and pushes the new values of all its pairs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "magclust/linkage.h"
#include "qgraph_impl.h"
#include "util_impl.h"

const char *mc_linkage_name(mc_linkage_kind k)
{
    switch (k) {
    case MC_LINKAGE_SINGLE: return "single";
    case MC_LINKAGE_AVERAGE: return "average";
    case MC_LINKAGE_COMPLETE: return "complete";
    }
    return "unknown";
}

mc_status mc_linkage_parse(const char *name, mc_linkage_kind *out)
{
    mc_clear_error();
    if (!name || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument");
    for (int k = MC_LINKAGE_SINGLE; k <= MC_LINKAGE_COMPLETE; k++)
        if (strcasecmp(name, mc_linkage_name((mc_linkage_kind)k)) == 0) {
            *out = (mc_linkage_kind)k;
            return MC_OK;
        }
    return mc_fail(MC_ERR_INVALID_ARG, "'%s' is not single, average or complete", name);
}

mc_linkage_params mc_linkage_params_default(void)
{
    mc_linkage_params p;
    memset(&p, 0, sizeof p);
    p.kind = MC_LINKAGE_AVERAGE;
    p.threshold = 0.5;
    p.core_quality.kind = MC_THRESH_PERCENTILE;
    p.core_quality.value = 30.0;
    p.noise_quality = mc_threshold_off();
    return p;
}

/* ---- the pairs observed between two clusters ------------------------------ */

typedef struct {
    double sum;
    float mn, mx;
    uint64_t count;
} pairs;

/* ---- a small open-addressing map: cluster id -> pairs index --------------- */

#define KEY_EMPTY UINT32_MAX
#define KEY_GONE (UINT32_MAX - 1)

typedef struct {
    uint32_t *keys, *vals;
    uint32_t cap, live, used; /* used counts live keys and tombstones */
} nmap;

static uint32_t slot_of(uint32_t key, uint32_t cap)
{
    return (uint32_t)((key * 0x9E3779B1u) & (cap - 1)); /* Fibonacci hashing */
}

static void nmap_free(nmap *m)
{
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static uint32_t nmap_get(const nmap *m, uint32_t key)
{
    if (!m->cap) return KEY_EMPTY;
    for (uint32_t s = slot_of(key, m->cap);; s = (s + 1) & (m->cap - 1)) {
        if (m->keys[s] == key) return m->vals[s];
        if (m->keys[s] == KEY_EMPTY) return KEY_EMPTY;
    }
}

static int nmap_put(nmap *m, uint32_t key, uint32_t val);

static int nmap_grow(nmap *m, uint32_t cap)
{
    nmap bigger = {malloc(cap * sizeof(uint32_t)), malloc(cap * sizeof(uint32_t)), cap, 0, 0};
    if (!bigger.keys || !bigger.vals) {
        nmap_free(&bigger);
        return -1;
    }
    for (uint32_t s = 0; s < cap; s++) bigger.keys[s] = KEY_EMPTY;
    for (uint32_t s = 0; s < m->cap; s++)
        if (m->keys[s] < KEY_GONE) nmap_put(&bigger, m->keys[s], m->vals[s]);
    nmap_free(m);
    *m = bigger;
    return 0;
}

/* Inserts or overwrites. */
static int nmap_put(nmap *m, uint32_t key, uint32_t val)
{
    if (2 * (m->used + 1) > m->cap) {
        uint32_t cap = m->cap ? m->cap : 8;
        while (2 * (m->live + 1) > cap / 2) cap *= 2; /* rebuild drops tombstones */
        if (nmap_grow(m, cap) != 0) return -1;
    }
    uint32_t gone = KEY_EMPTY;
    for (uint32_t s = slot_of(key, m->cap);; s = (s + 1) & (m->cap - 1)) {
        if (m->keys[s] == key) {
            m->vals[s] = val;
            return 0;
        }
        if (m->keys[s] == KEY_GONE && gone == KEY_EMPTY) gone = s;
        if (m->keys[s] == KEY_EMPTY) {
            if (gone != KEY_EMPTY) {
                s = gone;
            } else {
                m->used++;
            }
            m->keys[s] = key;
            m->vals[s] = val;
            m->live++;
            return 0;
        }
    }
}

static void nmap_del(nmap *m, uint32_t key)
{
    if (!m->cap) return;
    for (uint32_t s = slot_of(key, m->cap);; s = (s + 1) & (m->cap - 1)) {
        if (m->keys[s] == key) {
            m->keys[s] = KEY_GONE;
            m->live--;
            return;
        }
        if (m->keys[s] == KEY_EMPTY) return;
    }
}

/* ---- the heap of candidate merges ------------------------------------------ */

typedef struct {
    double v;
    uint32_t a, b; /* a < b */
} cand;

typedef struct {
    cand *h;
    size_t n, cap;
} heap;

/* Higher value first; equal values by (a, b), so the order is deterministic. */
static int cand_before(const cand *x, const cand *y)
{
    if (x->v != y->v) return x->v > y->v;
    if (x->a != y->a) return x->a < y->a;
    return x->b < y->b;
}

static int heap_push(heap *hp, cand c)
{
    if (hp->n == hp->cap) {
        size_t cap = hp->cap ? 2 * hp->cap : 1024;
        cand *nh = realloc(hp->h, cap * sizeof *nh);
        if (!nh) return -1;
        hp->h = nh;
        hp->cap = cap;
    }
    size_t i = hp->n++;
    while (i > 0 && cand_before(&c, &hp->h[(i - 1) / 2])) {
        hp->h[i] = hp->h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    hp->h[i] = c;
    return 0;
}

static cand heap_pop(heap *hp)
{
    cand top = hp->h[0], last = hp->h[--hp->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        const cand *best = &last;
        if (l < hp->n && cand_before(&hp->h[l], best)) {
            m = l;
            best = &hp->h[l];
        }
        if (r < hp->n && cand_before(&hp->h[r], best)) m = r;
        if (m == i) break;
        hp->h[i] = hp->h[m];
        i = m;
    }
    if (hp->n) hp->h[i] = last;
    return top;
}

/* ---- linkage --------------------------------------------------------------- */

/* Missing pairs (not in the graph) have similarity 0. */
static double link_value(mc_linkage_kind kind, const pairs *p, uint64_t size_a, uint64_t size_b)
{
    uint64_t all = size_a * size_b;
    int missing = p->count < all;
    switch (kind) {
    case MC_LINKAGE_SINGLE: return missing && p->mx < 0.0f ? 0.0 : (double)p->mx;
    case MC_LINKAGE_COMPLETE: return missing && p->mn > 0.0f ? 0.0 : (double)p->mn;
    case MC_LINKAGE_AVERAGE: break;
    }
    return p->sum / (double)all;
}

static uint32_t find(uint32_t *parent, uint32_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

mc_status mc_linkage_run(const mc_knn_graph_t *g, const float *quality, const mc_linkage_params *p,
                         mc_clustering_t **out, double *out_core_q, double *out_noise_q)
{
    mc_clear_error();
    if (!g || !out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_linkage_run");
    *out = NULL;
    mc_linkage_params par = p ? *p : mc_linkage_params_default();
    if (!(par.threshold >= -1.0 && par.threshold <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "threshold = %g is outside [-1, 1] (cosine similarity)",
                       par.threshold);
    if ((unsigned)par.kind > MC_LINKAGE_COMPLETE)
        return mc_fail(MC_ERR_INVALID_ARG, "unknown linkage kind %d", (int)par.kind);
    size_t n = mc_knn_graph_n(g);
    /* Every graph edge counts towards the linkage, not only those above the
     * threshold: hence the radius 2 (all cosine distances). */
    mc_qgraph q;
    mc_status st = mc_qgraph_build(g, quality, &par.core_quality, &par.noise_quality, 2.0,
                                   par.n_threads, &q);
    if (st != MC_OK) return st;
    if (out_core_q) *out_core_q = q.core_q;
    if (out_noise_q) *out_noise_q = q.noise_q;

    const uint8_t *core = q.core_ok;
    nmap *maps = mc_calloc_array(n, sizeof *maps);
    uint64_t *size = mc_malloc_array(n, sizeof *size);
    uint32_t *parent = mc_malloc_array(n, sizeof *parent);
    int64_t *core_label = mc_malloc_array(n, sizeof *core_label);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    uint8_t *roles = mc_malloc_array(n, 1);
    pairs *pool = NULL;
    heap hp = {NULL, 0, 0};
    size_t n_pairs = 0;
    if (!maps || !size || !parent || !core_label || !labels || !roles) goto nomem;

    /* Duplicates first: core faces joined by an edge of similarity at least
     * 1 - MC_DUPLICATE_TOLERANCE are one direction seen several times and
     * form one cluster from the start (named by its smallest face). */
    for (size_t i = 0; i < n; i++) {
        parent[i] = (uint32_t)i;
        size[i] = 1;
    }
    int dedup = par.threshold <= 1.0 - MC_DUPLICATE_TOLERANCE;
    for (size_t i = 0; dedup && i < n; i++) {
        if (!core[i]) continue;
        const mc_edge *row = q.adj + q.start[i];
        for (size_t c = 0; c < q.deg[i]; c++) {
            uint32_t j = row[c].j;
            if (!core[j] || j < i || !((double)row[c].s >= 1.0 - MC_DUPLICATE_TOLERANCE)) continue;
            uint32_t ri = find(parent, (uint32_t)i), rj = find(parent, j);
            if (ri == rj) continue;
            if (ri < rj) {
                parent[rj] = ri;
                size[ri] += size[rj];
            } else {
                parent[ri] = rj;
                size[rj] += size[ri];
            }
        }
    }
    /* Initial pairs: one record per pair of clusters joined by core-core
     * edges, shared by both maps. */
    for (size_t i = 0; i < n; i++)
        if (core[i])
            for (size_t c = 0; c < q.deg[i]; c++) n_pairs += core[q.adj[q.start[i] + c].j] && q.adj[q.start[i] + c].j > i;
    if (n_pairs >= KEY_GONE) {
        st = mc_fail(MC_ERR_INVALID_ARG, "more than 2^32-2 edges among core faces");
        goto cleanup;
    }
    pool = mc_malloc_array(n_pairs ? n_pairs : 1, sizeof *pool);
    if (!pool) goto nomem;
    size_t np = 0;
    for (size_t i = 0; i < n; i++) {
        if (!core[i]) continue;
        uint32_t ri = find(parent, (uint32_t)i);
        const mc_edge *row = q.adj + q.start[i];
        for (size_t c = 0; c < q.deg[i]; c++) {
            uint32_t j = row[c].j;
            if (!core[j] || j < i) continue;
            uint32_t rj = find(parent, j);
            if (rj == ri) continue;
            uint32_t idx = nmap_get(&maps[ri], rj);
            float s = row[c].s;
            if (idx != KEY_EMPTY) {
                pairs *x = &pool[idx];
                x->sum += s;
                x->count++;
                if (s < x->mn) x->mn = s;
                if (s > x->mx) x->mx = s;
                continue;
            }
            pool[np] = (pairs){s, s, s, 1};
            if (nmap_put(&maps[ri], rj, (uint32_t)np) || nmap_put(&maps[rj], ri, (uint32_t)np))
                goto nomem;
            np++;
        }
    }
    /* Between duplicate groups every member is the same direction, so the
     * pairs observed stand for all |A| x |B| pairs. */
    for (size_t a = 0; a < n; a++) {
        for (uint32_t s = 0; s < maps[a].cap; s++) {
            uint32_t c = maps[a].keys[s];
            if (c >= KEY_GONE || c < a) continue;
            pairs *x = &pool[maps[a].vals[s]];
            uint64_t all = size[a] * size[c];
            if (x->count < all) {
                x->sum = x->sum / (double)x->count * (double)all;
                x->count = all;
            }
            double v = link_value(par.kind, x, size[a], size[c]);
            if (v >= par.threshold && heap_push(&hp, (cand){v, (uint32_t)a, c}) != 0) goto nomem;
        }
    }

    while (hp.n) {
        cand top = heap_pop(&hp);
        uint32_t a = top.a, b = top.b;
        if (parent[a] != a || parent[b] != b) continue; /* merged since */
        uint32_t idx = nmap_get(&maps[a], b);
        if (idx == KEY_EMPTY || link_value(par.kind, &pool[idx], size[a], size[b]) != top.v)
            continue; /* stale */
        /* Fold the smaller map into the larger; the survivor keeps its name. */
        if (maps[b].live > maps[a].live) {
            uint32_t t = a;
            a = b;
            b = t;
        }
        nmap_del(&maps[a], b);
        for (uint32_t s = 0; s < maps[b].cap; s++) {
            uint32_t c = maps[b].keys[s];
            if (c >= KEY_GONE || c == a) continue;
            uint32_t pi = maps[b].vals[s], pa = nmap_get(&maps[a], c);
            nmap_del(&maps[c], b);
            if (pa != KEY_EMPTY) {
                pairs *x = &pool[pa];
                const pairs *y = &pool[pi];
                x->sum += y->sum;
                x->count += y->count;
                if (y->mn < x->mn) x->mn = y->mn;
                if (y->mx > x->mx) x->mx = y->mx;
            } else if (nmap_put(&maps[a], c, pi) || nmap_put(&maps[c], a, pi)) {
                goto nomem;
            }
        }
        nmap_free(&maps[b]);
        parent[b] = a;
        size[a] += size[b];
        /* Every pair of the merged cluster has a new value. */
        for (uint32_t s = 0; s < maps[a].cap; s++) {
            uint32_t c = maps[a].keys[s];
            if (c >= KEY_GONE) continue;
            double v = link_value(par.kind, &pool[maps[a].vals[s]], size[a], size[c]);
            if (v >= par.threshold &&
                heap_push(&hp, (cand){v, a < c ? a : c, a < c ? c : a}) != 0)
                goto nomem;
        }
    }
    for (size_t i = 0; i < n; i++) core_label[i] = core[i] ? (int64_t)find(parent, (uint32_t)i) : -1;
    mc_qgraph_attach(&q, core, core_label, par.threshold, labels, roles);
    st = mc_clustering_new(n, labels, roles, out);
    goto cleanup;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory for linkage on %zu faces", n);
cleanup:
    if (maps)
        for (size_t i = 0; i < n; i++) nmap_free(&maps[i]);
    free(maps);
    free(size);
    free(parent);
    free(core_label);
    free(labels);
    free(roles);
    free(pool);
    free(hp.h);
    mc_qgraph_free(&q);
    return st;
}
