#define _POSIX_C_SOURCE 200809L
#include "quality_keys.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli_util.h"

/* Names that hold who or which, not how good. */
static int is_identity_name(const char *key)
{
    static const char *const deny[] = {"label", "labels", "cluster", "clusters", "id", "ids",
                                       "index", "identity", "identities", "person", "photo",
                                       "photos", "photo_id", "photo_ids", "group", "groups",
                                       "role", "roles", "row", "rows"};
    const char *base = strrchr(key, '/');
    base = base ? base + 1 : key;
    for (size_t i = 0; i < sizeof deny / sizeof *deny; i++)
        if (strcasecmp(base, deny[i]) == 0) return 1;
    return 0;
}

/* key (with or without leading slashes) names the dataset path ("/a/b"). */
static int same_key(const char *key, const char *path)
{
    if (!key) return 0;
    key += strspn(key, "/");
    return strcmp(key, path + strspn(path, "/")) == 0;
}

int cli_is_per_face_number(const mc_h5_dataset_info *d, uint64_t rows)
{
    int numeric = strncmp(d->type, "float", 5) == 0 || strstr(d->type, "int") != NULL;
    return numeric && (d->rank == 1 || (d->rank == 2 && d->dims[1] == 1)) && d->dims[0] == rows;
}

static int by_rho(const void *a, const void *b)
{
    const cli_qkey *x = a, *y = b;
    if (x->rho != y->rho) return x->rho < y->rho ? 1 : -1;
    return strcmp(x->name, y->name);
}

void cli_qkeys_free(cli_qkey *k, size_t n)
{
    if (!k) return;
    for (size_t i = 0; i < n; i++) free(k[i].name);
    free(k);
}

long cli_quality_keys(const char *path, const mc_h5_read_params *rp, const mc_embeddings_t *e,
                      const mc_knn_graph_t *g, cli_qkey **out)
{
    *out = NULL;
    mc_h5_dataset_info *ds = NULL;
    size_t nds = 0, n = mc_embeddings_n(e), m = 0;
    mc_status st = mc_h5_list_datasets(path, &ds, &nds);
    if (st != MC_OK) {
        cli_fail_status(st);
        return -1;
    }
    cli_qkey *k = calloc(nds + 1, sizeof *k);
    float *q = malloc((n ? n : 1) * sizeof *q);
    if (!k || !q) goto nomem;
    size_t rows = n + mc_embeddings_n_skipped(e);
    const char *emb = rp->embeddings_key ? rp->embeddings_key : "embeddings";
    const char *quality_in_use = rp->quality_key;
    for (size_t i = 0; i < nds; i++) {
        const mc_h5_dataset_info *d = &ds[i];
        if (!cli_is_per_face_number(d, rows)) continue;
        if (same_key(emb, d->name) || same_key(rp->labels_key, d->name) ||
            same_key(rp->paths_key, d->name) || same_key(rp->group_key, d->name) ||
            same_key(quality_in_use, d->name) || is_identity_name(d->name))
            continue;
        float *v = NULL;
        size_t nv = 0;
        if (mc_h5_read_quality(path, rp, d->name, &v, &nv) != MC_OK) continue; /* NaN, say */
        for (size_t r = 0; r < n; r++) q[r] = v[mc_embeddings_source_row(e, r)];
        free(v);
        mc_quality_check_result c;
        if (mc_quality_check(g, q, &c) != MC_OK) continue;
        if (!(k[m].name = strdup(d->name + 1))) goto nomem;
        k[m].rho = c.rho;
        k[m].informative = c.informative;
        m++;
    }
    if (quality_in_use) { /* the magnitude, now another candidate */
        mc_quality_check_result c;
        if (mc_quality_check(g, mc_embeddings_magnitudes(e), &c) == MC_OK) {
            if (!(k[m].name = strdup("magnitude"))) goto nomem;
            k[m].rho = c.rho;
            k[m].informative = c.informative;
            m++;
        }
    }
    qsort(k, m, sizeof *k, by_rho);
    free(q);
    free(ds);
    *out = k;
    return (long)m;
nomem:
    cli_qkeys_free(k, m);
    free(q);
    free(ds);
    cli_fail_status(MC_ERR_NOMEM);
    return -1;
}

/* Levenshtein distance, case-insensitive, of two short names (capped at 63). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64];
    if (la > 63) la = 63;
    if (lb > 63) lb = 63;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            size_t best = diag + cost;
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

void cli_quality_key_hint(const char *path, const mc_h5_read_params *rp, const char *key, char *buf,
                          size_t size)
{
    buf[0] = '\0';
    mc_h5_dataset_info *ds = NULL;
    size_t nds = 0;
    if (!key || mc_h5_list_datasets(path, &ds, &nds) != MC_OK) return;
    const char *emb = rp->embeddings_key ? rp->embeddings_key : "embeddings";
    uint64_t rows = 0;
    for (size_t i = 0; i < nds; i++)
        if (same_key(emb, ds[i].name) && ds[i].rank >= 1) rows = ds[i].dims[0];
    key += strspn(key, "/");
    size_t used = 0, best_d = (size_t)-1, n = 0;
    const char *best = NULL;
    for (size_t i = 0; i < nds && rows; i++) {
        const mc_h5_dataset_info *d = &ds[i];
        if (!cli_is_per_face_number(d, rows) || same_key(emb, d->name) || same_key(rp->labels_key ? rp->labels_key : "labels", d->name))
            continue;
        const char *name = d->name + strspn(d->name, "/");
        int w = snprintf(buf + used, size - used, "%s%s", n ? ", " : "; its per-face numbers: ", name);
        if (w < 0 || (size_t)w >= size - used) break;
        used += (size_t)w;
        n++;
        size_t dist = edit_distance(key, name);
        if (dist < best_d) {
            best_d = dist;
            best = name;
        }
    }
    if (n == 0) snprintf(buf, size, "; it holds no per-face numbers besides the embeddings");
    else if (best && best_d <= 2 + strlen(key) / 4)
        snprintf(buf + used, size - used, " (did you mean %s?)", best);
    free(ds);
}
