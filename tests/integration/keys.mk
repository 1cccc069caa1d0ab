# tests/integration/keys.mk: the generic key/db commands (test_keys), expiry
# (test_expire), SCAN (test_scan) and MULTI/EXEC/WATCH (test_multi) against
# a real server, and which writes abort a WATCH, against redis-server
# (test_diff_watch).
KEYS_ITESTS = tests/integration/test_keys tests/integration/test_expire \
	tests/integration/test_scan tests/integration/test_multi \
	tests/integration/test_diff_watch
check_PROGRAMS += $(KEYS_ITESTS)
TESTS += $(KEYS_ITESTS)
EXTRA_DIST += tests/integration/keys_common.h

tests_integration_test_keys_SOURCES = tests/integration/test_keys.c
tests_integration_test_keys_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_keys_LDADD = $(ITEST_LIBS)

tests_integration_test_expire_SOURCES = tests/integration/test_expire.c
tests_integration_test_expire_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_expire_LDADD = $(ITEST_LIBS)

tests_integration_test_scan_SOURCES = tests/integration/test_scan.c
tests_integration_test_scan_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_scan_LDADD = $(ITEST_LIBS)

tests_integration_test_multi_SOURCES = tests/integration/test_multi.c
tests_integration_test_multi_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_multi_LDADD = $(ITEST_LIBS)

tests_integration_test_diff_watch_SOURCES = tests/integration/test_diff_watch.c
tests_integration_test_diff_watch_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_diff_watch_LDADD = $(ITEST_LIBS)
