#define _POSIX_C_SOURCE 200809L
#include "progress.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A terminal redrawn more often than this flickers and costs write(2) calls
 * for nothing the eye can follow. */
#define TTY_INTERVAL 0.2
/* PLAIN: phases shorter than this print nothing (clean logs for quick runs);
 * longer ones print at least this often. */
#define PLAIN_MIN_PHASE 2.0
#define PLAIN_INTERVAL 10.0
/* Aim for about 50 clock readings a second: fine enough for the 0.2 s
 * redraws, and a negligible cost next to the work being counted. */
#define CHECK_PERIOD 0.02
/* Upper bound on the calls between two clock readings, so that a loop that
 * slows down after a fast start is noticed within a few thousand calls. */
#define MAX_STRIDE 4096u
#define ETA_MIN_ELAPSED 0.5

#define LINE_MAX_LEN 256

struct cli_progress {
    FILE *f;
    cli_progress_mode mode; /* resolved: TTY, PLAIN or OFF */
    char phase[48];
    char unit[24];
    uint64_t total;
    uint64_t done;
    double start;       /* monotonic seconds */
    double last_print;  /* when the last progress line was printed (start at first) */
    double last_check;  /* when the clock was last read */
    uint32_t stride;    /* read the clock when calls reaches it */
    uint32_t calls;     /* updates since the last reading */
    unsigned decile;    /* PLAIN: 10 % steps already covered by a line */
};

static double (*test_clock)(void); /* cli_progress_test_clock */

