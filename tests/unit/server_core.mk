# tests/unit/server_core.mk: unit suites of the server core (event loop, accept
# decisions and listeners; the command table).
check_PROGRAMS += tests/unit/test_net
TESTS += tests/unit/test_net
tests_unit_test_net_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_net_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_commands
TESTS += tests/unit/test_commands
tests_unit_test_commands_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_commands_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_ae
TESTS += tests/unit/test_ae
tests_unit_test_ae_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_ae_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_lathist
TESTS += tests/unit/test_lathist
tests_unit_test_lathist_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_lathist_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
