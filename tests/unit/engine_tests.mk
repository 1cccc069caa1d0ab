# tests/unit/engine_tests.mk: engine tests through the public API lsm.h
# (model-based randomized test, fault injection). TAP via tests/tap.h.
# Crash tests: tests/crash/local.mk.
check_PROGRAMS += tests/unit/test_model tests/unit/test_fault
TESTS += tests/unit/test_model tests/unit/test_fault
tests_unit_test_model_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_model_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
tests_unit_test_fault_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_fault_LDADD = $(ENGINE_LIBS) $(TEST_LIBS)
