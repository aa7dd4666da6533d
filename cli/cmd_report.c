/* magclust report: one self-contained HTML page of a result: the clusters as
 * galleries of face thumbnails (largest first, best faces first), noise and
 * unassigned faces, a histogram of quality by role, the cluster sizes and,
 * with labels, BCubed / pairwise scores and the worst merges and splits.
 * The page carries its data as JSON and draws one page of clusters at a
 * time, so it stays usable at 100k faces. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "summary.h"
#include "svg.h"
#include "thumb.h"
#include "magclust/magclust.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust report RESULT.csv|RESULT.h5 -o REPORT.html [options]\n"
"\n"
"Write one self-contained HTML file (inline CSS, SVG and JavaScript; images\n"
"embedded; nothing fetched from the network) that shows a clustering result:\n"
"  - each cluster as a gallery of face thumbnails, largest cluster first,\n"
"    best faces first (core by quality, then border faces, greyed);\n"
"  - the noise and unassigned faces;\n"
"  - a histogram of the quality (magnitude by default) by role, and the\n"
"    distribution of cluster sizes;\n"
"  - with --labels: BCubed and pairwise precision / recall / F, and the ten\n"
"    worst merges (clusters mixing people) and splits (people spread over\n"
"    clusters).\n"
"Thumbnails are made from the JPEG or PNG files the result's paths name\n"
"(under --image-root); a missing or unreadable image shows as a placeholder\n"
"with its path. Clusters are shown a page at a time; only the first faces\n"
"of each cluster get thumbnails (--thumbs-per-cluster, --max-thumbs), the\n"
"rest are listed by path.\n"
"\n"
"options:\n"
"  -o, --output PATH          the HTML file (written atomically)\n"
"      --image-root DIR       where relative image paths start (default: the\n"
"                             result file's directory)\n"
"      --labels FILE.h5       the embeddings file with /labels (same faces,\n"
"                             same order): adds the scores and worst cases\n"
"      --labels-key NAME      (default labels)\n"
"      --thumb-size PX        thumbnail side (default 64; 16..256)\n"
"      --thumbs-per-cluster N (default 24)\n"
"      --max-thumbs N         thumbnails in all (default 20000)\n"
"      --per-page N           clusters per page (default 40)\n"
"      --title TEXT           page title (default: the result's name)\n"
"  -q, --quiet                print nothing but errors\n"
"  -h, --help                 this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

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

/* ---- the data ------------------------------------------------------------ */

typedef struct {
    int64_t id;
    size_t start, size, n_core; /* members[start .. start+size) */
    const char *name;
} cluster;

/* A face's sort key: its cluster, core before border, quality (best first), index. */
typedef struct {
    int64_t cluster;
    int not_core;
    float q;
    size_t i;
} member_key;

static int cmp_member(const void *a, const void *b)
{
    const member_key *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
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
        k[j] = (member_key){mc_previous_cluster(r, i), mc_previous_role(r, i) != MC_ROLE_CORE,
                            mc_previous_quality(r, i), i};
    }
    qsort(k, len, sizeof *k, cmp_member);
    for (size_t j = 0; j < len; j++) list[j] = k[j].i;
    free(k);
    return 0;
}

static int cmp_cluster(const void *a, const void *b)
{
    const cluster *x = a, *y = b;
    if (x->size != y->size) return x->size > y->size ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* A row of a worst-case table, ordered by a (the faces out of place). */
typedef struct {
    int64_t key;   /* cluster (merges) or label (splits) */
    size_t a, b;   /* faces out of place, faces in all */
    size_t parts;  /* splits: parts the label is in */
    int64_t label; /* merges: the cluster's main label */
} row3;

static int cmp_row3(const void *x, const void *y)
{
    const row3 *p = x, *q = y;
    if (p->a != q->a) return p->a > q->a ? -1 : 1;
    return (p->key > q->key) - (p->key < q->key);
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
    fprintf(f, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"quality histogram\">", W + L + 10, H + B + 24);
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
    fprintf(f, " and role: good faces seed clusters, the weakest are demoted to noise.</figcaption></figure>\n");
}

static void size_chart(FILE *f, const cluster *cl, size_t nc)
{
    enum { W = 560, H = 200, L = 48 };
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
    fprintf(f, "<figure><svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"cluster sizes\">", W + L + 10, H + 60);
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
                L + b * bw, H + 10 - h, bw - 2, h, lab, bins[b]);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" class=\"tick\">%s</text>", L + b * bw + bw / 2, H + 26, lab);
        if (bins[b])
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" class=\"tick\">%zu</text>", L + b * bw + bw / 2,
                    H + 6 - h, bins[b]);
    }
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333\"/>", L, H + 10, L + W, H + 10);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">faces per cluster</text>", L + W / 2, H + 48);
    fprintf(f, "</svg><figcaption>Number of clusters by size.</figcaption></figure>\n");
}

