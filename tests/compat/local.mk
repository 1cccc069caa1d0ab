# tests/compat/local.mk: the server through real clients (redis-cli, python3
# redis). Each script prints TAP and skips itself when its tool is absent;
# lsmdbsrv.py starts/stops the server ($LSMDB_SERVER) by PID.
# (check_SCRIPTS + EXTRA_DIST = dist_check_SCRIPTS, which Makefile.am does
# not initialise, so it cannot be appended to here.)
COMPAT_TESTS = tests/compat/test_redis_cli.py tests/compat/test_redis_py.py \
	tests/compat/test_shutdown_flush.py
check_SCRIPTS += $(COMPAT_TESTS)
TESTS += $(COMPAT_TESTS)
EXTRA_DIST += $(COMPAT_TESTS) tests/compat/lsmdbsrv.py
