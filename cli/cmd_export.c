/* magclust export: magclust HDF5 -> .npy, .csv or learn-to-cluster .bin. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "commands.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust export IN.h5 -o OUT.npy|OUT.csv|OUT.bin [options]\n"
"\n"
"Write the raw embeddings (and labels, and paths where the format has room)\n"
"of IN.h5 out for other tools, streaming:\n"
"  .npy   float32 N x D; labels, if any, in OUT.labels.npy (int64)\n"
"  .csv   header path,label,e0..e{D-1}; floats printed so they read back exactly\n"
"  .bin   learn-to-cluster: raw float32 N x D; labels, if any, in OUT.meta\n"
"\n"
"options:\n"
"  -o, --output PATH        the file to create (required)\n"
"      --format F           npy, csv or l2c (default: from the extension)\n"
"      --embeddings-key NAME  (default embeddings)\n"
"      --labels-key NAME    (default labels; '' to leave labels out)\n"
"      --paths-key NAME     (default paths; '' to leave paths out)\n"
"  -q, --quiet              print nothing but errors\n"
"  -h, --help               this text\n"
"\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

int cmd_export(int argc, char **argv)
{
    enum { O_FORMAT = 256, O_EKEY, O_LKEY, O_PKEY };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"format", required_argument, NULL, O_FORMAT},
        {"embeddings-key", required_argument, NULL, O_EKEY},
        {"labels-key", required_argument, NULL, O_LKEY},
        {"paths-key", required_argument, NULL, O_PKEY},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mc_reader_params rp = mc_reader_params_default();
    mc_writer_params wp = mc_writer_params_default();
    const char *out = NULL;
    int quiet = 0, c;
    optind = 0;
    opterr = 0;
    while ((c = cli_getopt("export", argc, argv, ":o:qh", opts, 0)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case O_FORMAT:
            wp.format = mc_format_from_name(optarg);
            if (wp.format != MC_FMT_NPY && wp.format != MC_FMT_CSV && wp.format != MC_FMT_L2C)
                return cli_usage_error("export", "--format: '%s' is not npy, csv or l2c", optarg);
            break;
        case O_EKEY: rp.h5.embeddings_key = optarg; break;
        case O_LKEY: rp.h5.labels_key = optarg; break;
        case O_PKEY: rp.h5.paths_key = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("export", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("export", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind != 1) return cli_usage_error("export", "expected one input file");
    if (!out) return cli_usage_error("export", "an output file is required (-o OUT.npy|.csv|.bin)");
    if (wp.format == MC_FMT_AUTO) {
        wp.format = mc_format_from_path(out);
        if (wp.format != MC_FMT_NPY && wp.format != MC_FMT_CSV && wp.format != MC_FMT_L2C)
            return cli_usage_error("export", "%s: give the output a .npy, .csv or .bin name, or --format",
                                   out);
    }
    const char *in = argv[optind];
    const char *inputs[] = {in, NULL};
    if (cli_check_output(out, inputs) != 0) return CLI_FAIL;
    rp.format = MC_FMT_H5;

    mc_reader_t *r = NULL;
    uint64_t rows = 0;
    double t0 = cli_now();
    mc_status st = mc_reader_open(in, &rp, &r);
    if (st == MC_OK) st = mc_convert(r, out, &wp, &rows);
    double secs = cli_now() - t0;
    int labels = r && mc_reader_has_labels(r);
    mc_reader_free(r);
    if (st != MC_OK) return cli_fail_status(st);
    if (!quiet)
        printf("exported %llu faces%s from %s to %s (%s) in %.2f s\n", (unsigned long long)rows,
               labels ? " with labels" : "", in, out, mc_format_name(wp.format), secs);
    return CLI_OK;
}
