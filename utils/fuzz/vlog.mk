# utils/fuzz/vlog.mk: the value-log reader on a segment file (fuzz_vlog.c).
check_PROGRAMS += utils/fuzz/replay_vlog
TESTS += utils/fuzz/replay_vlog
utils_fuzz_replay_vlog_SOURCES = utils/fuzz/fuzz_vlog.c utils/fuzz/replay.c
utils_fuzz_replay_vlog_LDADD = $(ENGINE_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_vlog
FUZZ_TARGETS += utils/fuzz/fuzz_vlog
utils_fuzz_fuzz_vlog_SOURCES = utils/fuzz/fuzz_vlog.c
utils_fuzz_fuzz_vlog_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_vlog_LDADD = $(ENGINE_LIBS)
endif
