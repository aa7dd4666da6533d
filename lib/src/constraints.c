#define _POSIX_C_SOURCE 200809L
/* Must-link / cannot-link constraints: a user's corrections and the faces of
 * one photo, checked for contradictions and enforced on a clustering after
 * the algorithm ran (so they hold for every algorithm, and for assign). */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/clustering.h"
#include "magclust/constraints.h"
#include "io_impl.h"
#include "util_impl.h"

#define MC_MAX_GROUP 4096 /* faces in one photo; more means a wrong key */
#define NO_SRC UINT32_MAX

typedef struct {
    size_t i, j;
    uint32_t src; /* index into sources; NO_SRC for a photo pair */
} edge;

typedef struct {
    size_t i;
    int64_t name;
    uint32_t src;
} name_ref;

struct mc_constraints {
    size_t n;
    char **src;
    size_t n_src, src_cap;
    edge *ml, *cl;
    size_t n_ml, ml_cap, n_cl, cl_cap;
    size_t n_cl_user; /* cannot-links added by the user (before photo pairs) */
    mc_label_map *names;
    int64_t *name_of;   /* n, -1; allocated on the first name */
    uint32_t *name_src; /* n */
    size_t n_named;
    name_ref *nn;       /* not-name lines */
    size_t n_nn, nn_cap;
    int64_t *group;     /* n or NULL */
    char *group_what;
    const char *const *face_text; /* n, borrowed until check(), or NULL */
    /* after check() */
    int checked;
    size_t n_units;
    size_t *unit_of;    /* n */
    size_t *u_start;    /* n_units + 1 */
    size_t *u_members;  /* n */
    int64_t *u_name;    /* n_units: name id or -1 */
    size_t *adj_start;  /* n_units + 1 */
    size_t *adj;        /* units that may not meet each unit */
};

/* ---- building ------------------------------------------------------------ */

