# tests/unit/log.mk: unit suites of the engine's log and memory parts.
check_PROGRAMS += tests/unit/test_batch tests/unit/test_wal \
	tests/unit/test_skiplist tests/unit/test_memtable
TESTS += tests/unit/test_batch tests/unit/test_wal \
	tests/unit/test_skiplist tests/unit/test_memtable
tests_unit_test_batch_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_batch_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_wal_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_wal_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_skiplist_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_skiplist_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_memtable_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_memtable_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
