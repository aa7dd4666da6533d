#define _POSIX_C_SOURCE 200809L
/* Enforcing a checked constraint set on a clustering (mc_constraints_apply). */
#include <stdlib.h>
#include <string.h>

#include "magclust/clustering.h"
#include "magclust/constraints.h"
#include "constraints_impl.h"
#include "util_impl.h"

/* ---- apply ---------------------------------------------------------------- */

typedef struct {
    int64_t cluster;
    size_t next;
} forbid_node;

typedef struct {
    const mc_constraints_t *c;
    const mc_constraint_input *in;
    int64_t *labels;
    uint8_t *roles;
    int64_t *uc;      /* cluster of each unit */
    uint8_t *prio;    /* 3 holds a fixed face, 2 named, 1 several faces, 0 one face */
    size_t *forb_head;
    forbid_node *forb;
    size_t n_forb, forb_cap;
    int64_t next_id;
    mc_constraint_stats *stats;
    size_t *owner;    /* cluster -> the named unit in it, SIZE_MAX none (ids < owner_cap) */
    size_t owner_cap;
} apply_ctx;

static int is_forbidden(const apply_ctx *a, size_t u, int64_t cl)
{
    for (size_t p = a->forb_head[u]; p != SIZE_MAX; p = a->forb[p].next)
        if (a->forb[p].cluster == cl) return 1;
    return 0;
}

static int forbid(apply_ctx *a, size_t u, int64_t cl)
{
    if (mc_grow_array((void **)&a->forb, &a->forb_cap, a->n_forb + 1, sizeof *a->forb) != 0) return -1;
    a->forb[a->n_forb] = (forbid_node){cl, a->forb_head[u]};
    a->forb_head[u] = a->n_forb++;
    return 0;
}

static int fixed(const apply_ctx *a, size_t i) { return a->in->fixed && a->in->fixed[i]; }

/* How well unit u belongs to cluster cl: the mean of its three strongest
 * k-NN links into cl (missing links count 0). */
static double match_score(const apply_ctx *a, size_t u, int64_t cl)
{
    const mc_constraints_t *c = a->c;
    float top[3] = {0, 0, 0};
    size_t k = a->in->k;
    for (size_t p = c->u_start[u]; p < c->u_start[u + 1]; p++) {
        size_t m = c->u_members[p];
        if (m < a->in->nbr_first) continue;
        size_t row = (m - a->in->nbr_first) * k;
        for (size_t t = 0; t < k; t++) {
            int64_t j = a->in->nbr[row + t];
            if (j < 0 || (size_t)j >= c->n || c->unit_of[j] == u || a->labels[j] != cl) continue;
            float s = a->in->nbr_sim[row + t];
            if (s > top[2]) {
                top[2] = s;
                if (top[2] > top[1]) { float x = top[1]; top[1] = top[2]; top[2] = x; }
                if (top[1] > top[0]) { float x = top[0]; top[0] = top[1]; top[1] = x; }
            }
        }
    }
    return ((double)top[0] + top[1] + top[2]) / 3.0;
}

/* May unit u join cluster cl? Not when it was moved out of it, nor when a
 * unit it may not meet is there. */
static int may_join(const apply_ctx *a, size_t u, int64_t cl)
{
    const mc_constraints_t *c = a->c;
    if (is_forbidden(a, u, cl)) return 0;
    if (c->u_name[u] >= 0 && a->owner[cl] != SIZE_MAX && a->owner[cl] != u) return 0;
    for (size_t p = c->adj_start[u]; p < c->adj_start[u + 1]; p++)
        if (a->uc[c->adj[p]] == cl) return 0;
    return 1;
}

