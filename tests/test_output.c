/* CUnit suite for output.h: files written atomically (a temporary beside the
 * destination, renamed over it), abandoned outputs, and what is never
 * replaced. Everything happens in a mkdtemp directory under /tmp. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "magclust/output.h"
#include "test_common.h"

const char *mc_test_suite_name = "output";

static char dir[64];

static const char *path_in(const char *name)
{
    static char bufs[4][512];
    static unsigned next;
    char *b = bufs[next++ % 4];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/mc_output_XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

/* Entries of the directory (dot files too), and whether one is a temporary. */
static size_t count_entries(int *temporaries)
{
    size_t n = 0;
    *temporaries = 0;
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        n++;
        if (strstr(e->d_name, ".tmp")) (*temporaries)++;
    }
    closedir(d);
    return n;
}

static void remove_dir(void)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        unlink(path_in(e->d_name));
    }
    closedir(d);
    rmdir(dir);
}

static char *slurp(const char *path)
{
    static char buf[256];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    fclose(f);
}

static void test_commit_replaces(void)
{
    make_dir();
    const char *p = path_in("out.txt");
    put(p, "old\n");
    mc_output_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_output_open(p, &o), MC_OK);
    FILE *f = mc_output_file(o);
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs("new\n", f);
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 2); /* the temporary lies beside it */
    CU_ASSERT_EQUAL(temps, 1);
    CU_ASSERT_STRING_EQUAL(slurp(p), "old\n"); /* untouched until the commit */
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_OK);
    CU_ASSERT_PTR_NULL(mc_output_file(o));
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_INVALID_ARG);
    mc_output_free(o);
    CU_ASSERT_STRING_EQUAL(slurp(p), "new\n");
    CU_ASSERT_EQUAL(count_entries(&temps), 1);
    CU_ASSERT_EQUAL(temps, 0);
    /* the mode fopen() would give */
    mode_t mask = umask(022);
    umask(mask);
    struct stat st;
    CU_ASSERT_EQUAL(stat(p, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0666 & ~mask);
    remove_dir();
}

static void test_free_abandons(void)
{
    make_dir();
    const char *p = path_in("kept.txt"), *q = path_in("new.txt");
    put(p, "old\n");
    mc_output_t *o = NULL, *o2 = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_output_open(p, &o), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(q, &o2), MC_OK);
    fputs("half", mc_output_file(o));
    mc_output_free(o);
    mc_output_free(o2);
    mc_output_free(NULL);
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 1);
    CU_ASSERT_EQUAL(temps, 0);
    CU_ASSERT_STRING_EQUAL(slurp(p), "old\n");
    CU_ASSERT_NOT_EQUAL(access(q, F_OK), 0);
    remove_dir();
}

static void test_temporary_registered(void)
{
    make_dir();
    mc_output_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_output_open(path_in("sig.txt"), &o), MC_OK);
    int temps;
    count_entries(&temps);
    CU_ASSERT_EQUAL(temps, 1);
    mc_remove_temporaries(); /* what a signal handler does */
    CU_ASSERT_EQUAL(count_entries(&temps), 0);
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO); /* nothing left to rename */
    mc_output_free(o);
    CU_ASSERT_EQUAL(count_entries(&temps), 0);
    remove_dir();
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fputs(text, f);
    CU_ASSERT_EQUAL(fclose(f), 0);
}

static int file_is(const char *path, const char *text)
{
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t got = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    return got == strlen(text) && memcmp(buf, text, got) == 0;
}

/* A caller's own temporary, registered, is removed by mc_remove_temporaries. */
static void test_register_temporary(void)
{
    make_dir();
    const char *t = path_in("mine.tmp");
    write_file(t, "x");
    mc_register_temporary(t);
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 1);
    mc_remove_temporaries();
    CU_ASSERT_EQUAL(access(t, F_OK), -1);
    CU_ASSERT_EQUAL(count_entries(&temps), 0);
    remove_dir();
}

/* Two outputs committed together: both land, no temporary stays. */
static void test_outputs_set(void)
{
    make_dir();
    mc_outputs_t *s = NULL;
    const char *ta = NULL, *tb = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_outputs_new(&s), MC_OK);
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("a.csv"), 0, &ta), MC_OK);
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("b.h5"), 0, &tb), MC_OK);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ta);
    CU_ASSERT_PTR_NOT_NULL_FATAL(tb);
    CU_ASSERT_STRING_NOT_EQUAL(ta, path_in("a.csv"));
    /* the same destination twice, or none, is refused */
    const char *tc = NULL;
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("a.csv"), 0, &tc), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_outputs_add(s, "", 0, &tc), MC_ERR_INVALID_ARG);
    write_file(ta, "A");
    write_file(tb, "B");
    CU_ASSERT_EQUAL(mc_outputs_commit(s), MC_OK);
    CU_ASSERT_TRUE(file_is(path_in("a.csv"), "A"));
    CU_ASSERT_TRUE(file_is(path_in("b.h5"), "B"));
    CU_ASSERT_EQUAL(mc_outputs_commit(s), MC_ERR_INVALID_ARG); /* committed already */
    mc_outputs_free(s);
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 2);
    CU_ASSERT_EQUAL(temps, 0);

    /* one temporary not written: nothing is renamed, the old files stay */
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_outputs_new(&s), MC_OK);
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("a.csv"), 1, &ta), MC_OK);
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("b.h5"), 1, &tb), MC_OK);
    write_file(ta, "A2");
    CU_ASSERT_EQUAL(mc_outputs_commit(s), MC_ERR_IO);
    CU_ASSERT_TRUE(file_is(path_in("a.csv"), "A"));
    mc_outputs_free(s); /* removes the temporary a.csv's */
    CU_ASSERT_EQUAL(count_entries(&temps), 2);
    CU_ASSERT_EQUAL(temps, 0);

    /* replace 0 and a destination that exists: refused, left alone */
    s = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_outputs_new(&s), MC_OK);
    CU_ASSERT_EQUAL(mc_outputs_add(s, path_in("a.csv"), 0, &ta), MC_OK);
    write_file(ta, "A3");
    CU_ASSERT_EQUAL(mc_outputs_commit(s), MC_ERR_IO);
    CU_ASSERT_TRUE(file_is(path_in("a.csv"), "A"));
    mc_outputs_free(s);
    mc_outputs_free(NULL);
    CU_ASSERT_EQUAL(count_entries(&temps), 2);
    CU_ASSERT_EQUAL(temps, 0);
    remove(path_in("a.csv"));
    remove(path_in("b.h5"));
    remove_dir();
}

