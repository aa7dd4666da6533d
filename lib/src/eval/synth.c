/* Deterministic generator of MagFace-like face collections.
 *
 * The model (model version 1, recorded in the file as the attribute
 * "magclust_synth_version"):
 *
 * Identities i = 0..n_ids-1 have Zipf sizes
 *     size_i = max(min_size, round(max_size / (i+1)^zipf_s)).
 * Real identities are not equally far apart: some people look alike. Each
 * identity belongs to one of F = max(1, n_ids / 5) "families" (drawn
 * uniformly), and its unit centre is
 *     c_i = normalise(sqrt(0.3) f_family + sqrt(0.7) r_i)
 * with f and r random unit vectors (D standard Gaussians, normalised), so
 * look-alike identities have centres at cosine about 0.3. G = 8 shared
 * "nuisance" unit directions u_0..u_7 model what low-quality photos have in
 * common (blur, darkness, profile): bad faces of different people drift
 * towards the same few directions, which is why ordinary density clustering
 * chains identities together through them.
 *
 * Every face has a latent quality q in [0, 1). Identity faces draw q = U^0.8
 * (U uniform in [0, 1)): P(q < x) = x^1.25, so 22% have q < 0.3 and 42%
 * q < 0.5, a realistic tail of bad faces. Distractors draw q = 0.5 U. With
 * g ~ N(0, I_D), a nuisance index k uniform in 0..7, a per-face spread
 * e = exp(0.3 z') (z' ~ N(0, 1): some photos of a person are just odder
 * than others) and
 *     s(q) = (0.45 + 1.3 (1-q)^2) e   (identity-blind noise)
 *     t(q) = 2.2 (1-q)^2              (pull towards the shared nuisance)
 * the direction is
 *     v = normalise(c + s(q) g / sqrt(D) + t(q) u_k)
 * (c = c_i for an identity face, a fresh random unit vector for a distractor)
 * and the magnitude is
 *     m = mag_scale * (15 + 20 q + clamp(0.75 z, -2, 2)),  z ~ N(0, 1),
 * so m / mag_scale lies in [13, 37] and tracks q closely (a one-to-one
 * quality signal blurred by the jitter). The stored row is m v in float32.
 * The number of distractors is round(distractor_frac * sum_i size_i); their
 * label is -1.
 *
 * The constants were chosen so that the pair statistics match those of real
 * in-the-wild faces under an ArcFace-trained model (raw 128-d features): two
 * top-quartile faces of one person have cosine 0.80 on average (5th-95th
 * percentile about 0.67-0.90), of two people about 0 (99th percentile 0.26);
 * two bottom-quartile faces of one person 0.25, of two people 0.06 with a
 * 99th percentile of 0.55; a face's most similar other-identity face has
 * median cosine 0.35-0.42 (dim 512-128). Plain DBSCAN chains identities
 * together through the bad faces as soon as eps passes about 0.4, while a
 * magnitude gate on the core points keeps them apart up to about 0.55.
 *
 * Random stream: xoshiro256** seeded by four splitmix64 outputs of the seed;
 * uniforms are the top 53 bits; Gaussians come from Box-Muller in double
 * precision, both values of a pair used in turn. Draw order: the 8 nuisance
 * directions; the shuffle (Fisher-Yates, j = N-1 down to 1, swap j with
 * floor(U (j+1))), which fixes the output row of each face; then, identity by
 * identity, its family, its own random direction r_i and its faces (q,
 * jitter, k, spread, g), then the distractors (centre, q, jitter, k, spread,
 * g). A family direction comes from its own stream, seeded by the seed and
 * the family number, so no table of families is kept. Generating faces in their unshuffled
 * order, each written straight to its shuffled row, needs one centre at a
 * time and no second copy of the data. No state outside the call: the same
 * parameters give the same floats (on the same libm).
 *
 * Realistic structure (model version 2, structure = MC_SYNTH_REALISTIC).
 * Real face models do not spread identities evenly over the sphere: shared
 * attributes (sex, age, ethnicity, pose habits) give the identity centres a
 * decaying spectrum, their pairwise cosines spread 0.11-0.15 around zero
 * (0.044 for isotropic 512-d centres), and a coarse partition (k-means cells)
 * keeps most of a face's neighbours together. Two changes model it:
 *   - every random direction (family, identity, distractor centre) is
 *         normalise(sqrt(center_share) a + sqrt(1 - center_share) g / sqrt(D)),
 *     a = sum_k w_k z_k b_k over A = min(D, 64) orthonormal "attribute"
 *     directions b_k, w_k proportional to k^(-center_decay / 2) with
 *     sum w_k^2 = 1, z ~ N(0, 1), g ~ N(0, I_D) (both halves have expected
 *     squared norm 1);
 *   - a face's identity-blind noise s(q) g / sqrt(D) becomes
 *         s(q) (sqrt(1 - nuisance_share) g / sqrt(D) + sqrt(nuisance_share) b'),
 *     b' = sum_m v_m z_m n_m over P = min(D, 32) orthonormal shared nuisance
 *     directions n_m (pose, expression, light), v_m proportional to m^(-1/2),
 *     sum v_m^2 = 1: the same energy, part of it in directions every identity
 *     shares.
 * Quality, magnitude, sizes, families and the pull t(q) u_k are unchanged, so
 * the magnitude-quality relation is the isotropic model's. Draw order: after
 * the 8 nuisance directions, the A attribute directions then the P nuisance
 * variation directions (D Gaussians each, orthonormalised by modified
 * Gram-Schmidt in that order), then as above; a direction draws its D
 * Gaussians g then its A Gaussians z; a face draws its D Gaussians g then its
 * P Gaussians z. The knobs were fitted to three real models
 * (scripts/research/synth_structure/, docs/experiments.md).
 */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5_impl.h"
