/* test_resp: the request parser gives Redis 7's commands and protocol errors,
 * and the same result for every byte split of its input. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/resp.h"

/* ---- a growable string for results ---- */
struct dstr {
    char *s;
    size_t n, cap;
};

static void ds_add(struct dstr *d, const void *p, size_t n)
{
    if (d->n + n + 1 > d->cap) {
        d->cap = (d->n + n + 1) * 2;
        d->s = realloc(d->s, d->cap);
        ck_assert_ptr_nonnull(d->s);
    }
    memcpy(d->s + d->n, p, n);
    d->n += n;
    d->s[d->n] = '\0';
}

static void ds_str(struct dstr *d, const char *s) { ds_add(d, s, strlen(s)); }

static void ds_free(struct dstr *d)
{
    free(d->s);
    memset(d, 0, sizeof(*d));
}

/* ["arg","arg"] with non-printables, '"' and '\' as \xHH. */
static void fmt_cmd(struct dstr *d, const struct resp_cmd *c)
{
    int i;
    size_t k;

    ds_str(d, "[");
    for (i = 0; i < c->argc; i++) {
        if (i)
            ds_str(d, ",");
        ds_str(d, "\"");
        for (k = 0; k < c->argvlen[i]; k++) {
            unsigned char ch = (unsigned char)c->argv[i][k];
            if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\') {
                char esc[8];
                snprintf(esc, sizeof(esc), "\\x%02x", ch);
                ds_str(d, esc);
            } else {
                ds_add(d, &ch, 1);
            }
        }
        ds_str(d, "\"");
    }
    ds_str(d, "]");
}

/* ---- a simulated client query buffer ---- */
struct feeder {
    struct resp_parser p;
    char *qb;
    size_t qlen, pos, qcap;
    int auth, stopped, compact;
    const struct resp_limits *lim;
    struct dstr out;
};

static void fd_init(struct feeder *f, int auth, const struct resp_limits *lim, int compact)
{
    memset(f, 0, sizeof(*f));
    resp_parser_init(&f->p);
    f->auth = auth;
    f->lim = lim;
    f->compact = compact;
}

static void fd_parse(struct feeder *f)
{
    for (;;) {
        struct resp_cmd c;
        int rc = resp_parse(&f->p, f->qb, f->qlen, &f->pos, f->auth, f->lim, &c);
        if (rc == RESP_DONE) {
            ck_assert_uint_le(f->pos, f->qlen);
            fmt_cmd(&f->out, &c);
            continue;
        }
        ck_assert_int_eq(c.argc, 0);
        if (rc == RESP_ERROR) {
            ds_str(&f->out, "E(");
            ds_str(&f->out, resp_parser_error(&f->p));
            ds_str(&f->out, ")");
            /* sticky */
            ck_assert_int_eq(resp_parse(&f->p, f->qb, f->qlen, &f->pos, f->auth,
                                        f->lim, &c), RESP_ERROR);
            f->stopped = 1;
        }
        return;
    }
}

/* Append n bytes. In compact mode the unparsed tail moves to a fresh
 * allocation each time (so a parser keeping pointers would be caught by
 * ASan); otherwise the buffer grows in place and pos stays. */
static void fd_feed(struct feeder *f, const char *in, size_t n)
{
    if (f->stopped)
        return;
    if (f->compact) {
        size_t keep = f->qlen - f->pos;
        char *nb = malloc(keep + n + 1);
        ck_assert_ptr_nonnull(nb);
        if (keep)
            memcpy(nb, f->qb + f->pos, keep);
        memcpy(nb + keep, in, n);
        free(f->qb);
        f->qb = nb;
        f->qlen = keep + n;
        f->pos = 0;
    } else {
        if (f->qlen + n + 1 > f->qcap) {   /* doubling: linear feeding */
            f->qcap = (f->qlen + n + 1) * 2;
            f->qb = realloc(f->qb, f->qcap);
            ck_assert_ptr_nonnull(f->qb);
        }
        memcpy(f->qb + f->qlen, in, n);
        f->qlen += n;
    }
    fd_parse(f);
}

/* Finish: "+" marks a command still in progress. Returns the result string
 * (caller frees). */
