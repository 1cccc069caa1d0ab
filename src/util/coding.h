/* coding: little-endian fixed-width and varint encodings (LevelDB style).
 *
 * Owns the byte layout of integers in every on-disk format of lsmdb: fixed32
 * and fixed64 are little endian; varint32/64 are base-128, 7 bits a byte, low
 * bits first, high bit = more. Decoders never read past their limit: they
 * return NULL (or -1) on truncated or over-long input instead.
 * Thread rules: pure functions. */
#ifndef LSM_UTIL_CODING_H
#define LSM_UTIL_CODING_H

#include <stddef.h>
#include <stdint.h>

#include "util/slice.h"

#define VARINT32_MAX_LEN 5
#define VARINT64_MAX_LEN 10

void encode_fixed16(char *dst, uint16_t v);
void encode_fixed32(char *dst, uint32_t v);
void encode_fixed64(char *dst, uint64_t v);
uint16_t decode_fixed16(const char *p);
uint32_t decode_fixed32(const char *p);
uint64_t decode_fixed64(const char *p);

/* Write a varint at dst (room for VARINT*_MAX_LEN); returns the byte after it. */
char *encode_varint32(char *dst, uint32_t v);
char *encode_varint64(char *dst, uint64_t v);
int varint_length(uint64_t v);

/* Decode from [p, limit); returns the byte after the varint, or NULL when
 * the input is truncated or the varint is too long / overflows. */
const char *decode_varint32(const char *p, const char *limit, uint32_t *v);
const char *decode_varint64(const char *p, const char *limit, uint64_t *v);

/* Append encodings to a buf. */
void put_fixed32(struct buf *b, uint32_t v);
void put_fixed64(struct buf *b, uint64_t v);
void put_varint32(struct buf *b, uint32_t v);
void put_varint64(struct buf *b, uint64_t v);
void put_length_prefixed(struct buf *b, struct slice s);   /* varint32 len + bytes */

/* Consume from the front of *in; return 0, or -1 on truncated/bad input
 * (in which case *in is unspecified). */
int get_varint32(struct slice *in, uint32_t *v);
int get_varint64(struct slice *in, uint64_t *v);
int get_fixed32(struct slice *in, uint32_t *v);
int get_fixed64(struct slice *in, uint64_t *v);
int get_length_prefixed(struct slice *in, struct slice *out);

#endif
