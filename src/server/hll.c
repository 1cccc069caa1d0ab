/* hll: Redis' HyperLogLog string format and algorithms (see hll.h and
 * docs/format-hll.md). */
#include "server/hll.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"
#include "util/zmalloc.h"

#define HLL_P 14
#define HLL_Q (64 - HLL_P)
#define HLL_MAX_REG 63
#define HLL_SEED 0xadc83b19ull
#define HLL_ALPHA_INF 0.721347520444481703680   /* 1 / (2 ln 2) */

/* Sparse opcodes. ZERO 00xxxxxx: 1..64 zero registers. XZERO 01xxxxxx
 * yyyyyyyy: 1..16384 zero registers. VAL 1vvvvvxx: 1..4 registers of value
 * 1..32. */
#define ZERO_MAX 64
#define VAL_MAX_VALUE 32
#define VAL_MAX_LEN 4

static int is_zero(const uint8_t *p) { return (*p & 0xc0) == 0; }
static int is_xzero(const uint8_t *p) { return (*p & 0xc0) == 0x40; }
static int zero_len(const uint8_t *p) { return (*p & 0x3f) + 1; }
static int val_value(const uint8_t *p) { return ((*p >> 2) & 0x1f) + 1; }
static int val_len(const uint8_t *p) { return (*p & 0x3) + 1; }

static void put_val(uint8_t *p, int value, int len)
{
    *p = (uint8_t)(0x80 | (value - 1) << 2 | (len - 1));
}

/* A run of len zero registers as ZERO or XZERO; returns its size. */
static int put_zeros(uint8_t *p, int len)
{
    if (len > ZERO_MAX) {
        p[0] = (uint8_t)(0x40 | (len - 1) >> 8);
        p[1] = (uint8_t)((len - 1) & 0xff);
        return 2;
    }
    p[0] = (uint8_t)(len - 1);
    return 1;
}

/* One opcode at p (< end): its size, how many registers it covers, their
 * value. An XZERO cut by the end reads 0 for its missing byte (Redis reads
 * the string's terminator there). */
static int op_read(const uint8_t *p, const uint8_t *end, int *span, int *value)
{
    if (is_zero(p)) {
        *span = zero_len(p);
        *value = 0;
        return 1;
    }
    if (is_xzero(p)) {
        *span = (((*p & 0x3f) << 8) | (p + 1 < end ? p[1] : 0)) + 1;
        *value = 0;
        return 2;
    }
    *span = val_len(p);
    *value = val_value(p);
    return 1;
}

/* ---- header ---- */

int hll_valid(const void *p, size_t len)
{
    const uint8_t *h = p;
    if (len < HLL_HDR_SIZE || memcmp(h, "HYLL", 4) != 0 || h[4] > HLL_SPARSE)
        return 0;
    return h[4] != HLL_DENSE || len == HLL_DENSE_SIZE;
}

int hll_encoding(const void *p)
{
    return ((const uint8_t *)p)[4];
}

int hll_cache_get(const void *p, uint64_t *card)
{
    const uint8_t *c = (const uint8_t *)p + 8;
    if (c[7] & 0x80)
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | c[i];
    *card = v;
    return 1;
}

void hll_cache_set(void *p, uint64_t card)
{
    uint8_t *c = (uint8_t *)p + 8;
    for (int i = 0; i < 8; i++)
        c[i] = (uint8_t)(card >> (8 * i));
}

void hll_invalidate(void *p)
{
    ((uint8_t *)p)[15] |= 0x80;
}

void hll_init(struct buf *b)
{
    buf_clear(b);
    uint8_t h[HLL_HDR_SIZE + 2] = { 'H', 'Y', 'L', 'L', HLL_SPARSE };
    put_zeros(h + HLL_HDR_SIZE, HLL_REGISTERS);
    buf_append(b, h, sizeof h);
}

/* ---- dense registers: 6 bits each, least significant bit first ---- */

int hll_dense_get(const void *p, int idx)
{
    const uint8_t *r = (const uint8_t *)p + HLL_HDR_SIZE;
    unsigned bit = (unsigned)idx * 6, byte = bit >> 3, shift = bit & 7;
    unsigned v = r[byte] >> shift;
    if (shift > 2)                       /* the register spans two bytes */
        v |= (unsigned)r[byte + 1] << (8 - shift);
    return (int)(v & HLL_MAX_REG);
}

