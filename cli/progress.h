/* Progress reporting on stderr for the long phases of the CLI (load, train,
 * add, search, cluster, write).
 *
 *     cli_progress *p = cli_progress_start(stderr, quiet ? CLI_PROGRESS_OFF : CLI_PROGRESS_AUTO,
 *                                          "search", n, "faces");
 *     for (size_t i = 0; i < n; i += batch) {
 *         search_batch(i, batch);
 *         cli_progress_update(p, (uint64_t)(i + batch < n ? i + batch : n));
 *     }
 *     cli_progress_end(p); // "search 100% 1000000 faces in 12.3 s (81.3k faces/s)"
 *
 * Styles:
 * - TTY (AUTO when isatty(fileno(f))): one line rewritten in place as
 *   "\r<status line>\033[K", at most every 0.2 s and never in the first 0.2 s;
 *   cli_progress_end always writes the final line plus '\n'.
 * - PLAIN (AUTO otherwise: files, pipes, CI logs). A phase shorter than 2 s
 *   prints nothing at all, so a quick run's stderr stays clean. Once a phase
 *   has lasted 2 s, a status line ending in '\n' is printed whenever a 10 %
 *   step has been crossed since the last line (the first one may cover
 *   several steps; 100 % is left to the final line) and whenever 10 s have
 *   passed since the last line (or since the start), which is the only
 *   trigger when the total is unknown. cli_progress_end prints the final line
 *   when the phase lasted 2 s or more (so always after a progress line).
 * - OFF (--quiet): nothing, ever.
 *
 * The final line reports the real count: "search 42% 420000/1000000 faces in
 * 3.1 s (135k faces/s)" when the phase ends short of its total, "load 5000
 * rows in ..." when the total is unknown, "write done in 0.3 s" when nothing
 * was counted. Its time has one decimal under a minute, then the format of
 * cli_progress_format_duration.
 *
 * Threads: a handle is used by one thread at a time (the caller serialises
 * updates); distinct handles are independent. No global state.
 */
#ifndef MAGCLUST_CLI_PROGRESS_H
#define MAGCLUST_CLI_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    CLI_PROGRESS_AUTO = 0, /* TTY when f is a terminal, else PLAIN */
    CLI_PROGRESS_TTY,
    CLI_PROGRESS_PLAIN,
    CLI_PROGRESS_OFF
} cli_progress_mode;

typedef struct cli_progress cli_progress;

/* Starts a phase of `total` units (0: unknown) named `phase` ("search",
 * "add", ...), counting `unit` ("faces", "rows"; NULL: "items"). phase and
 * unit are copied (truncated to 47 and 23 bytes). f is not closed; f NULL or
 * an unknown mode behaves as OFF. Returns NULL only when out of memory:
 * every function accepts NULL and then does nothing, like OFF. */
cli_progress *cli_progress_start(FILE *f, cli_progress_mode mode, const char *phase,
                                 uint64_t total, const char *unit);

/* Reports that `done` units are finished. done is monotone: a smaller value
 * than a previous one is ignored. Cheap enough to call once per unit: the
 * clock is read only every `stride` calls, with the stride (1 to 4096)
 * re-estimated at each reading so that the clock is read about 50 times a
 * second. */
void cli_progress_update(cli_progress *p, uint64_t done);

/* Ends the phase: TTY overwrites the line with the final one and a '\n';
 * PLAIN prints the final line under the 2 s rule above; then frees p. */
void cli_progress_end(cli_progress *p);

/* Pure formatting helpers (exposed for the tests). All write a
 * NUL-terminated string, truncated to fit buf's n bytes; n == 0 writes
 * nothing. */

/* "0.4 s" (under 1 s: one decimal), "12 s", "3 m 05 s", "1 h 02 m" (whole
 * seconds, then minutes, rounded). Negative or NaN counts as 0. */
void cli_progress_format_duration(double seconds, char *buf, size_t n);

/* Three significant digits: "5.5", "950", "81.3k", "1.20M", "2.50G", up to
 * "T". Negative or NaN counts as 0 ("0"). */
void cli_progress_format_rate(double per_second, char *buf, size_t n);

/* The status line for `done` of `total` after `elapsed` seconds, fields
 * separated by two spaces:
 *     "search  42%  420000/1000000 faces  81.3k faces/s  ETA 7 s"
 *     "search  420000 faces  81.3k faces/s"                (total 0)
 * The percentage is rounded down (100 % only when done >= total). The rate
 * appears when elapsed > 0; the ETA when total > 0, done < total, done is at
 * least 1 % of total and elapsed >= 0.5 s. phase NULL: "progress"; unit
 * NULL: "items". */
void cli_progress_format_line(const char *phase, uint64_t done, uint64_t total,
                              const char *unit, double elapsed, char *buf, size_t n);

/* For tests: pretends the phase started `seconds` earlier (every time the
 * handle has stored moves back) and makes the next update read the clock, so
 * that the tests exercise long phases without sleeping. NULL-safe. */
void cli_progress_test_rewind(cli_progress *p, double seconds);

/* For tests: the clock the reporter reads (monotonic seconds), or NULL for
 * the real one. */
void cli_progress_test_clock(double (*now)(void));

#endif