mc_status mc_constraints_new(size_t n, mc_constraints_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_constraints_new");
    *out = NULL;
    if (n == 0) return mc_fail(MC_ERR_INVALID_ARG, "constraints need at least one face");
    mc_constraints_t *c = calloc(1, sizeof *c);
    if (!c) return mc_fail(MC_ERR_NOMEM, "out of memory");
    c->n = n;
    c->names = mc_label_map_new();
    if (!c->names) {
        free(c);
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    *out = c;
    return MC_OK;
}

static void free_units(mc_constraints_t *c)
{
    free(c->unit_of);
    free(c->u_start);
    free(c->u_members);
    free(c->u_name);
    free(c->adj_start);
    free(c->adj);
    c->unit_of = c->u_start = c->u_members = c->adj_start = c->adj = NULL;
    c->u_name = NULL;
    c->checked = 0;
}

void mc_constraints_free(mc_constraints_t *c)
{
    if (!c) return;
    for (size_t s = 0; s < c->n_src; s++) free(c->src[s]);
    free(c->src);
    free(c->ml);
    free(c->cl);
    mc_label_map_free(c->names);
    free(c->name_of);
    free(c->name_src);
    free(c->nn);
    free(c->group);
    free(c->group_what);
    free_units(c);
    free(c);
}

static int add_source(mc_constraints_t *c, const char *source, uint32_t *out)
{
    if (c->n_src && strcmp(c->src[c->n_src - 1], source ? source : "") == 0) {
        *out = (uint32_t)(c->n_src - 1);
        return 0;
    }
    if (c->n_src >= UINT32_MAX - 1 || mc_grow_array((void **)&c->src, &c->src_cap, c->n_src + 1, sizeof *c->src))
        return -1;
    char *s = strdup(source ? source : "");
    if (!s) return -1;
    c->src[c->n_src] = s;
    *out = (uint32_t)c->n_src++;
    return 0;
}

static const char *src_text(const mc_constraints_t *c, uint32_t s)
{
    if (s == NO_SRC) return c->group_what ? c->group_what : "the group key";
    return c->src[s];
}

static mc_status add_edge(mc_constraints_t *c, int must, size_t i, size_t j, const char *source)
{
    mc_clear_error();
    if (!c || i >= c->n || j >= c->n)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: face index out of range", source ? source : "constraint");
    uint32_t s;
    if (add_source(c, source, &s) != 0) return mc_fail(MC_ERR_NOMEM, "out of memory");
    edge **arr = must ? &c->ml : &c->cl;
    size_t *len = must ? &c->n_ml : &c->n_cl, *cap = must ? &c->ml_cap : &c->cl_cap;
    if (mc_grow_array((void **)arr, cap, *len + 1, sizeof **arr) != 0) return mc_fail(MC_ERR_NOMEM, "out of memory");
    (*arr)[(*len)++] = (edge){i, j, s};
    if (!must) c->n_cl_user++;
    free_units(c);
    return MC_OK;
}

mc_status mc_constraints_add_same(mc_constraints_t *c, size_t i, size_t j, const char *source)
{
    return add_edge(c, 1, i, j, source);
}

mc_status mc_constraints_add_different(mc_constraints_t *c, size_t i, size_t j, const char *source)
{
    return add_edge(c, 0, i, j, source);
}

mc_status mc_constraints_add_name(mc_constraints_t *c, size_t i, const char *person, const char *source)
{
    mc_clear_error();
    if (!c || !person || !*person || i >= c->n)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: no name, or face index out of range",
                       source ? source : "constraint");
    if (!c->name_of) {
        c->name_of = mc_malloc_array(c->n, sizeof *c->name_of);
        c->name_src = mc_malloc_array(c->n, sizeof *c->name_src);
        if (!c->name_of || !c->name_src) return mc_fail(MC_ERR_NOMEM, "out of memory");
        for (size_t f = 0; f < c->n; f++) c->name_of[f] = -1;
    }
    int64_t id = mc_label_map_id(c->names, person, strlen(person));
    uint32_t s;
    if (id < 0 || add_source(c, source, &s) != 0) return mc_fail(MC_ERR_NOMEM, "out of memory");
    if (c->name_of[i] >= 0 && c->name_of[i] != id)
        return mc_fail(MC_ERR_BAD_DATA, "%s names a face '%s', but %s named it '%s'", c->src[s], person,
                       c->src[c->name_src[i]], mc_label_map_names(c->names)[c->name_of[i]]);
    if (c->name_of[i] < 0) {
        c->name_of[i] = id;
        c->name_src[i] = s;
        c->n_named++;
    }
    free_units(c);
    return MC_OK;
}

mc_status mc_constraints_add_not_name(mc_constraints_t *c, size_t i, const char *person, const char *source)
{
    mc_clear_error();
    if (!c || !person || !*person || i >= c->n)
        return mc_fail(MC_ERR_INVALID_ARG, "%s: no name, or face index out of range",
                       source ? source : "constraint");
    int64_t id = mc_label_map_id(c->names, person, strlen(person));
    uint32_t s;
    if (id < 0 || add_source(c, source, &s) != 0 ||
        mc_grow_array((void **)&c->nn, &c->nn_cap, c->n_nn + 1, sizeof *c->nn) != 0)
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    c->nn[c->n_nn++] = (name_ref){i, id, s};
    free_units(c);
    return MC_OK;
}

mc_status mc_constraints_set_groups(mc_constraints_t *c, const int64_t *group, const char *what)
{
    mc_clear_error();
    if (!c || !group) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_constraints_set_groups");
    int64_t *g = mc_malloc_array(c->n, sizeof *g);
    char *w = strdup(what ? what : "the group key");
    if (!g || !w) {
        free(g);
        free(w);
        return mc_fail(MC_ERR_NOMEM, "out of memory");
    }
    memcpy(g, group, c->n * sizeof *g);
    free(c->group);
    free(c->group_what);
    c->group = g;
    c->group_what = w;
    free_units(c);
    return MC_OK;
}