static char *fd_done(struct feeder *f)
{
    char *s;

    if (!f->stopped && resp_parser_in_progress(&f->p))
        ds_str(&f->out, "+");
    if (f->out.s == NULL)
        ds_str(&f->out, "");
    s = f->out.s;
    resp_parser_free(&f->p);
    free(f->qb);
    return s;
}

/* Parse in[0..n) cut at cuts[0..ncut) (ascending). */
static char *run_cuts(const char *in, size_t n, const size_t *cuts, int ncut,
                      int auth, const struct resp_limits *lim, int compact)
{
    struct feeder f;
    size_t prev = 0;
    int i;

    fd_init(&f, auth, lim, compact);
    for (i = 0; i < ncut; i++) {
        fd_feed(&f, in + prev, cuts[i] - prev);
        prev = cuts[i];
    }
    fd_feed(&f, in + prev, n - prev);
    return fd_done(&f);
}

static char *run_whole(const char *in, size_t n, int auth, const struct resp_limits *lim)
{
    return run_cuts(in, n, NULL, 0, auth, lim, 1);
}

static char *run_step(const char *in, size_t n, size_t step, int auth,
                      const struct resp_limits *lim, int compact)
{
    struct feeder f;
    size_t i;

    fd_init(&f, auth, lim, compact);
    for (i = 0; i < n; i += step)
        fd_feed(&f, in + i, n - i < step ? n - i : step);
    return fd_done(&f);
}

/* Every 2- and 3-piece split and byte-by-byte feeding equal the whole. */
static void check_splits(const char *in, size_t n, int auth,
                         const struct resp_limits *lim, const char *whole)
{
    size_t i, j;
    char *r;

    for (i = 0; i <= n; i++) {
        size_t c1[1] = { i };
        r = run_cuts(in, n, c1, 1, auth, lim, (int)(i & 1));
        ck_assert_msg(strcmp(r, whole) == 0, "split at %zu: %s != %s", i, r, whole);
        free(r);
        for (j = i; j <= n; j++) {
            size_t c2[2] = { i, j };
            r = run_cuts(in, n, c2, 2, auth, lim, (int)((i + j) & 1));
            ck_assert_msg(strcmp(r, whole) == 0, "split at %zu,%zu: %s != %s",
                          i, j, r, whole);
            free(r);
        }
    }
    r = run_step(in, n, 1, auth, lim, 1);
    ck_assert_msg(strcmp(r, whole) == 0, "bytewise: %s != %s", r, whole);
    free(r);
    r = run_step(in, n, 1, auth, lim, 0);
    ck_assert_msg(strcmp(r, whole) == 0, "bytewise in place: %s != %s", r, whole);
    free(r);
}

struct case_ {
    const char *in;
    size_t len;          /* 0 = strlen(in) */
    int auth;
    const char *expect;
};

#define C(in, exp) { in, sizeof(in) - 1, 1, exp }
#define U(in, exp) { in, sizeof(in) - 1, 0, exp }

