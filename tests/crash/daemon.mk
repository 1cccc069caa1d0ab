# tests/crash/daemon.mk: kill -9 of a real lsmdb-server under appendfsync
# always (test_daemon_crash: ROUNDS= rounds, default 20; SEED= replays).
check_PROGRAMS += tests/crash/test_daemon_crash
TESTS += tests/crash/test_daemon_crash
tests_crash_test_daemon_crash_SOURCES = tests/crash/test_daemon_crash.c tests/crash/powerloss.h tests/integration/harness.c tests/integration/harness.h
tests_crash_test_daemon_crash_CFLAGS = $(TEST_CFLAGS)
tests_crash_test_daemon_crash_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
# syncshim.so: LD_PRELOADed into the server by the power-loss tests (keeps
# a copy of each file at its fsync, and a directory's names at its fsync).
check_PROGRAMS += tests/crash/syncshim.so
tests_crash_syncshim_so_SOURCES = tests/crash/syncshim.c
tests_crash_syncshim_so_CPPFLAGS =
# not $(AM_CFLAGS): no sanitizers in a library preloaded into any server
tests_crash_syncshim_so_CFLAGS = -std=gnu11 -Wall -Wextra -Werror -fPIC
tests_crash_syncshim_so_LDFLAGS = -shared -fPIC
tests_crash_syncshim_so_LDADD = -ldl
# (linked without libtool: configure disables shared libraries)
tests_crash_syncshim_so_LINK = $(CCLD) $(tests_crash_syncshim_so_CFLAGS) $(CFLAGS) $(tests_crash_syncshim_so_LDFLAGS) $(LDFLAGS) -o $@
# SAVE / BGSAVE durability under appendfsync no, with simulated power loss.
check_PROGRAMS += tests/crash/test_save_powerloss
TESTS += tests/crash/test_save_powerloss
tests_crash_test_save_powerloss_SOURCES = tests/crash/test_save_powerloss.c tests/crash/powerloss.h tests/integration/harness.c tests/integration/harness.h
tests_crash_test_save_powerloss_CFLAGS = $(TEST_CFLAGS)
tests_crash_test_save_powerloss_LDADD = $(UTIL_LIBS) $(TEST_LIBS)
