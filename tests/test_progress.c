/* CUnit suite for cli/progress.h: the formatting helpers, the three output
 * styles and NULL-safety. Standalone main (a CLI module, not the library).
 * Long phases are simulated with cli_progress_test_rewind, never by
 * sleeping: the only timing assumption is that a few calls take far less
 * than 0.2 s. */
#define _POSIX_C_SOURCE 200809L
#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "progress.h"

/* The whole content of f (rewound to the start and left at the end);
 * a static buffer, enough for these tests. */
static const char *contents(FILE *f)
{
    static char buf[8192];
    fflush(f);
    rewind(f);
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = '\0';
    fseek(f, 0, SEEK_END);
    return buf;
}

static size_t count_char(const char *s, char c)
{
    size_t k = 0;
    for (; *s; s++) k += *s == c;
    return k;
}

static void check_duration(double s, const char *want)
{
    char buf[64];
    cli_progress_format_duration(s, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void check_rate(double r, const char *want)
{
    char buf[64];
    cli_progress_format_rate(r, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void check_line(const char *phase, uint64_t done, uint64_t total, const char *unit,
                       double elapsed, const char *want)
{
    char buf[256];
    cli_progress_format_line(phase, done, total, unit, elapsed, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, want);
}

static void test_format_duration(void)
{
    check_duration(0.4, "0.4 s");
    check_duration(12, "12 s");
    check_duration(185, "3 m 05 s");
    check_duration(3720, "1 h 02 m");
    check_duration(0, "0.0 s");
    check_duration(-3, "0.0 s");
    check_duration(NAN, "0.0 s");
    check_duration(7.13, "7 s");
    check_duration(0.96, "1 s");
    check_duration(59.6, "1 m 00 s"); /* rounded before splitting */
    check_duration(3599.6, "1 h 00 m");
    check_duration(100 * 3600.0 + 5 * 60, "100 h 05 m");
    check_duration(INFINITY, "1000000000000 h 00 m"); /* capped, still defined */
}

static void test_format_rate(void)
{
    check_rate(950, "950");
    check_rate(81300, "81.3k");
    check_rate(1.2e6, "1.20M");
    check_rate(0, "0");
    check_rate(-5, "0");
    check_rate(NAN, "0");
    check_rate(5.5, "5.5");
    check_rate(999.7, "1.00k");
    check_rate(135484, "135k");
    check_rate(2.5e9, "2.50G");
    check_rate(4e12, "4.00T");
    check_rate(5e15, "5000T");
}

static void test_format_line_with_total(void)
{
    /* 420000 faces at 81.3k faces/s: 5.17 s elapsed, 7.1 s to go. */
    check_line("search", 420000, 1000000, "faces", 420000 / 81300.0,
               "search  42%  420000/1000000 faces  81.3k faces/s  ETA 7 s");
    check_line("add", 1000, 1000, "rows", 2.0, "add  100%  1000/1000 rows  500 rows/s");
}

static void test_format_line_without_total(void)
{
    check_line("search", 420000, 0, "faces", 420000 / 81300.0,
               "search  420000 faces  81.3k faces/s");
    check_line("load", 0, 0, "rows", 0.0, "load  0 rows");
    check_line(NULL, 3, 0, NULL, 0.0, "progress  3 items");
}

static void test_format_line_percent_and_eta(void)
{
    /* Before 1 %: no ETA. */
    check_line("s", 5000, 1000000, "f", 10.0, "s  0%  5000/1000000 f  500 f/s");
    /* Exactly 1 %: ETA = 99 x elapsed. */
    check_line("s", 10000, 1000000, "f", 1.0, "s  1%  10000/1000000 f  10.0k f/s  ETA 1 m 39 s");
    /* 1 % of a total that 100 does not divide is rounded up. */
    check_line("s", 1, 150, "f", 1.0, "s  0%  1/150 f  1.0 f/s");
    check_line("s", 2, 150, "f", 1.0, "s  1%  2/150 f  2.0 f/s  ETA 1 m 14 s");
    /* Before 0.5 s: no ETA. */
    check_line("s", 500000, 1000000, "f", 0.4, "s  50%  500000/1000000 f  1.25M f/s");
    check_line("s", 500000, 1000000, "f", 0.5, "s  50%  500000/1000000 f  1.00M f/s  ETA 0.5 s");
    /* Rounded down: 100 % only when complete, and no ETA then. */
    check_line("s", 999999, 1000000, "f", 10.0, "s  99%  999999/1000000 f  100k f/s  ETA 0.0 s");
    check_line("s", 1200, 1000, "f", 1.0, "s  100%  1200/1000 f  1.20k f/s");
    /* No elapsed time: neither rate nor ETA. */
    check_line("s", 500, 1000, "f", 0.0, "s  50%  500/1000 f");
    /* Huge counts do not overflow the percentage. */
    check_line("s", UINT64_MAX / 2, UINT64_MAX, "f", 0.0,
               "s  50%  9223372036854775807/18446744073709551615 f");
    check_line("s", UINT64_MAX - 1, UINT64_MAX, "f", 0.0,
               "s  99%  18446744073709551614/18446744073709551615 f");
}

static void test_format_truncation(void)
{
    char buf[10];
    memset(buf, 'x', sizeof buf);
    cli_progress_format_line("search", 420000, 1000000, "faces", 5.0, buf, sizeof buf);
    CU_ASSERT_STRING_EQUAL(buf, "search  4");
    char small[4];
    cli_progress_format_duration(185, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "3 m");
    cli_progress_format_rate(1.2e6, small, sizeof small);
    CU_ASSERT_STRING_EQUAL(small, "1.2");
    /* n == 0 writes nothing. */
    char one = 'z';
    cli_progress_format_line("x", 1, 2, "f", 1.0, &one, 0);
    cli_progress_format_duration(1.0, &one, 0);
    cli_progress_format_rate(1.0, &one, 0);
    CU_ASSERT_EQUAL(one, 'z');
    cli_progress_format_line("x", 1, 2, "f", 1.0, NULL, 0);
    cli_progress_format_duration(1.0, NULL, 0);
    cli_progress_format_rate(1.0, NULL, 0);
}

static void test_off_writes_nothing(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_OFF, "search", 1000, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (uint64_t i = 1; i <= 1000; i++) cli_progress_update(p, i);
    cli_progress_test_rewind(p, 3600); /* even a long phase */
    cli_progress_update(p, 1000);
    cli_progress_end(p);
    CU_ASSERT_STRING_EQUAL(contents(f), "");
    fclose(f);
}

static void test_plain_fast_phase_writes_nothing(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "search", 100000, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (uint64_t i = 1; i <= 100000; i++) cli_progress_update(p, i);
    cli_progress_end(p);
    /* AUTO on a file is PLAIN, and so silent too. */
    p = cli_progress_start(f, CLI_PROGRESS_AUTO, "add", 0, "rows");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_update(p, 10);
    cli_progress_end(p);
    CU_ASSERT_STRING_EQUAL(contents(f), "");
    fclose(f);
}

static double fake_now;
static unsigned long fake_reads;
static double fake_clock(void)
{
    fake_reads++;
    return fake_now;
}

/* The cadence with a fake clock, as the exact search reports: one update
 * per block, the first a few microseconds after the start, the others
 * seconds apart. Every 10 % step after the first 2 s gets its line; a
 * stride grown on the fast first update used to swallow them all. */
static void test_plain_slow_updates_after_fast_start(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 1000.0;
    cli_progress_test_clock(fake_clock);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "search", 94, "blocks");
    fake_now += 2e-6;
    cli_progress_update(p, 1);
    for (uint64_t b = 2; b <= 93; b++) {
        fake_now += 2.0; /* a block of 1,024 faces every 2 s */
        cli_progress_update(p, b);
    }
    const char *out = contents(f);
    /* 10 % .. 90 %: nine lines, and lines every 10 s at most apart anyway */
    CU_ASSERT(count_char(out, '\n') >= 9);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "search  10%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "search  9"));
    fake_now += 2.0;
    cli_progress_update(p, 94);
    cli_progress_end(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(contents(f), "search 100% 94 blocks in 3 m 06 s"));
    /* a fast loop still reads the clock rarely: 100,000 updates within
     * 0.1 s of fake time make far fewer readings than updates */
    p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "fast", 100000, "items");
    fake_reads = 0;
    for (uint64_t i = 1; i <= 100000; i++) {
        fake_now += 1e-6;
        cli_progress_update(p, i);
    }
    CU_ASSERT(fake_reads > 10 && fake_reads < 200);
    cli_progress_end(p);
    cli_progress_test_clock(NULL);
    fclose(f);
}

static void test_plain_long_phase(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "search", 1000, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_update(p, 100);
    CU_ASSERT_STRING_EQUAL(contents(f), ""); /* under 2 s */

    /* 3 s in, at 50 %: one line covering the steps crossed so far. */
    cli_progress_test_rewind(p, 3);
    cli_progress_update(p, 500);
    const char *out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "search  50%  500/1000 faces  "));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  ETA 3 s\n"));

    /* Same 10 % step and under 10 s since the last line: nothing new. */
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 550);
    CU_ASSERT_EQUAL(count_char(contents(f), '\n'), 1);

    /* Next step crossed: a line. Going backwards is ignored. */
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 620);
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 100);
    out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "search  62%  620/1000 faces  "));

    /* 10 s without a new step: a line. */
    cli_progress_test_rewind(p, 11);
    cli_progress_update(p, 650);
    out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "search  65%  650/1000 faces  "));

    /* 100 % is left to the final line. */
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 1000);
    CU_ASSERT_EQUAL(count_char(contents(f), '\n'), 3);
    cli_progress_end(p);
    out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 4);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nsearch 100% 1000 faces in 1"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " faces/s)\n"));
    CU_ASSERT_EQUAL(out[strlen(out) - 1], '\n');
    CU_ASSERT_PTR_NULL(strchr(out, '\r'));
    CU_ASSERT_PTR_NULL(strchr(out, '\033'));
    fclose(f);
}

