/* magclust assign: place new faces with a model saved by 'cluster
 * --save-model'; optionally fold them into the model. */
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
#include "magclust/magclust.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust assign MODEL.h5 NEW.h5 -o NEW.csv [--update [--model-out PATH]]\n"
"                       [--photo-key NAME] [--corrections FILE]\n"
"\n"
"Place the faces of NEW.h5 into the clusters of a model that 'magclust cluster\n"
"--save-model' wrote, without clustering the collection again. The model keeps\n"
"every face it has seen (cluster, role), the threshold, the quality gates, the\n"
"quality's name and the centring; the new faces are centred and judged the\n"
"same way. Each new face looks at its k most similar faces of the model (k as\n"
"in the clustering):\n"
"  - below the noise gate: noise;\n"
"  - else it joins the cluster of the most similar core face among them when\n"
"    that similarity is at least the threshold (as a core face when it passes\n"
"    the core gate, else as a border face);\n"
"  - the rest is 'unassigned' (cluster -1): no existing cluster wants it.\n"
"With --update the unassigned faces are clustered among themselves (average\n"
"linkage, the model's threshold and gates), opening new clusters with ids\n"
"after the model's last; then every new face joins the model, which is\n"
"rewritten atomically.\n"
"Each new face is scored as 'cluster' scores its faces: similarity to its\n"
"cluster's centre (the model's, after an update with the new faces in it)\n"
"and margin over the next-best cluster among those of its k most similar\n"
"faces of the model (low: ask the user); representative 1 marks the best\n"
"face of each cluster among the new faces in it, by the rule of 'cluster'.\n"
"Cluster ids in the output are the model's (and the original CSV's), and so\n"
"are the clusters' person names (a 'person' column when there are any).\n"
"With --photo-key or --corrections the model's faces stay where they are and\n"
"the new faces obey the constraints: a new face that may not share its\n"
"cluster with a face there and matches it worse moves to its next-best\n"
"cluster or is left unassigned; a new face named as a cluster of the model\n"
"joins it; with --update the constraints are enforced again after the new\n"
"clusters are formed.\n"
"\n"
"options:\n"
"  -o, --output PATH        the new faces' result, CSV (index,path,cluster,\n"
"                           role,quality[,person],similarity,margin,\n"
"                           representative) or HDF5 by extension or --format\n"
"      --format F           csv or h5\n"
"      --update             fold the new faces into the model (see above)\n"
"      --model-out PATH     with --update: write the updated model here\n"
"                           instead of over MODEL.h5\n"
"      --photo-key NAME     new faces with the same value of dataset NAME (one\n"
"                           photo) never share a cluster\n"
"      --corrections FILE   corrections, CSV, as for 'cluster': 'path,NAME',\n"
"                           'path,!NAME', 'path,ID' / 'path,!ID' (ID: a\n"
"                           cluster of the model), 'pathA,pathB,same|different';\n"
"                           paths may be the model's faces or the new ones\n"
"      --quality-key NAME   the quality dataset of NEW.h5 (default: the\n"
"                           model's; a different one is refused)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME    (default labels; read when present, for scores)\n"
"      --paths-key NAME     (default paths)\n"
"      --threads N          threads (default 0 = all cores)\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

