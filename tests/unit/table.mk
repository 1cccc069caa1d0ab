# tests/unit/table.mk: unit suites of the table layer (block, bloom, sst,
# block cache, table cache).
check_PROGRAMS += tests/unit/test_block tests/unit/test_bloom tests/unit/test_sst \
	tests/unit/test_cache tests/unit/test_table_cache
TESTS += tests/unit/test_block tests/unit/test_bloom tests/unit/test_sst \
	tests/unit/test_cache tests/unit/test_table_cache
EXTRA_DIST += tests/unit/table_test.h
tests_unit_test_block_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_block_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_bloom_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_bloom_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_sst_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_sst_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_cache_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cache_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_table_cache_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_table_cache_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
