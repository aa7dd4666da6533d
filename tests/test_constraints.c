/* Constraints (same photo, corrections, names), their enforcement, the
 * corrections file, and carrying ids over from a previous result. Every case
 * is built by hand so the expected outcome is known exactly. */
#define _POSIX_C_SOURCE 200809L
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "magclust/magclust.h"
#include "test_common.h"

const char *mc_test_suite_name = "constraints";

static char tmpdir[256];

static const char *tmp(const char *name)
{
    static char buf[4][512];
    static int slot;
    if (!tmpdir[0]) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/mc_test_constraints.XXXXXX");
        if (!mkdtemp(tmpdir)) return NULL;
    }
    slot = (slot + 1) % 4;
    snprintf(buf[slot], sizeof buf[slot], "%s/%s", tmpdir, name);
    return buf[slot];
}

static const char *write_text(const char *name, const char *text)
{
    const char *p = tmp(name);
    FILE *f = fopen(p, "w");
    if (!f) return NULL;
    fputs(text, f);
    fclose(f);
    return p;
}

#define K 5
/* Six faces: person A = 0,1,2, person B = 3,4,5. Neighbour lists by hand:
 * A's faces are 0.9 alike, B's 0.8; face 3 (a blurred B) is 0.55 from A's
 * faces and 0.8 from 4 and 5. */
static void six_faces(int64_t nbr[6 * K], float sim[6 * K])
{
    static const int64_t ids[6][K] = {
        {1, 2, 3, -1, -1}, {0, 2, 3, -1, -1}, {0, 1, 3, -1, -1},
        {4, 5, 0, 1, 2},   {5, 3, -1, -1, -1}, {4, 3, -1, -1, -1},
    };
    static const float s[6][K] = {
        {0.9f, 0.9f, 0.55f, 0, 0}, {0.9f, 0.9f, 0.55f, 0, 0}, {0.9f, 0.9f, 0.55f, 0, 0},
        {0.8f, 0.8f, 0.55f, 0.55f, 0.55f}, {0.8f, 0.8f, 0, 0, 0}, {0.8f, 0.8f, 0, 0, 0},
    };
    memcpy(nbr, ids, sizeof ids);
    memcpy(sim, s, sizeof s);
}

static mc_constraint_input input(const int64_t *nbr, const float *sim, double t)
{
    mc_constraint_input in = {K, 0, nbr, sim, t, NULL, MC_ROLE_NOISE, 0};
    return in;
}

/* Face 3 was chained into A's cluster; it shares a photo with face 0. */
static void test_same_photo(void)
{
    int64_t nbr[6 * K];
    float sim[6 * K];
    six_faces(nbr, sim);
    int64_t photo[6] = {0, -1, -1, 0, -1, -1};
    for (int strict = 0; strict < 2; strict++) {
        int64_t labels[6] = {0, 0, 0, 0, 1, 1};
        uint8_t roles[6] = {MC_ROLE_CORE, MC_ROLE_CORE, MC_ROLE_CORE, MC_ROLE_BORDER, MC_ROLE_CORE,
                            MC_ROLE_CORE};
        mc_constraints_t *cs = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
        CU_ASSERT_EQUAL(mc_constraints_set_groups(cs, photo, "photo key 'photo'"), MC_OK);
        CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
        CU_ASSERT_EQUAL(mc_constraints_n_different(cs), 1);
        mc_constraint_stats st;
        /* strict: no link reaches 0.85, so the face has nowhere to go */
        mc_constraint_input in = input(nbr, sim, strict ? 0.85 : 0.5);
        CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, &st), MC_OK);
        CU_ASSERT_EQUAL(st.violations, 1);
        CU_ASSERT_EQUAL(labels[0], 0); /* the better match stays */
        if (!strict) {
            CU_ASSERT_EQUAL(labels[3], 1); /* next-best: B's cluster */
            CU_ASSERT_EQUAL(roles[3], MC_ROLE_BORDER);
            CU_ASSERT_EQUAL(st.moved, 1);
        } else {
            CU_ASSERT_EQUAL(labels[3], -1);
            CU_ASSERT_EQUAL(roles[3], MC_ROLE_NOISE);
            CU_ASSERT_EQUAL(st.to_noise, 1);
        }
        CU_ASSERT_EQUAL(labels[1], 0);
        CU_ASSERT_EQUAL(labels[4], 1);
        mc_constraints_free(cs);
    }
}