/* ---- the page -------------------------------------------------------------- */

static const char CSS[] =
    "body{font:14px/1.4 system-ui,-apple-system,'DejaVu Sans',sans-serif;margin:0 24px 40px;color:#1a202c;background:#fff}"
    "h1{font-size:22px;margin:18px 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #e2e8f0}"
    ".sub{color:#4a5568}table.kv td{padding:1px 12px 1px 0}table.worst{border-collapse:collapse}"
    "table.worst td,table.worst th{padding:2px 10px 2px 0;text-align:left;border-bottom:1px solid #edf2f7}"
    ".charts{display:flex;flex-wrap:wrap;gap:24px}figure{margin:0}svg.chart{width:540px;max-width:100%;height:auto}"
    ".tick{font-size:11px;fill:#4a5568}figcaption{font-size:12px;color:#4a5568}"
    ".pager{margin:10px 0;display:flex;gap:8px;align-items:center}.pager button{padding:2px 10px}"
    ".cluster{margin:10px 0 16px}.cluster h3{font-size:15px;margin:0 0 4px}.cluster h3 .who{color:#2b6cb0}"
    ".faces{display:flex;flex-wrap:wrap;gap:3px}.face{position:relative;width:var(--t);height:var(--t)}"
    ".face img{width:100%;height:100%;display:block;border-radius:3px}"
    ".face.border img,.face.noise img,.face.unassigned img{filter:grayscale(1);opacity:.55}"
    ".face .ph{width:100%;height:100%;box-sizing:border-box;border:1px dashed #a0aec0;border-radius:3px;"
    "font-size:9px;line-height:1.1;overflow:hidden;word-break:break-all;color:#718096;padding:2px;background:#f7fafc}"
    ".face .q{position:absolute;right:1px;bottom:1px;font-size:9px;background:rgba(255,255,255,.8);padding:0 2px;border-radius:2px}"
    ".face.core{outline:2px solid #2b6cb0}details{margin-top:4px;font-size:12px}details ol{columns:3;margin:4px 0}"
    ".legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}";

