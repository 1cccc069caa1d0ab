# utils/fuzz/resp.mk: the request parser (fuzz_resp.c).
check_PROGRAMS += utils/fuzz/replay_resp
TESTS += utils/fuzz/replay_resp
utils_fuzz_replay_resp_SOURCES = utils/fuzz/fuzz_resp.c utils/fuzz/replay.c
utils_fuzz_replay_resp_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_resp
FUZZ_TARGETS += utils/fuzz/fuzz_resp
utils_fuzz_fuzz_resp_SOURCES = utils/fuzz/fuzz_resp.c
utils_fuzz_fuzz_resp_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_resp_LDADD = $(SERVER_LIBS)
endif
