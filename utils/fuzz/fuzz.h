/* fuzz.h: the one entry point every fuzz target defines (libFuzzer's).
 *
 * A target is one file utils/fuzz/fuzz_<name>.c. It is linked twice:
 *  - with -fsanitize=fuzzer (configure --enable-fuzzing, clang) into
 *    utils/fuzz/fuzz_<name>, the libFuzzer binary;
 *  - with replay.c into utils/fuzz/replay_<name>, a test in `make check` that
 *    runs every input of utils/fuzz/corpus/<name>/ and seeded mutations of
 *    them through the target, with any compiler.
 * A target returns 0 and must not leak, crash or hang on any input; a broken
 * invariant calls fuzz_fail(), which aborts (libFuzzer and the replay both
 * report an abort as a failure). */
#ifndef LSM_UTILS_FUZZ_H
#define LSM_UTILS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define fuzz_fail(...)                                                      \
    do {                                                                    \
        fprintf(stderr, "%s:%d: fuzz invariant broken: ", __FILE__, __LINE__); \
        fprintf(stderr, __VA_ARGS__);                                       \
        fputc('\n', stderr);                                                \
        abort();                                                            \
    } while (0)

#define fuzz_check(cond, ...)                                               \
    do {                                                                    \
        if (!(cond))                                                        \
            fuzz_fail(__VA_ARGS__);                                         \
    } while (0)

#endif