static int64_t next_best(const apply_ctx *a, size_t u)
{
    const mc_constraints_t *c = a->c;
    size_t k = a->in->k;
    int64_t best = -1;
    float best_s = 0;
    for (size_t p = c->u_start[u]; p < c->u_start[u + 1]; p++) {
        size_t m = c->u_members[p];
        if (fixed(a, m) || m < a->in->nbr_first) continue;
        size_t row = (m - a->in->nbr_first) * k;
        for (size_t t = 0; t < k; t++) {
            int64_t j = a->in->nbr[row + t];
            if (j < 0 || (size_t)j >= c->n || c->unit_of[j] == u) continue;
            float s = a->in->nbr_sim[row + t];
            int64_t cl = a->labels[j];
            if (cl < 0 || (double)s < a->in->threshold || (best >= 0 && s <= best_s)) continue;
            if (!may_join(a, u, cl)) continue;
            best = cl;
            best_s = s;
        }
    }
    return best;
}

/* Put the movable faces of unit u into cluster cl (-1: none). */
static void move_unit(apply_ctx *a, size_t u, int64_t cl, int counting)
{
    const mc_constraints_t *c = a->c;
    for (size_t p = c->u_start[u]; p < c->u_start[u + 1]; p++) {
        size_t m = c->u_members[p];
        if (fixed(a, m) || a->labels[m] == cl) continue;
        a->labels[m] = cl;
        /* a face that changes cluster seeds nothing where it lands */
        a->roles[m] = cl < 0 ? a->in->moved_out_role : (uint8_t)MC_ROLE_BORDER;
        if (counting) {
            if (cl < 0)
                a->stats->to_noise++;
            else
                a->stats->moved++;
        } else {
            a->stats->gathered++;
        }
    }
    if (c->u_name[u] >= 0) {
        if (a->uc[u] >= 0 && a->owner[a->uc[u]] == u) a->owner[a->uc[u]] = SIZE_MAX;
        if (cl >= 0 && a->owner[cl] == SIZE_MAX) a->owner[cl] = u;
    }
    a->uc[u] = cl;
}

/* Units u and v may not meet but share a cluster: the weaker one moves.
 * 1 when something moved, 0 when not (both fixed), -1 out of memory. */
static int resolve(apply_ctx *a, size_t u, size_t v, int pass)
{
    const mc_constraints_t *c = a->c;
    int64_t cl = a->uc[u];
    if (a->prio[u] == 3 && a->prio[v] == 3) {
        if (pass == 0) a->stats->unresolved++;
        return 0;
    }
    a->stats->violations++;
    size_t loser;
    if (a->prio[u] != a->prio[v]) {
        loser = a->prio[u] < a->prio[v] ? u : v;
    } else {
        double su = match_score(a, u, cl), sv = match_score(a, v, cl);
        loser = su < sv ? u : sv < su ? v : (u > v ? u : v);
    }
    if (forbid(a, loser, cl) != 0) return -1;
    int64_t to = next_best(a, loser);
    if (to < 0 && c->u_name[loser] >= 0 && !a->in->no_new_clusters) {
        to = a->next_id++;
        a->stats->new_clusters++;
    }
    size_t winner = loser == u ? v : u;
    move_unit(a, loser, to, 1);
    if (c->u_name[winner] >= 0 && a->owner[cl] == SIZE_MAX) a->owner[cl] = winner;
    return 1;
}

