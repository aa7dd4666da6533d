/**
 * @file output.h
 * @brief Files written atomically, the way every magclust writer writes its
 * own: into a temporary file beside the destination, then flushed, fsynced
 * and renamed over it. A reader sees the old file or the whole new one,
 * never half of one; a failed or abandoned output leaves the old file as it
 * was and no temporary behind.
 *
 * @code
 * mc_output_t *o = NULL;
 * mc_status st = mc_output_open("plot.svg", &o);
 * if (st == MC_OK) {
 *     fprintf(mc_output_file(o), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>\n");
 *     st = mc_output_commit(o);   // plot.svg is now the new file, or untouched
 * }
 * mc_output_free(o);              // after a failure: the temporary is removed
 * if (st != MC_OK) fprintf(stderr, "%s: %s\n", mc_strerror(st), mc_last_error_detail());
 * @endcode
 *
 * Guarantees: the temporary (".NAME.tmpPID.K") is created in the
 * destination's directory, so the rename is atomic, with O_CREAT | O_EXCL,
 * so it never follows a symbolic link or opens an existing file, and with
 * mode 0666 less the umask, like fopen(). It is registered for
 * mc_remove_temporaries(), so a SIGINT / SIGTERM handler that calls it
 * leaves nothing behind. A destination that is not a regular file (a
 * device, a pipe, a directory, or a symbolic link to one of those) is never
 * replaced, nor is a symbolic link, dangling or not (a rename would replace
 * the link itself: /dev/stdout made a regular file): the commit fails with
 * MC_ERR_IO.
 *
 * Thread safety: an output is used by one thread at a time; different
 * outputs may be written from different threads at once.
 */
#ifndef MAGCLUST_OUTPUT_H
#define MAGCLUST_OUTPUT_H

#include <stdio.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Opaque atomic output. */
typedef struct mc_output mc_output_t;

/**
 * @brief Start writing @p path: create its temporary file.
 * @param path the destination (copied); it may exist already, and is not
 *             touched before mc_output_commit().
 * @param out  receives the output, NULL on failure.
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL or empty argument); MC_ERR_IO (the
 *         temporary cannot be created: "PATH: cannot create: REASON");
 *         MC_ERR_NOMEM. On failure nothing exists on disk.
 */
MC_API mc_status mc_output_open(const char *path, mc_output_t **out);

/**
 * @brief The stream to write to (a write error is reported by the commit).
 * @return owned by @p o; NULL after mc_output_commit() or for a NULL @p o.
 *         Do not fclose() it.
 */
MC_API FILE *mc_output_file(const mc_output_t *o);

/**
 * @brief Finish: flush, fsync and close the temporary, then rename it over
 * the destination. Either way the temporary is gone afterwards; @p o still
 * has to be freed.
 * @return MC_OK; MC_ERR_IO ("PATH: write failed: REASON", "PATH: not a
 *         regular file ...; not replaced", "PATH: cannot rename into place:
 *         REASON"); MC_ERR_INVALID_ARG (NULL, or committed already).
 */
MC_API mc_status mc_output_commit(mc_output_t *o);

/**
 * @brief Free @p o; an output not committed is abandoned (its temporary
 * closed and removed, the destination untouched). NULL-safe.
 */
MC_API void mc_output_free(mc_output_t *o);

/** Opaque set of outputs committed together: the outputs of one run. */
typedef struct mc_outputs mc_outputs_t;

/**
 * @brief A new, empty set of outputs.
 *
 * @code
 * mc_outputs_t *run = NULL;
 * const char *csv_tmp, *model_tmp;
 * mc_outputs_new(&run);
 * mc_outputs_add(run, "clusters.csv", 0, &csv_tmp);     // 0: never replace a file
 * mc_outputs_add(run, "model.h5", 0, &model_tmp);
 * st = mc_clustering_write_csv(c, e, csv_tmp);          // any writer, to the temporary
 * if (st == MC_OK) st = mc_model_write_h5(m, model_tmp);
 * if (st == MC_OK) st = mc_outputs_commit(run);         // both files, or neither
 * mc_outputs_free(run);                                 // removes what was not committed
 * @endcode
 *
 * Each destination gets a temporary path beside it (registered for
 * mc_remove_temporaries()) that any writer of the library, or the caller,
 * writes the whole file to; mc_outputs_commit() renames them all into
 * place. A run that fails while writing (a full disk at the second file)
 * leaves every destination as it was.
 * @return MC_OK, MC_ERR_INVALID_ARG, MC_ERR_NOMEM.
 */
MC_API mc_status mc_outputs_new(mc_outputs_t **out);

/**
 * @brief Add a destination to the set and get the temporary path to write it
 * to (owned by the set, valid until mc_outputs_free()).
 * @param replace 1: an existing destination is replaced, keeping its
 *        permissions; 0: a destination that exists when it is committed is
 *        not replaced (the commit fails: another run wrote it meanwhile),
 *        checked atomically by the rename itself (renameat2
 *        RENAME_NOREPLACE, or link + unlink).
 * @return MC_OK; MC_ERR_INVALID_ARG (NULL or empty path, or a destination
 *         added twice); MC_ERR_NOMEM.
 */
MC_API mc_status mc_outputs_add(mc_outputs_t *s, const char *path, int replace, const char **out_tmp);

/**
 * @brief Commit every output of the set, in the order added.
 *
 * First checks them all: each temporary was written, and each destination
 * is absent or a regular file (absent, unless it may be replaced); then
 * fsyncs every temporary. Only then renames them, so a failure of the
 * checks or of a sync leaves every destination untouched; a
 * rename that fails after an earlier one (another process creating a
 * destination that may not be replaced, in between) is reported, and the outputs
 * renamed before it stay.
 * @return MC_OK; MC_ERR_IO ("PATH: was not written", "PATH: write failed:
 *         REASON" (the sync), "PATH: not a regular
 *         file ...", "PATH: exists now (written by another run meanwhile?);
 *         not replaced", "PATH: cannot rename into place: REASON");
 *         MC_ERR_INVALID_ARG (committed already).
 */
MC_API mc_status mc_outputs_commit(mc_outputs_t *s);

/** @brief Free the set, removing every temporary not committed. NULL-safe. */
MC_API void mc_outputs_free(mc_outputs_t *s);

#ifdef __cplusplus
}
#endif
#endif
