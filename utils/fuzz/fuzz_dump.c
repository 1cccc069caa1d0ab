/* fuzz_dump: RESTORE's reading of DUMP payloads (src/server/dump.h) and the
 * LZF decoder under it (src/util/lzf.h).
 *
 * Input: byte 0 chooses the mode; the rest is the data.
 *  - bit 0 set: the data is a payload body; a valid footer (RDB version 10,
 *    CRC-64) is appended, so the object reader itself is reached (random
 *    bytes almost never carry a right checksum);
 *    bit 0 clear: the data is the whole payload, footer and all.
 * Checked:
 *  - dump_verify and dump_load_string answer on any input (never a crash or
 *    a read out of bounds: the fuzzer builds with ASan); a loaded string is
 *    at most the limit given;
 *  - the data as a string goes through dump_string and dump_load_string
 *    unchanged, and its payload verifies;
 *  - lzf_decompress of the data into an exact-size buffer (the size taken
 *    from byte 1) writes within it and reports at most its size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "server/dump.h"
#include "util/lzf.h"
#include "util/slice.h"

#define LOAD_MAX 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int footer = data[0] & 1;
    const char *d = (const char *)data + 1;
    size_t n = size - 1;
    struct buf p = BUF_INIT, v = BUF_INIT;

    buf_set(&p, d, n);
    if (footer) {
        dump_footer(&p, 0);
        fuzz_check(dump_verify(p.data, p.len), "a payload with a right footer does not verify");
    }
    if (dump_verify(p.data ? p.data : "", p.len)) {
        int rc = dump_load_string(p.data, p.len, LOAD_MAX, &v);
        fuzz_check(rc == 0 || rc == -1, "dump_load_string returned %d", rc);
        fuzz_check(rc < 0 || v.len <= LOAD_MAX, "a %zu-byte string over the limit", v.len);
    }

    /* Round trip of the data as a string. */
    buf_clear(&p);
    dump_string(d, n, &p);
    fuzz_check(dump_verify(p.data, p.len), "DUMP's own payload does not verify");
    fuzz_check(dump_load_string(p.data, p.len, n, &v) == 0 && v.len == n &&
                   (n == 0 || memcmp(v.data, d, n) == 0),
               "a %zu-byte string does not come back", n);

    /* LZF into an exact-size buffer (ASan sees any write past it). */
    size_t cap = n > 0 ? (size_t)(unsigned char)d[0] * 4 : 0;
    char *out = malloc(cap ? cap : 1);
    size_t got = lzf_decompress(d, n, out, cap);
    fuzz_check(got <= cap, "lzf_decompress reported %zu of %zu", got, cap);
    free(out);
    buf_free(&p);
    buf_free(&v);
    return 0;
}
