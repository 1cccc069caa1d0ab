# tests/unit/util.mk: Check suites of src/util (one per module).
UTIL_UNIT_TESTS = \
	tests/unit/test_slice \
	tests/unit/test_coding \
	tests/unit/test_crc32c \
	tests/unit/test_arena \
	tests/unit/test_hash \
	tests/unit/test_idmap \
	tests/unit/test_clock \
	tests/unit/test_log \
	tests/unit/test_tpool \
	tests/unit/test_io
check_PROGRAMS += $(UTIL_UNIT_TESTS)
TESTS += $(UTIL_UNIT_TESTS)
EXTRA_DIST += tests/unit/util_test.h

tests_unit_test_slice_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_slice_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_coding_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_coding_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_crc32c_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_crc32c_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_arena_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_arena_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_hash_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hash_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_idmap_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_idmap_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_clock_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_clock_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_log_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_log_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_tpool_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_tpool_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
tests_unit_test_io_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_io_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
