/* idmap: a map from 64-bit ids to pointers (the server's clients by id).
 *
 * Open addressing with linear probing, at most half full, deletion by
 * backward shift (no tombstones: lookups stay short however many ids come
 * and go). Ids are hashed by a multiply (sequential ids spread evenly);
 * idmap_init_hash lets a test choose a hash that collides. A zeroed struct
 * is an empty map with the default hash (no init needed). Values are never
 * NULL. Thread rules: one thread, or the caller's lock. */
#ifndef LSM_UTIL_IDMAP_H
#define LSM_UTIL_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
    uint64_t id;
    void *value;                 /* NULL = empty */
};

struct idmap {
    struct idmap_slot *slot;
    size_t cap, n;               /* cap: 0 or a power of two */
    uint64_t (*hash)(uint64_t id);  /* NULL: the default */
};

/* An empty map (allocates on the first put). */
void idmap_init(struct idmap *m);
void idmap_init_hash(struct idmap *m, uint64_t (*hash)(uint64_t id));
void idmap_free(struct idmap *m);
/* Sets id's value (value != NULL), replacing any. */
void idmap_put(struct idmap *m, uint64_t id, void *value);
/* The value of id, or NULL. */
void *idmap_get(const struct idmap *m, uint64_t id);
/* Removes id: 1, or 0 when absent. */
int idmap_del(struct idmap *m, uint64_t id);
size_t idmap_count(const struct idmap *m);

#endif
