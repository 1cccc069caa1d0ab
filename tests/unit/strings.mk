# tests/unit/strings.mk: the number helpers of the string commands.
check_PROGRAMS += tests/unit/test_cmd_string
TESTS += tests/unit/test_cmd_string
tests_unit_test_cmd_string_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_cmd_string_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
