/* magclust report, the page: the overview, the charts, the scores and worst
 * cases, and the data block the script draws the clusters from. */
#define _POSIX_C_SOURCE 200809L
#include "report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "report_assets.h"
#include "summary.h"
#include "svg.h"

/* ---- output helpers ---------------------------------------------------- */

/* A JSON string that is also safe inside <script>: '<' is escaped. */
static void js_string(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p == '<' || *p == '>' || *p == '&')
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static void base64(FILE *f, const unsigned char *b, size_t n)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        unsigned v = (unsigned)b[i] << 16 | (unsigned)b[i + 1] << 8 | b[i + 2];
        fputc(t[v >> 18], f), fputc(t[(v >> 12) & 63], f), fputc(t[(v >> 6) & 63], f), fputc(t[v & 63], f);
    }
    if (i < n) {
        unsigned v = (unsigned)b[i] << 16 | (i + 1 < n ? (unsigned)b[i + 1] << 8 : 0);
        fputc(t[v >> 18], f), fputc(t[(v >> 12) & 63], f);
        fputc(i + 1 < n ? t[(v >> 6) & 63] : '=', f);
        fputc('=', f);
    }
}

/* ---- charts --------------------------------------------------------------- */

static const char *const ROLE_COLOUR[4] = {"#2b6cb0", "#90cdf4", "#a0aec0", "#ed8936"};

static void quality_histogram(FILE *f, const mc_previous_t *r, size_t n, const char *qname)
{
    enum { BINS = 40, W = 560, H = 200, L = 48, B = 36 };
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        float q = mc_previous_quality(r, i);
        if (isnan(q)) continue;
        if (q < lo) lo = q;
        if (q > hi) hi = q;
    }
    /* room on the right for the last tick label, centred on the axis end */
    fprintf(f, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"quality histogram\">", W + L + 30, H + B + 24);
    if (!(hi >= lo)) {
        fprintf(f, "<text x=\"10\" y=\"40\">no quality column</text></svg></figure>");
        return;
    }
    if (hi == lo) hi = lo + 1;
    size_t cnt[BINS][4];
    memset(cnt, 0, sizeof cnt);
    for (size_t i = 0; i < n; i++) {
        float q = mc_previous_quality(r, i);
        if (isnan(q)) continue;
        int b = (int)((q - lo) / (hi - lo) * BINS);
        if (b >= BINS) b = BINS - 1;
        int role = mc_previous_role(r, i);
        if (role < 0 || role > 3) role = mc_previous_cluster(r, i) >= 0 ? 0 : 2;
        cnt[b][role]++;
    }
    size_t top = 1;
    for (int b = 0; b < BINS; b++) {
        size_t s = cnt[b][0] + cnt[b][1] + cnt[b][2] + cnt[b][3];
        if (s > top) top = s;
    }
    double bw = (double)W / BINS;
    for (int b = 0; b < BINS; b++) {
        double y = H + 10;
        for (int role = 0; role < 4; role++) {
            if (!cnt[b][role]) continue;
            double h = (double)cnt[b][role] / (double)top * H;
            y -= h;
            fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s %.4g..%.4g: %zu</title></rect>",
                    L + b * bw, y, bw - 1, h, ROLE_COLOUR[role], mc_role_name((mc_role)role),
                    lo + (hi - lo) * b / BINS, lo + (hi - lo) * (b + 1) / BINS, cnt[b][role]);
        }
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", L, H + 10, L + W, H + 10);
    for (int t = 0; t <= 4; t++)
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%.3g</text>", L + W * t / 4.0,
                H + 26, lo + (hi - lo) * t / 4);
    fprintf(f, "<text x=\"%d\" y=\"%d\" class=\"tick\">%zu</text>", 4, 18, top);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", L + W / 2, H + B + 18);
    svg_text(f, qname);
    fprintf(f, "</text>");
    for (int role = 0; role < 4; role++)
        fprintf(f, "<rect x=\"%d\" y=\"4\" width=\"10\" height=\"10\" fill=\"%s\"/><text x=\"%d\" y=\"13\" class=\"tick\">%s</text>",
                L + 20 + role * 110, ROLE_COLOUR[role], L + 34 + role * 110, mc_role_name((mc_role)role));
    fprintf(f, "</svg><figcaption>Faces by ");
    svg_text(f, qname);
    fprintf(f, " and role: core faces seed and link clusters, border faces join one, noise faces "
               "are in none.</figcaption></figure>\n");
}

