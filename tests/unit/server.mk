# tests/unit/server.mk
# --- resp/reply (protocol layer) ---
check_PROGRAMS += tests/unit/test_resp
TESTS += tests/unit/test_resp
tests_unit_test_resp_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_resp_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_reply
TESTS += tests/unit/test_reply
tests_unit_test_reply_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_reply_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
# --- end resp/reply ---
# --- config and glob ---
check_PROGRAMS += tests/unit/test_glob
TESTS += tests/unit/test_glob
tests_unit_test_glob_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_glob_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
check_PROGRAMS += tests/unit/test_config
TESTS += tests/unit/test_config
tests_unit_test_config_CFLAGS = $(TEST_CFLAGS)
tests_unit_test_config_LDADD = $(SERVER_LIBS) $(TEST_LIBS)
# --- end config and glob ---
