/* --photo-key, --corrections and --previous for `cluster`. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "constrain.h"
#include "json.h"

int cli_constrain_wanted(const cli_constrain *k, const mc_embeddings_t *e)
{
    return k->corrections || k->previous || mc_embeddings_groups(e);
}

size_t cli_count_group_pairs(const mc_embeddings_t *e)
{
    const int64_t *g = mc_embeddings_groups(e);
    size_t ng = mc_embeddings_n_groups(e), n = mc_embeddings_n(e), pairs = 0;
    size_t *cnt = g ? calloc(ng + 1, sizeof *cnt) : NULL;
    if (!cnt) return 0;
    for (size_t i = 0; i < n; i++)
        if (g[i] >= 0 && (size_t)g[i] < ng) pairs += cnt[g[i]]++;
    free(cnt);
    return pairs;
}

int cli_constrain_load(cli_constrain *k, const mc_embeddings_t *e)
{
    size_t n = mc_embeddings_n(e);
    mc_status st = MC_OK;
    if (!cli_constrain_wanted(k, e)) return 0;
    if ((k->corrections || k->previous) && !mc_embeddings_path(e, 0)) {
        cli_error("%s: the input has no paths: --corrections and --previous match faces by path",
                  k->corrections ? k->corrections : k->previous);
        return -1;
    }
    if (mc_embeddings_path(e, 0)) {
        if (!(k->paths = malloc(n * sizeof *k->paths))) goto nomem;
        for (size_t i = 0; i < n; i++) k->paths[i] = mc_embeddings_path(e, i);
    }
    if (k->previous) {
        if ((st = mc_previous_read(k->previous, &k->prev)) != MC_OK) goto fail;
        k->prev_cluster = malloc(n * sizeof *k->prev_cluster);
        k->prev_person = malloc(n * sizeof *k->prev_person);
        if (!k->prev_cluster || !k->prev_person) goto nomem;
        if ((st = mc_previous_lookup(k->prev, n, k->paths, k->prev_cluster, k->prev_person,
                                     &k->prev_found)) != MC_OK)
            goto fail;
        k->prev_rows = mc_previous_n(k->prev);
    }
    if (k->corrections || mc_embeddings_groups(e)) {
        if ((st = mc_constraints_new(n, &k->set)) != MC_OK) goto fail;
        if (k->corrections &&
            (st = mc_corrections_read(k->set, k->corrections, k->paths, mc_embeddings_quality(e),
                                      k->prev_cluster, k->prev_person, &k->ci)) != MC_OK)
            goto fail;
        if (mc_embeddings_groups(e)) {
            char what[300];
            snprintf(what, sizeof what, "photo key '%s'", mc_embeddings_group_name(e));
            if ((st = mc_constraints_set_groups(k->set, mc_embeddings_groups(e), what)) != MC_OK) goto fail;
        }
        mc_constraints_set_face_text(k->set, k->paths);
        if ((st = mc_constraints_check(k->set)) != MC_OK) goto fail;
        k->n_group_pairs = cli_count_group_pairs(e);
    }
    return 0;
nomem:
    st = MC_ERR_NOMEM;
fail:
    cli_fail_status(st);
    return -1;
}

int cli_constrain_load_cb(void *k, const mc_embeddings_t *e)
{
    return cli_constrain_load(k, e);
}

void cli_constrain_free(cli_constrain *k)
{
    mc_previous_free(k->prev);
    mc_constraints_free(k->set);
    free(k->prev_cluster);
    free(k->prev_person);
    free(k->paths);
    k->prev = NULL;
    k->set = NULL;
    k->prev_cluster = NULL;
    k->prev_person = NULL;
    k->paths = NULL;
}

int cli_constrain_cluster(cli_constrain *k, const mc_embeddings_t *e, const mc_knn_graph_t *g,
                          double threshold, mc_clustering_t **cl)
{
    size_t n = mc_embeddings_n(e);
    int rc = -1;
    mc_status st = MC_OK;
    mc_clustering_t *c2 = NULL;
    int64_t *labels = NULL;
    const char **names = NULL;
    uint8_t *roles = NULL;
    labels = malloc(n * sizeof *labels);
    roles = malloc(n);
    if (!labels || !roles) goto nomem;
    memcpy(labels, mc_clustering_labels(*cl), n * sizeof *labels);
    memcpy(roles, mc_clustering_roles(*cl), n);
    if (k->set) {
        mc_constraint_input in = {mc_knn_graph_k(g), 0, mc_knn_graph_ids(g), mc_knn_graph_sims(g),
                                  threshold, NULL, MC_ROLE_NOISE, 0};
        if ((st = mc_constraints_apply(k->set, &in, labels, roles, &k->cs)) != MC_OK) goto fail;
        k->applied = 1;
        /* renumber by size, as every result is */
        if ((st = mc_clustering_new(n, labels, roles, &c2)) != MC_OK) goto fail;
        memcpy(labels, mc_clustering_labels(c2), n * sizeof *labels);
        mc_clustering_free(c2);
        c2 = NULL;
    }
    if (k->prev &&
        (st = mc_previous_carry(k->prev, n, k->prev_cluster, labels, labels, &k->carry)) != MC_OK)
        goto fail;
    if ((st = mc_clustering_new_keep_ids(n, labels, roles, &c2)) != MC_OK) goto fail;
    if (k->corrections || k->prev) {
        /* names: a correction's, else the previous cluster's under the same id */
        size_t nc = mc_clustering_n_clusters(c2);
        names = calloc(nc + 1, sizeof *names);
        if (!names) goto nomem;
        for (size_t i = 0; k->set && i < n; i++) {
            const char *nm = mc_constraints_name(k->set, i);
            if (nm && labels[i] >= 0) names[labels[i]] = nm;
        }
        for (size_t c = 0; k->prev && c < nc; c++)
            if (!names[c]) names[c] = mc_previous_cluster_name(k->prev, (int64_t)c);
        if ((st = mc_clustering_set_names(c2, names)) != MC_OK) goto fail;
        uint8_t *seen = calloc(nc + 1, 1);
        if (!seen) goto nomem;
        for (size_t i = 0; i < n; i++)
            if (labels[i] >= 0 && names[labels[i]] && !seen[labels[i]]) {
                seen[labels[i]] = 1;
                k->named_clusters++;
            }
        free(seen);
    }
    mc_clustering_free(*cl);
    *cl = c2;
    c2 = NULL;
    rc = 0;
    goto done;
