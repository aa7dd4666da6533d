/* The two-level map equation (Rosvall & Bergstrom, PNAS 2008) and its
 * optimiser, on a flow graph: node visit rates and link flows, already
 * computed (map.c turns the k-NN graph into one). Never installed.
 *
 * For a partition of the nodes into modules, with p_i the flow of module i
 * (the sum of its nodes' flows), exit_i the link flow leaving it and enter_i
 * the link flow entering it, the description length of a random walk is
 *
 *   L = plogp(sum_i enter_i) - sum_i plogp(enter_i) - sum_i plogp(exit_i)
 *       + sum_i plogp(exit_i + p_i) - sum_a plogp(p_a),      plogp(x) = x log2 x
 *
 * (the index codebook's entropy, weighted by the rate at which modules are
 * entered, plus each module codebook's, weighted by its use). With
 * undirected flow enter_i = exit_i and this is the map equation as printed.
 * One module holding every node costs the entropy of the node flows: the
 * "one-level" codelength.
 *
 * The search (as the Infomap papers describe it; written from the papers):
 *  1. core: every node starts in a module of its own; passes over the nodes
 *     in a random order move each to the neighbouring module (or a new empty
 *     one) that lowers L most, until a pass moves nothing; the modules then
 *     become the nodes of a smaller graph (flows summed) and the moves repeat
 *     there, until a level merges nothing;
 *  2. fine-tune: back on the original nodes, starting from the modules
 *     found, node moves again (a node the aggregation stuck in the wrong
 *     module can now leave it), then the core step on the modules again;
 *  3. repeat 2 while L drops by more than a relative 1e-10.
 * Each pass costs O(E) for E links. Deterministic for a seed: each trial
 * runs on one thread with its own splitmix64 stream; trials run in
 * parallel, and the winner does not depend on which thread ran which. */
#ifndef MAGCLUST_MAPEQ_IMPL_H
#define MAGCLUST_MAPEQ_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "magclust/status.h"

/* A flow graph. Out-links of node a: onbr/oflow[ostart[a] .. ostart[a+1]);
 * in-links likewise (inbr/iflow); for undirected flow the in-links may be
 * the same arrays as the out-links. No self-links; at most one link per
 * ordered pair. Flows are non-negative; node flows sum to 1. */
typedef struct {
    size_t n;
    const double *p;
    const size_t *ostart, *istart;
    const uint32_t *onbr, *inbr;
    const double *oflow, *iflow;
} mc_flowgraph;

typedef struct {
    uint64_t seed;    /* visiting order */
    size_t trials;    /* independent searches (seeds seed, seed+1, ...); the best L wins; >= 1 */
    size_t max_tune;  /* fine-tune rounds at most */
    int n_threads;    /* OpenMP threads sharing the trials; <= 0: all cores */
} mc_mapeq_params;

/* Codelength (bits) of the partition module[0..n) (any values < n). */
double mc_mapeq_codelength(const mc_flowgraph *g, const uint32_t *module);

/* Searches for the partition of least codelength: out_module[n] gets module
 * ids 0 .. M-1 (numbered by first appearance); *out_L its codelength and
 * *out_L1 the one-level codelength (either may be NULL). MC_ERR_NOMEM. */
mc_status mc_mapeq_optimise(const mc_flowgraph *g, const mc_mapeq_params *p, uint32_t *out_module,
                            double *out_L, double *out_L1);

#endif
