/* output.h: the public face of the library's atomic writer (status.c's
 * mc_atomic_*), which every library writer uses, so that programs (the CLI
 * for its CSV, SVG and HTML outputs) write files the same way. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magclust/output.h"
#include "util_impl.h"

struct mc_output {
    mc_atomic_file af;
};

mc_status mc_output_open(const char *path, mc_output_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_output_open");
    *out = NULL;
    if (!path || !path[0]) return mc_fail(MC_ERR_INVALID_ARG, "mc_output_open: no path");
    mc_output_t *o = calloc(1, sizeof *o);
    if (!o) return mc_fail(MC_ERR_NOMEM, "out of memory");
    mc_status st = mc_atomic_open(&o->af, path);
    if (st != MC_OK) {
        free(o);
        return st;
    }
    *out = o;
    return MC_OK;
}

FILE *mc_output_file(const mc_output_t *o) { return o ? o->af.fp : NULL; }

mc_status mc_output_commit(mc_output_t *o)
{
    mc_clear_error();
    if (!o || !o->af.fp) return mc_fail(MC_ERR_INVALID_ARG, "mc_output_commit: no open output");
    return mc_atomic_commit(&o->af);
}

void mc_output_free(mc_output_t *o)
{
    if (!o) return;
    mc_atomic_abort(&o->af);
    free(o);
}

/* ---- outputs committed together ----------------------------------------- */

typedef struct {
    char *path, *tmp;
    int replace;
} staged;

struct mc_outputs {
    int committed;
    staged *v;
    size_t n, cap;
};

mc_status mc_outputs_new(mc_outputs_t **out)
{
    mc_clear_error();
    if (!out) return mc_fail(MC_ERR_INVALID_ARG, "NULL argument to mc_outputs_new");
    *out = calloc(1, sizeof **out);
    if (!*out) return mc_fail(MC_ERR_NOMEM, "out of memory");
    return MC_OK;
}

mc_status mc_outputs_add(mc_outputs_t *s, const char *path, int replace, const char **out_tmp)
{
    mc_clear_error();
    if (!s || !path || !path[0] || !out_tmp)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_outputs_add: a set, a path and out_tmp are required");
    *out_tmp = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].path, path) == 0)
            return mc_fail(MC_ERR_INVALID_ARG, "%s: named as two outputs of one run", path);
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 4;
        staged *v = realloc(s->v, cap * sizeof *v);
        if (!v) return mc_fail(MC_ERR_NOMEM, "out of memory");
        s->v = v;
        s->cap = cap;
    }
    staged *o = &s->v[s->n];
    o->path = strdup(path);
    o->tmp = mc_temp_path_for(path);
    if (!o->path || !o->tmp) {
        free(o->path);
        free(o->tmp);
        return mc_fail(MC_ERR_NOMEM, "%s: cannot make a temporary name", path);
    }
    o->replace = replace != 0;
    s->n++;
    *out_tmp = o->tmp;
    return MC_OK;
}

mc_status mc_outputs_commit(mc_outputs_t *s)
{
    mc_clear_error();
    if (!s || s->committed) return mc_fail(MC_ERR_INVALID_ARG, "mc_outputs_commit: nothing to commit");
    for (size_t i = 0; i < s->n; i++) {
        struct stat st;
        if (lstat(s->v[i].tmp, &st) != 0 || !S_ISREG(st.st_mode))
            return mc_fail(MC_ERR_IO, "%s: was not written", s->v[i].path);
        mc_status st_dest = mc_check_destination(s->v[i].path, s->v[i].replace, NULL);
        if (st_dest != MC_OK) return st_dest;
    }
    /* every file synced before any is renamed: a sync failing after the
     * first rename would leave the run half committed */
    for (size_t i = 0; i < s->n; i++) {
        mc_status st_sync = mc_sync_file(s->v[i].tmp, s->v[i].path);
        if (st_sync != MC_OK) return st_sync;
    }
    s->committed = 1;
    for (size_t i = 0; i < s->n; i++) {
        staged *o = &s->v[i];
        mc_status st = mc_place_file_ex(o->tmp, o->path, o->replace);
        if (st != MC_OK) return st;
    }
    return MC_OK;
}

void mc_outputs_free(mc_outputs_t *s)
{
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        unlink(s->v[i].tmp); /* gone already when committed */
        free(s->v[i].path);
        free(s->v[i].tmp);
    }
    free(s->v);
    free(s);
}
