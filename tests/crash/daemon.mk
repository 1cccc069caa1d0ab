# tests/crash/daemon.mk: kill -9 of a real lsmdb-server under appendfsync
# always (test_daemon_crash: ROUNDS= rounds, default 20; SEED= replays).
check_PROGRAMS += tests/crash/test_daemon_crash
TESTS += tests/crash/test_daemon_crash
tests_crash_test_daemon_crash_SOURCES = tests/crash/test_daemon_crash.c tests/integration/harness.c tests/integration/harness.h
tests_crash_test_daemon_crash_CFLAGS = $(TEST_CFLAGS)
tests_crash_test_daemon_crash_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