static const struct case_ corpus[] = {
    /* valid multibulk */
    C("*1\r\n$4\r\nPING\r\n", "[\"PING\"]"),
    C("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "[\"ECHO\",\"\"]"),
    C("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\0c\r\n",
      "[\"SET\",\"k\",\"a\\x0d\\x0ab\\x00c\"]"),
    C("*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\nPING\r\n",
      "[\"PING\"][\"ECHO\",\"hi\"][\"PING\"]"),
    C("*0\r\n", "[]"),
    C("*-1\r\n", "[]"),
    C("*-5\r\nPING\r\n", "[][\"PING\"]"),
    /* Redis skips the byte after '\r' and the two after a bulk unchecked */
    C("*1\rX$4\r\nPINGxx", "[\"PING\"]"),
    C("*2\r\n$1\r\na\r\n$2\r\nbc", "+"),
    C("*2\r\n$4\r\nECHO\r\n$5\r\nhel", "+"),
    C("*1\r\n$4\r", "+"),
    C("*", "+"),
    C("*1", "+"),
    C("*1\r", "+"),
    /* a NUL stops the line search for Redis too: the command never ends */
    C("*1\r\n\0\r\nfoo\r\n", "+"),
    C("*1\r\n$3\0\r\nfoo\r\n", "+"),
    C("*1\0\r\n$3\r\nfoo\r\n", "+"),
    /* valid inline */
    C("PING\r\n", "[\"PING\"]"),
    C("PING\n", "[\"PING\"]"),
    C("PING\r\r\n", "[\"PING\"]"),
    C("a\rb\n", "[\"a\",\"b\"]"),
    C("\r\n", "[]"),
    C("\n", "[]"),
    C("   \t \r\n", "[]"),
    C("  SET  k   v  \r\n", "[\"SET\",\"k\",\"v\"]"),
    C("SET \"a b\" 'c d'\r\n", "[\"SET\",\"a b\",\"c d\"]"),
    C("ECHO \"\\x41\\n\\r\\t\\b\\a\\\\\\\"\\z\"\r\n",
      "[\"ECHO\",\"A\\x0a\\x0d\\x09\\x08\\x07\\x5c\\x22z\"]"),
    C("ECHO \"a\\x4g\\xZZ\"\r\n", "[\"ECHO\",\"ax4gxZZ\"]"),
    C("ECHO 'it\\'s' 'a\\nb'\r\n", "[\"ECHO\",\"it's\",\"a\\x5cnb\"]"),
    C("ECHO \"\" ''\r\n", "[\"ECHO\",\"\",\"\"]"),
    C("foo\"bar\"\r\n", "[\"foobar\"]"),
    C("foo'bar' x\r\n", "[\"foobar\",\"x\"]"),
    C("a\tb\vc\fd\r\n", "[\"a\",\"b\\x0bc\\x0cd\"]"),
    C("\x01\xff\r\n", "[\"\\x01\\xff\"]"),
    C("PING\r\nPING\nECHO x\r\n", "[\"PING\"][\"PING\"][\"ECHO\",\"x\"]"),
    C("PING\r\n*1\r\n$4\r\nPING\r\nPING", "[\"PING\"][\"PING\"]+"),
    C("PIN", "+"),
    C("PING\0\r\nPING\r\n", "+"),
    /* protocol errors */
    C("*x\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*01\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*+1\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("* 1\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*1 \r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*-\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*2147483648\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*99999999999999999999\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    C("*1\r\nx3\r\nfoo\r\n", "E(ERR Protocol error: expected '$', got 'x')"),
    C("*1\r\n\r\r\n", "E(ERR Protocol error: expected '$', got ' ')"),
    C("*1\r\n\n\r\n", "E(ERR Protocol error: expected '$', got ' ')"),
    C("*1\r\n\x01\r\n", "E(ERR Protocol error: expected '$', got '\x01')"),
    C("*1\r\n\xff\r\n", "E(ERR Protocol error: expected '$', got '\xff')"),
    C("*2\r\n$1\r\na\r\n:1\r\n", "E(ERR Protocol error: expected '$', got ':')"),
    C("*1\r\n$-1\r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$x\r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$\r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$01\r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$3 \r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$536870913\r\n", "E(ERR Protocol error: invalid bulk length)"),
    C("*1\r\n$536870912\r\n", "+"),
    C("\"foo\"bar\r\n", "E(ERR Protocol error: unbalanced quotes in request)"),
    C("ECHO \"abc\r\n", "E(ERR Protocol error: unbalanced quotes in request)"),
    C("ECHO 'abc\r\n", "E(ERR Protocol error: unbalanced quotes in request)"),
    C("ECHO 'a'b\r\n", "E(ERR Protocol error: unbalanced quotes in request)"),
    C("ECHO \"a\\\"\r\n", "E(ERR Protocol error: unbalanced quotes in request)"),
    C("PING\r\n*1\r\nx\r\nPING\r\n",
      "[\"PING\"]E(ERR Protocol error: expected '$', got 'x')"),
    C("*1\r\n$4\r\nPING\r\n*z\r\n*1\r\n$4\r\nPING\r\n",
      "[\"PING\"]E(ERR Protocol error: invalid multibulk length)"),
    /* clients that must still AUTH (Redis 7 limits) */
    U("*10\r\n$1\r\na\r\n", "+"),
    U("*11\r\n", "E(ERR Protocol error: unauthenticated multibulk length)"),
    U("*10\r\n$16384\r\n", "+"),
    U("*10\r\n$16385\r\n", "E(ERR Protocol error: unauthenticated bulk length)"),
    U("*-1\r\n", "[]"),
    U("*x\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    U("*2147483648\r\n", "E(ERR Protocol error: invalid multibulk length)"),
    U("*1\r\n$536870913\r\n", "E(ERR Protocol error: invalid bulk length)"),
    U("*1\r\n$4\r\nAUTH\r\n", "[\"AUTH\"]"),
    U("AUTH a b c d e f g h i j k l\r\n",
      "[\"AUTH\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\"]"),
    C("*11\r\n", "+"),
    C("*1\r\n$16385\r\n", "+"),
};

START_TEST(test_corpus_whole)
{
    const struct case_ *c = &corpus[_i];
    char *r = run_whole(c->in, c->len, c->auth, NULL);

    ck_assert_msg(strcmp(r, c->expect) == 0, "case %d: got %s want %s", _i, r,
                  c->expect);
    free(r);
}
END_TEST

START_TEST(test_corpus_splits)
{
    const struct case_ *c = &corpus[_i];
    char *whole = run_whole(c->in, c->len, c->auth, NULL);

    check_splits(c->in, c->len, c->auth, NULL, whole);
    free(whole);
}
END_TEST

/* The whole corpus as one pipelined stream (errors end it). */
START_TEST(test_corpus_pipelined)
{
    struct dstr in = { 0 }, want = { 0 };
    size_t k;
    char *r;

    for (k = 0; k < sizeof(corpus) / sizeof(corpus[0]); k++) {
        const struct case_ *c = &corpus[k];
        size_t l = strlen(c->expect);
        /* only complete, valid, authenticated cases keep the stream going */
        if (!c->auth || strchr(c->expect, 'E') == c->expect ||
            (l && c->expect[l - 1] == '+') || strstr(c->expect, "E(ERR"))
            continue;
        ds_add(&in, c->in, c->len);
        ds_str(&want, c->expect);
    }
    r = run_whole(in.s, in.n, 1, NULL);
    ck_assert_str_eq(r, want.s);
    free(r);
    r = run_step(in.s, in.n, 1, 1, NULL, 1);
    ck_assert_str_eq(r, want.s);
    free(r);
    r = run_step(in.s, in.n, 7, 1, NULL, 0);
    ck_assert_str_eq(r, want.s);
    free(r);
    ds_free(&in);
    ds_free(&want);
}
END_TEST

/* Random pipelines of corpus commands, randomly split. */
START_TEST(test_random_splits)
{
    unsigned seed = getenv("SEED") ? (unsigned)strtoul(getenv("SEED"), NULL, 10)
                                   : (unsigned)time(NULL);
    int round;

    printf("# test_random_splits SEED=%u\n", seed);
    srand(seed);
    for (round = 0; round < 300; round++) {
        struct dstr in = { 0 };
        size_t cuts[64];
        int ncut = 0, k, n = 1 + rand() % 12;
        char *whole, *r;

        for (k = 0; k < n; k++) {
            const struct case_ *c = &corpus[rand() % (sizeof(corpus) / sizeof(corpus[0]))];
            ds_add(&in, c->in, c->len);
        }
        if (in.n == 0)
            ds_str(&in, "");
        while (ncut < 64 && rand() % 4) {
            size_t at = (size_t)rand() % (in.n + 1);
            int m = ncut++;
            while (m > 0 && cuts[m - 1] > at) {
                cuts[m] = cuts[m - 1];
                m--;
            }
            cuts[m] = at;
        }
        whole = run_whole(in.s, in.n, round & 1, NULL);
        r = run_cuts(in.s, in.n, cuts, ncut, round & 1, NULL, rand() & 1);
        ck_assert_msg(strcmp(r, whole) == 0, "seed %u round %d: %s != %s", seed,
                      round, r, whole);
        free(r);
        free(whole);
        ds_free(&in);
    }
}
END_TEST

/* A 1 MB bulk with CRLFs inside, then an inline command. */
START_TEST(test_big_bulk)
{
    const size_t big = 1024 * 1024;
    struct dstr in = { 0 }, want = { 0 };
    char hdr[64], *data = malloc(big), *r;
    size_t i, hlen;
    struct resp_parser p;
    struct resp_cmd c;
    size_t pos = 0;

    for (i = 0; i < big; i++)
        data[i] = "ab\r\n\0$*x"[(i * 7 + i / 3) % 8];
    hlen = (size_t)snprintf(hdr, sizeof(hdr), "*2\r\n$3\r\nSET\r\n$%zu\r\n", big);
    ds_add(&in, hdr, hlen);
    ds_add(&in, data, big);
    ds_str(&in, "\r\nPING\r\n");

    /* whole: argv points into the buffer, no copy */
    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, in.s, in.n, &pos, 1, NULL, &c), RESP_DONE);
    ck_assert_int_eq(c.argc, 2);
    ck_assert_uint_eq(c.argvlen[1], big);
    ck_assert_ptr_eq(c.argv[1], in.s + hlen);
    ck_assert_int_eq(memcmp(c.argv[1], data, big), 0);
    ck_assert_int_eq(resp_parse(&p, in.s, in.n, &pos, 1, NULL, &c), RESP_DONE);
    ck_assert_int_eq(c.argc, 1);
    ck_assert_uint_eq(pos, in.n);

    /* pending_bulk after the header: the rest of the bulk plus CRLF */
    resp_parser_reset(&p);
    pos = 0;
    ck_assert_int_eq(resp_parse(&p, in.s, hlen + 10, &pos, 1, NULL, &c), RESP_MORE);
    ck_assert_uint_eq(pos, 0);
    ck_assert_uint_eq(resp_parser_pending_bulk(&p), big + 2 - 10);
    ck_assert_int_eq(resp_parse(&p, in.s, in.n - 6, &pos, 1, NULL, &c), RESP_DONE);
    ck_assert_uint_eq(c.argvlen[1], big);
    resp_parser_free(&p);

    /* same result for many splits */
    r = run_whole(in.s, in.n, 1, NULL);
    ds_add(&want, r, strlen(r));
    free(r);
    for (i = 0; i <= hlen + 2; i++) {
        size_t cut[2] = { i, in.n - 3 };
        r = run_cuts(in.s, in.n, cut, 2, 1, NULL, (int)(i & 1));
        ck_assert_str_eq(r, want.s);
        free(r);
    }
    for (i = hlen; i < in.n; i += 99991) {
        size_t cut[1] = { i };
        r = run_cuts(in.s, in.n, cut, 1, 1, NULL, 1);
        ck_assert_str_eq(r, want.s);
        free(r);
    }
    r = run_step(in.s, in.n, 4096, 1, NULL, 1);
    ck_assert_str_eq(r, want.s);
    free(r);
    r = run_step(in.s, in.n, 1, 1, NULL, 0);   /* in place: linear time */
    ck_assert_str_eq(r, want.s);
    free(r);
    ds_free(&in);
    ds_free(&want);
    free(data);
}
END_TEST

static void check_error(const char *in, size_t n, int auth, const struct resp_limits *lim,
                        const char *err)
{
    char want[256], *r;

    snprintf(want, sizeof(want), "E(%s)", err);
    r = run_whole(in, n, auth, lim);
    ck_assert_str_eq(r, want);
    free(r);
    r = run_step(in, n, 1, auth, lim, 0);
    ck_assert_str_eq(r, want);
    free(r);
    r = run_step(in, n, 1000, auth, lim, 1);
    ck_assert_str_eq(r, want);
    free(r);
}

/* The 64 KB line limits of inline requests and count lines. */
START_TEST(test_line_limits)
{
    size_t n = RESP_INLINE_MAX_DEFAULT + 1;
    char *s = malloc(n + 64), *r;

    memset(s, 'a', n);
    check_error(s, n, 1, NULL, "ERR Protocol error: too big inline request");
    /* exactly the limit is still waiting */
    r = run_whole(s, n - 1, 1, NULL);
    ck_assert_str_eq(r, "+");
    free(r);

    s[0] = '*';
    memset(s + 1, '1', n - 1);
    check_error(s, n, 1, NULL, "ERR Protocol error: too big mbulk count string");

    memcpy(s, "*1\r\n$", 5);
    memset(s + 5, '1', n - 1);
    check_error(s, n + 4, 1, NULL, "ERR Protocol error: too big bulk count string");
    r = run_whole(s, n + 3, 1, NULL);
    ck_assert_str_eq(r, "+");
    free(r);
    free(s);
}
END_TEST

/* Configured limits: proto-max-bulk-len and the multibulk count. */
START_TEST(test_configured_limits)
{
    struct resp_limits lim = { 10, 3, 16 };
    char *r;

    check_error("*1\r\n$11\r\n", 9, 1, &lim, "ERR Protocol error: invalid bulk length");
    r = run_whole("*1\r\n$10\r\n0123456789\r\n", 21, 1, &lim);
    ck_assert_str_eq(r, "[\"0123456789\"]");
    free(r);
    check_error("*4\r\n", 4, 1, &lim, "ERR Protocol error: invalid multibulk length");
    r = run_whole("*3\r\n", 4, 1, &lim);
    ck_assert_str_eq(r, "+");
    free(r);
    check_error("PINGPINGPINGPINGP", 17, 1, &lim,
                "ERR Protocol error: too big inline request");
    check_error("*11111111111111111", 18, 1, &lim,
                "ERR Protocol error: too big mbulk count string");
    check_error("*1\r\n$11111111111111111", 22, 1, &lim,
                "ERR Protocol error: too big bulk count string");
    /* the split corpus with the small limits too */
    check_splits("*1\r\n$11\r\n", 9, 1, &lim, "E(ERR Protocol error: invalid bulk length)");
    check_splits("*2\r\n$2\r\nab\r\n$10\r\n0123456789\r\n", 29, 1, &lim,
                 "[\"ab\",\"0123456789\"]");
}
END_TEST

/* Reset forgets a partial command and the sticky error; argv stays valid
 * for inline commands (scratch) and many arguments grow the arrays. */
START_TEST(test_reset_and_many_args)
{
    struct resp_parser p;
    struct resp_cmd c;
    struct dstr in = { 0 };
    size_t pos = 0;
    int i;

    resp_parser_init(&p);
    ck_assert_int_eq(resp_parse(&p, "*x\r\n", 4, &pos, 1, NULL, &c), RESP_ERROR);
    ck_assert_str_eq(resp_parser_error(&p), "ERR Protocol error: invalid multibulk length");
    resp_parser_reset(&p);
    ck_assert_ptr_null(resp_parser_error(&p));
    pos = 0;
    ck_assert_int_eq(resp_parse(&p, "*2\r\n$1\r\na", 9, &pos, 1, NULL, &c), RESP_MORE);
    ck_assert(resp_parser_in_progress(&p));
    resp_parser_reset(&p);
    ck_assert(!resp_parser_in_progress(&p));
    ck_assert_int_eq(resp_parse(&p, "PING\r\n", 6, &pos, 1, NULL, &c), RESP_DONE);
    ck_assert_int_eq(c.argc, 1);
    ck_assert_int_eq(memcmp(c.argv[0], "PING", 4), 0);

    ds_str(&in, "*5000\r\n");
    for (i = 0; i < 5000; i++) {
        char a[32];
        int n = snprintf(a, sizeof(a), "$%d\r\n%d\r\n", i < 10 ? 1 : i < 100 ? 2 : i < 1000 ? 3 : 4, i);
        ds_add(&in, a, (size_t)n);
    }
    for (i = 0; i < 3; i++) {   /* shrinks and regrows its arrays */
        pos = 0;
        ck_assert_int_eq(resp_parse(&p, in.s, in.n, &pos, 1, NULL, &c), RESP_DONE);
        ck_assert_int_eq(c.argc, 5000);
        ck_assert_int_eq(memcmp(c.argv[4999], "4999", 4), 0);
        ck_assert_uint_eq(pos, in.n);
        pos = 0;
        ck_assert_int_eq(resp_parse(&p, "*1\r\n$1\r\nx\r\n", 11, &pos, 1, NULL, &c),
                         RESP_DONE);
        ck_assert_int_eq(c.argc, 1);
    }
    resp_parser_free(&p);
    ds_free(&in);
}
END_TEST

static Suite *resp_suite(void)
{
    Suite *s = suite_create("resp");
    TCase *tc = tcase_create("parser");
    int n = (int)(sizeof(corpus) / sizeof(corpus[0]));

    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, test_corpus_whole, 0, n);
    tcase_add_loop_test(tc, test_corpus_splits, 0, n);
    tcase_add_test(tc, test_corpus_pipelined);
    tcase_add_test(tc, test_random_splits);
    tcase_add_test(tc, test_big_bulk);
    tcase_add_test(tc, test_line_limits);
    tcase_add_test(tc, test_configured_limits);
    tcase_add_test(tc, test_reset_and_many_args);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(resp_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