static void test_plain_unknown_total(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "load", 0, "rows");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    /* Without a total only the 10 s heartbeat prints. */
    cli_progress_test_rewind(p, 3);
    cli_progress_update(p, 300);
    CU_ASSERT_STRING_EQUAL(contents(f), "");
    cli_progress_test_rewind(p, 8);
    cli_progress_update(p, 1100);
    const char *out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "load  1100 rows  "));
    CU_ASSERT_PTR_NULL(strchr(out, '%'));
    CU_ASSERT_PTR_NULL(strstr(out, "ETA"));
    cli_progress_end(p);
    out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nload 1100 rows in 11"));
    fclose(f);
}

static void test_plain_final_line_after_two_seconds(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    /* Lasted 3 s without a progress line: the final line still prints, and
     * reports a phase that ended short of its total as such. */
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "search", 1000, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_update(p, 420);
    cli_progress_test_rewind(p, 3);
    cli_progress_end(p);
    const char *out = contents(f);
    CU_ASSERT_EQUAL(strncmp(out, "search 42% 420/1000 faces in 3.", 31), 0);
    CU_ASSERT_EQUAL(count_char(out, '\n'), 1);
    /* Nothing counted: "done". */
    p = cli_progress_start(f, CLI_PROGRESS_PLAIN, "write", 0, "rows");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_test_rewind(p, 125);
    cli_progress_end(p);
    CU_ASSERT_PTR_NOT_NULL(strstr(contents(f), "\nwrite done in 2 m 05 s\n"));
    fclose(f);
}

