/* The two-level map equation and its search (mapeq_impl.h). Written from
 * Rosvall & Bergstrom (PNAS 2008) and the Infomap papers' description of
 * the search; no Infomap code is used. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "mapeq_impl.h"
#include "util_impl.h"

static inline double plogp(double x) { return x > 0.0 ? x * log2(x) : 0.0; }

/* A move must lower L by more than this (bits): rounding never moves a node. */
#define MOVE_EPS 1e-13
/* Node-move passes per level at most (each pass lowers L; this only bounds
 * the pathological slow crawl). */
#define MAX_PASSES 64

double mc_mapeq_codelength(const mc_flowgraph *g, const uint32_t *module)
{
    size_t n = g->n;
    double *acc = mc_calloc_array(3 * (n > 0 ? n : 1), sizeof *acc);
    if (!acc) return NAN;
    double *flow = acc, *ex = acc + n, *en = acc + 2 * n, node_h = 0.0;
    for (size_t a = 0; a < n; a++) {
        uint32_t m = module[a];
        flow[m] += g->p[a];
        node_h += plogp(g->p[a]);
        for (size_t e = g->ostart[a]; e < g->ostart[a + 1]; e++) {
            uint32_t mb = module[g->onbr[e]];
            if (mb != m) {
                ex[m] += g->oflow[e];
                en[mb] += g->oflow[e];
            }
        }
    }
    double s_en = 0.0, t = 0.0;
    for (size_t m = 0; m < n; m++) {
        s_en += en[m];
        t += -plogp(en[m]) - plogp(ex[m]) + plogp(ex[m] + flow[m]);
    }
    free(acc);
    return plogp(s_en) + t - node_h;
}

/* One level of the search: a flow graph this code owns (or a view of the
 * caller's at level 0). */
typedef struct {
    size_t n;
    double *p;
    size_t *ostart, *istart;
    uint32_t *onbr, *inbr;
    double *oflow, *iflow;
    double *out_tot, *in_tot; /* per node: link flow out, in */
    int owned, shared_in;     /* arrays freed by level_free; in-links are the out-links */
} level;

static void level_free(level *L)
{
    if (L->owned) {
        free(L->p);
        free(L->ostart);
        free(L->onbr);
        free(L->oflow);
        if (!L->shared_in) {
            free(L->istart);
            free(L->inbr);
            free(L->iflow);
        }
    }
    free(L->out_tot);
    free(L->in_tot);
    memset(L, 0, sizeof *L);
}

static int level_totals(level *L)
{
    L->out_tot = mc_calloc_array(L->n ? L->n : 1, sizeof *L->out_tot);
    L->in_tot = mc_calloc_array(L->n ? L->n : 1, sizeof *L->in_tot);
    if (!L->out_tot || !L->in_tot) return -1;
    for (size_t a = 0; a < L->n; a++) {
        for (size_t e = L->ostart[a]; e < L->ostart[a + 1]; e++) L->out_tot[a] += L->oflow[e];
        for (size_t e = L->istart[a]; e < L->istart[a + 1]; e++) L->in_tot[a] += L->iflow[e];
    }
    return 0;
}

/* A module's share of L but for the index codebook's plogp(sum enter). */
static inline double module_term(double enter, double exit, double flow)
{
    return -plogp(enter) - plogp(exit) + plogp(exit + flow);
}

/* A module: its flow, exit and enter flows, and its share of L but for the
 * index codebook's plogp(sum enter) (module_term); one cache line. */
typedef struct {
    double flow, exit, enter, term;
} modstat;

/* Link flow from the node being moved to a module, and back; stamp says
 * whether the entry belongs to the node now visited. */
typedef struct {
    double out, in;
    uint32_t stamp;
} accum;

