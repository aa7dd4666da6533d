/* libFuzzer harness: the command line of every subcommand that reads an
 * input (all but synth), with the options' values from the fuzzer: numbers
 * out of range, not numbers, overflowing, lists and ranges (sweep --param
 * eps=0.2:0.5:0.05), thresholds (p30, off), sizes (--max-memory 2G, taken
 * out first by cli_take_global_options as main() does), names.
 * Byte 0 picks the subcommand; the rest, split at newlines, are the
 * arguments. Every file the line could name is missing: the harness works in
 * an empty directory of its own and drops any argument with a '/', and the
 * input is always "in.h5", so a command that accepts its options fails at
 * reading it, having exercised all of its parsing (and its error paths, for
 * the leak checker). */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_ARGS 24

static char workdir[] = "/tmp/magclust-fuzz-options-XXXXXX";

static void remove_workdir(void)
{
    if (chdir("/") == 0) (void)rmdir(workdir); /* empty unless a command wrote (a finding) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once;
    if (!once) {
        if (!mkdtemp(workdir) || chdir(workdir) != 0) abort();
        atexit(remove_workdir);
        once = 1;
    }
    static int (*const cmds[])(int, char **) = {cmd_cluster, cmd_sweep, cmd_assign,
                                                cmd_eval,    cmd_import, cmd_export,
                                                cmd_knn,     cmd_info,   cmd_report};
    static const char *const names[] = {"cluster", "sweep", "assign", "eval", "import",
                                        "export",  "knn",   "info",   "report"};
    if (size < 1) return 0;
    size_t which = data[0] % (sizeof cmds / sizeof cmds[0]);
    char *text = malloc(size);
    if (!text) return 0;
    memcpy(text, data + 1, size - 1);
    text[size - 1] = '\0';
    char *argv[MAX_ARGS + 3];
    int argc = 0;
    argv[argc++] = (char *)names[which];
    char *save = NULL;
    for (char *t = strtok_r(text, "\n", &save); t && argc < MAX_ARGS + 1;
         t = strtok_r(NULL, "\n", &save))
        if (!strchr(t, '/')) argv[argc++] = t;
    argv[argc++] = (char *)"in.h5";
    argv[argc] = NULL;
    optind = 0; /* glibc: a full reinitialisation of getopt */
    cli_force = 0;
    argc = cli_take_global_options(argc, argv); /* --force, --max-memory, as main() */
    if (argc > 0) (void)cmds[which](argc, argv);
    mc_set_memory_limit(0);
    free(text);
    return 0;
}
