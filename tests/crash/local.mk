# tests/crash/local.mk: crash tests. test_crash (TAP) runs crash_writer as a
# child and kills it with SIGKILL, then checks recovery; it also crashes the
# fault-injecting env in-process (sync=1 and group commit).
check_PROGRAMS += tests/crash/test_crash tests/crash/crash_writer
TESTS += tests/crash/test_crash
tests_crash_test_crash_SOURCES = tests/crash/test_crash.c tests/crash/crash_common.h
tests_crash_test_crash_CFLAGS = $(TEST_CFLAGS)
tests_crash_test_crash_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_crash_crash_writer_SOURCES = tests/crash/crash_writer.c tests/crash/crash_common.h
tests_crash_crash_writer_CFLAGS = $(TEST_CFLAGS)
tests_crash_crash_writer_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
