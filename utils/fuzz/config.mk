# utils/fuzz/config.mk: the config file and command-line loader (fuzz_config.c).
check_PROGRAMS += utils/fuzz/replay_config
TESTS += utils/fuzz/replay_config
utils_fuzz_replay_config_SOURCES = utils/fuzz/fuzz_config.c utils/fuzz/replay.c
utils_fuzz_replay_config_LDADD = $(SERVER_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_config
FUZZ_TARGETS += utils/fuzz/fuzz_config
utils_fuzz_fuzz_config_SOURCES = utils/fuzz/fuzz_config.c
utils_fuzz_fuzz_config_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_config_LDADD = $(SERVER_LIBS)
endif