size_t mc_constraints_n(const mc_constraints_t *c) { return c ? c->n : 0; }
size_t mc_constraints_n_same(const mc_constraints_t *c) { return c ? c->n_ml : 0; }
size_t mc_constraints_n_different(const mc_constraints_t *c) { return c ? c->n_cl : 0; }
size_t mc_constraints_n_named(const mc_constraints_t *c) { return c ? c->n_named : 0; }

const char *mc_constraints_name(const mc_constraints_t *c, size_t i)
{
    if (!c || !c->checked || i >= c->n) return NULL;
    int64_t id = c->u_name[c->unit_of[i]];
    return id >= 0 ? mc_label_map_names(c->names)[id] : NULL;
}

/* ---- check: units and contradictions ------------------------------------ */

static size_t uf_find(size_t *parent, size_t x)
{
    while (parent[x] != x) {
        parent[x] = parent[parent[x]];
        x = parent[x];
    }
    return x;
}

static int cmp_size2(const void *a, const void *b)
{
    const size_t *x = a, *y = b;
    if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* The must-link lines that join faces a and b (a BFS over the must-link
 * edges), as "X, Y and Z" in buf. */
static void explain_path(const mc_constraints_t *c, const edge *ml, size_t n_ml, size_t a, size_t b,
                         char *buf, size_t size)
{
    buf[0] = '\0';
    size_t n = c->n;
    size_t *start = calloc(n + 1, sizeof *start), *adj = mc_malloc_array(2 * n_ml + 1, sizeof *adj);
    size_t *prev_edge = mc_malloc_array(n, sizeof *prev_edge), *queue = mc_malloc_array(n, sizeof *queue);
    if (!start || !adj || !prev_edge || !queue) goto done;
    for (size_t e = 0; e < n_ml; e++) {
        start[ml[e].i + 1]++;
        start[ml[e].j + 1]++;
    }
    for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
    size_t *fill = mc_malloc_array(n, sizeof *fill);
    if (!fill) goto done;
    memcpy(fill, start, n * sizeof *fill);
    for (size_t e = 0; e < n_ml; e++) {
        adj[fill[ml[e].i]++] = e;
        adj[fill[ml[e].j]++] = e;
    }
    free(fill);
    for (size_t i = 0; i < n; i++) prev_edge[i] = SIZE_MAX;
    size_t qh = 0, qt = 0;
    queue[qt++] = a;
    prev_edge[a] = SIZE_MAX - 1;
    while (qh < qt && prev_edge[b] == SIZE_MAX) {
        size_t x = queue[qh++];
        for (size_t p = start[x]; p < start[x + 1]; p++) {
            const edge *e = &ml[adj[p]];
            size_t y = e->i == x ? e->j : e->i;
            if (prev_edge[y] != SIZE_MAX) continue;
            prev_edge[y] = adj[p];
            queue[qt++] = y;
        }
    }
    if (prev_edge[b] == SIZE_MAX) goto done;
    /* walk back, listing distinct sources (at most six) */
    uint32_t seen[6];
    size_t n_seen = 0, more = 0;
    for (size_t y = b; y != a;) {
        const edge *e = &ml[prev_edge[y]];
        int dup = 0;
        for (size_t s = 0; s < n_seen; s++) dup |= seen[s] == e->src;
        if (!dup) {
            if (n_seen < 6)
                seen[n_seen++] = e->src;
            else
                more++;
        }
        y = e->i == y ? e->j : e->i;
    }
    size_t len = 0;
    for (size_t s = 0; s < n_seen && len < size; s++) {
        const char *sep = s == 0 ? "" : (s + 1 == n_seen && !more ? " and " : ", ");
        len += (size_t)snprintf(buf + len, size - len, "%s%s", sep, src_text(c, seen[s]));
    }
    if (more && len < size) snprintf(buf + len, size - len, " and %zu more", more);
done:
    free(start);
    free(adj);
    free(prev_edge);
    free(queue);
}

/* "make" after a list of several sources, "makes" after one. */
static const char *verb_s(const char *sources)
{
    return strchr(sources, ',') || strstr(sources, " and ") ? "" : "s";
}

void mc_constraints_set_face_text(mc_constraints_t *c, const char *const *text)
{
    if (c) c->face_text = text;
}

mc_status mc_constraints_check(mc_constraints_t *c)
{
    mc_clear_error();
    if (!c) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_constraints_check");
    free_units(c);
    size_t n = c->n;
    mc_status st = MC_OK;
    size_t *parent = mc_malloc_array(n, sizeof *parent);
    edge *ml = NULL, *cl = NULL;
    size_t n_ml = c->n_ml, n_cl = c->n_cl_user, *order = NULL, *pairs = NULL;
    int64_t *first_named = NULL;
    size_t n_names = mc_label_map_count(c->names);
    char why[1024];
    if (!parent) goto nomem;
    for (size_t i = 0; i < n; i++) parent[i] = i;

    /* Must-links: the user's, plus each named face to the first face of its
     * name (with a source naming both lines). */
    first_named = mc_malloc_array(n_names + 1, sizeof *first_named);
    if (!first_named) goto nomem;
    for (size_t k = 0; k < n_names; k++) first_named[k] = -1;
    ml = mc_malloc_array(c->n_ml + c->n_named + 1, sizeof *ml);
    if (!ml) goto nomem;
    if (c->n_ml) memcpy(ml, c->ml, c->n_ml * sizeof *ml); /* c->ml is NULL when none */
    for (size_t i = 0; c->name_of && i < n; i++) {
        int64_t id = c->name_of[i];
        if (id < 0) continue;
        if (first_named[id] < 0) {
            first_named[id] = (int64_t)i;
            continue;
        }
        size_t f = (size_t)first_named[id];
        char s[512];
        snprintf(s, sizeof s, "%s and %s (both '%s')", c->src[c->name_src[f]], c->src[c->name_src[i]],
                 mc_label_map_names(c->names)[id]);
        uint32_t si;
        if (add_source(c, s, &si) != 0) goto nomem;
        ml[n_ml++] = (edge){f, i, si};
    }
    for (size_t e = 0; e < n_ml; e++) {
        size_t a = uf_find(parent, ml[e].i), b = uf_find(parent, ml[e].j);
        if (a != b) parent[a < b ? b : a] = a < b ? a : b;
    }

    /* Cannot-links: the user's, not-name lines (to the first face of the
     * name), and every pair within a group. */
    size_t n_group_pairs = 0, m = 0; /* m: faces with a group, in order[] */
    if (c->group) {
        order = mc_malloc_array(n, 2 * sizeof *order);
        if (!order) goto nomem;
        for (size_t i = 0; i < n; i++)
            if (c->group[i] >= 0) {
                order[2 * m] = (size_t)c->group[i];
                order[2 * m + 1] = i;
                m++;
            }
        qsort(order, m, 2 * sizeof *order, cmp_size2);
        for (size_t a = 0; a < m;) {
            size_t b = a;
            while (b < m && order[2 * b] == order[2 * a]) b++;
            if (b - a > MC_MAX_GROUP) {
                st = mc_fail(MC_ERR_BAD_DATA,
                             "%s puts %zu faces in one group (at most %d): is it really a photo key?",
                             c->group_what, b - a, MC_MAX_GROUP);
                goto done;
            }
            n_group_pairs += (b - a) * (b - a - 1) / 2;
            a = b;
        }
        c->n_cl = c->n_cl_user + n_group_pairs;
    }
    cl = mc_malloc_array(c->n_cl_user + c->n_nn + n_group_pairs + 1, sizeof *cl);
    if (!cl) goto nomem;
    if (c->n_cl_user) memcpy(cl, c->cl, c->n_cl_user * sizeof *cl); /* c->cl is NULL when none */
    for (size_t k = 0; k < c->n_nn; k++) {
        int64_t f = c->nn[k].name < (int64_t)n_names ? first_named[c->nn[k].name] : -1;
        if (f < 0) continue; /* nobody here has that name */
        cl[n_cl++] = (edge){c->nn[k].i, (size_t)f, c->nn[k].src};
    }
    if (c->group) {
        for (size_t a = 0; a < m;) {
            size_t b = a;
            while (b < m && order[2 * b] == order[2 * a]) b++;
            for (size_t x = a; x < b; x++)
                for (size_t y = x + 1; y < b; y++) cl[n_cl++] = (edge){order[2 * x + 1], order[2 * y + 1], NO_SRC};
            a = b;
        }
    }

    /* Contradictions: a cannot-link inside a unit, or two names in one. */
    for (size_t e = 0; e < n_cl; e++) {
        if (cl[e].i == cl[e].j) {
            st = mc_fail(MC_ERR_BAD_DATA, "%s says a face is not the same person as itself",
                         src_text(c, cl[e].src));
            goto done;
        }
        if (uf_find(parent, cl[e].i) != uf_find(parent, cl[e].j)) continue;
        explain_path(c, ml, n_ml, cl[e].i, cl[e].j, why, sizeof why);
        if (cl[e].src == NO_SRC && c->face_text)
            st = mc_fail(MC_ERR_BAD_DATA,
                         "faces '%s' and '%s' are in one photo (%s), but %s make%s them the same person",
                         c->face_text[cl[e].i], c->face_text[cl[e].j], src_text(c, NO_SRC), why,
                         verb_s(why));
        else if (cl[e].src == NO_SRC)
            st = mc_fail(MC_ERR_BAD_DATA,
                         "faces %zu and %zu are in one photo (%s), but %s make%s them the same person",
                         cl[e].i, cl[e].j, src_text(c, NO_SRC), why, verb_s(why));
        else
            st = mc_fail(MC_ERR_BAD_DATA, "%s says two faces are different people, but %s make%s them the same person",
                         src_text(c, cl[e].src), why, verb_s(why));
        goto done;
    }

    /* Units: compact the roots. */
    c->unit_of = mc_malloc_array(n, sizeof *c->unit_of);
    if (!c->unit_of) goto nomem;
    size_t nu = 0;
    for (size_t i = 0; i < n; i++) c->unit_of[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        size_t r = uf_find(parent, i);
        if (c->unit_of[r] == SIZE_MAX) c->unit_of[r] = nu++;
        c->unit_of[i] = c->unit_of[r];
    }
    c->n_units = nu;
    c->u_start = calloc(nu + 1, sizeof *c->u_start);
    c->u_members = mc_malloc_array(n, sizeof *c->u_members);
    c->u_name = mc_malloc_array(nu, sizeof *c->u_name);
    if (!c->u_start || !c->u_members || !c->u_name) goto nomem;
    for (size_t i = 0; i < n; i++) c->u_start[c->unit_of[i] + 1]++;
    for (size_t u = 0; u < nu; u++) c->u_start[u + 1] += c->u_start[u];
    {
        size_t *fill = mc_malloc_array(nu + 1, sizeof *fill);
        if (!fill) goto nomem;
        memcpy(fill, c->u_start, (nu + 1) * sizeof *fill);
        for (size_t i = 0; i < n; i++) c->u_members[fill[c->unit_of[i]]++] = i;
        free(fill);
    }
    for (size_t u = 0; u < nu; u++) c->u_name[u] = -1;
    size_t *name_face = NULL;
    if (c->name_of) {
        name_face = mc_malloc_array(nu, sizeof *name_face);
        if (!name_face) goto nomem;
        for (size_t i = 0; i < n; i++) {
            int64_t id = c->name_of[i];
            if (id < 0) continue;
            size_t u = c->unit_of[i];
            if (c->u_name[u] >= 0 && c->u_name[u] != id) {
                size_t f = name_face[u];
                explain_path(c, ml, n_ml, f, i, why, sizeof why);
                const char *const *nm = mc_label_map_names(c->names);
                st = mc_fail(MC_ERR_BAD_DATA, "%s names a face '%s' and %s names another '%s', but %s make%s them the same person",
                             c->src[c->name_src[f]], nm[c->u_name[u]], c->src[c->name_src[i]], nm[id], why,
                             verb_s(why));
                free(name_face);
                goto done;
            }
            c->u_name[u] = id;
            name_face[u] = i;
        }
        free(name_face);
    }

    /* The units each unit may not meet, deduplicated. */
    pairs = mc_malloc_array(2 * n_cl + 1, 2 * sizeof *pairs);
    if (!pairs) goto nomem;
    size_t np = 0;
    for (size_t e = 0; e < n_cl; e++) {
        size_t a = c->unit_of[cl[e].i], b = c->unit_of[cl[e].j];
        pairs[2 * np] = a, pairs[2 * np + 1] = b, np++;
        pairs[2 * np] = b, pairs[2 * np + 1] = a, np++;
    }
    qsort(pairs, np, 2 * sizeof *pairs, cmp_size2);
    c->adj_start = calloc(nu + 1, sizeof *c->adj_start);
    c->adj = mc_malloc_array(np + 1, sizeof *c->adj);
    if (!c->adj_start || !c->adj) goto nomem;
    size_t na = 0;
    for (size_t p = 0; p < np; p++) {
        if (p > 0 && pairs[2 * p] == pairs[2 * p - 2] && pairs[2 * p + 1] == pairs[2 * p - 1]) continue;
        c->adj[na++] = pairs[2 * p + 1];
        c->adj_start[pairs[2 * p] + 1]++;
    }
    for (size_t u = 0; u < nu; u++) c->adj_start[u + 1] += c->adj_start[u];
    c->checked = 1;
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    if (st != MC_OK) free_units(c);
    c->face_text = NULL; /* borrowed until here */
    free(parent);
    free(ml);
    free(cl);
    free(order);
    free(pairs);
    free(first_named);
    return st;
}

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

/* ---- corrections file ----------------------------------------------------- */

typedef struct {
    size_t face, face2;   /* face2: SIZE_MAX for a two-field line */
    int neg;              /* !NAME / !ID / different */
    int is_id;
    int64_t prev;         /* the previous cluster it refers to, or -1 */
    char *name;           /* NAME (not for ids or pairs) */
    uint64_t line;
} correction;

static int is_integer_text(const char *s, int64_t *out)
{
    if (!*s) return 0;
    const char *p = s + (*s == '-');
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return 0;
    return mc_parse_int64(s, strlen(s), out) == 0;
}

static int strieq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b)) return 0;
    return *a == *b;
}

