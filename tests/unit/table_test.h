/* table_test.h: the main() shared by the table-layer suites that work in a
 * temporary directory (test_sst, test_table_cache). Header-only. */
#ifndef LSM_TESTS_UNIT_TABLE_TEST_H
#define LSM_TESTS_UNIT_TABLE_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/io.h"

static inline int tt_rm_entry(const char *name, void *arg)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", (const char *)arg, name);
    unlink(p);
    return 0;
}

/* Sets *seed from $SEED (else the time) and prints it as "# NAME SEED=n",
 * makes a fresh directory NAME.XXXXXX under $TMPDIR (or /tmp) in dir, runs
 * the suite make_suite() returns, then removes the directory's files and
 * the directory. Returns main()'s exit status. */
static inline int tt_main(const char *name, Suite *(*make_suite)(void), unsigned *seed,
                          char *dir, size_t dirlen)
{
    const char *env = getenv("SEED");
    const char *tmp = getenv("TMPDIR");
    *seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
    printf("# %s SEED=%u\n", name, *seed);
    fflush(stdout);
    snprintf(dir, dirlen, "%s/%s.XXXXXX", tmp ? tmp : "/tmp", name);
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    SRunner *sr = srunner_create(make_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    io_list_dir(io_env_posix(), dir, tt_rm_entry, dir);
    rmdir(dir);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
