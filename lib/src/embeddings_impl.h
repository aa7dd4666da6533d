/* Library-internal centring of bare direction rows: mc_embeddings_center_by()
 * centres an embeddings object with it, and model assignment a private copy
 * of the new faces' directions, so both give the same bits. Never
 * installed. */
#ifndef MAGCLUST_EMBEDDINGS_IMPL_H
#define MAGCLUST_EMBEDDINGS_IMPL_H

#include <stddef.h>

#include "magclust/status.h"

/* Subtract mean (d floats) from each of the n rows of dir (n x d, unit) and
 * renormalise, as mc_embeddings_center_by() does; a row that is the mean
 * itself keeps its value, and a zero mean changes nothing. MC_OK or
 * MC_ERR_NOMEM. */
mc_status mc_directions_center_by(float *dir, size_t n, size_t d, const float *mean);

#endif
