/* lathist.c: see lathist.h. Bucket of v >= 32: (octave, 5 mantissa bits
 * below the leading one); values below 32 have a bucket each. */
#include "server/lathist.h"

#include "util/zmalloc.h"

#define SUB_BITS 5
#define SUB (1u << SUB_BITS)
#define MAX_BITS 40
#define NBUCKETS ((MAX_BITS - SUB_BITS + 1) * SUB)

struct lathist {
    uint64_t total;
    uint64_t count[NBUCKETS];
};

static unsigned bucket_of(uint64_t v)
{
    if (v >= (1ull << MAX_BITS))
        return NBUCKETS - 1;
    if (v < SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);         /* >= SUB_BITS */
    unsigned mant = (unsigned)(v >> (msb - SUB_BITS)) & (SUB - 1);
    return (msb - SUB_BITS + 1) * SUB + mant;
}

/* The largest value of bucket b. */
static uint64_t bucket_top(unsigned b)
{
    if (b < SUB)
        return b;
    unsigned octave = b / SUB - 1, mant = b % SUB;          /* msb = octave + SUB_BITS */
    unsigned shift = octave;
    uint64_t low = ((uint64_t)(SUB + mant)) << shift;
    return low + ((1ull << shift) - 1);
}

void lathist_record(struct lathist **h, uint64_t ns)
{
    if (*h == NULL)
        *h = zcalloc(sizeof **h);
    (*h)->count[bucket_of(ns)]++;
    (*h)->total++;
}

uint64_t lathist_count(const struct lathist *h)
{
    return h ? h->total : 0;
}

uint64_t lathist_count_below(const struct lathist *h, uint64_t ns)
{
    uint64_t n = 0;
    if (h == NULL)
        return 0;
    for (unsigned b = 0; b < NBUCKETS && bucket_top(b) < ns; b++)
        n += h->count[b];
    return n;
}

uint64_t lathist_percentile(const struct lathist *h, double p)
{
    if (h == NULL || h->total == 0)
        return 0;
    if (p < 0)
        p = 0;
    if (p > 100)
        p = 100;
    /* The rank HdrHistogram uses: ceil(p% of the count), at least 1. */
    uint64_t want = (uint64_t)((p / 100.0) * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    uint64_t seen = 0;
    for (unsigned b = 0; b < NBUCKETS; b++) {
        seen += h->count[b];
        if (seen >= want)
            return bucket_top(b);
    }
    return bucket_top(NBUCKETS - 1);
}

void lathist_free(struct lathist **h)
{
    zfree(*h);
    *h = NULL;
}
