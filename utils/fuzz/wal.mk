# utils/fuzz/wal.mk: the log reader and write batches (fuzz_wal.c).
check_PROGRAMS += utils/fuzz/replay_wal
TESTS += utils/fuzz/replay_wal
utils_fuzz_replay_wal_SOURCES = utils/fuzz/fuzz_wal.c utils/fuzz/fuzz_file.h utils/fuzz/replay.c
utils_fuzz_replay_wal_LDADD = $(ENGINE_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_wal
FUZZ_TARGETS += utils/fuzz/fuzz_wal
utils_fuzz_fuzz_wal_SOURCES = utils/fuzz/fuzz_wal.c utils/fuzz/fuzz_file.h
utils_fuzz_fuzz_wal_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_wal_LDADD = $(ENGINE_LIBS)
endif
