/* output.h: the public face of the library's atomic writer (status.c's
 * mc_atomic_*), which every library writer uses, so that programs (the CLI
 * for its CSV, SVG and HTML outputs) write files the same way. */
#include <stdlib.h>

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
