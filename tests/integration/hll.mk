# tests/integration/hll.mk: the HyperLogLog commands (PFADD PFCOUNT PFMERGE
# PFDEBUG PFSELFTEST) and hll-sparse-max-bytes against a real server
# (test_hll).
HLL_ITESTS = tests/integration/test_hll
check_PROGRAMS += $(HLL_ITESTS)
TESTS += $(HLL_ITESTS)

tests_integration_test_hll_SOURCES = tests/integration/test_hll.c
tests_integration_test_hll_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_hll_LDADD = $(ITEST_LIBS)