/* The state of the moves on one level. */
typedef struct {
    size_t n;
    uint32_t *mod;
    modstat *ms;
    uint32_t *msize;
    uint32_t *empty; /* stack of empty module ids */
    size_t n_empty;
    double s_enter;  /* sum of enter flows */
    /* work */
    accum *acc;
    uint32_t *touched, *order;
    uint8_t *active, *active_next; /* visit in this pass / the next */
    uint32_t clock;
} movestate;

static void moves_free(movestate *s)
{
    free(s->mod);
    free(s->ms);
    free(s->msize);
    free(s->empty);
    free(s->acc);
    free(s->touched);
    free(s->order);
    free(s->active);
    free(s->active_next);
    memset(s, 0, sizeof *s);
}

static int moves_init(movestate *s, const level *L, const uint32_t *init)
{
    size_t n = L->n, n1 = n ? n : 1;
    memset(s, 0, sizeof *s);
    s->n = n;
    s->mod = mc_malloc_array(n1, sizeof *s->mod);
    s->ms = mc_calloc_array(n1, sizeof *s->ms);
    s->msize = mc_calloc_array(n1, sizeof *s->msize);
    s->empty = mc_malloc_array(n1, sizeof *s->empty);
    s->acc = mc_calloc_array(n1, sizeof *s->acc);
    s->touched = mc_malloc_array(n1, sizeof *s->touched);
    s->order = mc_malloc_array(n1, sizeof *s->order);
    s->active = mc_malloc_array(n1, 1);
    s->active_next = mc_calloc_array(n1, 1);
    if (!s->mod || !s->ms || !s->msize || !s->empty || !s->acc || !s->touched || !s->order ||
        !s->active || !s->active_next)
        return -1;
    for (size_t a = 0; a < n; a++) {
        uint32_t m = init ? init[a] : (uint32_t)a;
        s->mod[a] = m;
        s->msize[m]++;
        s->ms[m].flow += L->p[a];
        s->order[a] = (uint32_t)a;
        s->active[a] = 1;
    }
    for (size_t a = 0; a < n; a++) {
        uint32_t m = s->mod[a];
        for (size_t e = L->ostart[a]; e < L->ostart[a + 1]; e++) {
            uint32_t mb = s->mod[L->onbr[e]];
            if (mb != m) {
                s->ms[m].exit += L->oflow[e];
                s->ms[mb].enter += L->oflow[e];
            }
        }
    }
    for (size_t m = n; m-- > 0;) {
        if (s->msize[m] == 0) s->empty[s->n_empty++] = (uint32_t)m;
        s->s_enter += s->ms[m].enter;
        s->ms[m].term = module_term(s->ms[m].enter, s->ms[m].exit, s->ms[m].flow);
    }
    return 0;
}

