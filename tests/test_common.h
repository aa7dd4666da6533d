/* Declarations shared by the CUnit suites (see cunit_main.c). */
#ifndef MAGCLUST_TEST_COMMON_H
#define MAGCLUST_TEST_COMMON_H

#include <CUnit/CUnit.h>

/* Fixture directory (tests/make_fixtures.c output) and source tree. */
extern const char *mc_test_fixture_dir;
extern const char *mc_test_source_dir;

/* Defined by each suite. */
extern const char *mc_test_suite_name;
void mc_test_register(void);

/* Register one test in the suite. */
void add_test(const char *name, void (*fn)(void));

#endif
