# utils/fuzz/glob.mk: the glob matcher of KEYS, SCAN MATCH, CONFIG GET (fuzz_glob.c).
check_PROGRAMS += utils/fuzz/replay_glob
TESTS += utils/fuzz/replay_glob
utils_fuzz_replay_glob_SOURCES = utils/fuzz/fuzz_glob.c utils/fuzz/replay.c
utils_fuzz_replay_glob_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_glob
FUZZ_TARGETS += utils/fuzz/fuzz_glob
utils_fuzz_fuzz_glob_SOURCES = utils/fuzz/fuzz_glob.c
utils_fuzz_fuzz_glob_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_glob_LDADD = $(SERVER_LIBS)
endif