static void test_tty_final_line(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_TTY, "search", 1000, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    for (uint64_t i = 1; i <= 1000; i++) cli_progress_update(p, i);
    cli_progress_end(p);
    const char *out = contents(f);
    size_t len = strlen(out);
    CU_ASSERT_FATAL(len > 0);
    CU_ASSERT_EQUAL(strncmp(out, "\rsearch 100% 1000 faces in 0.", 29), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "100%"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, " faces/s)\033[K\n"));
    CU_ASSERT_EQUAL(out[len - 1], '\n');
    CU_ASSERT_EQUAL(count_char(out, '\n'), 1);
    CU_ASSERT_EQUAL(count_char(out, '\r'), 1); /* no redraw in a fast phase */
    fclose(f);
}

static void test_tty_redraws(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_TTY, "add", 200, "faces");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 100);
    const char *out = contents(f);
    CU_ASSERT_EQUAL(strncmp(out, "\radd  50%  100/200 faces  ", 26), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "  ETA 1 s\033[K"));
    CU_ASSERT_PTR_NULL(strchr(out, '\n'));
    size_t len = strlen(out);
    /* Immediately after a redraw: none (at most 5 a second). */
    for (uint64_t i = 101; i <= 150; i++) cli_progress_update(p, i);
    CU_ASSERT_EQUAL(strlen(contents(f)), len);
    cli_progress_test_rewind(p, 1);
    cli_progress_update(p, 160);
    out = contents(f);
    CU_ASSERT_EQUAL(count_char(out, '\r'), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\radd  80%  160/200 faces  "));
    cli_progress_update(p, 200);
    cli_progress_end(p);
    out = contents(f);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\radd 100% 200 faces in 2."));
    CU_ASSERT_EQUAL(count_char(out, '\n'), 1);
    CU_ASSERT_EQUAL(out[strlen(out) - 1], '\n');
    fclose(f);
}