static double now_s(void)
{
    if (test_clock) return test_clock();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static void append(char *buf, size_t n, size_t *len, const char *fmt, ...)
{
    if (*len + 1 >= n) return; /* full (or truncated) already */
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    /* After a truncation *len stays at n - 1 so later appends do nothing. */
    *len = *len + (size_t)k >= n ? n - 1 : *len + (size_t)k;
}

void cli_progress_format_duration(double seconds, char *buf, size_t n)
{
    if (!buf || n == 0) return;
    if (!(seconds > 0)) seconds = 0; /* negative and NaN */
    if (seconds > 3.6e15) seconds = 3.6e15; /* keeps the conversion defined */
    if (seconds < 0.95) {
        snprintf(buf, n, "%.1f s", seconds);
        return;
    }
    /* Round once, then split, so that 59.6 s reads "1 m 00 s", not "60 s". */
    uint64_t t = (uint64_t)(seconds + 0.5);
    if (t < 60) {
        snprintf(buf, n, "%" PRIu64 " s", t);
    } else if (t < 3600) {
        snprintf(buf, n, "%" PRIu64 " m %02" PRIu64 " s", t / 60, t % 60);
    } else {
        uint64_t m = (t + 30) / 60;
        snprintf(buf, n, "%" PRIu64 " h %02" PRIu64 " m", m / 60, m % 60);
    }
}

void cli_progress_format_rate(double per_second, char *buf, size_t n)
{
    static const char suffix[] = "kMGT";
    if (!buf || n == 0) return;
    double v = per_second > 0 ? per_second : 0; /* negative and NaN */
    if (v < 999.5) {
        if (v > 0 && v < 9.95)
            snprintf(buf, n, "%.1f", v);
        else
            snprintf(buf, n, "%.0f", v);
        return;
    }
    /* The thresholds compare with the value as it will be rounded, so 999.7
     * becomes "1.00k" rather than "1000". */
    for (size_t i = 0; i < sizeof suffix - 1; i++) {
        v /= 1000.0;
        if (v < 9.995) {
            snprintf(buf, n, "%.2f%c", v, suffix[i]);
            return;
        }
        if (v < 99.95) {
            snprintf(buf, n, "%.1f%c", v, suffix[i]);
            return;
        }
        if (v < 999.5 || i == sizeof suffix - 2) {
            if (!isfinite(v)) v = 999.0;
            snprintf(buf, n, "%.0f%c", v, suffix[i]);
            return;
        }
    }
}

static unsigned percent(uint64_t done, uint64_t total)
{
    if (done >= total) return 100;
    /* In double to avoid overflowing done * 100; a rounding up to 100 must
     * not claim completion. */
    double pc = (double)done / (double)total * 100.0;
    return pc >= 99.0 ? 99u : (unsigned)pc;
}

void cli_progress_format_line(const char *phase, uint64_t done, uint64_t total,
                              const char *unit, double elapsed, char *buf, size_t n)
{
    if (!buf || n == 0) return;
    if (!phase) phase = "progress";
    if (!unit) unit = "items";
    size_t len = 0;
    buf[0] = '\0';
    append(buf, n, &len, "%s", phase);
    if (total > 0) {
        append(buf, n, &len, "  %u%%", percent(done, total));
        append(buf, n, &len, "  %" PRIu64 "/%" PRIu64 " %s", done, total, unit);
    } else {
        append(buf, n, &len, "  %" PRIu64 " %s", done, unit);
    }
    if (elapsed > 0) {
        char r[32];
        cli_progress_format_rate((double)done / elapsed, r, sizeof r);
        append(buf, n, &len, "  %s %s/s", r, unit);
    }
    /* done >= ceil(total / 100), written without overflowing total + 99. */
    uint64_t one_percent = total / 100 + (total % 100 != 0);
    if (total > 0 && done < total && done > 0 && done >= one_percent &&
        elapsed >= ETA_MIN_ELAPSED) {
        char d[32];
        cli_progress_format_duration(elapsed * ((double)(total - done) / (double)done), d,
                                     sizeof d);
        append(buf, n, &len, "  ETA %s", d);
    }
}

/* "search 100% 1000000 faces in 12.3 s (81.3k faces/s)" */
static void format_final(const cli_progress *p, double elapsed, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    append(buf, n, &len, "%s", p->phase);
    if (p->total > 0) {
        append(buf, n, &len, " %u%%", percent(p->done, p->total));
        if (p->done == p->total)
            append(buf, n, &len, " %" PRIu64 " %s", p->done, p->unit);
        else
            append(buf, n, &len, " %" PRIu64 "/%" PRIu64 " %s", p->done, p->total, p->unit);
    } else if (p->done > 0) {
        append(buf, n, &len, " %" PRIu64 " %s", p->done, p->unit);
    } else {
        append(buf, n, &len, " done");
    }
    char d[32];
    if (elapsed < 59.95)
        snprintf(d, sizeof d, "%.1f s", elapsed > 0 ? elapsed : 0.0);
    else
        cli_progress_format_duration(elapsed, d, sizeof d);
    append(buf, n, &len, " in %s", d);
    if (p->done > 0 && elapsed > 0) {
        char r[32];
        cli_progress_format_rate((double)p->done / elapsed, r, sizeof r);
        append(buf, n, &len, " (%s %s/s)", r, p->unit);
    }
}

static void copy_name(char *dst, size_t n, const char *src)
{
    size_t k = strlen(src);
    if (k >= n) k = n - 1;
    memcpy(dst, src, k);
    dst[k] = '\0';
}

cli_progress *cli_progress_start(FILE *f, cli_progress_mode mode, const char *phase,
                                 uint64_t total, const char *unit)
{
    cli_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (!f || (mode != CLI_PROGRESS_AUTO && mode != CLI_PROGRESS_TTY &&
               mode != CLI_PROGRESS_PLAIN))
        mode = CLI_PROGRESS_OFF;
    if (mode == CLI_PROGRESS_AUTO) {
        int fd = fileno(f);
        mode = fd >= 0 && isatty(fd) ? CLI_PROGRESS_TTY : CLI_PROGRESS_PLAIN;
    }
    p->f = f;
    p->mode = mode;
    copy_name(p->phase, sizeof p->phase, phase ? phase : "progress");
    copy_name(p->unit, sizeof p->unit, unit ? unit : "items");
    p->total = total;
    p->start = now_s();
    p->last_print = p->start;
    p->last_check = p->start;
    p->stride = 1; /* the first update reads the clock and sets the real stride */
    return p;
}

static void emit(cli_progress *p, const char *prefix, const char *line, const char *suffix)
{
    fputs(prefix, p->f);
    fputs(line, p->f);
    fputs(suffix, p->f);
    fflush(p->f);
}

/* Reads the clock, adapts the stride and prints when a line is due. */
static void tick(cli_progress *p)
{
    double now = now_s();
    double dt = now - p->last_check;
    if (dt > 0) {
        /* At most double the stride per reading: a first update that comes
         * microseconds after the start (or a fast burst) must not set a
         * stride that a slow loop, such as the search's one call per block
         * of 1,024 faces, never reaches again. Shrinking is immediate. */
        double want = (double)p->calls * CHECK_PERIOD / dt;
        double most = 2.0 * (double)p->stride;
        if (want > most) want = most;
        p->stride = want < 1.0 ? 1u : want > (double)MAX_STRIDE ? MAX_STRIDE : (uint32_t)want;
    }
    p->calls = 0;
    p->last_check = now;

    double elapsed = now - p->start;
    char line[LINE_MAX_LEN];
    if (p->mode == CLI_PROGRESS_TTY) {
        if (now - p->last_print < TTY_INTERVAL) return;
        cli_progress_format_line(p->phase, p->done, p->total, p->unit, elapsed, line,
                                 sizeof line);
        emit(p, "\r", line, "\033[K");
        p->last_print = now;
    } else if (p->mode == CLI_PROGRESS_PLAIN) {
        if (elapsed < PLAIN_MIN_PHASE) return;
        /* A complete phase crosses no new step: 100 % is the final line's. */
        unsigned decile =
            p->total > 0 && p->done < p->total ? percent(p->done, p->total) / 10 : p->decile;
        if (decile <= p->decile && now - p->last_print < PLAIN_INTERVAL) return;
        cli_progress_format_line(p->phase, p->done, p->total, p->unit, elapsed, line,
                                 sizeof line);
        emit(p, "", line, "\n");
        p->last_print = now;
        if (decile > p->decile) p->decile = decile;
    }
}

void cli_progress_update(cli_progress *p, uint64_t done)
{
    if (!p || p->mode == CLI_PROGRESS_OFF) return;
    if (done > p->done) p->done = done;
    if (++p->calls < p->stride) return;
    tick(p);
}

void cli_progress_end(cli_progress *p)
{
    if (!p) return;
    if (p->mode == CLI_PROGRESS_TTY || p->mode == CLI_PROGRESS_PLAIN) {
        double elapsed = now_s() - p->start;
        char line[LINE_MAX_LEN];
        format_final(p, elapsed, line, sizeof line);
        if (p->mode == CLI_PROGRESS_TTY)
            emit(p, "\r", line, "\033[K\n");
        else if (elapsed >= PLAIN_MIN_PHASE)
            emit(p, "", line, "\n");
    }
    free(p);
}

void cli_progress_test_clock(double (*now)(void)) { test_clock = now; }

void cli_progress_test_rewind(cli_progress *p, double seconds)
{
    if (!p) return;
    p->start -= seconds;
    p->last_print -= seconds;
    p->last_check -= seconds;
    p->stride = 1;
    p->calls = 0;
}
