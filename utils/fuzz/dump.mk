# utils/fuzz/dump.mk: RESTORE's reading of DUMP payloads and LZF (fuzz_dump.c).
check_PROGRAMS += utils/fuzz/replay_dump
TESTS += utils/fuzz/replay_dump
utils_fuzz_replay_dump_SOURCES = utils/fuzz/fuzz_dump.c utils/fuzz/replay.c
utils_fuzz_replay_dump_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_dump
FUZZ_TARGETS += utils/fuzz/fuzz_dump
utils_fuzz_fuzz_dump_SOURCES = utils/fuzz/fuzz_dump.c
utils_fuzz_fuzz_dump_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_dump_LDADD = $(SERVER_LIBS)
endif
