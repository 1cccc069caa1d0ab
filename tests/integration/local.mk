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

# The harness is built once, as a convenience library every integration
# test links (listed before UTIL_LIBS, which it uses).
check_LTLIBRARIES = tests/integration/libharness.la
tests_integration_libharness_la_SOURCES = tests/integration/harness.c tests/integration/harness.h
tests_integration_libharness_la_CFLAGS = $(TEST_CFLAGS)
ITEST_LIBS = tests/integration/libharness.la $(UTIL_LIBS) $(TEST_LIBS)

tests_integration_test_protocol_SOURCES = tests/integration/test_protocol.c
tests_integration_test_protocol_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_protocol_LDADD = $(ITEST_LIBS)

tests_integration_test_clients_SOURCES = tests/integration/test_clients.c
tests_integration_test_clients_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_clients_LDADD = $(ITEST_LIBS)

tests_integration_test_auth_SOURCES = tests/integration/test_auth.c
tests_integration_test_auth_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_auth_LDADD = $(ITEST_LIBS)

tests_integration_test_hello_SOURCES = tests/integration/test_hello.c
tests_integration_test_hello_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_hello_LDADD = $(ITEST_LIBS)

tests_integration_test_server_cmds_SOURCES = tests/integration/test_server_cmds.c
tests_integration_test_server_cmds_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_server_cmds_LDADD = $(ITEST_LIBS)

tests_integration_test_diff_SOURCES = tests/integration/test_diff.c
tests_integration_test_diff_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_diff_LDADD = $(ITEST_LIBS)
