#define _POSIX_C_SOURCE 200809L
#define _DEFAULT_SOURCE /* realpath, flock */
#include "cli_util.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    fputs("magclust: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int cli_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int max_memory_given; /* --max-memory set the limit */

int cli_fail_status(mc_status st)
{
    const char *detail = mc_last_error_detail();
    if (detail[0] && st == MC_ERR_NOMEM && mc_last_error_reason() == MC_REASON_MEMORY_LIMIT) {
        /* the library's "set by the caller" is --max-memory here: name it */
        char d[1024];
        snprintf(d, sizeof d, "%s", detail);
        char *caller = strstr(d, " (set by the caller)");
        if (caller) *caller = '\0';
        if (max_memory_given)
            cli_error("%s: %s (--max-memory); raise --max-memory, or leave it out to allow the "
                      "memory available", mc_strerror(st), d);
        else
            cli_error("%s: %s; --max-memory SIZE sets another limit", mc_strerror(st), d);
    } else if (detail[0])
        cli_error("%s: %s", mc_strerror(st), detail);
    else
        cli_error("%s", mc_strerror(st));
    return st == MC_ERR_CANCELLED ? CLI_INTERRUPTED : CLI_FAIL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fputs("magclust: error: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n(see 'magclust %s --help')\n", cmd);
    return CLI_USAGE;
}

