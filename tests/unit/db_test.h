/* db_test.h: helpers shared by the engine-core unit suites (test_db,
 * test_version, test_compaction): temporary directories. Header-only. */
#ifndef LSM_TESTS_UNIT_DB_TEST_H
#define LSM_TESTS_UNIT_DB_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A fresh empty directory under $TMPDIR (or /tmp); path in buf. */
static inline void dt_mkdtemp(char *buf, size_t n)
{
    const char *t = getenv("TMPDIR");
    snprintf(buf, n, "%s/lsmdb-test-XXXXXX", t && *t ? t : "/tmp");
    if (mkdtemp(buf) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

static inline void dt_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", dir);
}

/* Number of files in dir whose name ends with suffix. */
static inline int dt_count_files(const char *dir, const char *suffix)
{
    char cmd[4200];
    FILE *p;
    int n = 0;
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c -- '%s$'", dir, suffix);
    p = popen(cmd, "r");
    if (p != NULL) {
        if (fscanf(p, "%d", &n) != 1)
            n = 0;
        pclose(p);
    }
    return n;
}

#endif