static const char JS[] =
    "(function(){'use strict';"
    "window.addEventListener('error',function(e){document.body.dataset.error=String(e.message||e);});"
    "var D=JSON.parse(document.getElementById('data').textContent);"
    "var F=D.faces,T=D.thumbs,per=D.perPage,page=0;"
    "function el(t,c,txt){var e=document.createElement(t);if(c)e.className=c;if(txt!==undefined)e.textContent=txt;return e;}"
    "function face(i){var r=D.roles[F.r[i]]||'unknown',d=el('div','face '+r);"
    "d.title=F.p[i]+'\\n'+r+(F.q[i]===null?'':'  '+D.qname+' '+F.q[i]);"
    "if(F.t[i]>=0){var im=el('img');im.alt=F.p[i];im.loading='lazy';im.src='data:image/jpeg;base64,'+T[F.t[i]];d.appendChild(im);}"
    "else{d.appendChild(el('div','ph',F.p[i]));}"
    "if(F.q[i]!==null)d.appendChild(el('span','q',String(Math.round(F.q[i]*10)/10)));return d;}"
    "function gallery(list,shown){var w=el('div','faces');for(var k=0;k<list.length&&k<shown;k++)w.appendChild(face(list[k]));return w;}"
    "function rest(list,shown){if(list.length<=shown)return null;var det=el('details');"
    "det.appendChild(el('summary',null,'+'+(list.length-shown)+' more faces'));"
    "det.addEventListener('toggle',function(){if(det.open&&!det.dataset.done){det.dataset.done='1';var ol=el('ol');ol.start=shown+1;"
    "for(var k=shown;k<list.length;k++){var li=el('li',null,F.p[list[k]]+' ('+(D.roles[F.r[list[k]]]||'')+')');ol.appendChild(li);}det.appendChild(ol);}});return det;}"
    "function render(){var box=document.getElementById('cluster-list');box.textContent='';"
    "var a=page*per,b=Math.min(D.clusters.length,a+per);"
    "for(var c=a;c<b;c++){var C=D.clusters[c],s=el('section','cluster');s.id='c'+C.id;"
    "var h=el('h3');h.appendChild(document.createTextNode('Cluster '+C.id+' '));"
    "if(C.name)h.appendChild(el('span','who',C.name+' '));"
    "h.appendChild(el('span','sub','('+C.f.length+' faces, '+C.core+' core)'));s.appendChild(h);"
    "s.appendChild(gallery(C.f,D.shown));var r=rest(C.f,D.shown);if(r)s.appendChild(r);box.appendChild(s);}"
    "var pages=Math.max(1,Math.ceil(D.clusters.length/per));"
    "document.querySelectorAll('.pager .where').forEach(function(x){x.textContent='page '+(page+1)+' of '+pages+' (clusters '+(b>a?a+1:0)+'-'+b+')';});"
    "document.querySelectorAll('.pager .prev').forEach(function(x){x.disabled=page===0;});"
    "document.querySelectorAll('.pager .next').forEach(function(x){x.disabled=page>=pages-1;});"
    "document.body.dataset.page=String(page+1);document.body.dataset.shown=String(b-a);}"
    "function go(p){page=p;render();document.getElementById('clusters').scrollIntoView();}"
    "document.querySelectorAll('.pager').forEach(function(p){"
    "var pr=el('button','prev','\\u2190 previous'),nx=el('button','next','next \\u2192'),wh=el('span','where');"
    "var inp=el('input');inp.type='search';inp.placeholder='cluster id or name';inp.size=18;"
    "pr.onclick=function(){go(page-1);};nx.onclick=function(){go(page+1);};"
    "inp.onchange=function(){var v=inp.value.trim().toLowerCase();for(var c=0;c<D.clusters.length;c++){var C=D.clusters[c];"
    "if(String(C.id)===v||(C.name&&C.name.toLowerCase()===v)){page=Math.floor(c/per);render();var t=document.getElementById('c'+C.id);if(t)t.scrollIntoView();return;}}"
    "inp.setCustomValidity('no such cluster');inp.reportValidity();};"
    "p.appendChild(pr);p.appendChild(nx);p.appendChild(wh);p.appendChild(inp);});"
    "document.querySelectorAll('a[data-cluster]').forEach(function(a){a.onclick=function(ev){ev.preventDefault();"
    "var id=a.dataset.cluster;for(var c=0;c<D.clusters.length;c++)if(String(D.clusters[c].id)===id){page=Math.floor(c/per);render();"
    "document.getElementById('c'+id).scrollIntoView();return;}};});"
    "render();"
    "var nb=document.getElementById('noise-list');if(nb){nb.appendChild(gallery(D.noise,D.noiseShown));var r=rest(D.noise,D.noiseShown);if(r)nb.appendChild(r);}"
    "document.body.dataset.ready='1';})();";

