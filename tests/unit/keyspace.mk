# tests/unit/keyspace.mk: the keyspace layer over a real engine.
check_PROGRAMS += tests/unit/test_keyspace
TESTS += tests/unit/test_keyspace
tests_unit_test_keyspace_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_keyspace_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
