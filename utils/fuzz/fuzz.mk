# utils/fuzz/fuzz.mk: fuzz targets (docs/fuzzing.md). Each target
# utils/fuzz/fuzz_<name>.c is built as
#  - utils/fuzz/replay_<name>: a test of `make check`, any compiler
#    (replay.c runs the corpus and seeded mutations of it);
#  - utils/fuzz/fuzz_<name>: the libFuzzer binary, only with
#    `CC=clang ./configure --enable-fuzzing`; `make fuzz-targets` builds
#    them all.
# One fragment per target (utils/fuzz/<name>.mk), included by Makefile.am.
EXTRA_DIST += utils/fuzz/fuzz.h utils/fuzz/corpus utils/fuzz/run.sh utils/fuzz/server.dict
FUZZER_LINK = $(AM_LDFLAGS) -fsanitize=fuzzer
FUZZ_TARGETS =