int cmd_report(int argc, char **argv)
{
    enum { O_ROOT = 256, O_LABELS, O_LKEY, O_TSIZE, O_TPER, O_TMAX, O_PAGE, O_TITLE };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"image-root", required_argument, NULL, O_ROOT},
        {"labels", required_argument, NULL, O_LABELS},
        {"labels-key", required_argument, NULL, O_LKEY},
        {"thumb-size", required_argument, NULL, O_TSIZE},
        {"thumbs-per-cluster", required_argument, NULL, O_TPER},
        {"max-thumbs", required_argument, NULL, O_TMAX},
        {"per-page", required_argument, NULL, O_PAGE},
        {"title", required_argument, NULL, O_TITLE},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL, *root = NULL, *labels_path = NULL, *lkey = "labels", *title = NULL;
    size_t tsize = 64, tper = 24, tmax = 20000, per_page = 40;
    int quiet = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case O_ROOT: root = optarg; break;
        case O_LABELS: labels_path = optarg; break;
        case O_LKEY: lkey = optarg; break;
        case O_TSIZE:
            if (cli_parse_size("--thumb-size", optarg, 16, 256, &tsize) != 0) return CLI_USAGE;
            break;
        case O_TPER:
            if (cli_parse_size("--thumbs-per-cluster", optarg, 0, 100000, &tper) != 0) return CLI_USAGE;
            break;
        case O_TMAX:
            if (cli_parse_size("--max-thumbs", optarg, 0, 10000000, &tmax) != 0) return CLI_USAGE;
            break;
        case O_PAGE:
            if (cli_parse_size("--per-page", optarg, 1, 100000, &per_page) != 0) return CLI_USAGE;
            break;
        case O_TITLE: title = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case ':': return cli_usage_error("report", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("report", optind == argc ? "no result file" : "more than one result file");
    if (!out_path) return cli_usage_error("report", "no output: give -o REPORT.html");
    const char *in_path = argv[optind];
    const char *inputs[3] = {in_path, labels_path, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;

    int rc = CLI_FAIL;
    mc_status st;
    mc_previous_t *r = NULL;
    mc_embeddings_t *le = NULL;
    size_t *order = NULL;
    cluster *cl = NULL;
    size_t *noise = NULL;
    int64_t *pred = NULL, *tl = NULL;
    int *thumb_of = NULL;
    unsigned char **thumbs = NULL;
    size_t *thumb_len = NULL, n_thumbs = 0, n_missing = 0;
    char *tmp = NULL;
    FILE *f = NULL;
    double t0 = cli_now();
    if ((st = mc_previous_read(in_path, &r)) != MC_OK) {
        rc = cli_fail_status(st);
        goto cleanup;
    }
    size_t n = mc_previous_n(r);
    if (n == 0) {
        cli_error("%s: no faces in the result", in_path);
        goto cleanup;
    }
    const int64_t *labels = NULL;
    if (labels_path) {
        mc_h5_read_params rp = mc_h5_read_params_default();
        rp.labels_key = lkey;
        if ((st = mc_embeddings_read_h5(labels_path, &rp, &le)) != MC_OK) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
        if (mc_embeddings_n(le) != n) {
            cli_error("%s: %zu faces, but %s has %zu", labels_path, mc_embeddings_n(le), in_path, n);
            goto cleanup;
        }
        labels = mc_embeddings_labels(le);
        if (!labels) {
            cli_error("%s: no dataset /%s", labels_path, lkey);
            goto cleanup;
        }
    }

    /* clusters, largest first; members best first */
    order = malloc(n * sizeof *order);
    noise = malloc(n * sizeof *noise);
    pred = malloc(n * sizeof *pred);
    thumb_of = malloc(n * sizeof *thumb_of);
    if (!order || !noise || !pred || !thumb_of) goto nomem;
    size_t m = 0, nn = 0, counts[5] = {0};
    for (size_t i = 0; i < n; i++) {
        pred[i] = mc_previous_cluster(r, i);
        thumb_of[i] = -1;
        int role = mc_previous_role(r, i);
        counts[role >= 0 && role <= 3 ? role : 4]++;
        if (pred[i] >= 0)
            order[m++] = i;
        else
            noise[nn++] = i;
    }
    if (sort_members(r, order, m) != 0 || sort_members(r, noise, nn) != 0) goto nomem;
    size_t nc = 0;
    cl = malloc((m + 1) * sizeof *cl);
    if (!cl) goto nomem;
    for (size_t a = 0; a < m;) {
        size_t b = a, core = 0;
        while (b < m && pred[order[b]] == pred[order[a]]) core += mc_previous_role(r, order[b]) == MC_ROLE_CORE, b++;
        const char *name = NULL;
        for (size_t k = a; k < b && !name; k++) name = mc_previous_person(r, order[k]);
        cl[nc++] = (cluster){pred[order[a]], a, b - a, core, name};
        a = b;
    }
    qsort(cl, nc, sizeof *cl, cmp_cluster);

    /* thumbnails: the first faces of each cluster, then the best noise faces */
    const char *base = root;
    char *dir = NULL;
    if (!base) {
        dir = strdup(in_path);
        if (!dir) goto nomem;
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
        else
            strcpy(dir, ".");
        base = dir;
    }
    thumbs = calloc(tmax + 1, sizeof *thumbs);
    thumb_len = calloc(tmax + 1, sizeof *thumb_len);
    if (!thumbs || !thumb_len) {
        free(dir);
        goto nomem;
    }
    size_t want = 0;
    for (size_t k = 0; k < nc; k++) want += cl[k].size < tper ? cl[k].size : tper;
    want += nn < tper * 10 ? nn : tper * 10;
    if (want > tmax) want = tmax;
    size_t pathbuf_len = strlen(base) + 4096;
    char *pathbuf = malloc(pathbuf_len);
    if (!pathbuf) {
        free(dir);
        goto nomem;
    }
    size_t tried = 0;
    int tty = isatty(STDERR_FILENO); /* progress only on a terminal */
    for (size_t pass = 0; pass < 2; pass++) {
        size_t groups = pass == 0 ? nc : 1;
        for (size_t k = 0; k < groups; k++) {
            const size_t *list = pass == 0 ? order + cl[k].start : noise;
            size_t len = pass == 0 ? cl[k].size : nn, lim = pass == 0 ? tper : tper * 10;
            for (size_t j = 0; j < len && j < lim && tried < want; j++) {
                size_t i = list[j];
                const char *p = mc_previous_path(r, i);
                if (!p || !*p) continue;
                if (p[0] == '/')
                    snprintf(pathbuf, pathbuf_len, "%s", p);
                else
                    snprintf(pathbuf, pathbuf_len, "%s/%s", base, p);
                char err[200];
                tried++;
                if (cli_thumb_make(pathbuf, (int)tsize, 80, &thumbs[n_thumbs], &thumb_len[n_thumbs], err,
                                   sizeof err) == 0)
                    thumb_of[i] = (int)n_thumbs++;
                else
                    n_missing++;
                if (!quiet && tty && tried % 2000 == 0)
                    fprintf(stderr, "\rreport: %zu of %zu thumbnails", tried, want);
            }
        }
    }
    if (!quiet && tty && tried >= 2000) fprintf(stderr, "\n");
    free(pathbuf);
    free(dir);

    /* metrics and worst cases */
    mc_metrics met;
    row3 *merges = NULL, *splits = NULL;
    size_t n_merges = 0, n_splits = 0;
    if (labels) {
        if ((st = mc_metrics_compute(labels, pred, n, &met)) != MC_OK) {
            rc = cli_fail_status(st);
            goto cleanup;
        }
        tl = malloc(n * sizeof *tl);
        merges = malloc((nc + 1) * sizeof *merges);
        if (!tl || !merges) {
            free(merges);
            goto nomem;
        }
        /* merges: the faces not of a cluster's main identity */
        for (size_t k = 0; k < nc; k++) {
            for (size_t j = 0; j < cl[k].size; j++) {
                size_t i = order[cl[k].start + j];
                tl[j] = labels[i] >= 0 ? labels[i] : -1 - (int64_t)i; /* unlabelled: a person of its own */
            }
            qsort(tl, cl[k].size, sizeof *tl, cli_cmp_i64);
            size_t best = 0;
            int64_t who = -1;
            for (size_t a = 0; a < cl[k].size;) {
                size_t b = a;
                while (b < cl[k].size && tl[b] == tl[a]) b++;
                if (b - a > best) best = b - a, who = tl[a];
                a = b;
            }
            if (best < cl[k].size) merges[n_merges++] = (row3){cl[k].id, cl[k].size - best, cl[k].size, 0, who};
        }
        qsort(merges, n_merges, sizeof *merges, cmp_row3);
        /* splits: an identity's faces outside its largest part (noise faces count alone) */
        int64_t *pairs = malloc(2 * n * sizeof *pairs);
        splits = malloc((n + 1) * sizeof *splits);
        if (!pairs || !splits) {
            free(pairs);
            free(merges);
            free(splits);
            goto nomem;
        }
        for (size_t i = 0; i < n; i++) pairs[2 * i] = labels[i], pairs[2 * i + 1] = pred[i] >= 0 ? pred[i] : -1 - (int64_t)i;
        qsort(pairs, n, 2 * sizeof *pairs, cli_cmp_i64); /* by label only; the clusters follow */
        for (size_t a = 0; a < n;) {
            size_t b = a;
            while (b < n && pairs[2 * b] == pairs[2 * a]) b++;
            size_t len = b - a;
            for (size_t j = 0; j < len; j++) tl[j] = pairs[2 * (a + j) + 1];
            qsort(tl, len, sizeof *tl, cli_cmp_i64);
            size_t best = 0, parts = 0;
            for (size_t x = 0; x < len;) {
                size_t y = x;
                while (y < len && tl[y] == tl[x]) y++;
                if (y - x > best) best = y - x;
                parts++;
                x = y;
            }
            if (parts > 1 && pairs[2 * a] >= 0) splits[n_splits++] = (row3){pairs[2 * a], len - best, len, parts, -1};
            a = b;
        }
        free(pairs);
        qsort(splits, n_splits, sizeof *splits, cmp_row3);
    }

    /* write */
    tmp = NULL;
    if (!(f = cli_atomic_open(out_path, &tmp))) {
        free(merges);
        free(splits);
        goto cleanup;
    }
    const char *qname = mc_previous_quality_name(r) ? mc_previous_quality_name(r) : "quality";
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width\"><title>magclust report: ");
    svg_text(f, title ? title : in_path);
    fprintf(f, "</title><style>:root{--t:%zupx}%s</style></head>\n<body data-ready=\"0\">\n<h1>", tsize, CSS);
    svg_text(f, title ? title : in_path);
    fprintf(f, "</h1>\n<p class=\"sub\">magclust %s report of <code>", mc_version());
    svg_text(f, in_path);
    fprintf(f, "</code></p>\n<table class=\"kv\" id=\"overview\">"
               "<tr><td>faces</td><td id=\"n-faces\">%zu</td></tr>"
               "<tr><td>clusters</td><td id=\"n-clusters\">%zu</td></tr>"
               "<tr><td>faces in clusters</td><td>%zu (%zu core, %zu border)</td></tr>"
               "<tr><td>noise</td><td id=\"n-noise\">%zu</td></tr><tr><td>unassigned</td><td>%zu</td></tr>",
            n, nc, m, counts[MC_ROLE_CORE], counts[MC_ROLE_BORDER], counts[MC_ROLE_NOISE], counts[MC_ROLE_UNASSIGNED]);
    size_t named = 0;
    for (size_t k = 0; k < nc; k++) named += cl[k].name != NULL;
    fprintf(f, "<tr><td>named clusters</td><td>%zu</td></tr>"
               "<tr><td>thumbnails</td><td>%zu shown, %zu images missing or unreadable (placeholders)</td></tr></table>\n",
            named, n_thumbs, n_missing);
    fprintf(f, "<h2>Quality and sizes</h2><div class=\"charts\">\n");
    quality_histogram(f, r, n, qname);
    size_chart(f, cl, nc);
    fprintf(f, "</div>\n");
    if (labels) {
        size_t ids, unlabelled;
        cli_count_identities(labels, n, &ids, &unlabelled);
        fprintf(f, "<h2>Scores against the labels</h2>\n<table class=\"kv\" id=\"metrics\">"
                   "<tr><td>identities</td><td>%zu (unlabelled faces count as their own)</td></tr>"
                   "<tr><td>BCubed</td><td>P %.4f &nbsp; R %.4f &nbsp; F <b id=\"bcubed-f\">%.4f</b></td></tr>"
                   "<tr><td>pairwise</td><td>P %.4f &nbsp; R %.4f &nbsp; F %.4f</td></tr>"
                   "<tr><td>NMI</td><td>%.4f</td></tr></table>\n",
                ids, met.bcubed_precision, met.bcubed_recall, met.bcubed_f, met.pairwise_precision,
                met.pairwise_recall, met.pairwise_f, met.nmi);
        fprintf(f, "<h3>Worst merges</h3><p class=\"sub\">Clusters holding the most faces of other people than their main one.</p>"
                   "<table class=\"worst\" id=\"worst-merges\"><tr><th>cluster</th><th>faces</th><th>of other people</th><th>main label</th></tr>");
        for (size_t k = 0; k < n_merges && k < 10; k++)
            fprintf(f, "<tr><td><a href=\"#c%lld\" data-cluster=\"%lld\">%lld</a></td><td>%zu</td><td>%zu</td><td>%lld</td></tr>",
                    (long long)merges[k].key, (long long)merges[k].key, (long long)merges[k].key, merges[k].b,
                    merges[k].a, (long long)merges[k].label);
        if (!n_merges) fprintf(f, "<tr><td colspan=\"4\">none: every cluster holds one person</td></tr>");
        fprintf(f, "</table>\n<h3>Worst splits</h3><p class=\"sub\">People whose faces are spread the most "
                   "(noise faces count as parts of their own).</p>"
                   "<table class=\"worst\" id=\"worst-splits\"><tr><th>label</th><th>faces</th><th>outside the largest part</th><th>parts</th></tr>");
        for (size_t k = 0; k < n_splits && k < 10; k++)
            fprintf(f, "<tr><td>%lld</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>", (long long)splits[k].key,
                    splits[k].b, splits[k].a, splits[k].parts);
        if (!n_splits) fprintf(f, "<tr><td colspan=\"4\">none: every person is in one cluster</td></tr>");
        fprintf(f, "</table>\n");
    }
    free(merges);
    free(splits);
    fprintf(f, "<h2 id=\"clusters\">Clusters</h2>\n<p class=\"legend sub\"><span>largest first; in each, core faces "
               "(outlined) by %s, then border faces (grey)</span></p>\n"
               "<nav class=\"pager\"></nav><div id=\"cluster-list\"></div><nav class=\"pager\"></nav>\n"
               "<h2 id=\"noise\">Noise and unassigned faces</h2><p class=\"sub\">%zu faces in no cluster, best first.</p>"
               "<div id=\"noise-list\"></div>\n",
            qname, nn);
    /* the data */
    fprintf(f, "<script id=\"data\" type=\"application/json\">{\"perPage\":%zu,\"shown\":%zu,\"noiseShown\":%zu,\"qname\":",
            per_page, tper, tper * 10);
    js_string(f, qname);
    fprintf(f, ",\"roles\":[\"core\",\"border\",\"noise\",\"unassigned\"],\"clusters\":[");
    for (size_t k = 0; k < nc; k++) {
        fprintf(f, "%s{\"id\":%lld,\"name\":", k ? "," : "", (long long)cl[k].id);
        js_string(f, cl[k].name);
        fprintf(f, ",\"core\":%zu,\"f\":[", cl[k].n_core);
        for (size_t j = 0; j < cl[k].size; j++) fprintf(f, "%s%zu", j ? "," : "", order[cl[k].start + j]);
        fprintf(f, "]}");
    }
    fprintf(f, "],\"noise\":[");
    for (size_t j = 0; j < nn; j++) fprintf(f, "%s%zu", j ? "," : "", noise[j]);
    fprintf(f, "],\"faces\":{\"p\":[");
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', f);
        js_string(f, mc_previous_path(r, i) ? mc_previous_path(r, i) : "");
    }
    fprintf(f, "],\"r\":[");
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", mc_previous_role(r, i));
    fprintf(f, "],\"q\":[");
    for (size_t i = 0; i < n; i++) {
        float q = mc_previous_quality(r, i);
        if (isnan(q))
            fprintf(f, "%snull", i ? "," : "");
        else
            fprintf(f, "%s%.5g", i ? "," : "", (double)q);
    }
    fprintf(f, "],\"t\":[");
    for (size_t i = 0; i < n; i++) fprintf(f, "%s%d", i ? "," : "", thumb_of[i]);
    fprintf(f, "]},\"thumbs\":[");
    for (size_t k = 0; k < n_thumbs; k++) {
        fprintf(f, "%s\"", k ? "," : "");
        base64(f, thumbs[k], thumb_len[k]);
        fputc('"', f);
    }
    fprintf(f, "]}</script>\n<script>%s</script>\n</body></html>\n", JS);
    if (cli_atomic_commit(f, tmp, out_path) != 0) {
        f = NULL;
        tmp = NULL;
        goto cleanup;
    }
    f = NULL;
    tmp = NULL;
    if (!quiet)
        printf("magclust report %s\n  faces        %zu in %zu clusters, %zu noise, %zu unassigned\n"
               "  thumbnails   %zu (%zu images missing or unreadable)\n  time         %.2f s\n  wrote        %s\n",
               in_path, n, nc, counts[MC_ROLE_NOISE], counts[MC_ROLE_UNASSIGNED], n_thumbs, n_missing, cli_now() - t0,
               out_path);
    rc = CLI_OK;
    goto cleanup;
nomem:
    cli_error("out of memory");
cleanup:
    if (f) cli_atomic_abort(f, tmp);
    for (size_t k = 0; thumbs && k < n_thumbs; k++) free(thumbs[k]);
    free(thumbs);
    free(thumb_len);
    free(order);
    free(noise);
    free(pred);
    free(tl);
    free(thumb_of);
    free(cl);
    mc_embeddings_free(le);
    mc_previous_free(r);
    return rc;
}
