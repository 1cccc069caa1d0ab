# tests/integration/strings.mk: the string commands against a real server
# (test_strings) and the differential test against redis-server (test_diff_strings).
STRINGS_ITESTS = tests/integration/test_strings tests/integration/test_diff_strings
check_PROGRAMS += $(STRINGS_ITESTS)
TESTS += $(STRINGS_ITESTS)

tests_integration_test_strings_SOURCES = tests/integration/test_strings.c
tests_integration_test_strings_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_strings_LDADD = $(ITEST_LIBS)

tests_integration_test_diff_strings_SOURCES = tests/integration/test_diff_strings.c
tests_integration_test_diff_strings_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_diff_strings_LDADD = $(ITEST_LIBS)
