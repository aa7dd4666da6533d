/* Library-internal HDF5 helpers shared by the readers and writers. */
#ifndef MAGCLUST_H5_IMPL_H
#define MAGCLUST_H5_IMPL_H

#include <hdf5.h>

/* HDF5 prints its error stack by default; the library reports through
 * mc_status instead. Every entry point silences it and restores it. */
typedef struct {
    H5E_auto2_t fn;
    void *data;
} h5_quiet;

static inline void quiet_on(h5_quiet *q)
{
    H5Eget_auto2(H5E_DEFAULT, &q->fn, &q->data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static inline void quiet_off(const h5_quiet *q) { H5Eset_auto2(H5E_DEFAULT, q->fn, q->data); }

/* Create a new file (failing if it exists) without object timestamps, so
 * the same content gives the same bytes. Negative on failure. */
static inline hid_t h5_create_untimed(const char *path)
{
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (fcpl >= 0) H5Pset_obj_track_times(fcpl, 0);
    hid_t f = H5Fcreate(path, H5F_ACC_EXCL, fcpl >= 0 ? fcpl : H5P_DEFAULT, H5P_DEFAULT);
    if (fcpl >= 0) H5Pclose(fcpl);
    return f;
}

#endif
