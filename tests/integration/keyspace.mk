# tests/integration/keyspace.mk: durability and INFO of the keyspace layer
# against a real server (group commit, restart, kill -9 under always).
check_PROGRAMS += tests/integration/test_persistence
TESTS += tests/integration/test_persistence
tests_integration_test_persistence_SOURCES = tests/integration/test_persistence.c
tests_integration_test_persistence_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_persistence_LDADD = $(ITEST_LIBS)