/* Passes of node moves until one moves nothing. Returns the moves made. */
static size_t moves_run(movestate *s, const level *L, uint64_t *rng)
{
    size_t n = s->n, total = 0;
    const int symmetric = L->shared_in;
    for (int pass = 0; pass < MAX_PASSES; pass++) {
        size_t moved = 0;
        for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
            size_t r = (size_t)(mc_splitmix64(rng) % (uint64_t)i);
            uint32_t t = s->order[i - 1];
            s->order[i - 1] = s->order[r];
            s->order[r] = t;
        }
        for (size_t t = 0; t < n; t++) {
            uint32_t a = s->order[t], mi = s->mod[a];
            /* a face none of whose neighbours moved in the last pass is
             * left alone (its best move can only have changed through the
             * modules' totals): later passes cost what changed */
            if (!s->active[a]) continue;
            if (++s->clock == 0) { /* wrapped: restart the stamps */
                for (size_t m = 0; m < n; m++) s->acc[m].stamp = 0;
                s->clock = 1;
            }
            size_t nt = 0;
            for (size_t e = L->ostart[a]; e < L->ostart[a + 1]; e++) {
                uint32_t m = s->mod[L->onbr[e]];
                if (s->acc[m].stamp != s->clock) {
                    s->acc[m].stamp = s->clock;
                    s->acc[m].out = s->acc[m].in = 0.0;
                    s->touched[nt++] = m;
                }
                s->acc[m].out += L->oflow[e];
            }
            if (symmetric) { /* in-links are the out-links: the same flows */
                for (size_t c = 0; c < nt; c++) s->acc[s->touched[c]].in = s->acc[s->touched[c]].out;
            } else {
                for (size_t e = L->istart[a]; e < L->istart[a + 1]; e++) {
                    uint32_t m = s->mod[L->inbr[e]];
                    if (s->acc[m].stamp != s->clock) {
                        s->acc[m].stamp = s->clock;
                        s->acc[m].out = s->acc[m].in = 0.0;
                        s->touched[nt++] = m;
                    }
                    s->acc[m].in += L->iflow[e];
                }
            }
            double oa = L->out_tot[a], ia = L->in_tot[a], pa = L->p[a];
            double o_i = s->acc[mi].stamp == s->clock ? s->acc[mi].out : 0.0;
            double n_i = s->acc[mi].stamp == s->clock ? s->acc[mi].in : 0.0;
            /* module mi without a */
            double ex_i = s->ms[mi].exit - (oa - o_i) + n_i;
            double en_i = s->ms[mi].enter - (ia - n_i) + o_i;
            double fl_i = s->ms[mi].flow - pa;
            double base_old = s->ms[mi].term;
            double base_new = module_term(en_i, ex_i, fl_i);
            double pl_s_en = plogp(s->s_enter);
            double best_d = -MOVE_EPS;
            uint32_t best = mi;
            /* candidates: the neighbours' modules, then a new empty one */
            int has_empty = s->msize[mi] > 1 && s->n_empty > 0;
            for (size_t c = 0; c < nt + (size_t)has_empty; c++) {
                uint32_t m;
                double o_m, n_m;
                if (c < nt) {
                    m = s->touched[c];
                    if (m == mi) continue;
                    o_m = s->acc[m].out;
                    n_m = s->acc[m].in;
                } else {
                    m = s->empty[s->n_empty - 1];
                    o_m = n_m = 0.0;
                }
                double ex_m = s->ms[m].exit + (oa - o_m) - n_m;
                double en_m = s->ms[m].enter + (ia - n_m) - o_m;
                double fl_m = s->ms[m].flow + pa;
                double s_en = s->s_enter - s->ms[mi].enter - s->ms[m].enter + en_i + en_m;
                /* undirected flow: enter = exit, one logarithm fewer */
                double term_m = symmetric ? -2.0 * plogp(ex_m) + plogp(ex_m + fl_m)
                                          : module_term(en_m, ex_m, fl_m);
                double d = plogp(s_en) - pl_s_en + base_new - base_old + term_m - s->ms[m].term;
                if (d < best_d || (d == best_d && best != mi && m < best)) {
                    best_d = d;
                    best = m;
                }
            }
            if (best == mi) continue;
            double o_m = 0.0, n_m = 0.0;
            if (s->acc[best].stamp == s->clock) {
                o_m = s->acc[best].out;
                n_m = s->acc[best].in;
            }
            if (s->msize[best] == 0) s->n_empty--; /* it was the top of the stack */
            s->s_enter -= s->ms[mi].enter + s->ms[best].enter;
            s->ms[mi].exit = ex_i;
            s->ms[mi].enter = en_i;
            s->ms[mi].flow = fl_i;
            s->ms[best].exit += (oa - o_m) - n_m;
            s->ms[best].enter += (ia - n_m) - o_m;
            s->ms[best].flow += pa;
            s->s_enter += s->ms[mi].enter + s->ms[best].enter;
            s->msize[best]++;
            if (--s->msize[mi] == 0) {
                s->ms[mi].exit = s->ms[mi].enter = s->ms[mi].flow = 0.0;
                s->empty[s->n_empty++] = mi;
            }
            s->ms[mi].term = module_term(s->ms[mi].enter, s->ms[mi].exit, s->ms[mi].flow);
            s->ms[best].term = module_term(s->ms[best].enter, s->ms[best].exit, s->ms[best].flow);
            s->mod[a] = best;
            moved++;
            s->active_next[a] = 1;
            for (size_t e = L->ostart[a]; e < L->ostart[a + 1]; e++) s->active_next[L->onbr[e]] = 1;
            if (!symmetric)
                for (size_t e = L->istart[a]; e < L->istart[a + 1]; e++) s->active_next[L->inbr[e]] = 1;
        }
        total += moved;
        uint8_t *t = s->active;
        s->active = s->active_next;
        s->active_next = t;
        memset(s->active_next, 0, n);
        if (moved == 0) break;
    }
    return total;
}

