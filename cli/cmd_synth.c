/* magclust synth: write a deterministic MagFace-like labelled collection. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"

static void synth_usage(FILE *f, const mc_synth_params *d)
{
    fprintf(f,
            "usage: magclust synth -o OUT.h5 [options]\n\n"
            "Generate a labelled MagFace-like face collection: identities of Zipf sizes,\n"
            "faces whose magnitude (15..35 at --mag-scale 1) tracks their quality, and\n"
            "low-quality faces of different people drifting towards shared nuisance\n"
            "directions. Same options, same file bytes.\n\n"
            "options:\n"
            "  -o, --output PATH    output HDF5 file (required): /embeddings (N x D float32),\n"
            "                       /labels (N int64, -1 = distractor), /paths (N strings)\n"
            "      --ids N          identities (default %zu)\n"
            "      --dim D          embedding dimension, >= 2 (default %zu)\n"
            "      --seed S         random seed, 0..2^64-1 (default %llu)\n"
            "      --max-size N     faces of the largest identity (default %zu)\n"
            "      --min-size N     faces of the smallest identity (default %zu)\n"
            "      --zipf S         Zipf exponent: identity i (from 0) has\n"
            "                       max(min-size, round(max-size / (i+1)^S)) faces (default %g)\n"
            "      --distractors F  distractors (label -1) as a fraction of identity\n"
            "                       faces, in [0, 1] (default %g)\n"
            "      --mag-scale X    magnitude multiplier, in (0, 1e6] (default %g)\n"
            "      --structure S    isotropic (default): random centres and noise spread\n"
            "                       evenly over all directions; realistic: centres with a\n"
            "                       decaying spectrum (shared attributes) and part of the\n"
            "                       noise in shared nuisance directions, fitted to real\n"
            "                       face models (docs/experiments.md). Magnitudes as above.\n"
            "      --center-decay A realistic: variance k^-A on the k-th of the 64\n"
            "                       attribute directions, A in [0, 8] (default %g)\n"
            "      --center-share X realistic: share of a centre on those directions,\n"
            "                       in [0, 1] (default %g)\n"
            "      --nuisance-share X\n"
            "                       realistic: share of the noise in 32 shared nuisance\n"
            "                       directions, in [0, 1] (default %g)\n"
            "  -h, --help           show this help\n\n"
            "N x D may not exceed 2^30 values.\n"
            "exit codes: 0 success, 1 runtime failure, 2 usage error\n",
            d->n_ids, d->dim, (unsigned long long)d->seed, d->max_size, d->min_size, d->zipf_s,
            d->distractor_frac, d->mag_scale, d->center_decay, d->center_share,
            d->nuisance_share);
}

/* The face counts the library will produce (the formula documented in
 * synth.h), for the summary line. */
enum { OPT_IDS = 256, OPT_DIM, OPT_SEED, OPT_MAX_SIZE, OPT_MIN_SIZE, OPT_ZIPF, OPT_DISTRACTORS,
       OPT_MAG_SCALE, OPT_STRUCTURE, OPT_CENTER_DECAY, OPT_CENTER_SHARE, OPT_NUISANCE_SHARE };

