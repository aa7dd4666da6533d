/* Shared main() of the CUnit suites: each suite file defines
 * mc_test_register(), which adds its tests with add_test(). argv[1] is the
 * fixture directory, argv[2] the source tree (see tests/CMakeLists.txt). */
#include <CUnit/Basic.h>
#include <stdio.h>

#include "test_common.h"

const char *mc_test_fixture_dir = "fixtures";
const char *mc_test_source_dir = ".";
static CU_pSuite current_suite;

void add_test(const char *name, void (*fn)(void))
{
    if (!CU_add_test(current_suite, name, fn)) fprintf(stderr, "cannot add test %s\n", name);
}

int main(int argc, char **argv)
{
    if (argc > 1) mc_test_fixture_dir = argv[1];
    if (argc > 2) mc_test_source_dir = argv[2];
    if (CU_initialize_registry() != CUE_SUCCESS) return 1;
    current_suite = CU_add_suite(mc_test_suite_name, NULL, NULL);
    if (!current_suite) return 1;
    mc_test_register();
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