/* Two named people in one cluster: the weaker moves; names stay put. */
static void test_names(void)
{
    int64_t nbr[6 * K];
    float sim[6 * K];
    six_faces(nbr, sim);
    int64_t labels[6] = {0, 0, 0, 0, 0, 0};
    uint8_t roles[6] = {0, 0, 0, 1, 1, 1};
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 1, "Alice", "fix.csv: line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 3, "Bob", "fix.csv: line 3"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 4, "Bob", "fix.csv: line 4"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_constraints_name(cs, 1), "Alice");
    CU_ASSERT_STRING_EQUAL(mc_constraints_name(cs, 4), "Bob");
    CU_ASSERT_PTR_NULL(mc_constraints_name(cs, 0));
    mc_constraint_stats st;
    mc_constraint_input in = input(nbr, sim, 0.5);
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, &st), MC_OK);
    /* everything was one cluster: Bob (3, 4) leaves and, with nowhere else
     * to go, gets a cluster of his own */
    CU_ASSERT_EQUAL(labels[1], 0);
    CU_ASSERT_EQUAL(labels[3], labels[4]);
    CU_ASSERT_NOT_EQUAL(labels[3], 0);
    CU_ASSERT_EQUAL(labels[3], 1); /* new ids come after the largest given */
    CU_ASSERT_EQUAL(st.new_clusters, 1);
    CU_ASSERT_EQUAL(st.violations, 1);
    /* unnamed faces are not moved: 5 stays with Alice's cluster */
    CU_ASSERT_EQUAL(labels[5], 0);
    mc_constraints_free(cs);
}

/* Must-links gather a unit into the cluster most of it is in; two noise
 * faces linked as the same person open a cluster. */
static void test_gather(void)
{
    int64_t nbr[6 * K];
    float sim[6 * K];
    six_faces(nbr, sim);
    int64_t labels[6] = {0, 0, 0, 1, -1, -1};
    uint8_t roles[6] = {0, 0, 0, 1, 2, 2};
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 0, 3, "line 1"), MC_OK); /* core 0 outvotes border 3 */
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 4, 5, "line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    mc_constraint_stats st;
    mc_constraint_input in = input(nbr, sim, 0.5);
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, &st), MC_OK);
    CU_ASSERT_EQUAL(labels[3], 0);
    CU_ASSERT_EQUAL(roles[3], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(labels[4], 2);
    CU_ASSERT_EQUAL(labels[5], 2);
    CU_ASSERT_EQUAL(roles[4], MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(st.gathered, 3);
    CU_ASSERT_EQUAL(st.new_clusters, 1);
    mc_constraints_free(cs);
    /* assign never opens clusters: the pair stays out */
    int64_t l2[6] = {0, 0, 0, 1, -1, -1};
    uint8_t r2[6] = {0, 0, 0, 1, 3, 3};
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 4, 5, "line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    in.no_new_clusters = 1;
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, l2, r2, &st), MC_OK);
    CU_ASSERT_EQUAL(l2[4], -1);
    CU_ASSERT_EQUAL(r2[4], 3);
    CU_ASSERT_EQUAL(st.new_clusters, 0);
    mc_constraints_free(cs);
}

/* Fixed faces (a model's) never move; a new face yields to them. */
static void test_fixed(void)
{
    int64_t nbr[6 * K];
    float sim[6 * K];
    six_faces(nbr, sim);
    int64_t labels[6] = {0, 0, 0, 0, 1, 1};
    uint8_t roles[6] = {0, 0, 0, 0, 0, 0};
    uint8_t fixed[6] = {1, 1, 1, 0, 1, 1};
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 0, 3, "line 1"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 1, 4, "line 2"), MC_OK); /* both fixed, apart already */
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 1, 2, "line 3"), MC_OK); /* both fixed, together */
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    mc_constraint_stats st;
    mc_constraint_input in = input(nbr, sim, 0.5);
    in.fixed = fixed;
    in.moved_out_role = MC_ROLE_UNASSIGNED;
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, &st), MC_OK);
    CU_ASSERT_EQUAL(labels[0], 0);
    CU_ASSERT_EQUAL(labels[1], 0);
    CU_ASSERT_EQUAL(labels[2], 0);
    CU_ASSERT_EQUAL(labels[3], 1);
    CU_ASSERT_EQUAL(st.unresolved, 1);
    CU_ASSERT_EQUAL(st.violations, 1);
    mc_constraints_free(cs);
}