#include "magclust/synth.h"
#include "util_impl.h"

#define SYNTH_MODEL_VERSION 1
#define SYNTH_MODEL_VERSION_REALISTIC 2
#define SYNTH_N_ATTR 64     /* attribute directions of the centres (realistic) */
#define SYNTH_N_NUIS_VAR 32 /* shared nuisance variation directions (realistic) */
#define SYNTH_DECAY_MAX 8.0
#define SYNTH_N_NUISANCE 8
#define SYNTH_Q_EXP 0.8
#define SYNTH_NOISE_BASE 0.45 /* a in s(q) = (a + b (1-q)^2) e */
#define SYNTH_NOISE_LOW 1.3   /* b */
#define SYNTH_NOISE_SPREAD 0.3 /* e = exp(SPREAD z') */
#define SYNTH_NUISANCE 2.2    /* c in t(q) = c (1-q)^2 */
#define SYNTH_FAMILY_SIZE 5   /* identities per look-alike family, on average */
#define SYNTH_FAMILY_SHARE 0.3 /* squared weight of the family direction */
#define SYNTH_DISTRACTOR_QMAX 0.5
#define SYNTH_MAG_BASE 15.0
#define SYNTH_MAG_SPAN 20.0
#define SYNTH_MAG_JITTER 0.75
#define SYNTH_MAG_CLIP 2.0
#define SYNTH_MAG_SCALE_MAX 1e6
/* Sanity cap on N * D (4 GiB of float32): a typo such as --ids 1e9 must fail
 * fast instead of driving the machine into swap. */
#define SYNTH_MAX_VALUES ((size_t)1 << 30)
#define SYNTH_PATH_STRIDE 64

/* ---- random stream ----------------------------------------------------- */

typedef struct {
    uint64_t s[4];
    double spare;
    int has_spare;
} synth_rng;

