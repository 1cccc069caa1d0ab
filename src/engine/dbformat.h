/* dbformat: internal keys, sequence numbers and the key order of the engine.
 *
 * An internal key is the user key followed by an 8-byte little-endian trailer
 * (sequence << 8 | type). Internal keys sort by user key ascending (bytewise),
 * then by sequence descending, then by type descending, so the newest version
 * of a key comes first. A lookup key for (user_key, snapshot seq) is the
 * internal key with that sequence and the highest type, LSM_TYPE_SEEK.
 * Sequence numbers are 56 bits; 0 is never assigned to a write.
 * Thread rules: pure functions. */
#ifndef LSM_ENGINE_DBFORMAT_H
#define LSM_ENGINE_DBFORMAT_H

#include <stdint.h>

#include "util/slice.h"

enum lsm_value_type {
    LSM_TYPE_DELETION = 0,
    LSM_TYPE_VALUE = 1,
    LSM_TYPE_VPTR = 2,       /* value lives in the value log; value = pointer */
    LSM_TYPE_SEEK = 2        /* highest type: used in lookup keys */
};

#define LSM_MAX_SEQ ((((uint64_t)1) << 56) - 1)
#define LSM_TRAILER_LEN 8
#define LSM_NUM_LEVELS 7

static inline uint64_t dbformat_pack(uint64_t seq, int type)
{
    return (seq << 8) | (uint64_t)(type & 0xff);
}

/* Append user_key + trailer to b. */
void ikey_append(struct buf *b, struct slice user_key, uint64_t seq, int type);

struct ikey_parsed {
    struct slice user_key;
    uint64_t seq;
    int type;
};

/* Split an internal key; returns 0, or -1 when it is shorter than the trailer
 * or its type is unknown (corruption). */
int ikey_parse(struct slice ikey, struct ikey_parsed *out);

static inline struct slice ikey_user_key(struct slice ikey)
{
    return slice_make(ikey.data, ikey.len - LSM_TRAILER_LEN);
}

uint64_t ikey_trailer(struct slice ikey);          /* seq << 8 | type */

/* Order of internal keys (see above); <0, 0, >0. A key shorter than the
 * trailer (read from a damaged file) sorts before every internal key. */
int ikey_compare(struct slice a, struct slice b);

/* Shortest user-key separator s with a <= s < b (for index blocks), and the
 * shortest successor of a; both append an internal key to out built with
 * LSM_MAX_SEQ / LSM_TYPE_SEEK when the user key was shortened. */
void ikey_find_shortest_separator(struct buf *out, struct slice a, struct slice b);
void ikey_find_short_successor(struct buf *out, struct slice a);

#endif