static void size_chart(FILE *f, const report_cluster *cl, size_t nc)
{
    enum { W = 560, H = 200, L = 48, T = 16 }; /* T: room above the tallest bar's count */
    size_t bins[40] = {0};
    int nb = 1;
    for (size_t c = 0; c < nc; c++) {
        int b = 0;
        while (((size_t)1 << b) < cl[c].size) b++;
        if (b >= 40) b = 39;
        bins[b]++;
        if (b + 1 > nb) nb = b + 1;
    }
    size_t top = 1;
    for (int b = 0; b < nb; b++)
        if (bins[b] > top) top = bins[b];
    fprintf(f, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"cluster sizes\">", W + L + 10, H + 60 + T);
    double bw = (double)W / nb;
    for (int b = 0; b < nb; b++) {
        double h = (double)bins[b] / (double)top * H;
        size_t lo = b == 0 ? 1 : ((size_t)1 << (b - 1)) + 1, hi = (size_t)1 << b;
        char lab[48];
        if (lo == hi)
            snprintf(lab, sizeof lab, "%zu", lo);
        else
            snprintf(lab, sizeof lab, "%zu-%zu", lo, hi);
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#2b6cb0\"><title>%s faces: %zu clusters</title></rect>",
                L + b * bw, T + H + 10 - h, bw - 2, h, lab, bins[b]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>", L + b * bw + bw / 2, T + H + 26, lab);
        if (bins[b])
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\">%zu</text>", L + b * bw + bw / 2,
                    T + H + 6 - h, bins[b]);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", L, T + H + 10, L + W, T + H + 10);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">faces per cluster</text>", L + W / 2, T + H + 48);
    fprintf(f, "</svg><figcaption>Number of clusters by size.</figcaption></figure>\n");
}

/* ---- the page -------------------------------------------------------------- */

/* The head, the title and the overview table. */
static void write_overview(FILE *f, const report_data *d, const report_page *p)
{
    const char *title = p->title ? p->title : p->result_path;
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>magclust report: ");
    svg_text(f, title);
    fprintf(f, "</title><style>:root{--t:%zupx}%s</style></head>\n<body data-ready=\"0\">\n<h1>", p->thumb_size,
            cli_report_css);
    svg_text(f, title);
    fprintf(f, "</h1>\n<p class=\"sub\">magclust %s report of <code>", mc_version());
    svg_text(f, p->result_path);
    fprintf(f, "</code></p>\n<table class=\"kv\" id=\"overview\">"
               "<tr><td>faces</td><td id=\"n-faces\">%zu</td></tr>"
               "<tr><td>clusters</td><td id=\"n-clusters\">%zu</td></tr>"
               "<tr><td>faces in clusters</td><td>%zu (%zu core, %zu border)</td></tr>"
               "<tr><td>noise</td><td id=\"n-noise\">%zu</td></tr><tr><td>unassigned</td><td>%zu</td></tr>",
            d->n, d->nc, d->m, d->counts[MC_ROLE_CORE], d->counts[MC_ROLE_BORDER], d->counts[MC_ROLE_NOISE],
            d->counts[MC_ROLE_UNASSIGNED]);
    size_t named = 0;
    for (size_t k = 0; k < d->nc; k++) named += d->cl[k].name != NULL;
    fprintf(f, "<tr><td>named clusters</td><td>%zu</td></tr>"
               "<tr><td>thumbnails</td><td>%zu shown, %zu images missing or unreadable (placeholders)</td></tr></table>\n",
            named, d->n_thumbs, d->n_missing);
}

