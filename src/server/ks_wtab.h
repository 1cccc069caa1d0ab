/* ks_wtab: the keyspace's write table, what its recent commits left in the
 * stored keys they wrote.
 *
 * Owns: the commit counter, and a fixed array of slots (a power of two of
 * them, 32 bytes each, sized at creation: write-table-size) indexed by a
 * stored key's hash. A slot holds the last commit that wrote a key of that
 * slot: the key's full hash, the commit's number, and the record type and
 * expire time the commit left (or that it deleted the key). The larger the
 * table, the more blind writes find their key's state here and need no
 * counting read; a table of 2MB or more is mapped on its own, 2MB-aligned
 * and advised to use huge pages (one TLB entry per 2MB of slots).
 *
 * Invariant: a slot never claims a write that did not happen. A later
 * write of another key of the same slot takes the slot over: the table
 * forgets, it does not guess. The keyspace's commits are the only writers
 * of stored keys, so what a slot says about its own key is that key's
 * committed state (wtab_known), and "no commit after the snapshot wrote a
 * key of this slot" is proof that this key was not written since
 * (ks_defer). Empty at every start.
 *
 * Thread rules: one thread (the loop). */
#ifndef LSMDB_SERVER_KS_WTAB_H
#define LSMDB_SERVER_KS_WTAB_H

#include <stddef.h>
#include <stdint.h>

struct ks_wtab;

/* The expire of a key its commit deleted, and of one whose record the
 * caller could not decode (never known). */
#define WTAB_EXP_DELETED (-2)
#define WTAB_EXP_UNKNOWN INT64_MIN

#define WTAB_SLOT_BYTES 32
#define WTAB_MIN_BYTES (1024 * WTAB_SLOT_BYTES)

/* A table of the largest power of two of slots that fits in bytes (at
 * least WTAB_MIN_BYTES' worth). NULL (errno set) when a table of 2MB or
 * more cannot be mapped; a smaller one comes from zmalloc (never NULL). */
struct ks_wtab *wtab_create(size_t bytes);
void wtab_destroy(struct ks_wtab *w);
/* The memory its slots take. */
size_t wtab_bytes(const struct ks_wtab *w);

/* Commits reported so far (the number of the last one; 0 before any). */
uint64_t wtab_commits(const struct ks_wtab *w);
/* A commit succeeded: call once before its wtab_written calls. */
void wtab_commit(struct ks_wtab *w);
/* That commit wrote this stored key, leaving a record of this type with
 * expire exp (-1 none), or none (WTAB_EXP_DELETED), or WTAB_EXP_UNKNOWN. */
void wtab_written(struct ks_wtab *w, uint64_t key_hash, int type, int64_t exp);

/* The committed state of a stored key, when its slot still holds its last
 * write: 1 with *type and *exp (WTAB_EXP_DELETED: no record), else 0. */
int wtab_known(const struct ks_wtab *w, uint64_t key_hash, int *type, int64_t *exp);
/* The last commit that wrote a key of this hash's slot (0 if none). */
uint64_t wtab_slot_commit(const struct ks_wtab *w, uint64_t key_hash);
/* 1 if commit `commit` is still the last one that wrote this key and left
 * a known expire other than exp, else 0 (also when the slot forgot). */
int wtab_left_other_expire(const struct ks_wtab *w, uint64_t key_hash, uint64_t commit,
                           int64_t exp);
/* A hint: the key with this hash is about to be read or written (its
 * slot's cache line is fetched). */
void wtab_prefetch(const struct ks_wtab *w, uint64_t key_hash);

#endif
