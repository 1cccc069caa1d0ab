# tests/integration/migrate.mk: MIGRATE from a source server to a target
# (COPY, REPLACE, KEYS, AUTH/AUTH2, SELECT, errors, timeouts, the cached
# connection) against real servers (test_migrate).
MIGRATE_ITESTS = tests/integration/test_migrate
check_PROGRAMS += $(MIGRATE_ITESTS)
TESTS += $(MIGRATE_ITESTS)

tests_integration_test_migrate_SOURCES = tests/integration/test_migrate.c
tests_integration_test_migrate_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_migrate_LDADD = $(ITEST_LIBS)