int cmd_assign(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_UPDATE, O_MODEL_OUT, O_QKEY, O_EKEY, O_LKEY, O_PKEY, O_THREADS,
           O_PHOTO, O_CORR };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, O_FORMAT},
        {"update", no_argument, NULL, O_UPDATE},
        {"model-out", required_argument, NULL, O_MODEL_OUT},
        {"quality-key", required_argument, NULL, O_QKEY},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"labels-key", required_argument, NULL, O_LKEY},
        {"paths-key", required_argument, NULL, O_PKEY},
        {"threads", required_argument, NULL, O_THREADS},
        {"photo-key", required_argument, NULL, O_PHOTO},
        {"corrections", required_argument, NULL, O_CORR},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_path = NULL, *format = NULL, *model_out = NULL, *qkey = NULL;
    mc_h5_read_params rp = mc_h5_read_params_default();
    mc_assign_params ap = mc_assign_params_default();
    int update = 0, quiet = 0, c;
    long threads = 0;
    const char *corrections = NULL;
    mc_cluster_info kc; /* what the constraints did, as cluster reports it */
    memset(&kc, 0, sizeof kc);
    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("assign", argc, argv, ":o:qh", opts, 0)) != -1) {
        switch (c) {
        case 'o': out_path = optarg; break;
        case O_FORMAT: format = optarg; break;
        case O_UPDATE: update = 1; break;
        case O_MODEL_OUT: model_out = optarg; break;
        case O_QKEY: qkey = optarg; break;
        case O_EKEY: rp.embeddings_key = optarg; break;
        case O_LKEY: rp.labels_key = optarg; break;
        case O_PKEY: rp.paths_key = optarg; break;
        case O_PHOTO: rp.group_key = optarg; break;
        case O_CORR: corrections = optarg; break;
        case O_THREADS:
            if (cli_parse_int("--threads", optarg, 0, 4096, &threads)) return CLI_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("assign", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("assign", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return cli_usage_error("assign", "expected MODEL.h5 and NEW.h5, got %d file%s", argc - optind,
                               argc - optind == 1 ? "" : "s");
    if (!out_path) return cli_usage_error("assign", "no output: give -o NEW.csv");
    if (model_out && !update) return cli_usage_error("assign", "--model-out needs --update");
    const char *model_path = argv[optind], *in_path = argv[optind + 1];
    const char *inputs[] = {model_path, in_path, corrections, NULL};
    if (cli_check_output(out_path, inputs) != 0) return CLI_FAIL;
    const char *model_dest = update ? (model_out ? model_out : model_path) : NULL;
    if (model_out) {
        if (cli_check_output(model_out, inputs) != 0) return CLI_FAIL;
        if (strcmp(model_out, out_path) == 0)
            return cli_usage_error("assign", "--model-out and -o name the same file");
    } else if (update &&
               cli_check_output_ex(model_path, (const char *const[]){in_path, corrections, NULL}, 1) != 0) {
        return CLI_FAIL;
    }
    mc_format out_fmt;
    if (cli_result_format("assign", format, out_path, &out_fmt) != 0) return CLI_USAGE;
    ap.n_threads = (int)threads;

    int rc = CLI_FAIL;
    mc_status st;
    mc_model_t *m = NULL;
    mc_embeddings_t *e = NULL;
    mc_clustering_t *cl = NULL;
    mc_constraints_t *cs = NULL;
    mc_outputs_t *run_out = NULL;
    int lock_fd = -1;
    double t0 = cli_now();
    /* an update in place holds the model's lock from reading it to
     * committing the new one, so two updates at once never lose faces */
    if (update && !model_out && (lock_fd = cli_lock_for_update(model_path)) < 0) goto cleanup;
    if ((st = mc_model_read_h5(model_path, &m)) != MC_OK) goto fail;
    const char *mq = mc_model_quality_name(m);
    int model_magnitude = strcmp(mq, "magnitude") == 0;
    if (qkey && (model_magnitude || strcmp(qkey, mq) != 0)) {
        cli_error("%s: the model judges quality by %s%s; --quality-key %s would compare other "
                  "numbers with its gates",
                  model_path, model_magnitude ? "the embedding magnitude" : "dataset ",
                  model_magnitude ? "" : mq, qkey);
        rc = CLI_USAGE;
        goto cleanup;
    }
    rp.quality_key = model_magnitude ? NULL : mq;
    if ((st = mc_embeddings_read_h5(in_path, &rp, &e)) != MC_OK) goto fail;
    if (mc_embeddings_dim(e) != mc_model_dim(m)) {
        cli_error("%s: faces are %zu-d, the model %s is %zu-d", in_path, mc_embeddings_dim(e),
                  model_path, mc_model_dim(m));
        goto cleanup;
    }
    size_t c0 = mc_model_n_clusters(m), e0 = mc_model_n_exemplars(m);
    if (corrections || mc_embeddings_groups(e)) {
        if ((st = mc_model_constraints_new(m, e, corrections, &cs, &kc.corrections)) != MC_OK) goto fail;
        kc.constraints_applied = 1;
        kc.photo_pairs = mc_embeddings_group_pairs(e);
        ap.constraints = cs;
    }
    double t1 = cli_now();
    mc_assign_stats as;
    st = update ? mc_model_update(m, e, &ap, &cl, &as) : mc_model_assign(m, e, &ap, &cl, &as);
    if (st != MC_OK) goto fail;
    kc.constraints = as.constraints;
    double t2 = cli_now();
    /* the assignment and the updated model are committed together, or neither */
    const char *out_tmp = NULL, *model_tmp = NULL;
    if (!(run_out = cli_outputs_new()) || !(out_tmp = cli_outputs_add(run_out, out_path, 0)) ||
        (model_dest && !(model_tmp = cli_outputs_add(run_out, model_dest, !model_out))))
        goto cleanup;
    if (out_fmt == MC_FMT_H5) {
        mc_attr attrs[] = {
            {"magclust_version", mc_version(), 0},
            {"model", model_path, 0},
            {"input", in_path, 0},
            {"threshold", NULL, mc_model_threshold(m)},
        };
        st = mc_clustering_write_h5(cl, e, out_tmp, attrs, sizeof attrs / sizeof *attrs);
    } else {
        st = mc_clustering_write_csv(cl, e, out_tmp);
    }
    if (st != MC_OK) {
        rc = cli_fail_output(st, out_tmp, out_path);
        goto cleanup;
    }
    if (model_dest && (st = mc_model_write_h5(m, model_tmp)) != MC_OK) {
        rc = cli_fail_output(st, model_tmp, model_dest);
        goto cleanup;
    }
    if (cli_outputs_commit(run_out) != 0) goto cleanup;
    double t3 = cli_now();
    if (!quiet) {
        size_t n = mc_embeddings_n(e);
        printf("magclust assign %s %s\n", model_path, in_path);
        printf("  faces        %zu x %zu\n", n, mc_embeddings_dim(e));
        printf("  model        %zu clusters, %zu faces; threshold %.4f; quality %s",
               c0, e0, mc_model_threshold(m), mq);
        if (isfinite(mc_model_core_q(m))) printf("; core >= %.4g", mc_model_core_q(m));
        if (isfinite(mc_model_noise_q(m))) printf("; noise < %.4g", mc_model_noise_q(m));
        printf("%s\n", mc_model_center(m) ? "; centred" : "");
        if (update)
            printf("  assigned     %zu core, %zu border to existing clusters; %zu unassigned went "
                   "to the update\n", as.n_core, as.n_border, as.n_unassigned);
        else
            printf("  assigned     %zu core, %zu border; %zu unassigned; %zu noise\n", as.n_core,
                   as.n_border, as.n_unassigned, as.n_noise);
        if (update)
            printf("  update       %zu new clusters (%zu faces), %zu faces noise; model "
                   "now %zu clusters, %zu faces\n",
                   as.n_new_clusters, as.n_new_clustered, as.n_noise, mc_model_n_clusters(m),
                   mc_model_n_exemplars(m));
        cli_print_constraints(stdout, &kc, corrections, NULL, e);
        printf("  time         load %.3f s  assign %.3f s  write %.3f s  total %.3f s\n", t1 - t0,
               t2 - t1, t3 - t2, t3 - t0);
        const int64_t *labels = mc_embeddings_labels(e);
        if (labels) {
            mc_metrics mt;
            if ((st = mc_metrics_compute(labels, mc_clustering_labels(cl), n, &mt)) != MC_OK)
                goto fail;
            printf("  new faces    scored alone against their labels:\n");
            cli_print_metrics(stdout, &mt);
        }
        printf("  wrote        %s", out_path);
        if (model_dest) printf(" and the model %s", model_dest);
        printf("\n");
    }
    rc = CLI_OK;
    goto cleanup;
fail:
    rc = cli_fail_status(st);
cleanup:
    mc_outputs_free(run_out);
    if (lock_fd >= 0) close(lock_fd);
    mc_clustering_free(cl);
    mc_constraints_free(cs);
    mc_embeddings_free(e);
    mc_model_free(m);
    return rc;
}