/* Contradictions are refused, naming the lines. */
static void test_conflicts(void)
{
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 0, 1, "fix.csv: line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 1, 2, "fix.csv: line 3"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_different(cs, 2, 0, "fix.csv: line 7"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
    const char *d = mc_last_error_detail();
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 7"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 3"));
    mc_constraints_free(cs);

    /* one face, two names */
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "Alice", "fix.csv: line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "Alice", "fix.csv: line 3"), MC_OK); /* repeated: fine */
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "Bob", "fix.csv: line 9"), MC_ERR_BAD_DATA);
    d = mc_last_error_detail();
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 9"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 2"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "Alice"));
    mc_constraints_free(cs);

    /* two names joined by a same-line */
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "Alice", "fix.csv: line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 4, "Bob", "fix.csv: line 3"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 0, 4, "fix.csv: line 4"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
    d = mc_last_error_detail();
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "Alice"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "Bob"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 4"));
    mc_constraints_free(cs);

    /* not-name against the same name (through a second face) */
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "Alice", "fix.csv: line 2"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 1, "Alice", "fix.csv: line 3"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_not_name(cs, 1, "Alice", "fix.csv: line 5"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "line 5"));
    mc_constraints_free(cs);

    /* one photo, but the same person */
    int64_t photo[6] = {3, 3, -1, -1, -1, -1};
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 1, 0, "fix.csv: line 6"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_set_groups(cs, photo, "photo key 'photo'"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
    d = mc_last_error_detail();
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "photo key 'photo'"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d, "line 6"));
    mc_constraints_free(cs);

    /* apply before check; bad indices */
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    int64_t labels[6] = {0};
    uint8_t roles[6] = {0};
    mc_constraint_input in = {0, 0, NULL, NULL, 0.5, NULL, MC_ROLE_NOISE, 0};
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 0, 6, "x"), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_constraints_add_name(cs, 0, "", "x"), MC_ERR_INVALID_ARG);
    mc_constraints_free(cs);
    CU_ASSERT_EQUAL(mc_constraints_new(0, &cs), MC_ERR_INVALID_ARG);
    mc_constraints_free(NULL);
}

static const char *const PATHS[6] = {"a/1.jpg", "a/2.jpg", "a,3.jpg", "b/1.jpg", "b/2.jpg", "b/3.jpg"};