/* Renumbers s->mod to 0 .. M-1 by first appearance; returns M. */
static size_t compact(uint32_t *mod, size_t n, uint32_t *map)
{
    for (size_t m = 0; m < n; m++) map[m] = UINT32_MAX;
    size_t M = 0;
    for (size_t a = 0; a < n; a++) {
        if (map[mod[a]] == UINT32_MAX) map[mod[a]] = (uint32_t)M++;
        mod[a] = map[mod[a]];
    }
    return M;
}

/* CSR rows of the module graph: the flows between modules summed. */
static int aggregate_rows(size_t n, size_t M, const uint32_t *mod, const size_t *start,
                          const uint32_t *nbr, const double *flow, size_t **out_start,
                          uint32_t **out_nbr, double **out_flow)
{
    int rc = -1;
    size_t *mstart = mc_calloc_array(M + 1, sizeof *mstart);
    uint32_t *members = mc_malloc_array(n ? n : 1, sizeof *members);
    double *acc = mc_calloc_array(M ? M : 1, sizeof *acc);
    uint32_t *seen = mc_malloc_array(M ? M : 1, sizeof *seen);
    uint32_t *touched = mc_malloc_array(M ? M : 1, sizeof *touched);
    size_t *ost = mc_calloc_array(M + 1, sizeof *ost);
    uint32_t *onb = NULL;
    double *ofl = NULL;
    size_t cap = 0, used = 0;
    if (!mstart || !members || !acc || !seen || !touched || !ost) goto done;
    for (size_t a = 0; a < n; a++) mstart[mod[a] + 1]++;
    for (size_t m = 0; m < M; m++) mstart[m + 1] += mstart[m];
    {
        size_t *fill = mc_malloc_array(M ? M : 1, sizeof *fill);
        if (!fill) goto done;
        memcpy(fill, mstart, M * sizeof *fill);
        for (size_t a = 0; a < n; a++) members[fill[mod[a]]++] = (uint32_t)a;
        free(fill);
    }
    for (size_t m = 0; m < M; m++) seen[m] = UINT32_MAX;
    for (size_t m = 0; m < M; m++) {
        size_t nt = 0;
        for (size_t c = mstart[m]; c < mstart[m + 1]; c++) {
            uint32_t a = members[c];
            for (size_t e = start[a]; e < start[a + 1]; e++) {
                uint32_t t = mod[nbr[e]];
                if (t == m) continue;
                if (seen[t] != m) {
                    seen[t] = (uint32_t)m;
                    acc[t] = 0.0;
                    touched[nt++] = t;
                }
                acc[t] += flow[e];
            }
        }
        if (used + nt > cap) {
            size_t c1 = cap, c2 = cap;
            if (mc_grow_array((void **)&onb, &c1, used + nt, sizeof *onb) != 0 ||
                mc_grow_array((void **)&ofl, &c2, used + nt, sizeof *ofl) != 0)
                goto done;
            cap = c1 < c2 ? c1 : c2;
        }
        /* rows in the order the members (by index) meet their neighbours:
         * a fixed order, so every sum over a row is reproducible */
        for (size_t x = 0; x < nt; x++) {
            onb[used] = touched[x];
            ofl[used++] = acc[touched[x]];
        }
        ost[m + 1] = used;
    }
    *out_start = ost;
    *out_nbr = onb ? onb : mc_malloc_array(1, sizeof *onb);
    *out_flow = ofl ? ofl : mc_malloc_array(1, sizeof *ofl);
    if (!*out_nbr || !*out_flow) {
        free(*out_nbr);
        free(*out_flow);
        onb = NULL;
        ofl = NULL;
        goto done;
    }
    ost = NULL;
    onb = NULL;
    ofl = NULL;
    rc = 0;
done:
    free(mstart);
    free(members);
    free(acc);
    free(seen);
    free(touched);
    free(ost);
    free(onb);
    free(ofl);
    return rc;
}

