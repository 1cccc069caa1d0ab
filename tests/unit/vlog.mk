# tests/unit/vlog.mk: value log (issue 5): format, reader/writer, torn tails,
# pointers, discard accounting, GC correctness, corruption.
check_PROGRAMS += tests/unit/test_vlog
TESTS += tests/unit/test_vlog
tests_unit_test_vlog_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_vlog_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_vlog_gc
TESTS += tests/unit/test_vlog_gc
tests_unit_test_vlog_gc_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_vlog_gc_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
# Crash tests of the value log (kill -9 and fault env during writes and GC).
check_PROGRAMS += tests/crash/test_vlog_crash
TESTS += tests/crash/test_vlog_crash
tests_crash_test_vlog_crash_CFLAGS = $(TEST_CFLAGS)
tests_crash_test_vlog_crash_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
# GC passes racing flushes with tiny memtables: no hang (Check timeout).
check_PROGRAMS += tests/unit/test_vlog_gc_pool
TESTS += tests/unit/test_vlog_gc_pool
tests_unit_test_vlog_gc_pool_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_vlog_gc_pool_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
