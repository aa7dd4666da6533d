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
 * replaced: the commit fails with MC_ERR_IO. A symbolic link to a regular
 * file is replaced by the new file, and its target is left as it was.
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

#ifdef __cplusplus
}
#endif
#endif
