/* hll: Redis' HyperLogLog, as the string value Redis stores (the "HYLL"
 * format), so that an HLL built by lsmdb is byte for byte the one Redis 7
 * builds from the same commands, and either server reads the other's.
 *
 * Format (docs/format-hll.md): a 16-byte header ("HYLL", an encoding byte,
 * 3 zero bytes, the cached cardinality as 8 bytes little endian whose top
 * bit set means "stale"), then 16384 registers of 6 bits: dense (12288
 * bytes, packed from the least significant bit) or sparse (run-length
 * opcodes ZERO, XZERO and VAL, for values 1..32 only). An element's
 * register is the low 14 bits of MurmurHash64A(element, seed 0xadc83b19),
 * its value the position of the first 1 bit in the remaining 50 bits (1..51).
 *
 * Invariants: a buffer passed to the writers starts as a string hll_valid()
 * accepts, and stays one; the sparse form is edited exactly as Redis edits
 * it (same splits, same merges of neighbouring VAL opcodes, promotion to
 * dense when the string would grow past sparse_max bytes or a value exceeds
 * 32), because that decides the bytes GET returns. A sparse form whose runs
 * do not cover exactly 16384 registers is corrupt: the functions that walk
 * it return -1 and change nothing they have not already reported.
 *
 * Pure data structure: no keyspace, no replies; thread-safe on distinct
 * buffers. */
#ifndef LSM_SERVER_HLL_H
#define LSM_SERVER_HLL_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define HLL_REGISTERS 16384
#define HLL_HDR_SIZE 16
#define HLL_DENSE_SIZE (HLL_HDR_SIZE + HLL_REGISTERS * 6 / 8)

enum { HLL_DENSE = 0, HLL_SPARSE = 1 };

/* 1 when p[0..len) is a string Redis treats as an HLL: the magic, an
 * encoding of 0 or 1, and exactly HLL_DENSE_SIZE bytes when dense. */
int hll_valid(const void *p, size_t len);
/* HLL_DENSE or HLL_SPARSE of a valid HLL. */
int hll_encoding(const void *p);

/* b becomes a new, empty HLL: sparse, every register zero, cache 0. */
void hll_init(struct buf *b);

/* Adds an element: 1 when a register grew, 0 when none did, -1 corrupt
 * (the sparse form is not walkable: b unchanged). A sparse HLL that would
 * grow past sparse_max bytes, or needs a value above 32, becomes dense. The
 * cache is not touched (the caller marks it stale: hll_invalidate). */
int hll_add(struct buf *b, const void *ele, size_t len, size_t sparse_max);
/* 1 when adding the element would raise a register of the HLL (or the
 * HLL is corrupt where the element lands), 0 when hll_add would change
 * nothing. Reads only. */
int hll_would_add(const void *p, size_t len, const void *ele, size_t elen);
/* Raises register idx to val (0 < val < 64) if it is lower: 1 raised, 0
 * not, -1 corrupt. Same rules as hll_add. */
int hll_raise(struct buf *b, int idx, int val, size_t sparse_max);
/* Converts a sparse HLL to dense: 1 converted, 0 already dense, -1 corrupt
 * (b unchanged). The header (and its cache) is kept. */
int hll_to_dense(struct buf *b);

/* Raises each max[i] (HLL_REGISTERS bytes) to register i of the HLL:
 * 0, or -1 when corrupt. */
int hll_merge(uint8_t *max, const void *p, size_t len);
/* The estimated cardinality of the HLL's registers (the cache ignored):
 * 0, or -1 when corrupt. */
int hll_count(const void *p, size_t len, uint64_t *card);
/* The same for HLL_REGISTERS registers of one byte each (hll_merge's). */
uint64_t hll_count_registers(const uint8_t *max);

/* 1 and *card when the header's cache is valid, 0 when stale. */
int hll_cache_get(const void *p, uint64_t *card);
/* Stores card in the header's cache (valid). */
void hll_cache_set(void *p, uint64_t card);
/* Marks the cache stale (the other cache bytes are kept, as in Redis). */
void hll_invalidate(void *p);

/* Register idx of a dense HLL. */
int hll_dense_get(const void *p, int idx);
/* PFDEBUG DECODE: the sparse opcodes as text ("Z:16384", "z:3 v:2,1 ...")
 * appended to out. */
void hll_decode(const void *p, size_t len, struct buf *out);

/* PFSELFTEST: checks the dense register packing and the estimates of both
 * encodings. 0, or -1 with a message in err. */
int hll_selftest(char *err, size_t errlen);

#endif