int cli_parse_double(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : 0.0;
    if (!s || end == s || *end != '\0' || errno == ERANGE || !isfinite(v)) {
        cli_error("%s: '%s' is not a number", opt, s ? s : "");
        return -1;
    }
    if (v < lo || v > hi) {
        cli_error("%s: %s is out of range [%g, %g]", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_int(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || end == s || *end != '\0' || errno == ERANGE) {
        cli_error("%s: '%s' is not an integer", opt, s ? s : "");
        return -1;
    }
    if (v < lo || v > hi) {
        cli_error("%s: %s is out of range [%ld, %ld]", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_size(const char *opt, const char *s, size_t lo, size_t hi, size_t *out)
{
    char *end = NULL;
    errno = 0;
    if (!s || *s == '-' || *s == '+' || *s == '\0') {
        cli_error("%s: '%s' is not a non-negative integer", opt, s ? s : "");
        return -1;
    }
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end != '\0' || errno == ERANGE) {
        cli_error("%s: '%s' is not a non-negative integer", opt, s);
        return -1;
    }
    if (v < lo || v > hi) {
        cli_error("%s: %s is out of range [%zu, %zu]", opt, s, lo, hi);
        return -1;
    }
    *out = (size_t)v;
    return 0;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out)
{
    size_t v;
    if (cli_parse_size(opt, s, 0, SIZE_MAX, &v) != 0) return -1;
    *out = (uint64_t)v;
    return 0;
}

int cli_parse_bytes(const char *opt, const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    const char *start = s ? s : "", *p = start;
    size_t digits = 0, dots = 0;
    while ((*p >= '0' && *p <= '9') || *p == '.') {
        if (*p == '.') dots++;
        else digits++;
        p++;
    }
    int shift = 0;
    switch (*p) {
    case 'k': case 'K': shift = 10; p++; break;
    case 'm': case 'M': shift = 20; p++; break;
    case 'g': case 'G': shift = 30; p++; break;
    case 't': case 'T': shift = 40; p++; break;
    default: break;
    }
    if (shift && (p[0] == 'i' || p[0] == 'I') && (p[1] == 'b' || p[1] == 'B')) p += 2;
    else if (p[0] == 'b' || p[0] == 'B') p++;
    if (digits == 0 || dots > 1 || *p != '\0' || (p - start) > 40) {
        cli_error("%s: '%s' is not a size (a number of bytes, or with a unit: 512M, 8G, 1.5T)",
                  opt, start);
        return -1;
    }
    char num[48];
    size_t len = strcspn(start, "kKmMgGtTbB");
    memcpy(num, start, len);
    num[len] = '\0';
    double v = strtod(num, NULL) * (double)(1ull << shift);
    if (!(v >= (double)lo && v <= (double)hi)) {
        cli_error("%s: %s is out of range [%llu, %llu] bytes", opt, s, (unsigned long long)lo,
                  (unsigned long long)hi);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_take_global_options(int argc, char **argv)
{
    int out = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) {
            while (i < argc) argv[out++] = argv[i++];
            break;
        }
        if (i > 0 && strcmp(argv[i], "--force") == 0) {
            cli_force = 1;
            continue;
        }
        if (i > 0 && strncmp(argv[i], "--max-memory", 12) == 0 &&
            (argv[i][12] == '\0' || argv[i][12] == '=')) {
            const char *v = argv[i][12] == '=' ? argv[i] + 13 : (i + 1 < argc ? argv[++i] : NULL);
            uint64_t bytes;
            if (!v) {
                cli_error("--max-memory needs a size (512M, 8G, ...)");
                return -1;
            }
            if (cli_parse_bytes("--max-memory", v, (uint64_t)1 << 20, (uint64_t)1 << 50, &bytes) != 0)
                return -1;
            mc_set_memory_limit(bytes);
            max_memory_given = 1;
            continue;
        }
        argv[out++] = argv[i];
    }
    argv[out] = NULL;
    return out;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) != 0 || stat(b, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int cli_force;

int cli_result_format(const char *cmd, const char *format, const char *out_path, mc_format *out)
{
    *out = MC_FMT_CSV;
    if (format) {
        *out = mc_format_from_name(format);
        if (*out != MC_FMT_CSV && *out != MC_FMT_H5)
            return cli_usage_error(cmd, "--format: '%s' is not csv or h5", format);
        return 0;
    }
    if (!out_path) return 0;
    const char *base = strrchr(out_path, '/');
    base = base ? base + 1 : out_path;
    const char *dot = strrchr(base, '.');
    if (!dot || dot == base) return 0; /* no extension: CSV */
    if (strcmp(dot, ".h5") == 0 || strcmp(dot, ".hdf5") == 0) *out = MC_FMT_H5;
    else if (strcmp(dot, ".csv") != 0)
        return cli_usage_error(cmd, "-o %s: a result is written as CSV (.csv) or HDF5 (.h5, .hdf5), "
                                    "not '%s'; rename it or give --format", out_path, dot);
    return 0;
}

int cli_check_output(const char *out_path, const char *const *inputs)
{
    return cli_check_output_ex(out_path, inputs, 0);
}

/* The directory part of a non-empty path ("." for a bare name), malloc'd;
 * NULL after printing the error. */
static char *dir_of(const char *path)
{
    char *dir = strdup(path);
    if (!dir) {
        cli_error("out of memory");
        return NULL;
    }
    char *slash = strrchr(dir, '/');
    if (!slash)
        strcpy(dir, ".");
    else if (slash == dir)
        dir[1] = '\0';
    else
        *slash = '\0';
    return dir;
}

/* Directories of the system's devices and kernel files, where no output
 * belongs (as root, a file there could replace a device or a setting). */
static int in_system_dir(const char *real)
{
    static const char *const dirs[] = {"/dev", "/proc", "/sys"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
        size_t n = strlen(dirs[i]);
        if (strncmp(real, dirs[i], n) == 0 && (real[n] == '\0' || real[n] == '/')) return 1;
    }
    return 0;
}

int cli_check_output_ex(const char *out_path, const char *const *inputs, int may_replace)
{
    int exists = 0;
    if (!out_path || !out_path[0]) {
        cli_error("empty output path");
        return -1;
    }
    size_t len = strlen(out_path);
    if (len >= PATH_MAX) {
        cli_error("%.64s...: output path is %zu bytes long, more than the system allows (%d)", out_path, len,
                  PATH_MAX);
        return -1;
    }
    if (out_path[len - 1] == '/') {
        cli_error("%s: output path names a directory", out_path);
        return -1;
    }
    char *dir = dir_of(out_path);
    if (!dir) return -1;
    struct stat st;
    int rc = 0;
    char *real = realpath(dir, NULL);
    if (lstat(out_path, &st) == 0 && S_ISLNK(st.st_mode)) {
        /* a rename would replace the link itself (-o /dev/stdout as root: a
         * regular file for the whole system), a dangling one too */
        cli_error("%s: is a symbolic link; not replaced (name the file it points to)", out_path);
        rc = -1;
    } else if (real && in_system_dir(real)) {
        cli_error("%s: is in %s, a system directory; not an output", out_path, real);
        rc = -1;
    } else if (stat(dir, &st) != 0) {
        cli_error("%s: output directory '%s' does not exist", out_path, dir);
        rc = -1;
    } else if (!S_ISDIR(st.st_mode)) {
        cli_error("%s: '%s' is not a directory", out_path, dir);
        rc = -1;
    } else if (access(dir, W_OK) != 0) {
        cli_error("%s: output directory '%s' is not writable", out_path, dir);
        rc = -1;
    } else if (stat(out_path, &st) != 0) {
        /* a new file */
    } else if ((exists = 1) && S_ISDIR(st.st_mode)) {
        cli_error("%s: output path is a directory", out_path);
        rc = -1;
    } else if (!S_ISREG(st.st_mode)) {
        /* outputs are renamed into place, which would replace a device or pipe */
        cli_error("%s: output path is not a regular file (a device, pipe or socket)", out_path);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && inputs && inputs[i]; i++) {
        if (strcmp(inputs[i], out_path) == 0 || same_file(inputs[i], out_path)) {
            cli_error("%s: output would overwrite an input file", out_path);
            rc = -1;
        }
    }
    if (rc == 0 && exists && !may_replace && !cli_force) {
        cli_error("%s: exists; give --force to replace it", out_path);
        rc = -1;
    }
    /* free now: it must still be when the run commits (another run started
     * at the same time may have written it meanwhile) */
    if (rc == 0 && !exists && !may_replace && !cli_force && mc_output_require_new(out_path) != MC_OK) {
        cli_fail_status(MC_ERR_NOMEM);
        rc = -1;
    }
    free(real);
    free(dir);
    return rc;
}

int cli_getopt(const char *cmd, int argc, char **argv, const char *shortopts,
               const struct option *longopts, int repeatable)
{
    /* the options with a value seen in this parse (the CLI parses one
     * command line per process; a parse starts at optind 0) */
    static int seen[64];
    static size_t n_seen;
    if (optind == 0) n_seen = 0;
    int c = getopt_long(argc, argv, shortopts, longopts, NULL);
    if (c == -1 || c == '?' || c == ':' || !optarg || c == repeatable) return c;
    for (size_t i = 0; i < n_seen; i++)
        if (seen[i] == c) {
            const char *tok = argv[optind - 1];
            /* "-o" "X" leaves the option one token back; "-oX", "--out=X" in place */
            if (optind >= 2 && tok == optarg) tok = argv[optind - 2];
            cli_usage_error(cmd, "option '%s' given more than once: give it once", tok);
            return CLI_OPT_REPEATED;
        }
    if (n_seen < sizeof seen / sizeof seen[0]) seen[n_seen++] = c;
    return c;
}

mc_outputs_t *cli_outputs_new(void)
{
    mc_outputs_t *s = NULL;
    mc_status st = mc_outputs_new(&s);
    if (st != MC_OK) cli_fail_status(st);
    return s;
}

int cli_fail_output(mc_status st, const char *tmp, const char *path)
{
    const char *detail = mc_last_error_detail(), *hit = tmp ? strstr(detail, tmp) : NULL;
    if (!hit) return cli_fail_status(st);
    cli_error("%s: %.*s%s%s", mc_strerror(st), (int)(hit - detail), detail, path, hit + strlen(tmp));
    return CLI_FAIL;
}

const char *cli_outputs_add(mc_outputs_t *s, const char *path, int may_replace)
{
    const char *tmp = NULL;
    mc_status st = mc_outputs_add(s, path, may_replace || cli_force, &tmp);
    if (st != MC_OK) cli_fail_status(st);
    return tmp;
}

int cli_outputs_commit(mc_outputs_t *s)
{
    mc_status st = mc_outputs_commit(s);
    return st == MC_OK ? 0 : (cli_fail_status(st), -1);
}

int cli_lock_for_update(const char *path)
{
    char *dir = dir_of(path);
    if (!dir) return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || flock(fd, LOCK_EX) != 0) {
        cli_error("%s: cannot lock its directory '%s' for the update: %s", path, dir, strerror(errno));
        if (fd >= 0) close(fd);
        fd = -1;
    }
    free(dir);
    return fd;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- atomic text outputs ------------------------------------------------ */

FILE *cli_output_open(const char *path, mc_output_t **out)
{
    mc_status st = mc_output_open(path, out);
    if (st != MC_OK) {
        cli_fail_status(st);
        return NULL;
    }
    return mc_output_file(*out);
}

int cli_output_commit(mc_output_t *o)
{
    mc_status st = mc_output_commit(o);
    mc_output_free(o);
    if (st != MC_OK) {
        cli_fail_status(st);
        return -1;
    }
    return 0;
}
