# utils/fuzz/sst.mk: the SSTable reader (fuzz_sst.c).
check_PROGRAMS += utils/fuzz/replay_sst
TESTS += utils/fuzz/replay_sst
utils_fuzz_replay_sst_SOURCES = utils/fuzz/fuzz_sst.c utils/fuzz/fuzz_file.h utils/fuzz/replay.c
utils_fuzz_replay_sst_LDADD = $(ENGINE_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_sst
FUZZ_TARGETS += utils/fuzz/fuzz_sst
utils_fuzz_fuzz_sst_SOURCES = utils/fuzz/fuzz_sst.c utils/fuzz/fuzz_file.h
utils_fuzz_fuzz_sst_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_sst_LDADD = $(ENGINE_LIBS)
endif
