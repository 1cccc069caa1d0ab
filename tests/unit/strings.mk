# tests/unit/strings.mk: the number helpers of the string commands, DUMP payloads.
check_PROGRAMS += tests/unit/test_cmd_string
TESTS += tests/unit/test_cmd_string
tests_unit_test_cmd_string_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cmd_string_LDADD = $(SERVER_LIBS) $(TEST_LIBS)

# DUMP/RESTORE payloads, CRC-64, LZF.
check_PROGRAMS += tests/unit/test_dump
TESTS += tests/unit/test_dump
tests_unit_test_dump_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_dump_LDADD = $(SERVER_LIBS) $(TEST_LIBS)

# The HyperLogLog format (server/hll): Redis' bytes and estimates.
check_PROGRAMS += tests/unit/test_hll
TESTS += tests/unit/test_hll
tests_unit_test_hll_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_hll_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