mc_status mc_corrections_read(mc_constraints_t *c, const char *file, const char *const *paths,
                              const float *quality, const int64_t *prev_cluster,
                              const char *const *prev_person, mc_corrections_info *out_info)
{
    mc_clear_error();
    mc_corrections_info dummy;
    mc_corrections_info *info = out_info ? out_info : &dummy;
    memset(info, 0, sizeof *info);
    if (!c || !file || !paths) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_corrections_read");
    size_t n = c->n;
    mc_status st = MC_OK;
    mc_label_map *pmap = mc_label_map_new(), *prev_names = NULL;
    size_t *face_of = mc_malloc_array(n, sizeof *face_of);
    correction *cs = NULL;
    size_t n_cs = 0, cs_cap = 0;
    int64_t *by_prev = NULL, *negs = NULL, *name_prev = NULL; /* (prev, face) sorted; (prev, face) of !lines */
    size_t n_by_prev = 0, n_negs = 0;
    mc_csv_records r;
    int open = 0;
    char src[512];
    if (!pmap || !face_of) goto nomem;
    /* Each distinct path once; SIZE_MAX - 1 marks a path several faces share. */
    for (size_t i = 0; i < n; i++) face_of[i] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        const char *p = paths[i] ? paths[i] : "";
        int64_t id = mc_label_map_id(pmap, p, strlen(p));
        if (id < 0) goto nomem;
        face_of[id] = face_of[id] == SIZE_MAX ? i : SIZE_MAX - 1;
    }
    size_t n_paths = mc_label_map_count(pmap);

    if ((st = mc_csv_open(&r, file, ',')) != MC_OK) goto done;
    open = 1;
    r.loose = 1;
    int rc, first = 1;
    while ((rc = mc_csv_next(&r, &st)) == 1) {
        unsigned long long line = (unsigned long long)r.line;
        if (first && r.nf >= 2 && strieq(mc_csv_field(&r, 0), r.nf == 2 ? "path" : "path_a")) {
            first = 0;
            continue;
        }
        first = 0;
        if (r.nf != 2 && r.nf != 3) {
            st = mc_fail(MC_ERR_BAD_DATA,
                         "%s: line %llu: %zu fields; expected path,person or path_a,path_b,same|different",
                         file, line, r.nf);
            goto done;
        }
        correction x = {SIZE_MAX, SIZE_MAX, 0, 0, -1, NULL, r.line};
        size_t want = r.nf == 3 ? 2 : 1;
        int unknown = 0;
        for (size_t f = 0; f < want; f++) {
            const char *p = mc_csv_text(&r, f);
            if (!*p) {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: empty path", file, line);
                goto done;
            }
            int64_t id = mc_label_map_find(pmap, p, strlen(p));
            if (id < 0 || (size_t)id >= n_paths) {
                unknown = 1;
                continue;
            }
            if (face_of[id] == SIZE_MAX - 1) {
                st = mc_fail(MC_ERR_BAD_DATA,
                             "%s: line %llu: path '%s' is more than one face of the input; a correction needs a unique path",
                             file, line, p);
                goto done;
            }
            if (f == 0)
                x.face = face_of[id];
            else
                x.face2 = face_of[id];
        }
        if (r.nf == 3) {
            const char *rel = mc_csv_field(&r, 2);
            if (strieq(rel, "same"))
                x.neg = 0;
            else if (strieq(rel, "different"))
                x.neg = 1;
            else {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: relation '%s' is not 'same' or 'different'",
                             file, line, rel);
                goto done;
            }
        } else {
            const char *v = mc_csv_text(&r, 1);
            x.neg = v[0] == '!';
            if (x.neg) v++;
            while (*v == ' ') v++;
            if (!*v) {
                st = mc_fail(MC_ERR_BAD_DATA, "%s: line %llu: no person or cluster after the path", file, line);
                goto done;
            }
            int64_t id;
            if (is_integer_text(v, &id)) {
                if (!prev_cluster) {
                    st = mc_fail(MC_ERR_BAD_DATA,
                                 "%s: line %llu: '%s' is a cluster id; cluster ids refer to a previous result (give --previous OLD.csv)",
                                 file, line, v);
                    goto done;
                }
                x.is_id = 1;
                x.prev = id;
            } else if (!(x.name = strdup(v))) {
                goto nomem;
            }
        }
        info->lines++;
        if (unknown) {
            info->unknown++;
            free(x.name);
            continue;
        }
        if (mc_grow_array((void **)&cs, &cs_cap, n_cs + 1, sizeof *cs) != 0) {
            free(x.name);
            goto nomem;
        }
        cs[n_cs++] = x;
    }
    if (rc < 0) goto done;

    /* The previous result: faces by previous cluster (best quality first),
     * and the cluster each previous person name was on. */
    if (prev_cluster) {
        by_prev = mc_malloc_array(n + 1, 2 * sizeof *by_prev);
        if (!by_prev) goto nomem;
        for (size_t i = 0; i < n; i++)
            if (prev_cluster[i] >= 0) {
                by_prev[2 * n_by_prev] = prev_cluster[i];
                by_prev[2 * n_by_prev + 1] = (int64_t)i;
                n_by_prev++;
            }
        qsort(by_prev, n_by_prev, 2 * sizeof *by_prev, mc_cmp_i64_pair);
        if (prev_person) {
            prev_names = mc_label_map_new();
            if (!prev_names) goto nomem;
            name_prev = mc_malloc_array(n + 1, sizeof *name_prev);
            if (!name_prev) goto nomem;
            for (size_t i = 0; i < n; i++) {
                const char *p = prev_person[i];
                if (!p || !*p || prev_cluster[i] < 0) continue;
                size_t before = mc_label_map_count(prev_names);
                int64_t id = mc_label_map_id(prev_names, p, strlen(p));
                if (id < 0) goto nomem;
                if ((size_t)id == before) name_prev[id] = prev_cluster[i]; /* first row of the name */
            }
            for (size_t k = 0; k < n_cs; k++) {
                if (!cs[k].name) continue;
                int64_t id = mc_label_map_find(prev_names, cs[k].name, strlen(cs[k].name));
                if (id >= 0) cs[k].prev = name_prev[id];
            }
        }
        negs = mc_malloc_array(n_cs + 1, 2 * sizeof *negs);
        if (!negs) goto nomem;
        for (size_t k = 0; k < n_cs; k++)
            if (cs[k].face2 == SIZE_MAX && cs[k].neg && cs[k].prev >= 0) {
                negs[2 * n_negs] = cs[k].prev;
                negs[2 * n_negs + 1] = (int64_t)cs[k].face;
                n_negs++;
            }
        qsort(negs, n_negs, 2 * sizeof *negs, mc_cmp_i64_pair);
    }

    for (size_t k = 0; k < n_cs; k++) {
        correction *x = &cs[k];
        snprintf(src, sizeof src, "%s: line %llu", file, (unsigned long long)x->line);
        if (x->face2 != SIZE_MAX) {
            if (x->neg) {
                if (x->face == x->face2) {
                    st = mc_fail(MC_ERR_BAD_DATA, "%s: a face cannot be a different person from itself", src);
                    goto done;
                }
                st = mc_constraints_add_different(c, x->face, x->face2, src);
                info->different++;
            } else {
                st = x->face == x->face2 ? MC_OK : mc_constraints_add_same(c, x->face, x->face2, src);
                info->same++;
            }
            if (st != MC_OK) goto done;
            continue;
        }
        if (x->name) {
            st = x->neg ? mc_constraints_add_not_name(c, x->face, x->name, src)
                        : mc_constraints_add_name(c, x->face, x->name, src);
            if (st != MC_OK) goto done;
        }
        if (x->neg)
            info->not_named++;
        else
            info->named++;
        if (x->prev < 0 || !by_prev) continue;
        /* The previous cluster's faces, except those marked not it. */
        int64_t key[2] = {x->prev, -1};
        size_t lo = 0, hi = n_by_prev;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (mc_cmp_i64_pair(&by_prev[2 * mid], key) < 0) lo = mid + 1; else hi = mid;
        }
        size_t best = SIZE_MAX;
        for (size_t p = lo; p < n_by_prev && by_prev[2 * p] == x->prev; p++) {
            size_t m = (size_t)by_prev[2 * p + 1];
            int64_t mk[2] = {x->prev, (int64_t)m};
            if (n_negs && bsearch(mk, negs, n_negs, 2 * sizeof *negs, mc_cmp_i64_pair)) continue;
            if (m == x->face) continue;
            if (x->neg) {
                if ((st = mc_constraints_add_different(c, x->face, m, src)) != MC_OK) goto done;
            } else if (best == SIZE_MAX || (quality && quality[m] > quality[best])) {
                best = m;
            }
        }
        if (!x->neg && best != SIZE_MAX && (st = mc_constraints_add_same(c, x->face, best, src)) != MC_OK)
            goto done;
    }
    st = MC_OK;
    goto done;
nomem:
    st = mc_fail(MC_ERR_NOMEM, "out of memory");
done:
    if (open) mc_csv_close(&r);
    for (size_t k = 0; k < n_cs; k++) free(cs[k].name);
    free(cs);
    free(face_of);
    mc_label_map_free(pmap);
    mc_label_map_free(prev_names);
    free(by_prev);
    free(negs);
    free(name_prev);
    return st;
}
