# tests/unit/stress.mk: concurrent stress of the engine with the server's
# workload (writers + lsm_sync, readers and held iterators, snapshots,
# lsm_compact_range, flushes, a compaction filter). DURATION=, SEED=.
check_PROGRAMS += tests/unit/test_stress
TESTS += tests/unit/test_stress
tests_unit_test_stress_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_stress_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