static void test_names_are_copied(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char phase[] = "train", unit[] = "vectors";
    cli_progress *p = cli_progress_start(f, CLI_PROGRESS_TTY, phase, 0, unit);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    strcpy(phase, "XXXXX");
    strcpy(unit, "YYYYYYY");
    cli_progress_update(p, 7);
    cli_progress_end(p);
    CU_ASSERT_EQUAL(strncmp(contents(f), "\rtrain 7 vectors in ", 20), 0);
    fclose(f);
    /* Long names are truncated, not overflowed. */
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    p = cli_progress_start(f, CLI_PROGRESS_TTY, longname, 1, longname);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_update(p, 1);
    cli_progress_end(p);
    const char *out = contents(f);
    CU_ASSERT_EQUAL(out[strlen(out) - 1], '\n');
    CU_ASSERT(strlen(out) < 200);
    fclose(f);
}

static void test_null_safety(void)
{
    cli_progress_update(NULL, 5);
    cli_progress_test_rewind(NULL, 5);
    cli_progress_end(NULL);
    /* No stream, or an unknown mode: OFF. */
    cli_progress *p = cli_progress_start(NULL, CLI_PROGRESS_TTY, NULL, 10, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_test_rewind(p, 100);
    cli_progress_update(p, 5);
    cli_progress_end(p);
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    p = cli_progress_start(f, (cli_progress_mode)42, "x", 10, "y");
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_test_rewind(p, 100);
    cli_progress_update(p, 5);
    cli_progress_end(p);
    CU_ASSERT_STRING_EQUAL(contents(f), "");
    /* NULL phase and unit get defaults. */
    p = cli_progress_start(f, CLI_PROGRESS_TTY, NULL, 0, NULL);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    cli_progress_update(p, 3);
    cli_progress_end(p);
    CU_ASSERT_EQUAL(strncmp(contents(f), "\rprogress 3 items in ", 21), 0);
    fclose(f);
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } tests[] = {
        {"format_duration", test_format_duration},
        {"format_rate", test_format_rate},
        {"format_line_with_total", test_format_line_with_total},
        {"format_line_without_total", test_format_line_without_total},
        {"format_line_percent_and_eta", test_format_line_percent_and_eta},
        {"format_truncation", test_format_truncation},
        {"off_writes_nothing", test_off_writes_nothing},
        {"plain_fast_phase_writes_nothing", test_plain_fast_phase_writes_nothing},
        {"plain_long_phase", test_plain_long_phase},
        {"plain_slow_updates_after_fast_start", test_plain_slow_updates_after_fast_start},
        {"plain_unknown_total", test_plain_unknown_total},
        {"plain_final_line_after_two_seconds", test_plain_final_line_after_two_seconds},
        {"tty_final_line", test_tty_final_line},
        {"tty_redraws", test_tty_redraws},
        {"names_are_copied", test_names_are_copied},
        {"null_safety", test_null_safety},
    };
    if (CU_initialize_registry() != CUE_SUCCESS) return 1;
    CU_pSuite suite = CU_add_suite("progress", NULL, NULL);
    if (!suite) {
        CU_cleanup_registry();
        return 1;
    }
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!CU_add_test(suite, tests[i].name, tests[i].fn)) {
            fprintf(stderr, "cannot add test %s\n", tests[i].name);
            CU_cleanup_registry();
            return 1;
        }
    }
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    if (run == 0) {
        fprintf(stderr, "no test ran\n");
        return 1;
    }
    return failed ? 1 : 0;
}
