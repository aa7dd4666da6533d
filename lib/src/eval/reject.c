/* Error versus reject: the metrics of the faces left after the lowest-quality
 * ones are set aside (moved here from `magclust eval` so that every caller,
 * the Python package among them, computes the same curve). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "magclust/metrics.h"
#include "util_impl.h"

typedef struct {
    size_t i;
    float q;
} qi_pair;

static int cmp_qi(const void *a, const void *b)
{
    const qi_pair *x = a, *y = b;
    if (x->q != y->q) return x->q < y->q ? -1 : 1;
    return (x->i > y->i) - (x->i < y->i);
}

size_t mc_reject_curve_points(double step, double max_pct)
{
    if (!isfinite(step) || !isfinite(max_pct) || step <= 0.0 || max_pct < 0.0) return 0;
    return (size_t)floor(max_pct / step + 1e-9) + 1;
}

mc_status mc_reject_curve(const int64_t *truth, const int64_t *pred, const float *quality,
                          size_t n, double step, double max_pct, mc_reject_point *out)
{
    mc_clear_error();
    if (!truth || !pred || !quality || !out)
        return mc_fail(MC_ERR_INVALID_ARG, "mc_reject_curve: a NULL argument");
    if (n == 0) return mc_fail(MC_ERR_INVALID_ARG, "mc_reject_curve: n == 0 (no faces)");
    if (!(step > 0.0) || !isfinite(step) || !(max_pct >= 0.0 && max_pct < 100.0))
        return mc_fail(MC_ERR_INVALID_ARG,
                       "mc_reject_curve: step %g must be > 0 and max_pct %g in [0, 100)", step,
                       max_pct);
    size_t points = mc_reject_curve_points(step, max_pct);
    size_t last_drop = (size_t)floor((double)(points - 1) * step / 100.0 * (double)n + 0.5);
    if (last_drop >= n)
        return mc_fail(MC_ERR_BAD_DATA, "too few faces (%zu) for a %g %% reject curve", n,
                       max_pct);
    qi_pair *o = mc_malloc_array(n, sizeof *o);
    int64_t *t2 = mc_malloc_array(n, sizeof *t2), *p2 = mc_malloc_array(n, sizeof *p2);
    unsigned char *keep = malloc(n);
    mc_status st = MC_OK;
    if (!o || !t2 || !p2 || !keep) {
        st = mc_fail(MC_ERR_NOMEM, "out of memory for a reject curve of %zu faces", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) o[i] = (qi_pair){i, quality[i]};
    qsort(o, n, sizeof *o, cmp_qi);
    /* the percent of point j is j x step (not a running sum: no drift) */
    for (size_t j = 0; j < points; j++) {
        double pct = (double)j * step;
        size_t drop = (size_t)floor(pct / 100.0 * (double)n + 0.5);
        memset(keep, 1, n);
        for (size_t r = 0; r < drop; r++) keep[o[r].i] = 0;
        size_t m = 0;
        for (size_t i = 0; i < n; i++)
            if (keep[i]) {
                t2[m] = truth[i];
                p2[m] = pred[i];
                m++;
            }
        mc_reject_point *c = &out[j];
        c->reject_pct = round(pct * 1e6) / 1e6;
        c->faces = m;
        c->quality_below = drop ? (double)o[drop].q : NAN;
        if ((st = mc_metrics_compute(t2, p2, m, &c->m)) != MC_OK) goto done;
    }
done:
    free(o);
    free(t2);
    free(p2);
    free(keep);
    return st;
}
