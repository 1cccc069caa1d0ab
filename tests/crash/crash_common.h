/* crash_common.h: the deterministic workload shared by the crash writer
 * (tests/crash/crash_writer.c) and the checker (tests/crash/test_crash.c).
 *
 * Operation number c (c >= 1, one global counter across rounds) is a put or
 * a delete of key number crash_op(c).idx; a put writes crash_value(idx, c).
 * Most operations put a new key (idx = c); some overwrite or delete one of
 * the 500 previous keys, so overwrites and deletions cross flushes and
 * compactions. Keys are "key%013" (16 bytes, ordered like idx). Values carry
 * idx and c and a body derived from both, so a reader can tell exactly which
 * write a value came from and that it is intact. Header-only. */
#ifndef LSM_TESTS_CRASH_COMMON_H
#define LSM_TESTS_CRASH_COMMON_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"

#define CRASH_KEY_LEN 16
#define CRASH_MAX_VALUE 1200

struct crash_op {
    uint64_t idx;
    int is_delete;
};

static inline struct crash_op crash_op(uint64_t c)
{
    struct crash_op op;
    uint64_t h = hash_mix64(c), back;

    op.idx = c;
    op.is_delete = 0;
    if (c > 10 && h % 8 < 3) {
        back = c - 1 < 500 ? c - 1 : 500;
        op.idx = c - 1 - (h >> 8) % back;
        op.is_delete = h % 8 == 0;
    }
    return op;
}

static inline size_t crash_key(uint64_t idx, char *out)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "key%013" PRIu64, idx);
    memcpy(out, tmp, CRASH_KEY_LEN);
    return CRASH_KEY_LEN;
}

/* Key -> idx; 0 when the key is not one of ours. */
static inline uint64_t crash_key_idx(const char *k, size_t n)
{
    uint64_t idx = 0;
    size_t i;
    if (n != CRASH_KEY_LEN || memcmp(k, "key", 3) != 0)
        return 0;
    for (i = 3; i < n; i++) {
        if (k[i] < '0' || k[i] > '9')
            return 0;
        idx = idx * 10 + (uint64_t)(k[i] - '0');
    }
    return idx;
}

/* Value of the put of idx by operation c; returns its length. */
static inline size_t crash_value(uint64_t idx, uint64_t c, char *out)
{
    uint64_t h = hash_mix64(idx * 1000003u ^ (c << 20));
    size_t n = 40 + (size_t)(h % (CRASH_MAX_VALUE - 40)), i;
    int head = snprintf(out, n, "v%" PRIu64 ":%" PRIu64 ":", idx, c);
    for (i = (size_t)head; i < n; i++) {
        if (i % 8 == 0)
            h = hash_mix64(h);
        out[i] = (char)('a' + (h >> (i % 8 * 5)) % 26);
    }
    return n;
}

/* The c encoded in a value (0 if malformed). */
static inline uint64_t crash_value_c(const char *v, size_t n)
{
    uint64_t idx = 0, c = 0;
    size_t i = 1;
    if (n < 4 || v[0] != 'v')
        return 0;
    while (i < n && v[i] >= '0' && v[i] <= '9')
        idx = idx * 10 + (uint64_t)(v[i++] - '0');
    if (i >= n || v[i++] != ':')
        return 0;
    while (i < n && v[i] >= '0' && v[i] <= '9')
        c = c * 10 + (uint64_t)(v[i++] - '0');
    if (i >= n || v[i] != ':')
        return 0;
    (void)idx;
    return c;
}

/* Pipe messages from the writer to the checker. */
enum { CRASH_MSG_ATTEMPT = 1, CRASH_MSG_ACK = 2, CRASH_MSG_ERROR = 3, CRASH_MSG_OPENED = 4 };
struct crash_msg {
    uint32_t type;
    int32_t rc;
    uint64_t first, last;   /* ATTEMPT/ACK: the batch's operation numbers */
};

#endif
