/* batch: write batches, the unit of atomic writes and of WAL records.
 *
 * Encoding (the bytes of one WAL record, docs/format-wal.md):
 *   sequence: fixed64 (LE)   first sequence number of the batch
 *   count:    fixed32 (LE)   number of operations
 *   count times:
 *     type byte: LSM_TYPE_VALUE | LSM_TYPE_DELETION | LSM_TYPE_VPTR
 *                (| BATCH_OP_PATCH, in memory only: see below)
 *     key:       varint32 length + bytes
 *     value:     varint32 length + bytes   (VALUE, VPTR and PATCH only)
 * Operation i (0-based, in insertion order) gets sequence `sequence + i`, so
 * a later operation on the same key wins.
 * A PATCH operation (lsm_batch_patch: its value is the new first bytes of the
 * key's value) is resolved by the write leader into a VALUE, VPTR or
 * DELETION before the batch reaches the WAL or a memtable; a WAL record that
 * holds one is corrupt (batch_set_contents refuses it).
 * Invariants: contents are always a complete, valid encoding (the builders
 * keep it so; batch_set_contents() checks input from disk).
 * Thread rules: a batch is used by one thread at a time. */
#ifndef LSM_ENGINE_BATCH_H
#define LSM_ENGINE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "engine/lsm.h"
#include "util/slice.h"

#define BATCH_HEADER_SIZE 12

/* Opaque to users of lsm.h; internal code may embed one (batch_init/free). */
struct lsm_batch {
    struct buf rep;          /* header + records, always valid */
    uint64_t user_bytes;     /* sum of key + value lengths (for stats) */
    uint32_t npatch;         /* PATCH operations in rep */
};

#define BATCH_OP_PATCH 3

/* Initializes an embedded batch (empty, sequence 0) / releases its memory. */
void batch_init(struct lsm_batch *b);
void batch_free(struct lsm_batch *b);

uint64_t batch_get_sequence(const struct lsm_batch *b);
void batch_set_sequence(struct lsm_batch *b, uint64_t seq);
/* The encoded bytes (valid until the batch changes). */
struct slice batch_contents(const struct lsm_batch *b);
/* Replaces the contents with an encoding read from a WAL record; validates
 * every record: 0, or LSM_ECORRUPT (batch unchanged). */
int batch_set_contents(struct lsm_batch *b, struct slice contents);
/* Sum of key and value lengths of all operations. */
uint64_t batch_user_bytes(const struct lsm_batch *b);

/* Called for each operation in order; value is empty for deletions.
 * A non-zero return stops the iteration and is returned by batch_iterate. */
typedef int (*batch_handler_fn)(void *arg, int type, struct slice key,
                                struct slice value);
/* Walks the operations: 0, LSM_ECORRUPT for malformed contents (bad type,
 * truncated record, count mismatch, trailing bytes; operations before the
 * damage were already passed to fn), or fn's non-zero return. */
int batch_iterate(const struct lsm_batch *b, batch_handler_fn fn, void *arg);
/* Same over raw contents (a WAL record) without copying them; a PATCH is
 * LSM_ECORRUPT there (batch_iterate passes it on). */
int batch_iterate_contents(struct slice contents, batch_handler_fn fn, void *arg);

/* Appends src's operations to dst (group commit); dst keeps its sequence. */
void batch_append(struct lsm_batch *dst, const struct lsm_batch *src);
/* Adds a value-pointer operation: ptr is the encoded value-log pointer. */
void batch_put_vptr(struct lsm_batch *b, struct slice key, struct slice ptr);
/* Slice versions of lsm_batch_put / lsm_batch_delete. */
void batch_put(struct lsm_batch *b, struct slice key, struct slice value);
void batch_delete(struct lsm_batch *b, struct slice key);
/* Adds an operation of any type (value ignored for a deletion). */
void batch_add_op(struct lsm_batch *b, int type, struct slice key, struct slice value);
/* 1 when the batch holds PATCH operations (to be resolved before the WAL). */
static inline int batch_has_patch(const struct lsm_batch *b)
{
    return b->npatch > 0;
}

#endif
