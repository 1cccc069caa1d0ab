# utils/fuzz/manifest.mk: version edits and manifest recovery (fuzz_manifest.c).
check_PROGRAMS += utils/fuzz/replay_manifest
TESTS += utils/fuzz/replay_manifest
utils_fuzz_replay_manifest_SOURCES = utils/fuzz/fuzz_manifest.c utils/fuzz/fuzz_file.h utils/fuzz/replay.c
utils_fuzz_replay_manifest_LDADD = $(ENGINE_LIBS)
if FUZZING
noinst_PROGRAMS += utils/fuzz/fuzz_manifest
FUZZ_TARGETS += utils/fuzz/fuzz_manifest
utils_fuzz_fuzz_manifest_SOURCES = utils/fuzz/fuzz_manifest.c utils/fuzz/fuzz_file.h
utils_fuzz_fuzz_manifest_LDFLAGS = $(FUZZER_LINK)
utils_fuzz_fuzz_manifest_LDADD = $(ENGINE_LIBS)
endif
