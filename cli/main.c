/* magclust: git-style dispatcher to the subcommands. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <hdf5.h>

#include "cli_util.h"
#include "commands.h"
#ifdef MAGCLUST_MPI
#include "cli_mpi.h"
#endif

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    /* in the order of the work: in, look, cluster, use, check, tune, tools */
    {"import", cmd_import, "convert MagFace lists, .bin/.meta, .npy or CSV to HDF5"},
    {"info", cmd_info, "describe an HDF5 file: embeddings, a k-NN graph, a model or a result"},
    {"cluster", cmd_cluster, "cluster faces (quality-aware linkage, DBSCAN, CW or map equation); write CSV or HDF5"},
    {"assign", cmd_assign, "place new faces with a saved model (cluster --save-model)"},
    {"report", cmd_report, "write a self-contained HTML report of a result (thumbnails, charts, scores)"},
    {"eval", cmd_eval, "score a CSV or HDF5 prediction against the file's labels"},
    {"sweep", cmd_sweep, "score many settings on one k-NN graph; CSV and SVG plot"},
    {"knn", cmd_knn, "build and save the k-NN graph, for cluster/sweep --graph"},
    {"export", cmd_export, "write embeddings out as .npy, .csv or learn-to-cluster .bin"},
    {"synth", cmd_synth, "generate a MagFace-like labelled collection"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: magclust <command> [options]\n\n"
               "Quality-aware face clustering driven by embedding magnitude.\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'magclust <command> --help' describes a command.\n"
               "Outputs are written to a temporary file beside them and renamed into place:\n"
               "a failure or a signal leaves the previous file as it was and no temporary.\n"
               "An existing output is replaced only with --force (any command).\n"
               "--max-memory SIZE (any command; 512M, 8G, ...) caps the memory a run sets out\n"
               "to allocate; by default, the memory available. A file whose header asks for\n"
               "more is refused before anything is allocated.\n"
               "exit codes: 0 success, 1 runtime failure (bad input file, I/O, an output\n"
               "that exists without --force), 2 usage error; killed by a signal: 128 + the\n"
               "signal (130 for Ctrl-C)\n");
}

/* Ctrl-C, kill, a closed terminal or pipe, a timer, a file-size or CPU
 * limit: remove the temporaries of the outputs being written (the previous
 * outputs were never touched), then die of the signal as if unhandled (exit
 * status 128 + signal in a shell: 130 for Ctrl-C, 153 for SIGXFSZ). */
static void on_signal(int sig)
{
    mc_remove_temporaries();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_signals(void)
{
    /* every signal whose default action ends the process, but those the
     * process cannot catch (SIGKILL, SIGSTOP) and those that mean a bug
     * (SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT), where nothing more should run */
    static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,    SIGQUIT,   SIGPIPE, SIGALRM, SIGUSR1,
                               SIGUSR2, SIGXFSZ, SIGXCPU, SIGVTALRM, SIGPROF};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        struct sigaction old;
        /* a signal ignored by the parent (nohup) stays ignored */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

/* What a command printed must have reached standard output: a full disk or
 * a closed file behind it is an error, not a success with a short file. */
static int finish_stdout(int rc)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        int err = errno;
        if (rc == CLI_OK) {
            cli_error("standard output: write error: %s", strerror(err ? err : EIO));
            rc = CLI_FAIL;
        }
    }
    return rc;
}

int main(int argc, char **argv)
{
    /* libhdf5 1.10.8 cannot close a file whose close failed (a write of the
     * close, or close(2) itself: EIO, a file-size limit) and segfaults when
     * it tries again at exit, turning a clean error into exit 139. Every
     * file this program writes is closed (or abandoned, its temporary
     * removed) before main returns, and a file opened for reading needs no
     * closing, so libhdf5's clean-up at exit is not wanted. Before any other
     * HDF5 call. */
    H5dont_atexit();
    catch_signals();
    if ((argc = cli_take_global_options(argc, argv)) < 0) return CLI_USAGE;
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("magclust %s\n", mc_version());
        return CLI_OK;
    }
#ifdef MAGCLUST_MPI
    /* started by mpirun: 'knn' and 'cluster' search over the ranks */
    if (cli_mpi_launched() && (strcmp(argv[1], "knn") == 0 || strcmp(argv[1], "cluster") == 0)) {
        if (cli_mpi_init() != 0) return CLI_FAIL;
        int rc = strcmp(argv[1], "knn") == 0 ? cmd_knn(argc - 1, argv + 1)
                                             : cmd_cluster(argc - 1, argv + 1);
        return cli_mpi_finish(finish_stdout(rc));
    }
#endif
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return finish_stdout(commands[i].fn(argc - 1, argv + 1));
    cli_error("'%s' is not a magclust command (see 'magclust --help')", argv[1]);
    return CLI_USAGE;
}
