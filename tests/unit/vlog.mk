# tests/unit/vlog.mk: value log (issue 5): format, reader/writer, torn tails,
# pointers, discard accounting, GC correctness, corruption.
check_PROGRAMS += tests/unit/test_vlog
TESTS += tests/unit/test_vlog
tests_unit_test_vlog_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_vlog_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
