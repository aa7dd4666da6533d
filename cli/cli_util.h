/* Helpers shared by the magclust subcommands. */
#ifndef MAGCLUST_CLI_UTIL_H
#define MAGCLUST_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "magclust/magclust.h"

/* Exit codes, documented in `magclust --help` and the README. CLI_INTERRUPTED
 * is the status of a run ended by Ctrl-C (128 + SIGINT, as the shell reports
 * a death by the signal), also returned for a library call cancelled with
 * MC_ERR_CANCELLED; the CLI's own progress callback never cancels (its
 * signal handler ends the process instead), so that is for completeness. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2, CLI_INTERRUPTED = 130 };

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* "magclust: error: <message>\n" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "magclust: error: <mc_strerror>: <detail>\n"; returns CLI_FAIL
 * (CLI_INTERRUPTED for MC_ERR_CANCELLED). */
int cli_fail_status(mc_status st);
/* Usage error: message plus a hint to run --help; returns CLI_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) CLI_PRINTF(2, 3);

/* Strict numeric option parsing: the whole string must be a finite number in
 * range. On failure prints a usage error naming the option; returns 0 / -1. */
int cli_parse_size(const char *opt, const char *s, size_t lo, size_t hi, size_t *out);
int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);
int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out);

/* A byte count: a number (decimals allowed) with an optional unit K, M, G or
 * T (powers of 1024; "G", "GB", "GiB" and "g" are the same), in [lo, hi].
 * Prints the usage error; 0 / -1. */
int cli_parse_bytes(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* --force (any command, anywhere on the line): replace existing outputs. */
extern int cli_force;

/* The options every command takes, anywhere on the line up to a "--":
 * --force, and --max-memory SIZE (or --max-memory=SIZE), which caps what the
 * library sets out to allocate (mc_set_memory_limit). Takes them out of argv
 * (argv[0], the program, is kept) and returns the new argc, or -1 after
 * printing a usage error. */
int cli_take_global_options(int argc, char **argv);

/* Checks that an output path can be created: its directory exists and is a
 * directory, it does not name one of the inputs, and it does not exist yet
 * (unless --force). Prints the error; returns 0 / -1. inputs is
 * NULL-terminated. */
int cli_check_output(const char *out_path, const char *const *inputs);
/* The format of a result file (cluster -o, assign -o): --format when given
 * (csv or h5), else by the name: .h5/.hdf5 HDF5, .csv or no extension CSV;
 * any other extension (.json, .tsv, .npy ...) is a usage error, not a CSV
 * under a misleading name. Prints the error; 0 / CLI_USAGE. */
int cli_result_format(const char *cmd, const char *format, const char *out_path, mc_format *out);
/* The same; may_replace: an existing file is the point (assign --update
 * rewriting its model). */
int cli_check_output_ex(const char *out_path, const char *const *inputs, int may_replace);

/* getopt_long for the subcommands, refusing an option that takes a value
 * when it is given twice (-o a -o b, --algo x --algo y: which one was meant
 * cannot be told); repeatable is the one option that may repeat (sweep's
 * --param), 0 for none. On a repeat it prints the usage error for cmd and
 * returns CLI_OPT_REPEATED; otherwise what getopt_long returns. Start each
 * parse with optind = 0, as the commands do. */
enum { CLI_OPT_REPEATED = -2 };
#include <getopt.h>
int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts, int repeatable);

/* The outputs of one run, committed together at its end (mc_outputs_t):
 * cli_outputs_add gives the temporary path to write PATH to, NULL with the
 * error printed; an existing PATH is replaced only with --force or when
 * may_replace (assign --update rewriting its model). cli_outputs_commit
 * renames them all into place: 0, or -1 with the error printed. */
mc_outputs_t *cli_outputs_new(void);
/* cli_fail_status for a writer that wrote to the temporary tmp of the
 * output path: the message names path, where the user asked for it. */
int cli_fail_output(mc_status st, const char *tmp, const char *path);
const char *cli_outputs_add(mc_outputs_t *s, const char *path, int may_replace);
int cli_outputs_commit(mc_outputs_t *s);

/* An exclusive advisory lock (flock) for rewriting the file at path in
 * place, held until the returned descriptor is closed; it waits for another
 * holder. It locks the file's directory, not the file: HDF5 takes a lock of
 * its own on every file it opens, which a lock on the file would block, and
 * the directory stays the same while files are renamed over the path.
 * Returns the descriptor, or -1 with the error printed. */
int cli_lock_for_update(const char *path);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* qsort order of int64 values. */
int cli_cmp_i64(const void *a, const void *b);

/* Text outputs (CSV, SVG, HTML) written atomically by the library's writer
 * (magclust/output.h): a temporary beside PATH, renamed over it.
 * cli_output_open returns the stream to write, or NULL with the error
 * printed. cli_output_commit renames it into place and frees o: 0, or -1 with
 * the error printed and nothing left behind. To give up: mc_output_free(o). */
FILE *cli_output_open(const char *path, mc_output_t **out);
int cli_output_commit(mc_output_t *o);

#endif