/* The level whose nodes are the modules mod[] (0 .. M-1) of L. */
static int aggregate(const level *L, const uint32_t *mod, size_t M, level *out)
{
    memset(out, 0, sizeof *out);
    out->n = M;
    out->owned = 1;
    out->shared_in = L->shared_in;
    out->p = mc_calloc_array(M ? M : 1, sizeof *out->p);
    if (!out->p) return -1;
    for (size_t a = 0; a < L->n; a++) out->p[mod[a]] += L->p[a];
    if (aggregate_rows(L->n, M, mod, L->ostart, L->onbr, L->oflow, &out->ostart, &out->onbr,
                       &out->oflow) != 0)
        return -1;
    if (L->shared_in) {
        out->istart = out->ostart;
        out->inbr = out->onbr;
        out->iflow = out->oflow;
    } else if (aggregate_rows(L->n, M, mod, L->istart, L->inbr, L->iflow, &out->istart,
                              &out->inbr, &out->iflow) != 0) {
        return -1;
    }
    return level_totals(out);
}

/* The hierarchical core search from level 0 (with initial modules init, or
 * singletons): moves, aggregation, moves on the modules, ... until a level
 * merges nothing. assign[n0] receives each node's module (0 .. M-1). */
static int core_search(const level *L0, const uint32_t *init, uint64_t *rng, uint32_t *assign)
{
    size_t n0 = L0->n;
    uint32_t *map = mc_malloc_array(n0 ? n0 : 1, sizeof *map);
    if (!map) return -1;
    for (size_t a = 0; a < n0; a++) assign[a] = (uint32_t)a;
    level cur = *L0, next;
    cur.owned = 0;
    cur.out_tot = cur.in_tot = NULL; /* L0's totals are borrowed below */
    int rc = -1, first = 1;
    for (;;) {
        movestate s;
        const level *lv = first ? L0 : &cur;
        if (moves_init(&s, lv, first ? init : NULL) != 0) {
            moves_free(&s);
            break;
        }
        moves_run(&s, lv, rng);
        size_t M = compact(s.mod, lv->n, map);
        for (size_t a = 0; a < n0; a++) assign[a] = s.mod[assign[a]];
        if (M == lv->n) {
            moves_free(&s);
            rc = 0;
            break;
        }
        int ok = aggregate(lv, s.mod, M, &next) == 0;
        moves_free(&s);
        if (!first) level_free(&cur);
        first = 0;
        cur = next;
        if (!ok) {
            level_free(&cur);
            free(map);
            return -1;
        }
    }
    if (!first) level_free(&cur);
    free(map);
    return rc;
}

/* One trial: the core search from singletons with the visiting order of
 * seed, then fine-tune rounds while the codelength drops. a, b: n scratch
 * entries each; the partition found ends in a. Returns its codelength, or
 * NAN when out of memory. */
