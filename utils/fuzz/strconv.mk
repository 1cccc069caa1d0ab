# utils/fuzz/strconv.mk: the number conversions of command arguments (fuzz_strconv.c).
check_PROGRAMS += utils/fuzz/replay_strconv
TESTS += utils/fuzz/replay_strconv
utils_fuzz_replay_strconv_SOURCES = utils/fuzz/fuzz_strconv.c utils/fuzz/replay.c
utils_fuzz_replay_strconv_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_strconv
FUZZ_TARGETS += utils/fuzz/fuzz_strconv
utils_fuzz_fuzz_strconv_SOURCES = utils/fuzz/fuzz_strconv.c
utils_fuzz_fuzz_strconv_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_strconv_LDADD = $(SERVER_LIBS)
endif
