# utils/fuzz/server.mk: command streams through the whole server (fuzz_server.c).
check_PROGRAMS += utils/fuzz/replay_server
TESTS += utils/fuzz/replay_server
utils_fuzz_replay_server_SOURCES = utils/fuzz/fuzz_server.c utils/fuzz/replay.c
utils_fuzz_replay_server_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_server
FUZZ_TARGETS += utils/fuzz/fuzz_server
utils_fuzz_fuzz_server_SOURCES = utils/fuzz/fuzz_server.c
utils_fuzz_fuzz_server_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_server_LDADD = $(SERVER_LIBS)
endif
