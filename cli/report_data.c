/* magclust report, the data: clusters and their order, thumbnails, and the
 * scores and worst cases against labels. */
#define _POSIX_C_SOURCE 200809L
#include "report_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "thumb.h"

/* ---- order ---------------------------------------------------------------- */

/* A face's sort key: its cluster, its representative first (the avatar),
 * core before border, quality (best first), index. */
typedef struct {
    int64_t cluster;
    int not_rep, not_core;
    float q;
    size_t i;
} member_key;

static int cmp_member(const void *a, const void *b)
{
    const member_key *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    if (x->not_rep != y->not_rep) return x->not_rep - y->not_rep;
    if (x->not_core != y->not_core) return x->not_core - y->not_core;
    if (!isnan(x->q) && !isnan(y->q) && x->q != y->q) return x->q > y->q ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* Sort the faces list[0..len) by cmp_member. 0, or -1 out of memory. */
static int sort_members(const mc_previous_t *r, size_t *list, size_t len)
{
    member_key *k = malloc((len + 1) * sizeof *k);
    if (!k) return -1;
    for (size_t j = 0; j < len; j++) {
        size_t i = list[j];
        k[j] = (member_key){mc_previous_cluster(r, i), mc_previous_representative(r, i) != 1,
                            mc_previous_role(r, i) != MC_ROLE_CORE, mc_previous_quality(r, i), i};
    }
    qsort(k, len, sizeof *k, cmp_member);
    for (size_t j = 0; j < len; j++) list[j] = k[j].i;
    free(k);
    return 0;
}

/* Lowest margin first, then index. */
typedef struct {
    float margin;
    size_t i;
} unsure_key;

static int cmp_unsure(const void *a, const void *b)
{
    const unsure_key *x = a, *y = b;
    if (x->margin != y->margin) return x->margin < y->margin ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

/* The clustered faces of lowest margin, REPORT_UNSURE_MAX and a tenth of
 * those with a margin at most (none when the result has no margins).
 * 0, or -1 out of memory. */
static int gather_unsure(report_data *d)
{
    unsure_key *k = malloc((d->m + 1) * sizeof *k);
    d->unsure = malloc((REPORT_UNSURE_MAX + 1) * sizeof *d->unsure);
    if (!k || !d->unsure) {
        free(k);
        return -1;
    }
    size_t len = 0;
    for (size_t j = 0; j < d->m; j++) {
        size_t i = d->order[j];
        float mg = mc_previous_margin(d->r, i);
        if (!isnan(mg)) k[len++] = (unsure_key){mg, i};
    }
    qsort(k, len, sizeof *k, cmp_unsure);
    /* a tenth of the faces at most: a clean small result has little to ask */
    size_t most = (len + 9) / 10 < REPORT_UNSURE_MAX ? (len + 9) / 10 : REPORT_UNSURE_MAX;
    for (size_t j = 0; j < most; j++) d->unsure[d->n_unsure++] = k[j].i;
    free(k);
    return 0;
}

static int cmp_cluster(const void *a, const void *b)
{
    const report_cluster *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

static int cmp_worst(const void *x, const void *y)
{
    const report_worst *p = x, *q = y;
    if (p->a != q->a) return p->a > q->a ? -1 : 1;
    return (p->key > q->key) - (p->key < q->key);
}

/* ---- the steps -------------------------------------------------------------- */

/* Clusters, largest first; members best first. 0, or -1 out of memory. */
static int gather_clusters(report_data *d)
{
    const mc_previous_t *r = d->r;
    size_t n = d->n;
    d->order = malloc(n * sizeof *d->order);
    d->noise = malloc(n * sizeof *d->noise);
    d->pred = malloc(n * sizeof *d->pred);
    d->thumb_of = malloc(n * sizeof *d->thumb_of);
    if (!d->order || !d->noise || !d->pred || !d->thumb_of) return -1;
    size_t *order = d->order;
    int64_t *pred = d->pred;
    size_t m = 0, nn = 0;
    for (size_t i = 0; i < n; i++) {
        pred[i] = mc_previous_cluster(r, i);
        d->thumb_of[i] = -1;
        int role = mc_previous_role(r, i);
        d->counts[role >= 0 && role <= 3 ? role : 4]++;
        if (pred[i] >= 0)
            order[m++] = i;
        else
            d->noise[nn++] = i;
    }
    d->m = m;
    d->nn = nn;
    if (sort_members(r, order, m) != 0 || sort_members(r, d->noise, nn) != 0) return -1;
    size_t nc = 0;
    report_cluster *cl = d->cl = malloc((m + 1) * sizeof *cl);
    if (!cl) return -1;
    for (size_t a = 0; a < m;) {
        size_t b = a, core = 0;
        while (b < m && pred[order[b]] == pred[order[a]]) core += mc_previous_role(r, order[b]) == MC_ROLE_CORE, b++;
        const char *name = NULL;
        for (size_t k = a; k < b && !name; k++) name = mc_previous_person(r, order[k]);
        cl[nc++] = (report_cluster){pred[order[a]], a, b - a, core, name};
        a = b;
    }
    d->nc = nc;
    qsort(cl, nc, sizeof *cl, cmp_cluster);
    return 0;
}

/* Thumbnails: the first faces of each cluster, then the best noise faces.
 * An image that cannot be read counts as missing. 0, or -1 out of memory. */
static int make_thumbnails(report_data *d, const report_thumb_params *tp)
{
    const mc_previous_t *r = d->r;
    size_t tper = tp->per_cluster, nn = d->nn;
    char *pathbuf = NULL;
    unsigned char *tried_face = NULL; /* a face listed twice (a cluster's first and to check) is read once */
    int rc = -1;
    /* relative paths start at --image-root, else at the result's folder */
    char *dir = strdup(tp->image_root ? tp->image_root : tp->result_path);
    if (!dir) return -1;
    if (!tp->image_root) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
    }
    d->image_dir = dir; /* the summary says where it looked */
    const char *base = dir;
    d->thumbs = calloc(tp->max + 1, sizeof *d->thumbs);
    d->thumb_len = calloc(tp->max + 1, sizeof *d->thumb_len);
    if (!d->thumbs || !d->thumb_len) goto done;
    size_t want = 0;
    for (size_t k = 0; k < d->nc; k++) want += d->cl[k].size < tper ? d->cl[k].size : tper;
    want += nn < tper * 10 ? nn : tper * 10;
    want += d->n_unsure;
    if (want > tp->max) want = tp->max;
    size_t pathbuf_len = strlen(base) + 4096;
    pathbuf = malloc(pathbuf_len);
    tried_face = calloc(d->n + 1, 1);
    if (!pathbuf || !tried_face) goto done;
    size_t tried = 0;
    /* the clusters' first faces, the noise faces, the faces to check */
    for (size_t pass = 0; pass < 3; pass++) {
        size_t groups = pass == 0 ? d->nc : 1;
        for (size_t k = 0; k < groups; k++) {
            const size_t *list = pass == 0 ? d->order + d->cl[k].start : pass == 1 ? d->noise : d->unsure;
            size_t len = pass == 0 ? d->cl[k].size : pass == 1 ? nn : d->n_unsure;
            size_t lim = pass == 0 ? tper : pass == 1 ? tper * 10 : REPORT_UNSURE_MAX;
            for (size_t j = 0; j < len && j < lim && tried < want; j++) {
                size_t i = list[j];
                const char *p = mc_previous_path(r, i);
                if (!p || !*p || tried_face[i]) continue;
                tried_face[i] = 1;
                if (p[0] == '/')
                    snprintf(pathbuf, pathbuf_len, "%s", p);
                else
                    snprintf(pathbuf, pathbuf_len, "%s/%s", base, p);
                char err[200];
                tried++;
                if (cli_thumb_make(pathbuf, (int)tp->size, 80, &d->thumbs[d->n_thumbs],
                                   &d->thumb_len[d->n_thumbs], err, sizeof err) == 0)
                    d->thumb_of[i] = (int)d->n_thumbs++;
                else
                    d->n_missing++;
                if (tp->progress && tried % 2000 == 0)
                    fprintf(stderr, "\rreport: %zu of %zu thumbnails", tried, want);
            }
        }
    }
    if (tp->progress && tried >= 2000) fprintf(stderr, "\n");
    rc = 0;
done:
    free(pathbuf);
    free(tried_face);
    return rc;
}

/* The most faces a sorted run of tl[0..len) holds; *parts: how many runs. */
static size_t largest_run(const int64_t *tl, size_t len, size_t *parts, int64_t *who)
{
    size_t best = 0;
    *parts = 0;
    for (size_t a = 0; a < len;) {
        size_t b = a;
        while (b < len && tl[b] == tl[a]) b++;
        if (b - a > best) best = b - a, *who = tl[a];
        (*parts)++;
        a = b;
    }
    return best;
}

/* The scores against the labels and the worst merges and splits. CLI_OK, or
 * CLI_FAIL with the error printed. */
static int score(report_data *d)
{
    const int64_t *labels = d->labels, *pred = d->pred;
    size_t n = d->n;
    mc_status st = mc_metrics_compute(labels, pred, n, &d->met);
    if (st != MC_OK) return cli_fail_status(st);
    int64_t *pairs = NULL, *tl = malloc(n * sizeof *tl);
    d->merges = malloc((d->nc + 1) * sizeof *d->merges);
    if (!tl || !d->merges) goto nomem;
    /* merges: the faces not of a cluster's main identity */
    for (size_t k = 0; k < d->nc; k++) {
        const report_cluster *c = &d->cl[k];
        for (size_t j = 0; j < c->size; j++) {
            size_t i = d->order[c->start + j];
            tl[j] = labels[i] >= 0 ? labels[i] : -1 - (int64_t)i; /* unlabelled: a person of its own */
        }
        qsort(tl, c->size, sizeof *tl, cli_cmp_i64);
        size_t parts;
        int64_t who = -1;
        size_t best = largest_run(tl, c->size, &parts, &who);
        if (best < c->size) d->merges[d->n_merges++] = (report_worst){c->id, c->size - best, c->size, 0, who};
    }
    qsort(d->merges, d->n_merges, sizeof *d->merges, cmp_worst);
    /* splits: an identity's faces outside its largest part (noise faces count alone) */
    pairs = malloc(2 * n * sizeof *pairs);
    d->splits = malloc((n + 1) * sizeof *d->splits);
    if (!pairs || !d->splits) goto nomem;
    for (size_t i = 0; i < n; i++) pairs[2 * i] = labels[i], pairs[2 * i + 1] = pred[i] >= 0 ? pred[i] : -1 - (int64_t)i;
    qsort(pairs, n, 2 * sizeof *pairs, cli_cmp_i64); /* by label only; the clusters follow */
    for (size_t a = 0; a < n;) {
        size_t b = a;
        while (b < n && pairs[2 * b] == pairs[2 * a]) b++;
        size_t len = b - a;
        for (size_t j = 0; j < len; j++) tl[j] = pairs[2 * (a + j) + 1];
        qsort(tl, len, sizeof *tl, cli_cmp_i64);
        size_t parts;
        int64_t who;
        size_t best = largest_run(tl, len, &parts, &who);
        if (parts > 1 && pairs[2 * a] >= 0) d->splits[d->n_splits++] = (report_worst){pairs[2 * a], len - best, len, parts, -1};
        a = b;
    }
    qsort(d->splits, d->n_splits, sizeof *d->splits, cmp_worst);
    free(pairs);
    free(tl);
    return CLI_OK;
nomem:
    free(pairs);
    free(tl);
    cli_error("out of memory");
    return CLI_FAIL;
}

int report_build(report_data *d, const mc_previous_t *r, const int64_t *labels,
                 const report_thumb_params *tp)
{
    memset(d, 0, sizeof *d);
    d->r = r;
    d->labels = labels;
    d->n = mc_previous_n(r);
    if (gather_clusters(d) != 0 || gather_unsure(d) != 0 || make_thumbnails(d, tp) != 0) {
        cli_error("out of memory");
        return CLI_FAIL;
    }
    return labels ? score(d) : CLI_OK;
}

void report_data_free(report_data *d)
{
    free(d->image_dir);
    for (size_t k = 0; d->thumbs && k < d->n_thumbs; k++) free(d->thumbs[k]);
    free(d->thumbs);
    free(d->thumb_len);
    free(d->order);
    free(d->noise);
    free(d->unsure);
    free(d->pred);
    free(d->thumb_of);
    free(d->cl);
    free(d->merges);
    free(d->splits);
    memset(d, 0, sizeof *d);
}
