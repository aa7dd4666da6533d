#define _POSIX_C_SOURCE 200809L
/* Must-link / cannot-link constraints: a user's corrections and the faces of
 * one photo, built into a set and checked for contradictions here; enforced
 * on a clustering after the algorithm ran (constraints_apply.c), so they
 * hold for every algorithm, and for assign; read from a user's corrections
 * file in corrections.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/constraints.h"
#include "constraints_impl.h"
#include "util_impl.h"

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

