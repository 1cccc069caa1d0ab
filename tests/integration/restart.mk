# tests/integration/restart.mk: data, TTLs, DBSIZE and INFO keyspace across
# SHUTDOWN / SIGTERM restarts, kill -9 under everysec, and a full disk
# (a small tmpfs, skipped when it cannot be mounted).
check_PROGRAMS += tests/integration/test_restart
TESTS += tests/integration/test_restart
tests_integration_test_restart_SOURCES = tests/integration/test_restart.c tests/crash/powerloss.h
tests_integration_test_restart_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_restart_LDADD = $(ITEST_LIBS)
# the power-loss simulation preloads tests/crash/syncshim.so (daemon.mk)
EXTRA_tests_integration_test_restart_DEPENDENCIES = tests/crash/syncshim.so