static void test_corrections_file(void)
{
    const char *f = write_text("fix.csv",
                               "path,person\n"
                               "# named in the report\n"
                               "a/1.jpg,Alice\n"
                               "\n"
                               "\"a,3.jpg\",Alice\n"
                               "b/1.jpg,!Alice\n"
                               "gone/9.jpg,Carol\n"
                               "a/2.jpg,b/2.jpg,different\n"
                               "b/2.jpg,b/3.jpg,SAME\n");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    mc_constraints_t *cs = NULL;
    mc_corrections_info info;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_corrections_read(cs, f, PATHS, NULL, NULL, NULL, &info), MC_OK);
    CU_ASSERT_EQUAL(info.lines, 6);
    CU_ASSERT_EQUAL(info.unknown, 1);
    CU_ASSERT_EQUAL(info.named, 2);
    CU_ASSERT_EQUAL(info.not_named, 1);
    CU_ASSERT_EQUAL(info.same, 1);
    CU_ASSERT_EQUAL(info.different, 1);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    CU_ASSERT_STRING_EQUAL(mc_constraints_name(cs, 2), "Alice");
    CU_ASSERT_EQUAL(mc_constraints_n_named(cs), 2);
    mc_constraints_free(cs);

    static const struct {
        const char *text, *detail;
    } bad[] = {
        {"a/1.jpg,b/1.jpg,same,extra\n", "line 1: 4 fields"},
        {"a/1.jpg\n", "line 1: 1 fields"},
        {"a/1.jpg,b/1.jpg,maybe\n", "'maybe' is not 'same' or 'different'"},
        {"a/1.jpg,!\n", "line 1: no person"},
        {"a/1.jpg,12\n", "give --previous"},
        {",Alice\n", "line 1: empty path"},
        {"a/1.jpg,a/1.jpg,different\n", "different person from itself"},
        {"a/1.jpg,Alice\na/1.jpg,Bob\n", "line 2"},
        {"a/1.jpg,a/2.jpg,same\n\na/2.jpg,a/1.jpg,different\n", "line 3"},
        {"\"a/1.jpg,Alice\n", "not closed"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        f = write_text("bad.csv", bad[k].text);
        CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
        mc_status st = mc_corrections_read(cs, f, PATHS, NULL, NULL, NULL, &info);
        if (st == MC_OK) st = mc_constraints_check(cs);
        CU_ASSERT_EQUAL(st, MC_ERR_BAD_DATA);
        if (!strstr(mc_last_error_detail(), bad[k].detail))
            fprintf(stderr, "\ncase %zu: '%s'\n", k, mc_last_error_detail());
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), bad[k].detail));
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "bad.csv"));
        mc_constraints_free(cs);
    }
    /* a path two faces share cannot be corrected */
    const char *dup[6] = {"x.jpg", "x.jpg", "y.jpg", "z.jpg", "w.jpg", "v.jpg"};
    f = write_text("dup.csv", "x.jpg,Alice\n");
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_corrections_read(cs, f, dup, NULL, NULL, NULL, &info), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "more than one face"));
    mc_constraints_free(cs);
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_corrections_read(cs, tmp("missing.csv"), PATHS, NULL, NULL, NULL, &info), MC_ERR_IO);
    mc_constraints_free(cs);
}

/* Cluster ids of a previous result: `path,ID` joins that cluster's best
 * face, `path,!ID` never meets its faces (except others marked !ID). */
static void test_corrections_ids(void)
{
    int64_t prev[6] = {4, 4, 4, 4, 7, -1};
    const char *person[6] = {"Alice", "Alice", "Alice", "Alice", NULL, NULL};
    float q[6] = {1, 5, 2, 1, 3, 3};
    const char *f = write_text("ids.csv", "b/1.jpg,!4\nb/3.jpg,4\nb/2.jpg,!Alice\n");
    mc_constraints_t *cs = NULL;
    mc_corrections_info info;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(6, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_corrections_read(cs, f, PATHS, q, prev, person, &info), MC_OK);
    /* b/1 (face 3) vs 0, 1, 2; b/2 (face 4) vs 0, 1, 2 (3 is marked !4 too) */
    CU_ASSERT_EQUAL(mc_constraints_n_different(cs), 6);
    CU_ASSERT_EQUAL(mc_constraints_n_same(cs), 1); /* b/3 with face 1, the best of cluster 4 */
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_OK);
    int64_t labels[6] = {0, 0, 0, 0, 0, 1};
    uint8_t roles[6] = {0, 0, 0, 0, 0, 0};
    int64_t nbr[6 * K];
    float sim[6 * K];
    for (size_t i = 0; i < 6 * K; i++) nbr[i] = -1, sim[i] = 0;
    mc_constraint_input in = {K, 0, nbr, sim, 0.5, NULL, MC_ROLE_NOISE, 0};
    mc_constraint_stats st;
    CU_ASSERT_EQUAL(mc_constraints_apply(cs, &in, labels, roles, &st), MC_OK);
    CU_ASSERT_EQUAL(labels[5], 0); /* gathered to its confirmed cluster */
    CU_ASSERT_EQUAL(labels[3], -1);
    CU_ASSERT_EQUAL(labels[4], -1);
    CU_ASSERT_EQUAL(labels[0], 0);
    mc_constraints_free(cs);
}

