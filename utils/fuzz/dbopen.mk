# utils/fuzz/dbopen.mk: opening a damaged database (fuzz_dbopen.c).
check_PROGRAMS += utils/fuzz/replay_dbopen
TESTS += utils/fuzz/replay_dbopen
utils_fuzz_replay_dbopen_SOURCES = utils/fuzz/fuzz_dbopen.c utils/fuzz/replay.c
utils_fuzz_replay_dbopen_LDADD = $(ENGINE_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_dbopen
FUZZ_TARGETS += utils/fuzz/fuzz_dbopen
utils_fuzz_fuzz_dbopen_SOURCES = utils/fuzz/fuzz_dbopen.c
utils_fuzz_fuzz_dbopen_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_dbopen_LDADD = $(ENGINE_LIBS)
endif