/* The scores against the labels and the ten worst merges and splits. */
static void write_scores(FILE *f, const report_data *d)
{
    const mc_metrics *met = &d->met;
    size_t ids, unlabelled;
    cli_count_identities(d->labels, d->n, &ids, &unlabelled);
    fprintf(f, "<h2>Scores against the labels</h2>\n<table class=\"kv\" id=\"metrics\">"
               "<tr><td>identities</td><td>%zu (unlabelled faces count as their own)</td></tr>"
               "<tr><td>BCubed</td><td>P %.4f &nbsp; R %.4f &nbsp; F <b id=\"bcubed-f\">%.4f</b></td></tr>"
               "<tr><td>pairwise</td><td>P %.4f &nbsp; R %.4f &nbsp; F %.4f</td></tr>"
               "<tr><td>NMI</td><td>%.4f</td></tr></table>\n",
            ids, met->bcubed_precision, met->bcubed_recall, met->bcubed_f, met->pairwise_precision,
            met->pairwise_recall, met->pairwise_f, met->nmi);
    fprintf(f, "<h3>Worst merges</h3><p class=\"sub\">Clusters holding the most faces of other people than their main one.</p>"
               "<table class=\"worst\" id=\"worst-merges\"><tr><th>cluster</th><th>faces</th><th>of other people</th><th>main label</th></tr>");
    for (size_t k = 0; k < d->n_merges && k < 10; k++) {
        const report_worst *w = &d->merges[k];
        fprintf(f, "<tr><td><a href=\"#c%lld\" data-cluster=\"%lld\">%lld</a></td><td>%zu</td><td>%zu</td>",
                (long long)w->key, (long long)w->key, (long long)w->key, w->b, w->a);
        /* a cluster whose largest part is unlabelled faces has no main label */
        if (w->label >= 0) fprintf(f, "<td>%lld</td></tr>", (long long)w->label);
        else fprintf(f, "<td>(unlabelled)</td></tr>");
    }
    if (!d->n_merges) fprintf(f, "<tr><td colspan=\"4\">none: every cluster holds one person</td></tr>");
    fprintf(f, "</table>\n<h3>Worst splits</h3><p class=\"sub\">People whose faces are spread the most "
               "(noise faces count as parts of their own).</p>"
               "<table class=\"worst\" id=\"worst-splits\"><tr><th>label</th><th>faces</th><th>outside the largest part</th><th>parts</th></tr>");
    for (size_t k = 0; k < d->n_splits && k < 10; k++)
        fprintf(f, "<tr><td>%lld</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>", (long long)d->splits[k].key,
                d->splits[k].b, d->splits[k].a, d->splits[k].parts);
    if (!d->n_splits) fprintf(f, "<tr><td colspan=\"4\">none: every person is in one cluster</td></tr>");
    fprintf(f, "</table>\n");
}

/* The faces the clustering was least sure of: a photo app would ask about
 * these. The script draws their thumbnails into #unsure-list. */
static void write_unsure(FILE *f, const report_data *d)
{
    const mc_previous_t *r = d->r;
    fprintf(f, "<h2 id=\"unsure\">Faces to check</h2><p class=\"sub\">The %zu faces in clusters with the "
               "lowest margin (%d at most, and a tenth of the faces): the similarity to their cluster's centre minus that to the next-best "
               "cluster among their neighbours'. Below 0 a face is nearer another cluster than its own.</p>"
               "<div id=\"unsure-list\"></div><table class=\"worst\" id=\"unsure-table\">"
               "<tr><th>face</th><th>cluster</th><th>similarity</th><th>margin</th></tr>",
            d->n_unsure, REPORT_UNSURE_MAX);
    for (size_t j = 0; j < d->n_unsure; j++) {
        size_t i = d->unsure[j];
        long long c = (long long)mc_previous_cluster(r, i);
        fprintf(f, "<tr><td>");
        svg_text(f, mc_previous_path(r, i) ? mc_previous_path(r, i) : "");
        fprintf(f, "</td><td><a href=\"#c%lld\" data-cluster=\"%lld\">%lld</a></td><td>%.3f</td><td>%.3f</td></tr>",
                c, c, c, (double)mc_previous_similarity(r, i), (double)mc_previous_margin(r, i));
    }
    fprintf(f, "</table>\n");
}

/* A per-face number as JSON, to the given significant digits: null for NaN. */
static void js_numbers(FILE *f, const char *key, const mc_previous_t *r, size_t n,
                       float (*get)(const mc_previous_t *, size_t), int digits)
{
    fprintf(f, "],\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        float v = get(r, i);
        if (isnan(v))
            fprintf(f, "%snull", i ? "," : "");
        else
            fprintf(f, "%s%.*g", i ? "," : "", digits, (double)v);
    }
}

