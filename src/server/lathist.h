/* lathist: a latency histogram of one command, for INFO latencystats (Redis
 * 7's latency-tracking). Nanoseconds go into log-linear buckets: 32 per
 * power of two (each about 3% wide) from 1 ns up to 2^40 ns (18 minutes;
 * longer times count in the last bucket). A percentile is answered with the
 * upper edge of the bucket that holds it, as HdrHistogram's "highest
 * equivalent value" is. Not thread-safe: the loop thread records and reads. */
#ifndef LSM_SERVER_LATHIST_H
#define LSM_SERVER_LATHIST_H

#include <stdint.h>

struct lathist;

/* Counts one latency; *h is allocated at the first one. */
void lathist_record(struct lathist **h, uint64_t ns);
/* How many latencies were counted (0 for NULL). */
uint64_t lathist_count(const struct lathist *h);
/* How many latencies were below ns (exact when ns is a power of two, as
 * the buckets' edges are; else counted by whole buckets below it). */
uint64_t lathist_count_below(const struct lathist *h, uint64_t ns);
/* The latency at percentile p (0..100) in ns; 0 for an empty histogram. */
uint64_t lathist_percentile(const struct lathist *h, double p);
/* Frees *h and sets it to NULL. */
void lathist_free(struct lathist **h);

#endif
