/* magclust import: other tools' embedding files -> the magclust HDF5 schema. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"

static void help(FILE *f)
{
    fprintf(f,
"usage: magclust import FORMAT IN... -o OUT.h5 [options]\n"
"\n"
"Convert embeddings written by other tools into magclust's HDF5 schema\n"
"(/embeddings N x D float32, raw: the magnitude is kept; /labels; /paths;\n"
"/label_names when labels came from names). Streams: memory is bounded by a\n"
"block of rows, not by the file. Several inputs of one format are appended in\n"
"order; identity names are merged across them.\n"
"\n"
"formats:\n"
"  magface   MagFace gen_feat.py output: 'PATH v1 ... vD' per line\n"
"  l2c       learn-to-cluster: raw little-endian float32 .bin (needs --dim),\n"
"            labels from a .meta (--labels), one integer a line\n"
"  npy       NumPy .npy (v1-3; float16/32/64; C order), labels from a second\n"
"            .npy or a text file (--labels)\n"
"  csv       header row; a path column (path/file/filename/image), a photo\n"
"            column (photo/photo_id: the photo a face was cropped from,\n"
"            written as /photo for 'cluster --photo-key photo'), a label\n"
"            column (label/identity/id/person/class), then D number columns\n"
"            or one column holding the vector; delimiter , ; or tab\n"
"\n"
"options:\n"
"  -o, --output PATH      the HDF5 file to create (required)\n"
"      --label-from dir   label = the image's parent folder name (magface, csv)\n"
"      --labels FILE      labels in a separate file, one a line (or .npy)\n"
"      --dim D            the dimension (l2c)\n"
"      --delimiter C      csv: ',', ';' or 'tab' (default: detected)\n"
"      --compress N       deflate level 0-9 for the HDF5 datasets (default 0;\n"
"                         --compress alone means 4)\n"
"  -q, --quiet            print nothing but errors\n"
"  -h, --help             this text\n"
"\n"
"Malformed input is refused with the line (text) or byte offset (binary) and\n"
"the reason; nothing is written then.\n"
"exit codes: 0 success, 1 runtime failure (bad input file, I/O), 2 usage error\n");
}

int cmd_import(int argc, char **argv)
{
    enum { O_LABEL_FROM = 256, O_LABELS, O_DIM, O_DELIM, O_COMPRESS };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"label-from", required_argument, NULL, O_LABEL_FROM},
        {"labels", required_argument, NULL, O_LABELS},
        {"dim", required_argument, NULL, O_DIM},
        {"delimiter", required_argument, NULL, O_DELIM},
        {"compress", optional_argument, NULL, O_COMPRESS},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    mc_reader_params rp = mc_reader_params_default();
    mc_writer_params wp = mc_writer_params_default();
    const char *out = NULL;
    int quiet = 0, c;
    long level = 0;
    optind = 0;
    opterr = 0;
    /* "--compress 9" reads 9 as an input (the level is optional, so it must
     * be attached): say so rather than "9: cannot open" */
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--compress") == 0 && argv[i + 1][0] &&
            strspn(argv[i + 1], "0123456789") == strlen(argv[i + 1]) && access(argv[i + 1], F_OK) != 0)
            return cli_usage_error("import", "--compress takes its level attached: --compress=%s "
                                             "('--compress %s' reads %s as an input)",
                                   argv[i + 1], argv[i + 1], argv[i + 1]);
    while ((c = cli_getopt("import", argc, argv, ":o:qh", opts, 0)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case O_LABEL_FROM:
            if (strcmp(optarg, "dir") != 0)
                return cli_usage_error("import", "--label-from: '%s' is not supported (use dir)", optarg);
            rp.label_from_dir = 1;
            break;
        case O_LABELS: rp.labels_path = optarg; break;
        case O_DIM:
            if (cli_parse_size("--dim", optarg, 1, 1 << 20, &rp.dim)) return CLI_USAGE;
            break;
        case O_DELIM:
            if (strcmp(optarg, ",") == 0 || strcmp(optarg, ";") == 0)
                rp.delimiter = optarg[0];
            else if (strcmp(optarg, "tab") == 0 || strcmp(optarg, "\t") == 0)
                rp.delimiter = '\t';
            else
                return cli_usage_error("import", "--delimiter: '%s' is not ',', ';' or 'tab'", optarg);
            break;
        case O_COMPRESS:
            level = 4;
            if (optarg && cli_parse_int("--compress", optarg, 0, 9, &level)) return CLI_USAGE;
            break;
        case 'q': quiet = 1; break;
        case 'h': help(stdout); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':': return cli_usage_error("import", "%s needs a value", argv[optind - 1]);
        default: return cli_usage_error("import", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (argc - optind < 2) return cli_usage_error("import", "expected FORMAT and at least one input");
    rp.format = mc_format_from_name(argv[optind]);
    if (rp.format == MC_FMT_AUTO || rp.format == MC_FMT_H5)
        return cli_usage_error("import", "'%s' is not an import format (magface, l2c, npy, csv)",
                               argv[optind]);
    if (!out) return cli_usage_error("import", "an output file is required (-o OUT.h5)");
    if (rp.format == MC_FMT_L2C && rp.dim == 0)
        return cli_usage_error("import", "the l2c format needs --dim");
    if (rp.label_from_dir && rp.labels_path)
        return cli_usage_error("import", "--label-from and --labels exclude each other");
    const char *const *inputs = (const char *const *)argv + optind + 1;
    size_t n_inputs = (size_t)(argc - optind - 1);
    if (n_inputs > 1 && rp.labels_path)
        return cli_usage_error("import", "--labels goes with a single input");
    const char **guard = calloc(n_inputs + 2, sizeof *guard);
    if (!guard) return cli_fail_status(MC_ERR_NOMEM);
    for (size_t i = 0; i < n_inputs; i++) guard[i] = inputs[i];
    guard[n_inputs] = rp.labels_path;
    int bad_out = cli_check_output(out, guard);
    free(guard);
    if (bad_out) return CLI_FAIL;

    /* Provenance: the command that made the file. */
    size_t len = 64;
    for (int i = 0; i < argc; i++) len += strlen(argv[i]) + 1;
    char *source = malloc(len);
    if (!source) return cli_fail_status(MC_ERR_NOMEM);
    snprintf(source, len, "magclust %s", mc_version());
    for (int i = 0; i < argc; i++) {
        strcat(source, " ");
        strcat(source, argv[i]);
    }
    wp.format = MC_FMT_H5;
    wp.compress = (int)level;
    wp.source = source;

    uint64_t rows = 0;
    double t0 = cli_now();
    mc_status st = mc_import_files(inputs, n_inputs, &rp, out, &wp, &rows);
    double secs = cli_now() - t0;
    free(source);
    if (st != MC_OK) return cli_fail_status(st);
    if (!quiet) {
        double bytes = 0;
        for (size_t i = 0; i < n_inputs; i++) {
            struct stat sb;
            if (stat(inputs[i], &sb) == 0) bytes += (double)sb.st_size;
        }
        printf("imported %llu faces from %zu %s file%s (%.1f MB) into %s in %.2f s (%.1f MB/s)\n",
               (unsigned long long)rows, n_inputs, mc_format_name(rp.format), n_inputs > 1 ? "s" : "",
               bytes / 1e6, out, secs, secs > 0 ? bytes / 1e6 / secs : 0.0);
    }
    return CLI_OK;
}