/* The faces, clusters and thumbnails as JSON for the script, then the script. */
static void write_data(FILE *f, const report_data *d, const report_page *p, const char *qname)
{
    const mc_previous_t *r = d->r;
    size_t n = d->n;
    fprintf(f, "<script id=\"data\" type=\"application/json\">{\"perPage\":%zu,\"shown\":%zu,\"noiseShown\":%zu,\"qname\":",
            p->per_page, p->shown, p->shown * 10);
    js_string(f, qname);
    fprintf(f, ",\"roles\":[\"core\",\"border\",\"noise\",\"unassigned\"],\"clusters\":[");
    for (size_t k = 0; k < d->nc; k++) {
        const report_cluster *c = &d->cl[k];
        fprintf(f, "%s{\"id\":%lld,\"name\":", k ? "," : "", (long long)c->id);
        js_string(f, c->name);
        fprintf(f, ",\"core\":%zu,\"f\":[", c->n_core);
        for (size_t j = 0; j < c->size; j++) fprintf(f, "%s%zu", j ? "," : "", d->order[c->start + j]);
        fprintf(f, "]}");
    }
    fprintf(f, "],\"noise\":[");
    for (size_t j = 0; j < d->nn; j++) fprintf(f, "%s%zu", j ? "," : "", d->noise[j]);
    fprintf(f, "],\"unsure\":[");
    for (size_t j = 0; j < d->n_unsure; j++) fprintf(f, "%s%zu", j ? "," : "", d->unsure[j]);
    fprintf(f, "],\"faces\":{\"p\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', f);
        js_string(f, mc_previous_path(r, i) ? mc_previous_path(r, i) : "");
    }
    fprintf(f, "],\"r\":[");
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", mc_previous_role(r, i));
    js_numbers(f, "q", r, n, mc_previous_quality, 5);
    js_numbers(f, "s", r, n, mc_previous_similarity, 4);
    js_numbers(f, "m", r, n, mc_previous_margin, 4);
    fprintf(f, "],\"a\":[");
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", mc_previous_representative(r, i) == 1);
    fprintf(f, "],\"t\":[");
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", d->thumb_of[i]);
    fprintf(f, "]},\"thumbs\":[");
    for (size_t k = 0; k < d->n_thumbs; k++) {
        fprintf(f, "%s\"", k ? "," : "");
        base64(f, d->thumbs[k], d->thumb_len[k]);
        fputc('"', f);
    }
    fprintf(f, "]}</script>\n<script>%s</script>\n</body></html>\n", cli_report_js);
}

int report_write_html(const char *path, const report_data *d, const report_page *p)
{
    mc_output_t *o = NULL;
    FILE *f = cli_output_open(path, &o);
    if (!f) return -1;
    const char *qname = mc_previous_quality_name(d->r) ? mc_previous_quality_name(d->r) : "quality";
    write_overview(f, d, p);
    fprintf(f, "<h2>Quality and sizes</h2><div class=\"charts\">\n");
    quality_histogram(f, d->r, d->n, qname);
    size_chart(f, d->cl, d->nc);
    fprintf(f, "</div>\n");
    if (d->labels) write_scores(f, d);
    if (d->n_unsure) write_unsure(f, d);
    fprintf(f, "<h2 id=\"clusters\">Clusters</h2>\n<p class=\"legend sub\"><span>largest first; in each, the "
               "representative face first (the avatar: the best-quality face among the half nearest the "
               "cluster's centre; gold outline, when the result names one), then core faces "
               "(outlined) by %s, then border faces (grey)</span></p>\n"
               "<nav class=\"pager\"></nav><div id=\"cluster-list\"></div><nav class=\"pager\"></nav>\n"
               "<h2 id=\"noise\">Noise and unassigned faces</h2><p class=\"sub\">%zu faces in no cluster, best first.</p>"
               "<div id=\"noise-list\"></div>\n",
            qname, d->nn);
    write_data(f, d, p, qname);
    return cli_output_commit(o);
}
