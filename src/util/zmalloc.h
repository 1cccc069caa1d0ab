/* zmalloc: the one allocation interface of lsmdb.
 *
 * Owns: process-wide accounting of heap bytes in use (what INFO memory shows).
 * Every module allocates through these wrappers, never malloc() directly, so
 * the count stays true. The allocator underneath is jemalloc (libc malloc in
 * sanitizer builds). Out of memory is fatal: the wrappers log and abort, like
 * Redis, so callers never check for NULL; ztrymalloc is the one exception,
 * for a transient buffer whose size a client chose (LCS's table).
 * Thread rules: safe from any thread (the counter is atomic). */
#ifndef LSM_UTIL_ZMALLOC_H
#define LSM_UTIL_ZMALLOC_H

#include <stddef.h>

void *zmalloc(size_t size);                     /* never NULL */
void *ztrymalloc(size_t size);                  /* NULL when out of memory */
void *zcalloc(size_t size);                     /* zeroed, never NULL */
void *zrealloc(void *ptr, size_t size);         /* never NULL for size > 0 */
void zfree(void *ptr);                          /* NULL is a no-op */
char *zstrdup(const char *s);
void *zmemdup(const void *p, size_t n);         /* n bytes copied, plus a NUL */
size_t zmalloc_used_memory(void);               /* bytes allocated, usable size */
size_t zmalloc_size(const void *ptr);           /* usable size of one block */
const char *zmalloc_lib(void);                  /* "jemalloc-5.3.0" or "libc" */

#endif