static void test_previous(void)
{
    const char *f = write_text("old.csv",
                               "index,path,cluster,role,quality,person\n"
                               "0,p0,7,core,1,Alice\n1,p1,7,core,1,Alice\n2,p2,7,core,1,Alice\n"
                               "3,p3,9,core,1,\n4,p4,9,core,1,\n5,p5,4,core,1,Bob\n");
    mc_previous_t *p = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_previous_read_csv(f, &p), MC_OK);
    CU_ASSERT_EQUAL(mc_previous_n(p), 6);
    CU_ASSERT_EQUAL(mc_previous_n_clusters(p), 3);
    CU_ASSERT_STRING_EQUAL(mc_previous_cluster_name(p, 7), "Alice");
    CU_ASSERT_STRING_EQUAL(mc_previous_cluster_name(p, 4), "Bob");
    CU_ASSERT_PTR_NULL(mc_previous_cluster_name(p, 9));
    const char *paths[8] = {"p0", "p1", "p2", "p3", "p4", "p5", "new1", "new2"};
    int64_t old[8], out[8];
    const char *person[8];
    size_t found;
    CU_ASSERT_EQUAL(mc_previous_lookup(p, 8, paths, old, person, &found), MC_OK);
    CU_ASSERT_EQUAL(found, 6);
    CU_ASSERT_EQUAL(old[3], 9);
    CU_ASSERT_EQUAL(old[6], -1);
    CU_ASSERT_STRING_EQUAL(person[0], "Alice");
    /* 7 and 9 merge into 0, the new faces form 1, Bob's face is noise now */
    int64_t labels[8] = {0, 0, 0, 0, 0, -1, 1, 1};
    mc_carry_stats st;
    CU_ASSERT_EQUAL(mc_previous_carry(p, 8, old, labels, out, &st), MC_OK);
    CU_ASSERT_EQUAL(out[0], 7);
    CU_ASSERT_EQUAL(out[4], 7);
    CU_ASSERT_EQUAL(out[5], -1);
    CU_ASSERT_EQUAL(out[6], 10); /* fresh: after the largest previous id */
    CU_ASSERT_EQUAL(st.merged, 1);
    CU_ASSERT_EQUAL(st.added, 1);
    CU_ASSERT_EQUAL(st.gone, 1);
    CU_ASSERT_EQUAL(st.kept, 0);
    CU_ASSERT_EQUAL(st.split, 0);
    CU_ASSERT_EQUAL(st.carried, 1);
    /* 7 splits in two, 9 stays whole: kept 1, split 1 */
    int64_t l2[8] = {3, 3, 5, 2, 2, 0, -1, -1};
    CU_ASSERT_EQUAL(mc_previous_carry(p, 8, old, l2, out, &st), MC_OK);
    CU_ASSERT_EQUAL(out[3], 9);
    CU_ASSERT_EQUAL(out[0], 7); /* the larger part keeps the id */
    CU_ASSERT_EQUAL(out[2], 10);
    CU_ASSERT_EQUAL(out[5], 4);
    CU_ASSERT_EQUAL(st.split, 1);
    CU_ASSERT_EQUAL(st.kept, 2); /* 9 and Bob's 4 */
    CU_ASSERT_EQUAL(st.gone, 0);
    mc_previous_free(p);

    static const struct {
        const char *text, *detail;
    } bad[] = {
        {"", "empty file"},
        {"index,cluster\n0,1\n", "'path' and 'cluster'"},
        {"path,cluster\np0,x\n", "line 2: cluster 'x'"},
        {"path,cluster\np0,1,2\n", "line 2: 3 fields"},
    };
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        f = write_text("badprev.csv", bad[k].text);
        CU_ASSERT_EQUAL(mc_previous_read_csv(f, &p), MC_ERR_BAD_DATA);
        CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), bad[k].detail));
        CU_ASSERT_PTR_NULL(p);
    }
}

/* A photo key in HDF5: strings (empty = none) or integers (negative = none). */
/* Every accessor of a previous result, read through mc_previous_read (the
 * extension chooses the reader): the values are those written below. */
