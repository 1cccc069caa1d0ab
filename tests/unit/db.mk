# tests/unit/db.mk: unit suites of the engine core (keys, iterators,
# versions/manifest, compaction picker, the db API).
check_PROGRAMS += tests/unit/test_dbformat tests/unit/test_iter tests/unit/test_version tests/unit/test_compaction tests/unit/test_db
TESTS += tests/unit/test_dbformat tests/unit/test_iter tests/unit/test_version tests/unit/test_compaction tests/unit/test_db
tests_unit_test_dbformat_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dbformat_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_iter_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_iter_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_db_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_db_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_version_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_version_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_compaction_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_compaction_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
EXTRA_DIST += tests/unit/db_test.h