mc_status mc_constraints_apply(const mc_constraints_t *c, const mc_constraint_input *in,
                               int64_t *labels, uint8_t *roles, mc_constraint_stats *out_stats)
{
    mc_clear_error();
    mc_constraint_stats dummy;
    mc_constraint_stats *stats = out_stats ? out_stats : &dummy;
    memset(stats, 0, sizeof *stats);
    if (!c || !in || !labels || !roles || (in->k && (!in->nbr || !in->nbr_sim)))
        return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_constraints_apply");
    if (!c->checked)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_constraints_apply: call mc_constraints_check first");
    size_t n = c->n, nu = c->n_units;
    apply_ctx a = {c, in, labels, roles, NULL, NULL, NULL, NULL, 0, 0, 0, stats, NULL, 0};
    mc_status st = MC_OK;
    a.uc = mc_malloc_array(nu, sizeof *a.uc);
    a.prio = mc_malloc_array(nu, 1);
    a.forb_head = mc_malloc_array(nu, sizeof *a.forb_head);
    size_t *votes_c = NULL;
    double *votes_w = NULL;
    if (!a.uc || !a.prio || !a.forb_head) goto nomem;
    for (size_t i = 0; i < n; i++)
        if (labels[i] >= a.next_id) a.next_id = labels[i] + 1;
    /* every cluster there is, and one more per unit that may open one */
    a.owner_cap = (size_t)a.next_id + nu + 1;
    a.owner = mc_malloc_array(a.owner_cap, sizeof *a.owner);
    if (!a.owner) goto nomem;
    for (size_t k = 0; k < a.owner_cap; k++) a.owner[k] = SIZE_MAX;
    for (size_t u = 0; u < nu; u++) a.uc[u] = -1;

    /* Gather: each unit into the cluster most of it is in (a fixed face's
     * cluster outvotes everything; core faces count twice). */
    size_t max_u = 1;
    for (size_t u = 0; u < nu; u++)
        if (c->u_start[u + 1] - c->u_start[u] > max_u) max_u = c->u_start[u + 1] - c->u_start[u];
    votes_c = mc_malloc_array(max_u, sizeof *votes_c);
    votes_w = mc_malloc_array(max_u, sizeof *votes_w);
    if (!votes_c || !votes_w) goto nomem;
    for (size_t u = 0; u < nu; u++) {
        a.forb_head[u] = SIZE_MAX;
        size_t size = c->u_start[u + 1] - c->u_start[u];
        int has_fixed = 0;
        for (size_t p = c->u_start[u]; p < c->u_start[u + 1]; p++) has_fixed |= fixed(&a, c->u_members[p]);
        a.prio[u] = has_fixed ? 3 : c->u_name[u] >= 0 ? 2 : size > 1 ? 1 : 0;
        if (a.prio[u] == 0) {
            a.uc[u] = labels[c->u_members[c->u_start[u]]];
            continue;
        }
        size_t nv = 0;
        for (size_t p = c->u_start[u]; p < c->u_start[u + 1]; p++) {
            size_t m = c->u_members[p];
            if (labels[m] < 0) continue;
            double w = fixed(&a, m) ? 1e9 : roles[m] == MC_ROLE_CORE ? 2.0 : 1.0;
            size_t v = 0;
            while (v < nv && (int64_t)votes_c[v] != labels[m]) v++;
            if (v == nv) {
                votes_c[nv] = (size_t)labels[m];
                votes_w[nv++] = 0;
            }
            votes_w[v] += w;
        }
        int64_t target = -1;
        double best = 0;
        for (size_t v = 0; v < nv; v++)
            if (votes_w[v] > best || (votes_w[v] == best && (int64_t)votes_c[v] < target)) {
                best = votes_w[v];
                target = (int64_t)votes_c[v];
            }
        if (target < 0 && !in->no_new_clusters) {
            target = a.next_id++;
            stats->new_clusters++;
        }
        if (target >= 0)
            move_unit(&a, u, target, 0);
        else
            a.uc[u] = -1;
    }

    /* Separate: two units that may not meet in one cluster; the weaker one
     * moves to its next-best cluster. Units only leave clusters they were
     * in, never re-enter one, and join only clusters holding nothing they may
     * not meet, so this ends. */
    for (int pass = 0;; pass++) {
        int changed = 0;
        for (size_t u = 0; u < nu; u++) {
            /* two named units in one cluster: different people */
            if (c->u_name[u] >= 0 && a.uc[u] >= 0) {
                size_t v = a.owner[a.uc[u]];
                if (v != SIZE_MAX && v != u) {
                    int r = resolve(&a, u, v, pass);
                    if (r < 0) goto nomem;
                    changed |= r;
                }
            }
            for (size_t p = c->adj_start[u]; p < c->adj_start[u + 1] && a.uc[u] >= 0; p++) {
                size_t v = c->adj[p];
                if (v < u || a.uc[v] != a.uc[u]) continue;
                int r = resolve(&a, u, v, pass);
                if (r < 0) goto nomem;
                changed |= r;
            }
        }
        if (!changed) break;
    }
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    free(a.uc);
    free(a.owner);
    free(a.prio);
    free(a.forb_head);
    free(a.forb);
    free(votes_c);
    free(votes_w);
    return st;
}