int cmd_synth(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"ids", required_argument, NULL, OPT_IDS},
        {"dim", required_argument, NULL, OPT_DIM},
        {"seed", required_argument, NULL, OPT_SEED},
        {"max-size", required_argument, NULL, OPT_MAX_SIZE},
        {"min-size", required_argument, NULL, OPT_MIN_SIZE},
        {"zipf", required_argument, NULL, OPT_ZIPF},
        {"distractors", required_argument, NULL, OPT_DISTRACTORS},
        {"mag-scale", required_argument, NULL, OPT_MAG_SCALE},
        {"structure", required_argument, NULL, OPT_STRUCTURE},
        {"center-decay", required_argument, NULL, OPT_CENTER_DECAY},
        {"center-share", required_argument, NULL, OPT_CENTER_SHARE},
        {"nuisance-share", required_argument, NULL, OPT_NUISANCE_SHARE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const mc_synth_params defaults = mc_synth_params_default();
    mc_synth_params p = defaults;
    const char *out = NULL;
    int c;

    /* parse */
    optind = 0; /* GNU: full re-initialisation, the dispatcher may have parsed before */
    opterr = 0; /* report unknown options ourselves, in the house format */
    while ((c = cli_getopt("synth", argc, argv, ":o:h", longopts, 0)) != -1) {
        int bad = 0; /* cli_parse_* have printed the error */
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_IDS: bad = cli_parse_size("--ids", optarg, 1, SIZE_MAX, &p.n_ids); break;
        case OPT_DIM: bad = cli_parse_size("--dim", optarg, 2, SIZE_MAX, &p.dim); break;
        case OPT_SEED: bad = cli_parse_u64("--seed", optarg, &p.seed); break;
        case OPT_MAX_SIZE:
            bad = cli_parse_size("--max-size", optarg, 1, SIZE_MAX, &p.max_size);
            break;
        case OPT_MIN_SIZE:
            bad = cli_parse_size("--min-size", optarg, 1, SIZE_MAX, &p.min_size);
            break;
        case OPT_ZIPF: bad = cli_parse_double("--zipf", optarg, 0.0, 100.0, &p.zipf_s); break;
        case OPT_DISTRACTORS:
            bad = cli_parse_double("--distractors", optarg, 0.0, 1.0, &p.distractor_frac);
            break;
        case OPT_MAG_SCALE:
            bad = cli_parse_double("--mag-scale", optarg, 0.0, 1e6, &p.mag_scale);
            if (!bad && p.mag_scale == 0.0)
                return cli_usage_error("synth", "--mag-scale: must be > 0");
            break;
        case OPT_STRUCTURE:
            if (strcmp(optarg, "isotropic") == 0)
                p.structure = MC_SYNTH_ISOTROPIC;
            else if (strcmp(optarg, "realistic") == 0)
                p.structure = MC_SYNTH_REALISTIC;
            else
                return cli_usage_error("synth", "--structure: '%s' is not isotropic or realistic",
                                       optarg);
            break;
        case OPT_CENTER_DECAY:
            bad = cli_parse_double("--center-decay", optarg, 0.0, 8.0, &p.center_decay);
            break;
        case OPT_CENTER_SHARE:
            bad = cli_parse_double("--center-share", optarg, 0.0, 1.0, &p.center_share);
            break;
        case OPT_NUISANCE_SHARE:
            bad = cli_parse_double("--nuisance-share", optarg, 0.0, 1.0, &p.nuisance_share);
            break;
        case 'h': synth_usage(stdout, &defaults); return CLI_OK;
        case CLI_OPT_REPEATED: return CLI_USAGE;
        case ':':
            return cli_usage_error("synth", "option '%s' needs a value", argv[optind - 1]);
        default:
            return cli_usage_error("synth", "unknown option '%s'", argv[optind - 1]);
        }
        if (bad) return CLI_USAGE;
    }
    if (optind < argc) return cli_usage_error("synth", "unexpected argument '%s'", argv[optind]);
    if (!out) return cli_usage_error("synth", "an output file is required (-o PATH)");
    if (p.max_size < p.min_size)
        return cli_usage_error("synth", "--max-size (%zu) must be >= --min-size (%zu)",
                               p.max_size, p.min_size);

    /* validate the parameters and the destination before generating */
    size_t n = 0, distr = 0;
    mc_status st = mc_synth_count(&p, &n, &distr);
    if (st == MC_ERR_INVALID_ARG) /* every parameter came from the command line */
        return cli_usage_error("synth", "%s: %s", mc_strerror(st), mc_last_error_detail());
    if (cli_check_output(out, NULL) != 0) return CLI_FAIL;

    if ((st = mc_synth_write_h5(&p, out)) != MC_OK) return cli_fail_status(st);
    printf("wrote %zu faces (%zu identities, %zu distractors, dim %zu%s) to %s\n", n, p.n_ids,
           distr, p.dim, p.structure == MC_SYNTH_REALISTIC ? ", realistic structure" : "", out);
    return CLI_OK;
}
