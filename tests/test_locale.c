/* The number parser under a locale whose decimal point is ',' (de_DE.UTF-8,
 * which scripts/install-deps.sh --test generates): the decimal point stays
 * '.' whatever LC_NUMERIC says. The CLI never calls setlocale, but a program
 * linking the library may.
 *
 * Its own ctest (test_locale), not a CUnit case: CUnit has no "skipped", and a
 * case that returns early counts as passed. Without such a locale this prints
 * a SKIP line and exits 77, which ctest reports as skipped (SKIP_RETURN_CODE). */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "io_impl.h"

static int failures;

static void expect(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    if (!ok) failures++;
}

int main(void)
{
    const char *names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", NULL};
    const char *got = NULL;
    for (size_t i = 0; names[i] && !got; i++) got = setlocale(LC_NUMERIC, names[i]);
    if (!got || strcmp(localeconv()->decimal_point, ",") != 0) {
        printf("SKIP: no locale with a ',' decimal point installed (de_DE.UTF-8, fr_FR.UTF-8); "
               "scripts/install-deps.sh --test generates de_DE.UTF-8\n");
        return 77;
    }
    printf("locale %s: decimal point '%s'\n", got, localeconv()->decimal_point);
    float v = 0;
    expect(mc_parse_float("0.25", 4, &v) == MC_PARSE_OK, "\"0.25\" parses");
    expect(v == 0.25f, "\"0.25\" is 0.25");
    v = 0;
    expect(mc_parse_float("-1.5e2", 6, &v) == MC_PARSE_OK && v == -150.0f, "\"-1.5e2\" is -150");
    expect(mc_parse_float("0,25", 4, &v) == MC_PARSE_NOT_NUMBER, "\"0,25\" is not a number");
    setlocale(LC_NUMERIC, "C");
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