nomem:
    st = MC_ERR_NOMEM;
fail:
    cli_fail_status(st);
done:
    mc_clustering_free(c2);
    free(names);
    free(labels);
    free(roles);
    return rc;
}

void cli_constrain_print(FILE *f, const cli_constrain *k, const mc_embeddings_t *e)
{
    if (k->applied) {
        fprintf(f, "  constraints ");
        const char *sep = " ";
        if (mc_embeddings_groups(e)) {
            fprintf(f, "%sphoto key '%s': %zu photos, %zu pairs of faces that may not meet", sep,
                    mc_embeddings_group_name(e), mc_embeddings_n_groups(e), k->n_group_pairs);
            sep = "; ";
        }
        if (k->corrections) {
            fprintf(f, "%s%s: %zu corrections (%zu named, %zu not-person, %zu same, %zu different",
                    sep, k->corrections, k->ci.lines, k->ci.named, k->ci.not_named, k->ci.same, k->ci.different);
            if (k->ci.unknown) fprintf(f, "; %zu name faces not in this input, ignored", k->ci.unknown);
            fprintf(f, ")");
        }
        fprintf(f, "\n               %zu violations resolved: %zu faces moved, %zu left in no cluster, %zu gathered "
                   "into their person's cluster, %zu clusters opened\n",
                k->cs.violations, k->cs.moved, k->cs.to_noise, k->cs.gathered, k->cs.new_clusters);
        if (k->cs.unresolved)
            fprintf(f, "               %zu violations between faces that may not move left as they are "
                       "(re-run 'cluster' with the corrections to resolve them)\n",
                    k->cs.unresolved);
    }
    if (k->previous)
        fprintf(f, "  previous     %s: %zu of %zu faces found; %zu clusters kept, %zu merged, %zu split, "
                   "%zu new, %zu gone; %zu carry a previous id, %zu named\n",
                k->previous, k->prev_found, mc_embeddings_n(e), k->carry.kept, k->carry.merged,
                k->carry.split, k->carry.added, k->carry.gone, k->carry.carried, k->named_clusters);
}

void cli_constrain_json(json_out *j, const cli_constrain *k, const mc_embeddings_t *e)
{
    if (k->applied) {
        json_key_object(j, "constraints");
        json_str(j, "photo_key", mc_embeddings_groups(e) ? mc_embeddings_group_name(e) : NULL);
        json_uint(j, "photo_pairs", k->n_group_pairs);
        json_str(j, "corrections", k->corrections);
        json_uint(j, "lines", k->ci.lines);
        json_uint(j, "unknown_paths", k->ci.unknown);
        json_uint(j, "named", k->ci.named);
        json_uint(j, "not_named", k->ci.not_named);
        json_uint(j, "same", k->ci.same);
        json_uint(j, "different", k->ci.different);
        json_uint(j, "violations", k->cs.violations);
        json_uint(j, "moved", k->cs.moved);
        json_uint(j, "to_noise", k->cs.to_noise);
        json_uint(j, "gathered", k->cs.gathered);
        json_uint(j, "new_clusters", k->cs.new_clusters);
        json_uint(j, "unresolved", k->cs.unresolved);
        json_close_object(j);
    }
    if (k->previous) {
        json_key_object(j, "previous");
        json_str(j, "file", k->previous);
        json_uint(j, "faces_found", k->prev_found);
        json_uint(j, "kept", k->carry.kept);
        json_uint(j, "merged", k->carry.merged);
        json_uint(j, "split", k->carry.split);
        json_uint(j, "new", k->carry.added);
        json_uint(j, "gone", k->carry.gone);
        json_uint(j, "carried", k->carry.carried);
        json_uint(j, "named", k->named_clusters);
        json_close_object(j);
    }
}