static uint64_t rotl64(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static void rng_seed(synth_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = mc_splitmix64(&x);
    r->spare = 0.0;
    r->has_spare = 0;
}

static uint64_t rng_next(synth_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl64(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return result;
}

/* [0, 1) with 53 random bits. */
static double rng_uniform(synth_rng *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

/* Uniform in 0..n-1 (n >= 1). n is far below 2^53 (see SYNTH_MAX_VALUES), so
 * the bias of scaling a 53-bit uniform is below 2^-23 and it stays portable. */
static size_t rng_below(synth_rng *r, size_t n)
{
    size_t k = (size_t)(rng_uniform(r) * (double)n);
    return k < n ? k : n - 1;
}

static double rng_gauss(synth_rng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = 1.0 - rng_uniform(r); /* (0, 1]: log() stays finite */
    double u2 = rng_uniform(r);
    double rad = sqrt(-2.0 * log(u1));
    double th = 6.283185307179586476925 * u2;
    r->spare = rad * sin(th);
    r->has_spare = 1;
    return rad * cos(th);
}

/* A random unit vector: D Gaussians, normalised. */
static void rng_unit(synth_rng *r, double *v, size_t d)
{
    double ss = 0.0;
    for (size_t j = 0; j < d; j++) {
        v[j] = rng_gauss(r);
        ss += v[j] * v[j];
    }
    if (ss <= 0.0) { /* probability zero, but never divide by it */
        v[0] = 1.0;
        ss = 1.0;
    }
    double inv = 1.0 / sqrt(ss);
    for (size_t j = 0; j < d; j++) v[j] *= inv;
}

/* ---- parameters -------------------------------------------------------- */

mc_synth_params mc_synth_params_default(void)
{
    mc_synth_params p;
    memset(&p, 0, sizeof p);
    p.n_ids = 100;
    p.dim = 512;
    p.seed = 1;
    p.max_size = 110;
    p.min_size = 5;
    p.zipf_s = 0.6;
    p.distractor_frac = 0.05;
    p.mag_scale = 1.0;
    p.structure = MC_SYNTH_ISOTROPIC;
    p.center_decay = 1.0;
    p.center_share = 0.6;
    p.nuisance_share = 0.3;
    return p;
}

static size_t identity_size(const mc_synth_params *p, size_t i)
{
    double v = round((double)p->max_size / pow((double)i + 1.0, p->zipf_s));
    if (v < (double)p->min_size) return p->min_size;
    /* zipf_s >= 0 keeps v <= max_size; validate() has checked it fits */
    return (size_t)v;
}

/* Checks p and computes the counts: identity faces and distractors. */
static mc_status validate(const mc_synth_params *p, size_t *out_ident, size_t *out_distr)
{
    if (!p) return mc_fail(MC_ERR_INVALID_ARG, "synth: params is NULL");
    if (p->n_ids < 1) return mc_fail(MC_ERR_INVALID_ARG, "synth: n_ids must be >= 1");
    if (p->dim < 2) return mc_fail(MC_ERR_INVALID_ARG, "synth: dim must be >= 2 (got %zu)", p->dim);
    if (p->min_size < 1) return mc_fail(MC_ERR_INVALID_ARG, "synth: min_size must be >= 1");
    if (p->max_size < p->min_size)
        return mc_fail(MC_ERR_INVALID_ARG, "synth: max_size (%zu) must be >= min_size (%zu)",
                       p->max_size, p->min_size);
    if (!(p->zipf_s >= 0.0) || !isfinite(p->zipf_s))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: zipf_s must be finite and >= 0 (got %g)",
                       p->zipf_s);
    if (!(p->distractor_frac >= 0.0 && p->distractor_frac <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: distractor_frac must be in [0, 1] (got %g)",
                       p->distractor_frac);
    if (!(p->mag_scale > 0.0 && p->mag_scale <= SYNTH_MAG_SCALE_MAX))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: mag_scale must be in (0, %g] (got %g)",
                       SYNTH_MAG_SCALE_MAX, p->mag_scale);
    if (p->structure != MC_SYNTH_ISOTROPIC && p->structure != MC_SYNTH_REALISTIC)
        return mc_fail(MC_ERR_INVALID_ARG, "synth: structure must be MC_SYNTH_ISOTROPIC or "
                                           "MC_SYNTH_REALISTIC (got %d)", (int)p->structure);
    if (!(p->center_decay >= 0.0 && p->center_decay <= SYNTH_DECAY_MAX))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: center_decay must be in [0, %g] (got %g)",
                       SYNTH_DECAY_MAX, p->center_decay);
    if (!(p->center_share >= 0.0 && p->center_share <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: center_share must be in [0, 1] (got %g)",
                       p->center_share);
    if (!(p->nuisance_share >= 0.0 && p->nuisance_share <= 1.0))
        return mc_fail(MC_ERR_INVALID_ARG, "synth: nuisance_share must be in [0, 1] (got %g)",
                       p->nuisance_share);

    /* Every identity has at least one face, so N >= n_ids: refuse before
     * looping over an absurd n_ids. */
    size_t max_n = SYNTH_MAX_VALUES / p->dim;
    if (p->n_ids > max_n || p->min_size > max_n / p->n_ids)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "synth: n_ids * min_size * dim exceeds the limit of %zu values",
                       SYNTH_MAX_VALUES);
    size_t ident = 0;
    for (size_t i = 0; i < p->n_ids; i++) {
        double v = round((double)p->max_size / pow((double)i + 1.0, p->zipf_s));
        if (v > (double)max_n)
            return mc_fail(MC_ERR_INVALID_ARG,
                           "synth: max_size * dim exceeds the limit of %zu values",
                           SYNTH_MAX_VALUES);
        ident += identity_size(p, i);
        if (ident > max_n)
            return mc_fail(MC_ERR_INVALID_ARG,
                           "synth: faces * dim exceeds the limit of %zu values (lower n_ids, "
                           "max_size or dim)",
                           SYNTH_MAX_VALUES);
    }
    size_t distr = (size_t)round(p->distractor_frac * (double)ident);
    if (distr > max_n - ident)
        return mc_fail(MC_ERR_INVALID_ARG,
                       "synth: faces * dim exceeds the limit of %zu values (lower "
                       "distractor_frac)",
                       SYNTH_MAX_VALUES);
    *out_ident = ident;
    *out_distr = distr;
    return MC_OK;
}

/* ---- generation -------------------------------------------------------- */

/* The shared bases of the realistic structure; all NULL / 0 when isotropic. */
typedef struct {
    size_t n_attr, n_var;  /* A and P (0 when isotropic) */
    double *attr, *var;    /* A x D and P x D, orthonormal rows */
    double *attr_w, *var_w; /* weights w_k and v_m, sum of squares 1 */
    double share_c, share_n; /* center_share, nuisance_share */
} synth_shape;

/* k rows of D Gaussians, orthonormalised in order (modified Gram-Schmidt). A
 * row left (numerically) in the span of the earlier ones is probability zero;
 * it is then kept as drawn, normalised, and the basis is merely near-orthogonal. */
static void rng_basis(synth_rng *r, double *b, size_t k, size_t d)
{
    for (size_t i = 0; i < k; i++) {
        double *v = b + i * d;
        rng_unit(r, v, d);
        for (size_t h = 0; h < i; h++) {
            const double *u = b + h * d;
            double dot = 0.0;
            for (size_t j = 0; j < d; j++) dot += v[j] * u[j];
            for (size_t j = 0; j < d; j++) v[j] -= dot * u[j];
        }
        double ss = 0.0;
        for (size_t j = 0; j < d; j++) ss += v[j] * v[j];
        if (ss > 1e-12)
            for (size_t j = 0; j < d; j++) v[j] /= sqrt(ss);
    }
}

/* w_k proportional to (k+1)^(-decay/2), k = 0..n-1, with sum w_k^2 = 1. */
static void decay_weights(double *w, size_t n, double decay)
{
    double ss = 0.0;
    for (size_t k = 0; k < n; k++) {
        w[k] = pow((double)k + 1.0, -decay / 2.0);
        ss += w[k] * w[k];
    }
    for (size_t k = 0; k < n; k++) w[k] /= sqrt(ss);
}

/* A random unit direction: isotropic, or (realistic) with share_c of its
 * energy on the attribute directions. */
static void rng_direction(synth_rng *r, const synth_shape *sh, double *v, size_t d)
{
    if (!sh->n_attr) {
        rng_unit(r, v, d);
        return;
    }
    const double gi = sqrt(1.0 - sh->share_c) / sqrt((double)d), ga = sqrt(sh->share_c);
    for (size_t j = 0; j < d; j++) v[j] = gi * rng_gauss(r);
    for (size_t k = 0; k < sh->n_attr; k++) {
        double z = ga * sh->attr_w[k] * rng_gauss(r);
        const double *b = sh->attr + k * d;
        for (size_t j = 0; j < d; j++) v[j] += z * b[j];
    }
    double ss = 0.0;
    for (size_t j = 0; j < d; j++) ss += v[j] * v[j];
    if (ss <= 0.0) { /* probability zero */
        v[0] = 1.0;
        ss = 1.0;
    }
    double inv = 1.0 / sqrt(ss);
    for (size_t j = 0; j < d; j++) v[j] *= inv;
}

/* One face: direction around centre c, magnitude from q, written as floats. */
static void synth_face(synth_rng *r, const synth_shape *sh, const double *c, const double *nuis,
                       size_t d, double q, double mag_scale, double *work, float *row)
{
    double jit = SYNTH_MAG_JITTER * rng_gauss(r);
    if (jit > SYNTH_MAG_CLIP) jit = SYNTH_MAG_CLIP;
    if (jit < -SYNTH_MAG_CLIP) jit = -SYNTH_MAG_CLIP;
    const double *u = nuis + rng_below(r, SYNTH_N_NUISANCE) * d;
    double w = (1.0 - q) * (1.0 - q);
    double spread = exp(SYNTH_NOISE_SPREAD * rng_gauss(r));
    double s = (SYNTH_NOISE_BASE + SYNTH_NOISE_LOW * w) * spread / sqrt((double)d);
    double t = SYNTH_NUISANCE * w;
    double ss = 0.0;
    if (!sh->n_var) {
        for (size_t j = 0; j < d; j++) {
            work[j] = c[j] + s * rng_gauss(r) + t * u[j];
            ss += work[j] * work[j];
        }
    } else {
        /* s already holds the 1/sqrt(D) of the isotropic part; the shared part
         * has expected squared norm 1 on its own, hence the sqrt(D). */
        const double si = s * sqrt(1.0 - sh->share_n);
        const double sv = s * sqrt(sh->share_n) * sqrt((double)d);
        for (size_t j = 0; j < d; j++) work[j] = c[j] + si * rng_gauss(r) + t * u[j];
        for (size_t m = 0; m < sh->n_var; m++) {
            double z = sv * sh->var_w[m] * rng_gauss(r);
            const double *b = sh->var + m * d;
            for (size_t j = 0; j < d; j++) work[j] += z * b[j];
        }
        for (size_t j = 0; j < d; j++) ss += work[j] * work[j];
    }
    double m = mag_scale * (SYNTH_MAG_BASE + SYNTH_MAG_SPAN * q + jit);
    double f = ss > 0.0 ? m / sqrt(ss) : 0.0;
    for (size_t j = 0; j < d; j++) row[j] = (float)(work[j] * f);
}

/* Generates the collection. out_origin (optional) receives, for each output
 * row, the face's index before the shuffle. Counts go to out_n, out_distr. */
static mc_status synth_run(const mc_synth_params *p, float **out_raw, int64_t **out_labels,
                           size_t **out_origin, size_t *out_n, size_t *out_distr)
{
    size_t ident = 0, distr = 0;
    mc_status st = validate(p, &ident, &distr);
    if (st != MC_OK) return st;
    size_t n = ident + distr, d = p->dim;

    float *raw = mc_malloc_array(n * d, sizeof *raw);
    int64_t *labels = mc_malloc_array(n, sizeof *labels);
    size_t *perm = mc_malloc_array(n, sizeof *perm);
    size_t *row_of = mc_malloc_array(n, sizeof *row_of);
    double *nuis = mc_malloc_array(SYNTH_N_NUISANCE * d, sizeof *nuis);
    double *centre = mc_malloc_array(d, sizeof *centre);
    double *family = mc_malloc_array(d, sizeof *family);
    double *work = mc_malloc_array(d, sizeof *work);
    synth_shape sh;
    memset(&sh, 0, sizeof sh);
    if (p->structure == MC_SYNTH_REALISTIC) {
        sh.n_attr = d < SYNTH_N_ATTR ? d : SYNTH_N_ATTR;
        sh.n_var = d < SYNTH_N_NUIS_VAR ? d : SYNTH_N_NUIS_VAR;
        sh.attr = mc_malloc_array(sh.n_attr * d, sizeof *sh.attr);
        sh.var = mc_malloc_array(sh.n_var * d, sizeof *sh.var);
        sh.attr_w = mc_malloc_array(sh.n_attr, sizeof *sh.attr_w);
        sh.var_w = mc_malloc_array(sh.n_var, sizeof *sh.var_w);
        sh.share_c = p->center_share;
        sh.share_n = p->nuisance_share;
    }
    if (!raw || !labels || !perm || !row_of || !nuis || !centre || !family || !work ||
        (sh.n_attr && (!sh.attr || !sh.var || !sh.attr_w || !sh.var_w))) {
        st = mc_fail(MC_ERR_NOMEM, "synth: out of memory for %zu x %zu faces", n, d);
        goto cleanup;
    }

    synth_rng rng;
    rng_seed(&rng, p->seed);
    for (size_t g = 0; g < SYNTH_N_NUISANCE; g++) rng_unit(&rng, nuis + g * d, d);
    if (sh.n_attr) {
        rng_basis(&rng, sh.attr, sh.n_attr, d);
        rng_basis(&rng, sh.var, sh.n_var, d);
        decay_weights(sh.attr_w, sh.n_attr, p->center_decay);
        decay_weights(sh.var_w, sh.n_var, 1.0);
    }

    for (size_t k = 0; k < n; k++) perm[k] = k;
    for (size_t j = n; j-- > 1;) {
        size_t k = rng_below(&rng, j + 1);
        size_t tmp = perm[j];
        perm[j] = perm[k];
        perm[k] = tmp;
    }
    for (size_t j = 0; j < n; j++) row_of[perm[j]] = j;

    size_t face = 0, n_families = p->n_ids / SYNTH_FAMILY_SIZE;
    if (n_families == 0) n_families = 1;
    const double wf = sqrt(SYNTH_FAMILY_SHARE), wr = sqrt(1.0 - SYNTH_FAMILY_SHARE);
    for (size_t i = 0; i < p->n_ids; i++) {
        size_t fam = rng_below(&rng, n_families);
        synth_rng frng;
        rng_seed(&frng, p->seed ^ (0xD1B54A32D192ED03ull * ((uint64_t)fam + 1)));
        rng_direction(&frng, &sh, family, d);
        rng_direction(&rng, &sh, centre, d);
        double ss = 0.0;
        for (size_t j = 0; j < d; j++) {
            centre[j] = wf * family[j] + wr * centre[j];
            ss += centre[j] * centre[j];
        }
        for (size_t j = 0; j < d; j++) centre[j] /= sqrt(ss);
        size_t sz = identity_size(p, i);
        for (size_t f = 0; f < sz; f++, face++) {
            double q = pow(rng_uniform(&rng), SYNTH_Q_EXP);
            size_t row = row_of[face];
            synth_face(&rng, &sh, centre, nuis, d, q, p->mag_scale, work, raw + row * d);
            labels[row] = (int64_t)i;
        }
    }
    for (size_t f = 0; f < distr; f++, face++) {
        rng_direction(&rng, &sh, centre, d);
        double q = SYNTH_DISTRACTOR_QMAX * rng_uniform(&rng);
        size_t row = row_of[face];
        synth_face(&rng, &sh, centre, nuis, d, q, p->mag_scale, work, raw + row * d);
        labels[row] = -1;
    }
    MC_ASSERT(face == n);

    *out_raw = raw;
    *out_labels = labels;
    raw = NULL;
    labels = NULL;
    if (out_origin) {
        *out_origin = perm;
        perm = NULL;
    }
    *out_n = n;
    if (out_distr) *out_distr = distr;

cleanup:
    free(raw);
    free(labels);
    free(perm);
    free(row_of);
    free(nuis);
    free(centre);
    free(family);
    free(work);
    free(sh.attr);
    free(sh.var);
    free(sh.attr_w);
    free(sh.var_w);
    return st;
}

mc_status mc_synth_count(const mc_synth_params *p, size_t *out_n, size_t *out_distractors)
{
    mc_clear_error();
    if (!out_n) return mc_fail(MC_ERR_INVALID_ARG, "synth: out_n is NULL");
    size_t ident = 0, distr = 0;
    mc_status st = validate(p, &ident, &distr);
    if (st != MC_OK) return st;
    *out_n = ident + distr;
    if (out_distractors) *out_distractors = distr;
    return MC_OK;
}

mc_status mc_synth_generate(const mc_synth_params *p, float **out_raw, int64_t **out_labels,
                            size_t *out_n)
{
    mc_clear_error();
    if (!out_raw || !out_labels || !out_n)
        return mc_fail(MC_ERR_INVALID_ARG, "synth: output pointer is NULL");
    *out_raw = NULL;
    *out_labels = NULL;
    *out_n = 0;
    return synth_run(p, out_raw, out_labels, NULL, out_n, NULL);
}

/* ---- HDF5 output ------------------------------------------------------- */

/* Scalar attribute on loc; mtype is the memory type, ftype the file type. */
static int h5_attr(hid_t loc, const char *name, hid_t ftype, hid_t mtype, const void *value)
{
    int rc = -1;
    hid_t a = -1, space = H5Screate(H5S_SCALAR);
    if (space < 0) goto done;
    a = H5Acreate2(loc, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0 || H5Awrite(a, mtype, value) < 0) goto done;
    rc = 0;
done:
    if (rc < 0) mc_h5_note();
    if (a >= 0 && H5Aclose(a) < 0 && rc == 0) {
        mc_h5_note();
        rc = -1;
    }
    if (space >= 0) H5Sclose(space);
    return rc;
}

static int h5_attr_u64(hid_t loc, const char *name, uint64_t v)
{
    return h5_attr(loc, name, H5T_STD_U64LE, H5T_NATIVE_UINT64, &v);
}

static int h5_attr_f64(hid_t loc, const char *name, double v)
{
    return h5_attr(loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, &v);
}

/* Fixed-length UTF-8 string attribute (no variable-length heap object). */
static int h5_attr_str(hid_t loc, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    int rc = -1;
    if (t >= 0 && H5Tset_size(t, strlen(v) + 1) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0 &&
        H5Tset_strpad(t, H5T_STR_NULLTERM) >= 0)
        rc = h5_attr(loc, name, t, t, v);
    else
        mc_h5_note();
    if (t >= 0) H5Tclose(t);
    return rc;
}

/* One dataset: rank 1 or 2, contiguous, no filters, no timestamps (the
 * default fill-time "if set" writes no fill values, so the data is written
 * once). */
static int h5_dataset(hid_t file, const char *name, int rank, const hsize_t *dims, hid_t ftype,
                      hid_t mtype, const void *data)
{
    int rc = -1;
    hid_t ds = -1, space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (space < 0 || dcpl < 0) goto done;
    if (H5Pset_obj_track_times(dcpl, 0) < 0 || H5Pset_layout(dcpl, H5D_CONTIGUOUS) < 0) goto done;
    ds = H5Dcreate2(file, name, ftype, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0 || H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) goto done;
    rc = 0;
done:
    if (rc < 0) mc_h5_note();
    if (ds >= 0 && H5Dclose(ds) < 0 && rc == 0) {
        mc_h5_note();
        rc = -1;
    }
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return rc;
}

/* mc_fail naming the file, with the noted HDF5 message when there is one. */
static mc_status h5_fail(mc_status st, const char *path, const char *what)
{
    return mc_h5_fail(st, "%s: %s", path, what);
}

/* Writes everything into the new, untimed file; path names it in errors. */
static mc_status write_file(hid_t file, const char *path, const mc_synth_params *p,
                            const float *raw, const int64_t *labels, const char *const *paths,
                            size_t n, size_t distr)
{
    mc_status st = MC_OK;
    hid_t vlstr = -1;
    const int realistic = p->structure == MC_SYNTH_REALISTIC;
    hsize_t dims[2] = {(hsize_t)n, (hsize_t)p->dim};
    if (h5_dataset(file, "embeddings", 2, dims, H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, raw) < 0) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot write /embeddings");
        goto done;
    }
    if (h5_dataset(file, "labels", 1, dims, H5T_STD_I64LE, H5T_NATIVE_INT64, labels) < 0) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot write /labels");
        goto done;
    }
    vlstr = H5Tcopy(H5T_C_S1);
    if (vlstr < 0 || H5Tset_size(vlstr, H5T_VARIABLE) < 0 ||
        H5Tset_cset(vlstr, H5T_CSET_UTF8) < 0) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot make the string type of /paths");
        goto done;
    }
    if (h5_dataset(file, "paths", 1, dims, vlstr, vlstr, paths) < 0) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot write /paths");
        goto done;
    }

    if (h5_attr_str(file, "generator", "magclust synth") < 0 ||
        h5_attr_u64(file, "magclust_synth_version", realistic ? SYNTH_MODEL_VERSION_REALISTIC
                                                              : SYNTH_MODEL_VERSION) < 0 ||
        h5_attr_u64(file, "seed", p->seed) < 0 ||
        h5_attr_u64(file, "n_ids", p->n_ids) < 0 ||
        h5_attr_u64(file, "dim", p->dim) < 0 ||
        h5_attr_u64(file, "max_size", p->max_size) < 0 ||
        h5_attr_u64(file, "min_size", p->min_size) < 0 ||
        h5_attr_f64(file, "zipf_s", p->zipf_s) < 0 ||
        h5_attr_f64(file, "distractor_frac", p->distractor_frac) < 0 ||
        h5_attr_f64(file, "mag_scale", p->mag_scale) < 0 ||
        h5_attr_u64(file, "n_faces", n) < 0 ||
        h5_attr_u64(file, "n_distractors", distr) < 0) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot write the attributes");
        goto done;
    }
    /* only for the realistic model: an isotropic file stays byte for byte
     * what it was before the option (the bundled sample is one) */
    if (realistic && (h5_attr_str(file, "structure", "realistic") < 0 ||
                      h5_attr_f64(file, "center_decay", p->center_decay) < 0 ||
                      h5_attr_f64(file, "center_share", p->center_share) < 0 ||
                      h5_attr_f64(file, "nuisance_share", p->nuisance_share) < 0)) {
        st = h5_fail(MC_ERR_HDF5, path, "cannot write the attributes");
        goto done;
    }