static void dense_put(uint8_t *p, int idx, int val)
{
    uint8_t *r = p + HLL_HDR_SIZE;
    unsigned bit = (unsigned)idx * 6, byte = bit >> 3, shift = bit & 7;
    r[byte] = (uint8_t)((r[byte] & ~(HLL_MAX_REG << shift)) | (val << shift));
    if (shift > 2) {
        unsigned hi = 8 - shift;
        r[byte + 1] = (uint8_t)((r[byte + 1] & ~(HLL_MAX_REG >> hi)) | (val >> hi));
    }
}

static int dense_raise(uint8_t *p, int idx, int val)
{
    if (hll_dense_get(p, idx) >= val)
        return 0;
    dense_put(p, idx, val);
    return 1;
}

/* ---- sparse to dense ---- */

/* Fills the dense registers r (zeroed) from a sparse body; 0, or -1 when
 * the runs do not end at exactly HLL_REGISTERS (or a VAL run passes it). */
static int sparse_expand(const uint8_t *s, const uint8_t *end, uint8_t *dense)
{
    int idx = 0;
    while (s < end) {
        int span, value;
        int n = op_read(s, end, &span, &value);
        if (value) {
            if (idx + span > HLL_REGISTERS)
                return -1;
            for (int i = 0; i < span; i++)
                dense_put(dense, idx + i, value);
        }
        idx += span;
        s += n;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

int hll_to_dense(struct buf *b)
{
    uint8_t *p = (uint8_t *)b->data;
    if (p[4] == HLL_DENSE)
        return 0;
    uint8_t *dense = zcalloc(HLL_DENSE_SIZE);
    memcpy(dense, p, HLL_HDR_SIZE);
    dense[4] = HLL_DENSE;
    if (sparse_expand(p + HLL_HDR_SIZE, p + b->len, dense) < 0) {
        zfree(dense);
        return -1;
    }
    buf_set(b, dense, HLL_DENSE_SIZE);
    zfree(dense);
    return 1;
}

/* ---- sparse edits ---- */

/* Merges neighbouring VAL opcodes of equal value (up to VAL_MAX_LEN
 * registers together), looking at 5 opcodes from p on, as Redis does. */
static void sparse_merge_vals(struct buf *b, uint8_t *p)
{
    uint8_t *end = (uint8_t *)b->data + b->len;
    int scan = 5;
    while (p < end && scan--) {
        if (is_xzero(p)) {
            p += 2;
            continue;
        }
        if (is_zero(p)) {
            p++;
            continue;
        }
        if (p + 1 < end && !is_zero(p + 1) && !is_xzero(p + 1) &&
            val_value(p) == val_value(p + 1)) {
            int len = val_len(p) + val_len(p + 1);
            if (len <= VAL_MAX_LEN) {
                put_val(p + 1, val_value(p), len);
                memmove(p, p + 1, (size_t)(end - p - 1));
                b->len--;
                end--;
                continue;                /* try the merged one with its right */
            }
        }
        p++;
    }
}

/* Redis' hllSparseSet: raise register idx to val in a sparse HLL. */
static int sparse_raise(struct buf *b, int idx, int val, size_t sparse_max)
{
    if (val > VAL_MAX_VALUE)
        goto promote;
    buf_reserve(b, 5);          /* a split adds at most 3 bytes (5: a cut XZERO) */
    uint8_t *sparse = (uint8_t *)b->data + HLL_HDR_SIZE;
    uint8_t *end = (uint8_t *)b->data + b->len;
    uint8_t *p = sparse, *prev = NULL;
    int first = 0, span = 0, value = 0, oplen = 0;
    /* The opcode covering idx. */
    while (p < end) {
        oplen = op_read(p, end, &span, &value);
        if (idx <= first + span - 1)
            break;
        prev = p;
        p += oplen;
        first += span;
    }
    if (span == 0 || p >= end)
        return -1;
    uint8_t *next = p + oplen < end ? p + oplen : NULL;
    if (value) {
        if (value >= val)
            return 0;
        if (span == 1) {
            put_val(p, val, 1);
            goto updated;
        }
    } else if (oplen == 1 && span == 1) {
        put_val(p, val, 1);
        goto updated;
    }
    /* Split the opcode: [run before] VAL(val, 1) [run after]. */
    uint8_t seq[5], *n = seq;
    int last = first + span - 1;
    if (value == 0) {
        if (idx != first)
            n += put_zeros(n, idx - first);
        put_val(n++, val, 1);
        if (idx != last)
            n += put_zeros(n, last - idx);
    } else {
        if (idx != first)
            put_val(n++, value, idx - first);
        put_val(n++, val, 1);
        if (idx != last)
            put_val(n++, value, last - idx);
    }
    int seqlen = (int)(n - seq);
    int delta = seqlen - oplen;
    if (delta > 0 && b->len + (size_t)delta > sparse_max)
        goto promote;
    if (delta && next)
        memmove(next + delta, next, (size_t)(end - next));
    b->len = (size_t)((long)b->len + delta);
    memcpy(p, seq, (size_t)seqlen);

updated:
    sparse_merge_vals(b, prev ? prev : sparse);
    return 1;

promote:
    if (hll_to_dense(b) < 0)
        return -1;
    return dense_raise((uint8_t *)b->data, idx, val);
}

int hll_raise(struct buf *b, int idx, int val, size_t sparse_max)
{
    if (hll_encoding(b->data) == HLL_DENSE)
        return dense_raise((uint8_t *)b->data, idx, val);
    return sparse_raise(b, idx, val, sparse_max);
}

/* The register of an element and its value: 1 + the number of trailing
 * zero bits of the hash above the register bits (1..HLL_Q + 1). */
static int element_register(const void *ele, size_t len, int *idx)
{
    uint64_t h = hash_murmur64a(ele, len, HLL_SEED);
    *idx = (int)(h & (HLL_REGISTERS - 1));
    h >>= HLL_P;
    h |= 1ull << HLL_Q;
    return __builtin_ctzll(h) + 1;
}

int hll_would_add(const void *p, size_t len, const void *ele, size_t elen)
{
    int idx;
    int val = element_register(ele, elen, &idx);
    const uint8_t *h = p;
    if (h[4] == HLL_DENSE)
        return hll_dense_get(h, idx) < val;
    const uint8_t *s = h + HLL_HDR_SIZE, *end = h + len;
    int first = 0;
    while (s < end) {
        int span, value;
        s += op_read(s, end, &span, &value);
        if (idx < first + span)
            return value < val;
        first += span;
    }
    return 1;                            /* not covered: hll_add reports it */
}

int hll_add(struct buf *b, const void *ele, size_t len, size_t sparse_max)
{
    int idx;
    int val = element_register(ele, len, &idx);
    return hll_raise(b, idx, val, sparse_max);
}

/* ---- merge and count ---- */

int hll_merge(uint8_t *max, const void *p, size_t len)
{
    const uint8_t *h = p;
    if (h[4] == HLL_DENSE) {
        for (int i = 0; i < HLL_REGISTERS; i++) {
            int v = hll_dense_get(h, i);
            if (v > max[i])
                max[i] = (uint8_t)v;
        }
        return 0;
    }
    const uint8_t *s = h + HLL_HDR_SIZE, *end = h + len;
    int idx = 0;
    while (s < end) {
        int span, value;
        s += op_read(s, end, &span, &value);
        if (value) {
            if (idx + span > HLL_REGISTERS)
                return -1;
            for (int i = idx; i < idx + span; i++)
                if (value > max[i])
                    max[i] = (uint8_t)value;
        }
        idx += span;
    }
    return idx == HLL_REGISTERS ? 0 : -1;
}

/* Ertl's sigma and tau ("New cardinality estimation algorithms for
 * HyperLogLog sketches", arXiv:1702.01284), summed until the sum stops
 * changing. */
static double hll_sigma(double x)
{
    if (x == 1.)
        return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (prev != z);
    return z;
}

static double hll_tau(double x)
{
    if (x == 0. || x == 1.)
        return 0.;
    double y = 1.0, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= pow(1 - x, 2) * y;
    } while (prev != z);
    return z / 3;
}

/* The estimate from the histogram of register values (hist[0..63]). */
static uint64_t estimate(const int *hist)
{
    double m = HLL_REGISTERS;
    double z = m * hll_tau((m - hist[HLL_Q + 1]) / m);
    for (int j = HLL_Q; j >= 1; --j) {
        z += hist[j];
        z *= 0.5;
    }
    z += m * hll_sigma(hist[0] / m);
    return (uint64_t)llround(HLL_ALPHA_INF * m * m / z);
}

int hll_count(const void *p, size_t len, uint64_t *card)
{
    const uint8_t *h = p;
    int hist[64] = { 0 };
    if (h[4] == HLL_DENSE) {
        for (int i = 0; i < HLL_REGISTERS; i++)
            hist[hll_dense_get(h, i)]++;
    } else {
        const uint8_t *s = h + HLL_HDR_SIZE, *end = h + len;
        int idx = 0;
        while (s < end && idx <= HLL_REGISTERS) {
            int span, value;
            s += op_read(s, end, &span, &value);
            idx += span;
            hist[value] += span;
        }
        if (idx != HLL_REGISTERS)
            return -1;
    }
    *card = estimate(hist);
    return 0;
}

uint64_t hll_count_registers(const uint8_t *max)
{
    int hist[64] = { 0 };
    for (int i = 0; i < HLL_REGISTERS; i++)
        hist[max[i] & HLL_MAX_REG]++;
    return estimate(hist);
}

/* ---- PFDEBUG DECODE, PFSELFTEST ---- */

void hll_decode(const void *p, size_t len, struct buf *out)
{
    const uint8_t *s = (const uint8_t *)p + HLL_HDR_SIZE, *end = (const uint8_t *)p + len;
    char tmp[32];
    const char *sep = "";
    while (s < end) {
        int span, value, n;
        int kind = is_zero(s) ? 'z' : is_xzero(s) ? 'Z' : 'v';
        s += op_read(s, end, &span, &value);
        if (kind == 'v')
            n = snprintf(tmp, sizeof tmp, "%sv:%d,%d", sep, value, span);
        else
            n = snprintf(tmp, sizeof tmp, "%s%c:%d", sep, kind, span);
        buf_append(out, tmp, (size_t)n);
        sep = " ";
    }
}

int hll_selftest(char *err, size_t errlen)
{
    /* 1: every register of a dense HLL keeps its own value. */
    struct buf d = BUF_INIT, s = BUF_INIT;
    hll_init(&d);
    int rc = -1;
    if (hll_to_dense(&d) != 1)
        goto out;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 4; round++) {
        uint64_t seed = x;
        for (int i = 0; i < HLL_REGISTERS; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            dense_put((uint8_t *)d.data, i, (int)(x >> 58));
        }
        x = seed;
        for (int i = 0; i < HLL_REGISTERS; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            if (hll_dense_get(d.data, i) != (int)(x >> 58)) {
                snprintf(err, errlen, "TESTFAILED dense register %d does not keep its value", i);
                goto out;
            }
        }
    }
    /* 2: the same elements give the same estimate sparse and dense, within
     * five standard errors (1.04 / sqrt(m)) of the truth. */
    hll_init(&d);
    hll_init(&s);
    hll_to_dense(&d);
    double relerr = 1.04 / sqrt(HLL_REGISTERS);
    uint64_t check = 10;
    for (uint64_t i = 1; i <= 1000000; i++) {
        char ele[24];
        int n = snprintf(ele, sizeof ele, "%llu", (unsigned long long)i);
        if (hll_add(&d, ele, (size_t)n, 0) < 0 ||
            (i <= 100000 && hll_add(&s, ele, (size_t)n, 100000) < 0)) {
            snprintf(err, errlen, "TESTFAILED adding element %llu failed", (unsigned long long)i);
            goto out;
        }
        if (i != check)
            continue;
        check *= 10;
        uint64_t cd, cs;
        if (hll_count(d.data, d.len, &cd) < 0 ||
            (i <= 100000 && (hll_count(s.data, s.len, &cs) < 0 || cd != cs))) {
            snprintf(err, errlen, "TESTFAILED sparse and dense estimates differ at %llu elements",
                     (unsigned long long)i);
            goto out;
        }
        double abserr = fabs((double)cd - (double)i);
        if (abserr > 5 * relerr * (double)i + 1) {
            snprintf(err, errlen, "TESTFAILED the estimate of %llu elements is off by %.0f",
                     (unsigned long long)i, abserr);
            goto out;
        }
    }
    rc = 0;
out:
    buf_free(&d);
    buf_free(&s);
    return rc;
}