static double one_trial(const level *L0, const mc_flowgraph *g, uint64_t seed, size_t max_tune,
                        uint32_t *a, uint32_t *b)
{
    uint64_t rng = seed;
    if (core_search(L0, NULL, &rng, a) != 0) return NAN;
    double L = mc_mapeq_codelength(g, a);
    for (size_t r = 0; r < max_tune; r++) {
        /* fine-tune: node moves from the modules found, then the core
         * search on the modules again */
        if (core_search(L0, a, &rng, b) != 0) return NAN;
        double L2 = mc_mapeq_codelength(g, b);
        if (!(L2 < L - 1e-10 * fabs(L))) break;
        L = L2;
        memcpy(a, b, g->n * sizeof *a);
    }
    return L;
}

mc_status mc_mapeq_optimise(const mc_flowgraph *g, const mc_mapeq_params *p, uint32_t *out_module,
                            double *out_L, double *out_L1)
{
    size_t n = g->n;
    level L0;
    memset(&L0, 0, sizeof L0);
    L0.n = n;
    L0.p = (double *)g->p;
    L0.ostart = (size_t *)g->ostart;
    L0.istart = (size_t *)g->istart;
    L0.onbr = (uint32_t *)g->onbr;
    L0.inbr = (uint32_t *)g->inbr;
    L0.oflow = (double *)g->oflow;
    L0.iflow = (double *)g->iflow;
    L0.shared_in = g->inbr == g->onbr && g->iflow == g->oflow && g->istart == g->ostart;
    uint32_t *map = mc_malloc_array(n ? n : 1, sizeof *map);
    mc_status st = MC_ERR_NOMEM;
    if (!map || level_totals(&L0) != 0) goto done;
    double node_h = 0.0;
    for (size_t i = 0; i < n; i++) node_h += plogp(g->p[i]);
    if (out_L1) *out_L1 = node_h != 0.0 ? -node_h : 0.0; /* not -0 */
    size_t trials = p->trials ? p->trials : 1;
    int nt = p->n_threads > 0 ? p->n_threads : omp_get_num_procs();
    if ((size_t)nt > trials) nt = (int)trials;
    if (nt < 1) nt = 1;
    /* The trials are independent (trial t visits in the order of seed + t),
     * so threads share them out; each thread keeps its best, and the winner
     * is the least codelength, the lowest trial on a tie: the same partition
     * on any thread count. */
    double best_L = INFINITY;
    size_t best_t = SIZE_MAX;
    int failed = 0;
#pragma omp parallel num_threads(nt)
    {
        uint32_t *a = mc_malloc_array(n ? n : 1, sizeof *a);
        uint32_t *b = mc_malloc_array(n ? n : 1, sizeof *b);
        uint32_t *mine = mc_malloc_array(n ? n : 1, sizeof *mine);
        double my_L = INFINITY;
        size_t my_t = SIZE_MAX;
        int ok = a && b && mine;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t t = 0; t < trials; t++) {
            if (!ok) continue;
            double L = one_trial(&L0, g, p->seed + t, p->max_tune, a, b);
            if (isnan(L)) {
                ok = 0;
#pragma omp atomic write
                failed = 1;
                continue;
            }
            if (L < my_L || (L == my_L && t < my_t)) {
                my_L = L;
                my_t = t;
                uint32_t *x = mine;
                mine = a;
                a = x;
            }
        }
#pragma omp critical(mc_mapeq_best)
        {
            if (ok && my_t != SIZE_MAX &&
                (my_L < best_L || (my_L == best_L && my_t < best_t))) {
                best_L = my_L;
                best_t = my_t;
                memcpy(out_module, mine, n * sizeof *mine);
            }
        }
        free(a);
        free(b);
        free(mine);
    }
    if (failed || best_t == SIZE_MAX) goto done;
    compact(out_module, n, map);
    if (out_L) *out_L = best_L;
    st = MC_OK;
done:
    free(L0.out_tot);
    free(L0.in_tot);
    free(map);
    if (st != MC_OK) return mc_fail(st, "out of memory for the map equation on %zu nodes", n);
    return MC_OK;
}