done:
    if (vlstr >= 0) H5Tclose(vlstr);
    return st;
}

mc_status mc_synth_write_h5(const mc_synth_params *p, const char *path)
{
    mc_clear_error();
    if (!path || !path[0]) return mc_fail(MC_ERR_INVALID_ARG, "synth: output path is empty");

    float *raw = NULL;
    int64_t *labels = NULL;
    size_t *origin = NULL;
    char *strbuf = NULL;
    char **paths = NULL;
    size_t n = 0, distr = 0;
    mc_status st = synth_run(p, &raw, &labels, &origin, &n, &distr);
    if (st != MC_OK) return st;

    strbuf = mc_malloc_array(n, SYNTH_PATH_STRIDE);
    paths = mc_malloc_array(n, sizeof *paths);
    if (!strbuf || !paths) {
        st = mc_fail(MC_ERR_NOMEM, "synth: out of memory for %zu paths", n);
        goto cleanup;
    }
    /* The number is the face's index before the shuffle: unique, and stable
     * for a given set of parameters. */
    for (size_t j = 0; j < n; j++) {
        char *s = strbuf + j * SYNTH_PATH_STRIDE;
        if (labels[j] >= 0)
            snprintf(s, SYNTH_PATH_STRIDE, "id%04lld/%06zu.jpg", (long long)labels[j], origin[j]);
        else
            snprintf(s, SYNTH_PATH_STRIDE, "distractor/%06zu.jpg", origin[j]);
        paths[j] = s;
    }

    mc_h5_out out;
    if ((st = mc_h5_out_create(&out, path)) != MC_OK) goto cleanup;
    h5_quiet q;
    quiet_on(&q);
    st = write_file(out.file, path, p, raw, labels, (const char *const *)paths, n, distr);
    quiet_off(&q);
    if (st == MC_OK)
        st = mc_h5_out_commit(&out, "the file");
    else
        mc_h5_out_abort(&out);

cleanup:
    free(paths);
    free(strbuf);
    free(raw);
    free(labels);
    free(origin);
    return st;
}