static void test_previous_accessors(void)
{
    const char *f = write_text("acc.csv",
                               "index,path,cluster,role,quality,person\n"
                               "0,a.jpg,3,core,12.5,Ann\n1,b.jpg,3,border,7.25,\n"
                               "2,c.jpg,-1,noise,1.5,\n");
    mc_previous_t *p = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_previous_read(f, &p), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_previous_n(p), 3);
    CU_ASSERT_STRING_EQUAL(mc_previous_path(p, 1), "b.jpg");
    CU_ASSERT_EQUAL(mc_previous_cluster(p, 0), 3);
    CU_ASSERT_EQUAL(mc_previous_cluster(p, 2), -1);
    CU_ASSERT_EQUAL(mc_previous_role(p, 0), MC_ROLE_CORE);
    CU_ASSERT_EQUAL(mc_previous_role(p, 1), MC_ROLE_BORDER);
    CU_ASSERT_EQUAL(mc_previous_role(p, 2), MC_ROLE_NOISE);
    CU_ASSERT_DOUBLE_EQUAL(mc_previous_quality(p, 0), 12.5, 0);
    CU_ASSERT_DOUBLE_EQUAL(mc_previous_quality(p, 1), 7.25, 0);
    CU_ASSERT_STRING_EQUAL(mc_previous_person(p, 0), "Ann");
    CU_ASSERT_PTR_NULL(mc_previous_person(p, 1));
    /* a CSV records no quality name (only HDF5 results do) */
    CU_ASSERT_PTR_NULL(mc_previous_quality_name(p));
    mc_previous_free(p);

    /* no role or quality column: role -1, quality NaN */
    f = write_text("bare.csv", "path,cluster\nx.jpg,5\n");
    p = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_previous_read(f, &p), MC_OK);
    CU_ASSERT_EQUAL(mc_previous_n(p), 1);
    CU_ASSERT_EQUAL(mc_previous_cluster(p, 0), 5);
    CU_ASSERT_EQUAL(mc_previous_role(p, 0), -1);
    CU_ASSERT_TRUE(isnan(mc_previous_quality(p, 0)));
    mc_previous_free(p);

    /* by extension: the same CSV text named .h5 goes to the HDF5 reader, which refuses it */
    f = write_text("acc.h5", "path,cluster\nx.jpg,5\n");
    p = NULL;
    mc_status st = mc_previous_read(f, &p);
    CU_ASSERT_TRUE(st == MC_ERR_IO || st == MC_ERR_HDF5);
    CU_ASSERT_PTR_NULL(p);
    CU_ASSERT_EQUAL(mc_previous_read_h5(tmp("nosuch.h5"), &p), MC_ERR_IO);
    CU_ASSERT_PTR_NULL(p);
    /* an embeddings file is no result: no /cluster dataset */
    char emb[1024];
    snprintf(emb, sizeof emb, "%s/tiny.h5", mc_test_fixture_dir);
    CU_ASSERT_EQUAL(mc_previous_read_h5(emb, &p), MC_ERR_HDF5);
    CU_ASSERT_PTR_NULL(p);
}

/* Errors name faces by their text once it is set, by index before. */
static void test_face_text(void)
{
    const int64_t photo[4] = {1, 1, 2, 3};
    const char *text[4] = {"a.jpg", "b.jpg", "c.jpg", "d.jpg"};
    for (int with_text = 0; with_text < 2; with_text++) {
        mc_constraints_t *cs = NULL;
        CU_ASSERT_EQUAL_FATAL(mc_constraints_new(4, &cs), MC_OK);
        if (with_text) mc_constraints_set_face_text(cs, text);
        CU_ASSERT_EQUAL(mc_constraints_set_groups(cs, photo, "photo key 'photo'"), MC_OK);
        /* faces 0 and 1 share a photo: they cannot be the same person */
        CU_ASSERT_EQUAL(mc_constraints_add_same(cs, 0, 1, "fix.csv: line 1"), MC_OK);
        CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
        const char *d = mc_last_error_detail();
        CU_ASSERT_PTR_NOT_NULL_FATAL(d);
        if (with_text) {
            CU_ASSERT_PTR_NOT_NULL(strstr(d, "'a.jpg'"));
            CU_ASSERT_PTR_NOT_NULL(strstr(d, "'b.jpg'"));
        } else {
            CU_ASSERT_PTR_NULL(strstr(d, "a.jpg"));
        }
        CU_ASSERT_PTR_NOT_NULL(strstr(d, "fix.csv: line 1"));
        mc_constraints_free(cs);
    }
}

