/* magclust report: one self-contained HTML page of a result: the clusters as
 * galleries of face thumbnails (largest first, best faces first), noise and
 * unassigned faces, a histogram of quality by role, the cluster sizes and,
 * with labels, BCubed / pairwise scores and the worst merges and splits.
 * The page carries its data as JSON and draws one page of clusters at a
 * time, so it stays usable at 100k faces. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "report_data.h"
#include "report_html.h"
#include "magclust/magclust.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust report RESULT.csv|RESULT.h5 -o REPORT.html [options]\n"
"\n"
"Write one self-contained HTML file (inline CSS, SVG and JavaScript; images\n"
"embedded; nothing fetched from the network) that shows a clustering result:\n"
"  - each cluster as a gallery of face thumbnails, largest cluster first,\n"
"    the cluster's representative face (its avatar) first, then core faces\n"
"    by quality, then border faces, greyed;\n"
"  - the faces to check: those of lowest margin (how much nearer their own\n"
"    cluster than the next-best one; %d at most, and a tenth of the faces),\n"
"    when the result has a margin column;\n"
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
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n",
            REPORT_UNSURE_MAX);
}

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
    while ((c = cli_getopt("report", argc, argv, ":o:qh", opts, 0)) != -1) {
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
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("report", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("report", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("report", optind == argc ? "no result file" : "more than one result file");
    if (!out_path) return cli_usage_error("report", "no output: give -o REPORT.html");
    const char *in_path = argv[optind];
    if (root) { /* a root that is not a directory would only give placeholders */
        struct stat sr;
        if (stat(root, &sr) != 0 || !S_ISDIR(sr.st_mode)) {
            cli_error("--image-root %s: %s", root, stat(root, &sr) != 0 ? "no such directory" : "not a directory");
            return CLI_FAIL;
        }
    }
    const char *inputs[3] = {in_path, labels_path, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;

    int rc = CLI_FAIL;
    mc_status st;
    mc_previous_t *r = NULL;
    mc_embeddings_t *le = NULL;
    report_data d = {0};
    double t0 = cli_now();

    /* load: the result and, with --labels, the labels of the same faces */
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

    /* build: clusters, thumbnails, scores */
    report_thumb_params tp = {in_path, root, tsize, tper, tmax, !quiet && isatty(STDERR_FILENO)};
    if ((rc = report_build(&d, r, labels, &tp)) != CLI_OK) goto cleanup;

    /* write */
    report_page page = {in_path, title, tsize, per_page, tper};
    if (report_write_html(out_path, &d, &page) != 0) {
        rc = CLI_FAIL;
        goto cleanup;
    }
    if (!quiet) {
        printf("magclust report %s\n  faces        %zu in %zu clusters, %zu noise, %zu unassigned\n",
               in_path, n, d.nc, d.counts[MC_ROLE_NOISE], d.counts[MC_ROLE_UNASSIGNED]);
        printf("  thumbnails   %zu (%zu images missing or unreadable", d.n_thumbs, d.n_missing);
        if (d.n_missing > 0) /* where relative paths were looked for, how to say elsewhere */
            printf("; relative paths were looked for under %s%s", d.image_dir,
                   root ? " (--image-root)" : ", the result's folder: --image-root DIR says where "
                                              "they start");
        printf(")\n  time         %.2f s\n  wrote        %s\n", cli_now() - t0, out_path);
    }
    rc = CLI_OK;
cleanup:
    report_data_free(&d);
    mc_embeddings_free(le);
    mc_previous_free(r);
    return rc;
}
