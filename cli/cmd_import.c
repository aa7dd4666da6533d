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
"  csv       header row, delimiter , ; or tab; each column's role comes from\n"
"            its name (below) or from the column options:\n"
"              path      path, file, filename, image; without one a face id:\n"
"                        id, face_id, faceId, marker_uid\n"
"              photo     photo, photo_id, assetId (Immich), file_uid (PhotoPrism):\n"
"                        the photo a face was cropped from, kept as /photo\n"
"                        for 'cluster --photo-key photo'\n"
"              label     label, identity, person, class, personId (Immich),\n"
"                        subj_uid (PhotoPrism); empty = unknown identity;\n"
"                        'id' is a face id, a label only with --label-column\n"
"              quality   det_score, quality, score, confidence, face_size,\n"
"                        blur, magnitude, norm: per-face numbers kept as\n"
"                        /NAME for 'cluster --quality-key NAME'\n"
"              ignored   boundingBoxX1..Y2, imageWidth, imageHeight (Immich),\n"
"                        a second face id\n"
"              embedding numbered columns: one prefix and consecutive numbers\n"
"                        from 0 or 1 (e0..e511, emb_1.., dim_0.., 0..511), or\n"
"                        one column holding the vector, \"[0.1,0.2,...]\" or\n"
"                        \"0.1 0.2 ...\" (embedding, vector, descriptor,\n"
"                        encoding, feature); with neither, every column\n"
"                        left is a value\n"
"            A column with no role, or two candidates for the embedding, is\n"
"            refused with a list of every column and the role it got.\n"
"\n"
"options:\n"
"  -o, --output PATH      the HDF5 file to create (required)\n"
"      --label-from dir   label = the image's parent folder name (magface, csv)\n"
"      --labels FILE      labels in a separate file, one a line (or .npy)\n"
"      --dim D            the dimension (l2c)\n"
"      --delimiter C      csv: ',', ';' or 'tab' (default: detected)\n"
"      --embedding-columns SPEC  csv: the embedding's columns, in order: names\n"
"                         or 1-based numbers, ranges (e0-e127, 3-130) and\n"
"                         prefixes (emb_*), comma-separated; one column = the\n"
"                         column holding the whole vector\n"
"      --quality-columns LIST  csv: the per-face numbers to keep (as /NAME),\n"
"                         instead of those taken by name ('' = none)\n"
"      --ignore-columns LIST   csv: columns to leave out\n"
"      --path-column C    csv: the path (or face id) column\n"
"      --label-column C   csv: the identity label column (e.g. id)\n"
"      --photo-column C   csv: the photo column\n"
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
    enum { O_LABEL_FROM = 256, O_LABELS, O_DIM, O_DELIM, O_COMPRESS, O_EMB_COLS, O_QUAL_COLS, O_IGN_COLS,
           O_PATH_COL, O_LABEL_COL, O_PHOTO_COL };
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"label-from", required_argument, NULL, O_LABEL_FROM},
        {"labels", required_argument, NULL, O_LABELS},
        {"dim", required_argument, NULL, O_DIM},
        {"delimiter", required_argument, NULL, O_DELIM},
        {"compress", optional_argument, NULL, O_COMPRESS},
        {"embedding-columns", required_argument, NULL, O_EMB_COLS},
        {"quality-columns", required_argument, NULL, O_QUAL_COLS},
        {"ignore-columns", required_argument, NULL, O_IGN_COLS},
        {"path-column", required_argument, NULL, O_PATH_COL},
        {"label-column", required_argument, NULL, O_LABEL_COL},
        {"photo-column", required_argument, NULL, O_PHOTO_COL},
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
        case O_EMB_COLS: rp.csv_embedding_columns = optarg; break;
        case O_QUAL_COLS: rp.csv_quality_columns = optarg; break;
        case O_IGN_COLS: rp.csv_ignore_columns = optarg; break;
        case O_PATH_COL: rp.csv_path_column = optarg; break;
        case O_LABEL_COL: rp.csv_label_column = optarg; break;
        case O_PHOTO_COL: rp.csv_photo_column = optarg; break;
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
    if (rp.format != MC_FMT_CSV &&
        (rp.csv_embedding_columns || rp.csv_quality_columns || rp.csv_ignore_columns || rp.csv_path_column ||
         rp.csv_label_column || rp.csv_photo_column))
        return cli_usage_error("import", "the column options (--embedding-columns, --quality-columns, ...) are "
                                         "for csv");
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

    /* CSV: what each column was taken for, from the first input (the
     * import checks that the others agree); read twice, so only from a
     * regular file, not a pipe */
    char *columns = NULL;
    struct stat in_sb;
    if (rp.format == MC_FMT_CSV && !quiet && stat(inputs[0], &in_sb) == 0 && S_ISREG(in_sb.st_mode)) {
        mc_reader_t *r = NULL;
        mc_status st = mc_reader_open(inputs[0], &rp, &r);
        if (st != MC_OK) {
            free(source);
            return cli_fail_status(st);
        }
        const char *cols = mc_reader_columns(r);
        columns = cols ? strdup(cols) : NULL;
        mc_reader_free(r);
    }

    uint64_t rows = 0;
    double t0 = cli_now();
    mc_status st = mc_import_files(inputs, n_inputs, &rp, out, &wp, &rows);
    double secs = cli_now() - t0;
    free(source);
    if (st != MC_OK) {
        free(columns);
        return cli_fail_status(st);
    }
    if (!quiet) {
        double bytes = 0;
        for (size_t i = 0; i < n_inputs; i++) {
            struct stat sb;
            if (stat(inputs[i], &sb) == 0) bytes += (double)sb.st_size;
        }
        printf("imported %llu faces from %zu %s file%s (%.1f MB) into %s in %.2f s (%.1f MB/s)\n",
               (unsigned long long)rows, n_inputs, mc_format_name(rp.format), n_inputs > 1 ? "s" : "",
               bytes / 1e6, out, secs, secs > 0 ? bytes / 1e6 / secs : 0.0);
        if (columns) printf("columns: %s\n", columns);
    }
    free(columns);
    return CLI_OK;
}