static void test_group_key(void)
{
    const char *path = tmp("photo.h5");
    hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    float emb[4 * 2] = {1, 0, 0, 1, 1, 1, 1, -1};
    hsize_t d2[2] = {4, 2}, d1[1] = {4};
    hid_t sp2 = H5Screate_simple(2, d2, NULL), sp1 = H5Screate_simple(1, d1, NULL);
    hid_t ds = H5Dcreate2(f, "embeddings", H5T_IEEE_F32LE, sp2, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, emb);
    H5Dclose(ds);
    const char *photo[4] = {"IMG_1.jpg", "", "IMG_2.jpg", "IMG_1.jpg"};
    hid_t st = H5Tcopy(H5T_C_S1);
    H5Tset_size(st, H5T_VARIABLE);
    ds = H5Dcreate2(f, "photo", st, sp1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, photo);
    H5Dclose(ds);
    int64_t ph[4] = {10, 10, -1, 20};
    ds = H5Dcreate2(f, "photo_id", H5T_STD_I64LE, sp1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, ph);
    H5Dclose(ds);
    H5Tclose(st);
    H5Sclose(sp1);
    H5Sclose(sp2);
    H5Fclose(f);

    mc_h5_read_params rp = mc_h5_read_params_default();
    rp.group_key = "photo";
    mc_embeddings_t *e = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(path, &rp, &e), MC_OK);
    const int64_t *g = mc_embeddings_groups(e);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    CU_ASSERT_EQUAL(g[0], 0);
    CU_ASSERT_EQUAL(g[1], -1);
    CU_ASSERT_EQUAL(g[2], 1);
    CU_ASSERT_EQUAL(g[3], 0);
    CU_ASSERT_EQUAL(mc_embeddings_n_groups(e), 2);
    CU_ASSERT_STRING_EQUAL(mc_embeddings_group_name(e), "photo");
    mc_embeddings_free(e);
    rp.group_key = "/photo_id";
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(path, &rp, &e), MC_OK);
    g = mc_embeddings_groups(e);
    CU_ASSERT_EQUAL(g[0], g[1]);
    CU_ASSERT_EQUAL(g[2], -1);
    CU_ASSERT_NOT_EQUAL(g[3], g[0]);
    mc_embeddings_free(e);
    rp.group_key = "nope";
    CU_ASSERT_EQUAL(mc_embeddings_read_h5(path, &rp, &e), MC_ERR_HDF5);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nope"));
    rp.group_key = "embeddings";
    CU_ASSERT_NOT_EQUAL(mc_embeddings_read_h5(path, &rp, &e), MC_OK);
    /* no photo key: no groups */
    rp.group_key = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_embeddings_read_h5(path, &rp, &e), MC_OK);
    CU_ASSERT_PTR_NULL(mc_embeddings_groups(e));
    mc_embeddings_free(e);
}

/* Too many faces in one "photo": the key is wrong. */
static void test_group_limit(void)
{
    size_t n = 5000;
    int64_t *g = calloc(n, sizeof *g);
    CU_ASSERT_PTR_NOT_NULL_FATAL(g);
    mc_constraints_t *cs = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_constraints_new(n, &cs), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_set_groups(cs, g, "photo key 'camera'"), MC_OK);
    CU_ASSERT_EQUAL(mc_constraints_check(cs), MC_ERR_BAD_DATA);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "5000 faces in one group"));
    mc_constraints_free(cs);
    free(g);
}

void mc_test_register(void)
{
    add_test("same_photo", test_same_photo);
    add_test("names", test_names);
    add_test("gather", test_gather);
    add_test("fixed", test_fixed);
    add_test("conflicts", test_conflicts);
    add_test("corrections_file", test_corrections_file);
    add_test("corrections_ids", test_corrections_ids);
    add_test("previous", test_previous);
    add_test("previous_accessors", test_previous_accessors);
    add_test("face_text", test_face_text);
    add_test("group_key", test_group_key);
    add_test("group_limit", test_group_limit);
}
