/* Unit tests of util/log: Redis line format, level filter, per-thread role,
 * one write per line, file sink switching. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/log.h"
#include "util/zmalloc.h"
#include "util_test.h"

static char tmpdir[256];
static char logpath[300];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "%s/lsm-test-log-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(logpath, sizeof(logpath), "%s/log.txt", tmpdir);
    ck_assert_int_eq(log_open_file(logpath), 0);
    log_set_level(LOG_DEBUG);
}

static void teardown(void)
{
    log_open_file("");
    unlink(logpath);
    rmdir(tmpdir);
}

/* Whole log file as a NUL-terminated string (caller frees). */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = zmalloc((size_t)n + 1);
    ck_assert_uint_eq(fread(s, 1, (size_t)n, f), (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

START_TEST(line_has_redis_format)
{
    log_notice("hello %s %d", "world", 42);
    log_warning("careful");
    log_verbose("chatty");
    log_debug("tiny");
    char *s = slurp(logpath);
    regex_t re;
    ck_assert_int_eq(regcomp(&re,
        "^[0-9]+:M [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
        "\\* hello world 42\n"
        "[0-9]+:M [^\n]* # careful\n"
        "[0-9]+:M [^\n]* - chatty\n"
        "[0-9]+:M [^\n]* \\. tiny\n$", REG_EXTENDED), 0);
    ck_assert_msg(regexec(&re, s, 0, NULL, 0) == 0, "log was: %s", s);
    char pid[32];
    snprintf(pid, sizeof(pid), "%d:M ", (int)getpid());
    ck_assert(strncmp(s, pid, strlen(pid)) == 0);
    regfree(&re);
    zfree(s);
}
END_TEST

START_TEST(level_filter_drops_lower_levels)
{
    log_set_level(LOG_WARNING);
    ck_assert_int_eq(log_get_level(), LOG_WARNING);
    log_notice("dropped");
    log_debug("dropped");
    log_warning("kept");
    log_raw(LOG_DEBUG, "raw kept");
    char *s = slurp(logpath);
    ck_assert_int_eq(count_lines(s), 2);
    ck_assert_ptr_null(strstr(s, "dropped"));
    ck_assert_ptr_nonnull(strstr(s, "# kept\n"));
    ck_assert_ptr_nonnull(strstr(s, ". raw kept\n"));
    zfree(s);
}
END_TEST

START_TEST(raw_message_is_not_a_format)
{
    log_raw(LOG_NOTICE, "100% %s %n literal");
    char *s = slurp(logpath);
    ck_assert_ptr_nonnull(strstr(s, "* 100% %s %n literal\n"));
    zfree(s);
}
END_TEST

START_TEST(long_message_stays_one_line)
{
    char *big = zmalloc(20000);
    memset(big, 'x', 19999);
    big[19999] = '\0';
    log_notice("%s", big);
    log_notice("after");
    char *s = slurp(logpath);
    ck_assert_int_eq(count_lines(s), 2);
    ck_assert_ptr_nonnull(strstr(s, "* after\n"));
    zfree(s);
    zfree(big);
}
END_TEST

static void *role_thread(void *arg)
{
    log_set_role('B');
    log_notice("from background");
    return NULL;
}

START_TEST(role_is_per_thread)
{
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, role_thread, NULL), 0);
    pthread_join(t, NULL);
    log_notice("from main");
    char *s = slurp(logpath);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^[0-9]+:B [^\n]* from background\n[0-9]+:M [^\n]* from main\n$",
                             REG_EXTENDED), 0);
    ck_assert_msg(regexec(&re, s, 0, NULL, 0) == 0, "log was: %s", s);
    regfree(&re);
    zfree(s);
}
END_TEST

enum { WRITERS = 4, LINES = 2000 };

static void *writer_thread(void *arg)
{
    long id = (long)arg;
    log_set_role((char)('a' + id));
    for (int i = 0; i < LINES; i++)
        log_notice("writer %ld line %d %s", id, i,
                   "padding padding padding padding padding padding padding");
    return NULL;
}

START_TEST(concurrent_lines_never_interleave)
{
    pthread_t t[WRITERS];
    for (long i = 0; i < WRITERS; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, writer_thread, (void *)i), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    char *s = slurp(logpath);
    ck_assert_int_eq(count_lines(s), WRITERS * LINES);
    regex_t re;
    ck_assert_int_eq(regcomp(&re, "^[0-9]+:([a-d]) [^\n]* \\* writer ([0-9]) line [0-9]+ (padding ?){7}$",
                             REG_EXTENDED), 0);
    int next[WRITERS] = { 0 };
    for (char *line = strtok(s, "\n"); line; line = strtok(NULL, "\n")) {
        regmatch_t m[3];
        if (regexec(&re, line, 3, m, 0) != 0)
            ck_abort_msg("bad line: %s", line);
        int role = line[m[1].rm_so] - 'a', id = line[m[2].rm_so] - '0';
        if (role != id)
            ck_abort_msg("role %c on writer %d", line[m[1].rm_so], id);
        int n = atoi(strstr(line, " line ") + 6);
        if (n != next[id]++)
            ck_abort_msg("writer %d: line %d out of order", id, n);
    }
    regfree(&re);
    zfree(s);
}
END_TEST

START_TEST(open_failure_keeps_previous_sink)
{
    char bad[400];
    snprintf(bad, sizeof(bad), "%s/no/such/dir/log", tmpdir);
    ck_assert_int_eq(log_open_file(bad), -ENOENT);
    log_notice("still here");
    char *s = slurp(logpath);
    ck_assert_ptr_nonnull(strstr(s, "still here"));
    zfree(s);
}
END_TEST

START_TEST(reopen_switches_file_and_empty_means_stdout)
{
    char second[400];
    snprintf(second, sizeof(second), "%s/second.txt", tmpdir);
    log_notice("one");
    ck_assert_int_eq(log_open_file(second), 0);
    log_notice("two");
    /* "" = stdout: point fd 1 at a file to see where the line goes */
    char out[400];
    snprintf(out, sizeof(out), "%s/stdout.txt", tmpdir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    ck_assert_int_eq(log_open_file(""), 0);
    log_notice("three");
    ck_assert_int_eq(log_open_file(NULL), 0);
    log_notice("four");
    dup2(saved, STDOUT_FILENO);
    close(saved);
    char *a = slurp(logpath), *b = slurp(second), *c = slurp(out);
    ck_assert(strstr(a, "one") && !strstr(a, "two") && !strstr(a, "three"));
    ck_assert(strstr(b, "two") && !strstr(b, "one") && !strstr(b, "three"));
    ck_assert(strstr(c, "three") && strstr(c, "four") && !strstr(c, "two"));
    zfree(a);
    zfree(b);
    zfree(c);
    unlink(second);
    unlink(out);
}
END_TEST

START_TEST(errno_is_preserved)
{
    errno = EAGAIN;
    log_notice("x");
    ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("log");
    TCase *tc = tcase_create("log");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, line_has_redis_format);
    tcase_add_test(tc, level_filter_drops_lower_levels);
    tcase_add_test(tc, raw_message_is_not_a_format);
    tcase_add_test(tc, long_message_stays_one_line);
    tcase_add_test(tc, role_is_per_thread);
    tcase_add_test(tc, concurrent_lines_never_interleave);
    tcase_add_test(tc, open_failure_keeps_previous_sink);
    tcase_add_test(tc, reopen_switches_file_and_empty_means_stdout);
    tcase_add_test(tc, errno_is_preserved);
    suite_add_tcase(s, tc);
    return ut_run(s);
}
