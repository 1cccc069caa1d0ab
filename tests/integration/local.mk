# tests/integration/local.mk: integration tests driving a real lsmdb-server
# (tests/integration/harness.c starts it from $LSMDB_SERVER on a free
# 127.0.0.1 port and stops it by PID). Each test prints TAP (tests/tap.h).
ITEST_TESTS = \
	tests/integration/test_protocol \
	tests/integration/test_clients \
	tests/integration/test_auth \
	tests/integration/test_hello \
	tests/integration/test_server_cmds \
	tests/integration/test_diff
check_PROGRAMS += $(ITEST_TESTS)
TESTS += $(ITEST_TESTS)

tests_integration_test_protocol_SOURCES = tests/integration/test_protocol.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_protocol_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_protocol_LDADD = $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_clients_SOURCES = tests/integration/test_clients.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_clients_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_clients_LDADD = $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_auth_SOURCES = tests/integration/test_auth.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_auth_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_auth_LDADD = $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_hello_SOURCES = tests/integration/test_hello.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_hello_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_hello_LDADD = $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_server_cmds_SOURCES = tests/integration/test_server_cmds.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_server_cmds_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_server_cmds_LDADD = $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_diff_SOURCES = tests/integration/test_diff.c tests/integration/harness.c tests/integration/harness.h
tests_integration_test_diff_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_diff_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