static void test_never_replaced(void)
{
    make_dir();
    /* a pipe */
    const char *fifo = path_in("fifo");
    CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
    mc_output_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_output_open(fifo, &o), MC_OK);
    fputs("x\n", mc_output_file(o));
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "not a regular file"));
    mc_output_free(o);
    struct stat st;
    CU_ASSERT(lstat(fifo, &st) == 0 && S_ISFIFO(st.st_mode));
    /* a directory */
    const char *sub = path_in("sub");
    CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0700), 0);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(sub, &o), MC_OK);
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO);
    mc_output_free(o);
    CU_ASSERT(stat(sub, &st) == 0 && S_ISDIR(st.st_mode));
    /* a link to a regular file, and a dangling one: neither the link nor
     * its target is replaced */
    const char *target = path_in("target.txt"), *link = path_in("link.txt");
    put(target, "target\n");
    CU_ASSERT_EQUAL_FATAL(symlink(target, link), 0);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(link, &o), MC_OK);
    fputs("new\n", mc_output_file(o));
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "is a symbolic link"));
    mc_output_free(o);
    CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT_STRING_EQUAL(slurp(target), "target\n");
    unlink(link);
    CU_ASSERT_EQUAL_FATAL(symlink(path_in("nowhere.txt"), link), 0);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(link, &o), MC_OK);
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO);
    mc_output_free(o);
    CU_ASSERT(lstat(link, &st) == 0 && S_ISLNK(st.st_mode));
    CU_ASSERT(access(path_in("nowhere.txt"), F_OK) != 0);
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 4);
    CU_ASSERT_EQUAL(temps, 0);
    rmdir(sub);
    remove_dir();
}

/* An output required new is committed without replacing: a file that
 * appeared there meanwhile (another run) stays, and the commit says so. */
static void test_require_new(void)
{
    make_dir();
    const char *p = path_in("new.txt");
    char path[128];
    snprintf(path, sizeof path, "%s", p);
    CU_ASSERT_EQUAL_FATAL(mc_output_require_new(path), MC_OK);
    mc_output_t *o = NULL;
    CU_ASSERT_EQUAL_FATAL(mc_output_open(path, &o), MC_OK);
    fputs("mine\n", mc_output_file(o));
    put(path, "theirs\n"); /* another run commits first */
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "exists now"));
    mc_output_free(o);
    CU_ASSERT_STRING_EQUAL(slurp(path), "theirs\n");
    int temps;
    CU_ASSERT_EQUAL(count_entries(&temps), 1);
    CU_ASSERT_EQUAL(temps, 0);
    /* with the path free, the commit goes through */
    unlink(path);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(path, &o), MC_OK);
    fputs("mine\n", mc_output_file(o));
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_OK);
    mc_output_free(o);
    CU_ASSERT_STRING_EQUAL(slurp(path), "mine\n");
    /* forgotten: an existing file is replaced again */
    CU_ASSERT_EQUAL(mc_output_require_new(NULL), MC_OK);
    CU_ASSERT_EQUAL_FATAL(mc_output_open(path, &o), MC_OK);
    fputs("again\n", mc_output_file(o));
    CU_ASSERT_EQUAL(mc_output_commit(o), MC_OK);
    mc_output_free(o);
    CU_ASSERT_STRING_EQUAL(slurp(path), "again\n");
    /* at most 16 a thread */
    mc_status last = MC_OK;
    for (int i = 0; i < 17; i++) last = mc_output_require_new("x");
    CU_ASSERT_EQUAL(last, MC_ERR_NOMEM);
    CU_ASSERT_EQUAL(mc_output_require_new(NULL), MC_OK);
    remove_dir();
}

static void test_refusals(void)
{
    mc_output_t *o = (mc_output_t *)1;
    CU_ASSERT_EQUAL(mc_output_open("/nonexistent-dir-of-magclust/x.csv", &o), MC_ERR_IO);
    CU_ASSERT_PTR_NULL(o);
    CU_ASSERT_PTR_NOT_NULL(strstr(mc_last_error_detail(), "/nonexistent-dir-of-magclust/x.csv: cannot create"));
    CU_ASSERT_EQUAL(mc_output_open(NULL, &o), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_output_open("", &o), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_output_open("x.csv", NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(mc_output_commit(NULL), MC_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(mc_output_file(NULL));
}

void mc_test_register(void)
{
    add_test("test_commit_replaces", test_commit_replaces);
    add_test("test_free_abandons", test_free_abandons);
    add_test("test_temporary_registered", test_temporary_registered);
    add_test("test_register_temporary", test_register_temporary);
    add_test("test_outputs_set", test_outputs_set);
    add_test("test_never_replaced", test_never_replaced);
    add_test("test_require_new", test_require_new);
    add_test("test_refusals", test_refusals);
}
