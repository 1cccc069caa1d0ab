/* test_reply: every encoder writes Redis 7's exact RESP2/RESP3 bytes, deferred
 * lengths are filled in place, and any amount of output goes through
 * obuf_write() in order, however the socket splits it. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server/reply.h"

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

static void ds_printf(struct dstr *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void ds_printf(struct dstr *d, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    ds_add(d, tmp, (size_t)n);
}

static void ds_free(struct dstr *d)
{
    free(d->s);
    memset(d, 0, sizeof(*d));
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

/* Everything queued in o, written through a socketpair with obuf_write()
 * while reading the other end in pieces of at most rd bytes. sndbuf > 0
 * shrinks the send buffer to force partial writes. */
static void drain_opts(struct obuf *o, struct dstr *out, size_t rd, int sndbuf)
{
    int sv[2];
    char *tmp = malloc(rd);

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (sndbuf > 0)
        setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    set_nonblock(sv[0]);
    set_nonblock(sv[1]);
    for (;;) {
        ssize_t w = 0, r;
        if (obuf_pending(o) > 0) {
            w = obuf_write(o, sv[0]);
            ck_assert_msg(w > 0 || w == -EAGAIN, "obuf_write: %zd", w);
        }
        r = read(sv[1], tmp, rd);
        if (r > 0)
            ds_add(out, tmp, (size_t)r);
        else if (obuf_pending(o) == 0)
            break;
        else
            ck_assert(r < 0 && errno == EAGAIN);
    }
    ck_assert_uint_eq(obuf_pending(o), 0);
    ck_assert_uint_eq(obuf_chunk_bytes(o), 0);
    close(sv[0]);
    close(sv[1]);
    free(tmp);
    if (out->s == NULL)
        ds_add(out, "", 0);
}

static void drain(struct obuf *o, struct dstr *out)
{
    drain_opts(o, out, 1 << 20, 0);
}

/* o's queued bytes equal want[0..n). */
static void expect_n(struct obuf *o, const char *want, size_t n)
{
    struct dstr got = { 0 };

    ck_assert_uint_eq(obuf_pending(o), n);
    drain(o, &got);
    ck_assert_msg(got.n == n && memcmp(got.s, want, n) == 0, "got [%s] want [%s]",
                  got.s, want);
    ds_free(&got);
}

#define EXPECT(o, lit) expect_n(o, lit, sizeof(lit) - 1)

static struct obuf *new_obuf(int resp)
{
    struct obuf *o = malloc(sizeof(*o));
    obuf_init(o);
    o->resp = resp;
    return o;
}

static void del_obuf(struct obuf *o)
{
    obuf_free(o);
    free(o);
}

START_TEST(test_resp2_encoders)
{
    struct obuf *o = new_obuf(2);

    ck_assert_int_eq(o->resp, 2);
    reply_ok(o);
    EXPECT(o, "+OK\r\n");
    reply_status(o, "PONG");
    EXPECT(o, "+PONG\r\n");
    reply_status_len(o, "QUEUEDxx", 6);
    EXPECT(o, "+QUEUED\r\n");
    reply_error(o, "ERR unknown command 'x'");
    EXPECT(o, "-ERR unknown command 'x'\r\n");
    reply_error(o, "-WRONGTYPE Operation");
    EXPECT(o, "-WRONGTYPE Operation\r\n");
    reply_error(o, "\r\nERR a\r\nb\nc\r\n");
    EXPECT(o, "-ERR a  b c\r\n");
    reply_errorf(o, "ERR wrong number of arguments for '%s' command", "get");
    EXPECT(o, "-ERR wrong number of arguments for 'get' command\r\n");
    reply_errorf(o, "ERR got '%c'", '\n');
    EXPECT(o, "-ERR got ' '\r\n");
    reply_bulk(o, "foo", 3);
    EXPECT(o, "$3\r\nfoo\r\n");
    reply_bulk(o, "", 0);
    EXPECT(o, "$0\r\n\r\n");
    reply_bulk(o, "a\r\n\0b", 5);
    expect_n(o, "$5\r\na\r\n\0b\r\n", 11);
    reply_bulk_cstr(o, "hello");
    EXPECT(o, "$5\r\nhello\r\n");
    reply_bulk_cstr(o, NULL);
    EXPECT(o, "$-1\r\n");
    reply_bulk_long(o, -12345);
    EXPECT(o, "$6\r\n-12345\r\n");
    memcpy(reply_bulk_reserve(o, 4), "abcd", 4);
    EXPECT(o, "$4\r\nabcd\r\n");
    reply_long(o, 0);
    reply_long(o, 1);
    reply_long(o, 31);
    reply_long(o, 32);
    reply_long(o, -1);
    reply_long(o, 1234567890123LL);
    reply_long(o, LLONG_MAX);
    reply_long(o, LLONG_MIN);
    EXPECT(o, ":0\r\n:1\r\n:31\r\n:32\r\n:-1\r\n:1234567890123\r\n"
              ":9223372036854775807\r\n:-9223372036854775808\r\n");
    reply_double(o, 1.5);
    reply_double(o, 0.1);
    reply_double(o, -3.0);
    reply_double(o, 1e21);
    EXPECT(o, "$3\r\n1.5\r\n$19\r\n0.10000000000000001\r\n$2\r\n-3\r\n$5\r\n1e+21\r\n");
    reply_double(o, INFINITY);
    reply_double(o, -INFINITY);
    reply_double(o, NAN);
    EXPECT(o, "$3\r\ninf\r\n$4\r\n-inf\r\n$3\r\nnan\r\n");
    reply_null(o);
    reply_null_array(o);
    EXPECT(o, "$-1\r\n*-1\r\n");
    reply_array_len(o, 2);
    reply_array_len(o, 100);
    reply_empty_array(o);
    EXPECT(o, "*2\r\n*100\r\n*0\r\n");
    reply_map_len(o, 3);
    reply_set_len(o, 4);
    reply_push_len(o, 5);
    EXPECT(o, "*6\r\n*4\r\n*5\r\n");
    reply_bool(o, 1);
    reply_bool(o, 0);
    EXPECT(o, ":1\r\n:0\r\n");
    reply_verbatim(o, "hello", 5, "txt");
    EXPECT(o, "$5\r\nhello\r\n");
    reply_raw(o, "+RAW\r\n", 6);
    EXPECT(o, "+RAW\r\n");
    del_obuf(o);
}
END_TEST

START_TEST(test_resp3_encoders)
{
    struct obuf *o = new_obuf(3);

    reply_ok(o);
    reply_status(o, "PONG");
    reply_error(o, "ERR x");
    EXPECT(o, "+OK\r\n+PONG\r\n-ERR x\r\n");
    reply_bulk(o, "foo", 3);
    reply_long(o, 42);
    EXPECT(o, "$3\r\nfoo\r\n:42\r\n");
    reply_double(o, 1.5);
    reply_double(o, 0.1);
    reply_double(o, 10.0);
    reply_double(o, INFINITY);
    reply_double(o, -INFINITY);
    reply_double(o, NAN);
    EXPECT(o, ",1.5\r\n,0.10000000000000001\r\n,10\r\n,inf\r\n,-inf\r\n,nan\r\n");
    reply_null(o);
    reply_null_array(o);
    reply_bulk_cstr(o, NULL);
    EXPECT(o, "_\r\n_\r\n_\r\n");
    reply_array_len(o, 2);
    reply_map_len(o, 3);
    reply_set_len(o, 4);
    reply_push_len(o, 5);
    reply_map_len(o, 1000);
    EXPECT(o, "*2\r\n%3\r\n~4\r\n>5\r\n%1000\r\n");
    reply_bool(o, 1);
    reply_bool(o, 0);
    EXPECT(o, "#t\r\n#f\r\n");
    reply_verbatim(o, "hello", 5, "txt");
    reply_verbatim(o, "", 0, "mkd");
    EXPECT(o, "=9\r\ntxt:hello\r\n=4\r\nmkd:\r\n");
    reply_empty_array(o);
    EXPECT(o, "*0\r\n");
    del_obuf(o);
}
END_TEST

START_TEST(test_muted)
{
    struct obuf *o = new_obuf(3);
    void *h;

    o->muted = 1;
    reply_ok(o);
    reply_error(o, "ERR x");
    reply_bulk(o, "x", 1);
    reply_long(o, 5);
    reply_double(o, 1.0);
    reply_map_len(o, 1);
    reply_verbatim(o, "x", 1, "txt");
    ck_assert_ptr_null(reply_bulk_reserve(o, 10));
    h = reply_defer_len(o);
    ck_assert_ptr_nonnull(h);
    reply_set_defer_len(o, h, 3, REPLY_ARRAY);
    ck_assert_uint_eq(obuf_pending(o), 0);
    o->muted = 0;
    reply_ok(o);
    EXPECT(o, "+OK\r\n");
    del_obuf(o);
}
END_TEST

START_TEST(test_defer_basic)
{
    struct obuf *o = new_obuf(2);
    void *h1, *h2, *h3;

    h1 = reply_defer_len(o);
    reply_bulk(o, "a", 1);
    reply_bulk(o, "b", 1);
    reply_set_defer_len(o, h1, 2, REPLY_ARRAY);
    EXPECT(o, "*2\r\n$1\r\na\r\n$1\r\nb\r\n");

    /* nested, the outer set first */
    h1 = reply_defer_len(o);
    h2 = reply_defer_len(o);
    reply_long(o, 1);
    h3 = reply_defer_len(o);
    reply_set_defer_len(o, h1, 1, REPLY_ARRAY);
    reply_set_defer_len(o, h3, 0, REPLY_SET);
    reply_set_defer_len(o, h2, 1, REPLY_MAP);
    EXPECT(o, "*1\r\n*2\r\n:1\r\n*0\r\n");

    o->resp = 3;
    h1 = reply_defer_len(o);
    reply_bulk(o, "k", 1);
    reply_long(o, 12345678901LL);
    reply_set_defer_len(o, h1, 1, REPLY_MAP);
    h1 = reply_defer_len(o);
    reply_set_defer_len(o, h1, 123456789012345LL, REPLY_SET);
    h1 = reply_defer_len(o);
    reply_set_defer_len(o, h1, 7, REPLY_PUSH);
    h1 = reply_defer_len(o);
    reply_set_defer_len(o, h1, 7, REPLY_ARRAY);
    EXPECT(o, "%1\r\n$1\r\nk\r\n:12345678901\r\n~123456789012345\r\n>7\r\n*7\r\n");
    del_obuf(o);
}
END_TEST

/* Deferred lengths whose elements spill out of the static buffer and over
 * chunk boundaries, at every offset near the end of the static buffer. */
START_TEST(test_defer_across_chunks)
{
    size_t fill;

    for (fill = OBUF_STATIC_SIZE - 64; fill <= OBUF_STATIC_SIZE; fill++) {
        struct obuf *o = new_obuf(2);
        struct dstr want = { 0 }, got = { 0 };
        char *pad = malloc(fill);
        void *outer, *inner;
        int i;

        memset(pad, 'p', fill);
        reply_raw(o, pad, fill);
        ds_add(&want, pad, fill);
        outer = reply_defer_len(o);
        ds_printf(&want, "*3\r\n");
        for (i = 0; i < 2; i++) {
            reply_bulk(o, "0123456789", 10);
            ds_printf(&want, "$10\r\n0123456789\r\n");
        }
        inner = reply_defer_len(o);
        ds_printf(&want, "*%d\r\n", 3000);
        for (i = 0; i < 3000; i++) {
            reply_long(o, i);
            ds_printf(&want, ":%d\r\n", i);
        }
        reply_set_defer_len(o, outer, 3, REPLY_ARRAY);
        reply_set_defer_len(o, inner, 3000, REPLY_ARRAY);
        reply_ok(o);
        ds_printf(&want, "+OK\r\n");
        ck_assert_uint_eq(obuf_pending(o), want.n);
        drain(o, &got);
        ck_assert_uint_eq(got.n, want.n);
        ck_assert_int_eq(memcmp(got.s, want.s, want.n), 0);
        ds_free(&want);
        ds_free(&got);
        free(pad);
        del_obuf(o);
    }
}
END_TEST

/* A random stream of every encoder (large bulks included), compared with
 * an independent reference, drained with small socket buffers and reads. */
START_TEST(test_large_random_stream)
{
    unsigned seed = getenv("SEED") ? (unsigned)strtoul(getenv("SEED"), NULL, 10)
                                   : (unsigned)time(NULL);
    struct obuf *o = new_obuf(2);
    struct dstr want = { 0 }, got = { 0 };
    char *big = malloc(3 * 1024 * 1024);
    size_t i;
    int round;

    printf("# test_large_random_stream SEED=%u\n", seed);
    srand(seed);
    for (i = 0; i < 3 * 1024 * 1024; i++)
        big[i] = (char)(rand() & 0xff);
    for (round = 0; round < 4; round++) {
        int k;
        o->resp = 2 + (round & 1);
        for (k = 0; k < 3000; k++) {
            int op = rand() % 8;
            size_t n;
            long long v;
            void *h;
            char *dst;
            switch (op) {
            case 0:
                n = (size_t)rand() % 40;
                reply_bulk(o, big + k, n);
                ds_printf(&want, "$%zu\r\n", n);
                ds_add(&want, big + k, n);
                ds_add(&want, "\r\n", 2);
                break;
            case 1:
                n = (size_t)rand() % (rand() % 10 == 0 ? 3 * 1024 * 1024 : 70000);
                reply_bulk(o, big, n);
                ds_printf(&want, "$%zu\r\n", n);
                ds_add(&want, big, n);
                ds_add(&want, "\r\n", 2);
                break;
            case 2:
                v = (long long)rand() - RAND_MAX / 2;
                reply_long(o, v);
                ds_printf(&want, ":%lld\r\n", v);
                break;
            case 3:
                reply_ok(o);
                ds_printf(&want, "+OK\r\n");
                break;
            case 4:
                h = reply_defer_len(o);
                n = (size_t)rand() % 5;
                ds_printf(&want, "*%zu\r\n", n);
                for (i = 0; i < n; i++) {
                    reply_long(o, (long long)i);
                    ds_printf(&want, ":%zu\r\n", i);
                }
                reply_set_defer_len(o, h, (long long)n, REPLY_ARRAY);
                break;
            case 5:
                n = (size_t)rand() % 50000;
                dst = reply_bulk_reserve(o, n);
                memcpy(dst, big + 7, n);
                ds_printf(&want, "$%zu\r\n", n);
                ds_add(&want, big + 7, n);
                ds_add(&want, "\r\n", 2);
                break;
            case 6:
                reply_array_len(o, k);
                ds_printf(&want, "*%d\r\n", k);
                break;
            default:
                reply_null(o);
                ds_add(&want, o->resp == 2 ? "$-1\r\n" : "_\r\n", o->resp == 2 ? 5 : 3);
                break;
            }
        }
        ck_assert_uint_eq(obuf_pending(o), want.n);
        if (round < 2)
            drain_opts(o, &got, 1000 + (size_t)rand() % 70000, 4096);
        else
            drain(o, &got);
        ck_assert_uint_eq(got.n, want.n);
        ck_assert_msg(memcmp(got.s, want.s, want.n) == 0, "seed %u round %d", seed, round);
        ds_free(&want);
        ds_free(&got);
    }
    free(big);
    del_obuf(o);
}
END_TEST

/* More chunks than one writev can take (IOV_MAX). */
START_TEST(test_many_chunks)
{
    struct obuf *o = new_obuf(2);
    struct dstr want = { 0 }, got = { 0 };
    size_t n = OBUF_CHUNK_SIZE + 100;
    char *val = malloc(n);
    int i;

    for (i = 0; i < 1500; i++) {
        memset(val, 'a' + i % 26, n);
        reply_bulk(o, val, n);
        ds_printf(&want, "$%zu\r\n", n);
        ds_add(&want, val, n);
        ds_add(&want, "\r\n", 2);
    }
    ck_assert_uint_gt(obuf_chunk_bytes(o), 1500 * (size_t)OBUF_CHUNK_SIZE);
    drain(o, &got);
    ck_assert_uint_eq(got.n, want.n);
    ck_assert_int_eq(memcmp(got.s, want.s, want.n), 0);
    ds_free(&want);
    ds_free(&got);
    free(val);
    del_obuf(o);
}
END_TEST

/* -EAGAIN passes through when the socket is full and nothing was written;
 * -EPIPE when the peer is gone; the queue keeps its bytes. */
START_TEST(test_write_errors)
{
    struct obuf *o = new_obuf(2);
    char *val = malloc(1 << 20);
    int sv[2];
    ssize_t w;
    size_t before;

    signal(SIGPIPE, SIG_IGN);
    ck_assert_int_eq(obuf_write(o, -1), 0);   /* nothing pending */
    memset(val, 'x', 1 << 20);
    for (int i = 0; i < 8; i++)
        reply_bulk(o, val, 1 << 20);
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    set_nonblock(sv[0]);
    w = obuf_write(o, sv[0]);
    ck_assert_int_gt(w, 0);
    before = obuf_pending(o);
    ck_assert_uint_gt(before, 0);
    ck_assert_int_eq(obuf_write(o, sv[0]), -EAGAIN);
    ck_assert_uint_eq(obuf_pending(o), before);
    close(sv[1]);
    ck_assert_int_eq(obuf_write(o, sv[0]), -EPIPE);
    close(sv[0]);
    ck_assert_int_eq(obuf_write(o, -1), -EBADF);
    obuf_reset(o);
    ck_assert_uint_eq(obuf_pending(o), 0);
    ck_assert_uint_eq(obuf_chunk_bytes(o), 0);
    reply_ok(o);
    EXPECT(o, "+OK\r\n");
    free(val);
    del_obuf(o);
}
END_TEST

/* A rewind drops exactly what was queued after the mark, whether it stayed
 * in the static buffer or spilled into chunks; later replies follow on. */
START_TEST(test_mark_rewind)
{
    size_t pre[] = { 0, 10, OBUF_STATIC_SIZE - 3, OBUF_STATIC_SIZE + 5000,
                     3 * OBUF_CHUNK_SIZE };
    size_t post[] = { 0, 1, 100, OBUF_STATIC_SIZE, 200000 };
    char *pad = malloc(400000);
    size_t i, j;

    memset(pad, 'q', 400000);
    for (i = 0; i < sizeof(pre) / sizeof(pre[0]); i++) {
        for (j = 0; j < sizeof(post) / sizeof(post[0]); j++) {
            struct obuf *o = new_obuf(2);
            struct dstr want = { 0 }, got = { 0 };
            struct obuf_mark m;
            size_t chunks;
            void *h;

            reply_raw(o, pad, pre[i]);
            ds_add(&want, pad, pre[i]);
            chunks = obuf_chunk_bytes(o);
            obuf_mark(o, &m);
            h = reply_defer_len(o);
            reply_raw(o, pad, post[j]);
            reply_bulk(o, pad, post[j]);
            (void)h;                      /* dropped by the rewind */
            obuf_rewind(o, &m);
            ck_assert_uint_eq(obuf_pending(o), pre[i]);
            ck_assert_uint_eq(obuf_chunk_bytes(o), chunks);
            reply_error(o, "ERR taken back");
            ds_add(&want, "-ERR taken back\r\n", 17);
            reply_bulk(o, pad, 20000);
            ds_printf(&want, "$20000\r\n");
            ds_add(&want, pad, 20000);
            ds_add(&want, "\r\n", 2);
            drain(o, &got);
            ck_assert_uint_eq(got.n, want.n);
            ck_assert_int_eq(memcmp(got.s, want.s, want.n), 0);
            ds_free(&want);
            ds_free(&got);
            del_obuf(o);
        }
    }
    free(pad);
}
END_TEST

static Suite *reply_suite(void)
{
    Suite *s = suite_create("reply");
    TCase *tc = tcase_create("reply");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_resp2_encoders);
    tcase_add_test(tc, test_resp3_encoders);
    tcase_add_test(tc, test_muted);
    tcase_add_test(tc, test_defer_basic);
    tcase_add_test(tc, test_defer_across_chunks);
    tcase_add_test(tc, test_large_random_stream);
    tcase_add_test(tc, test_many_chunks);
    tcase_add_test(tc, test_write_errors);
    tcase_add_test(tc, test_mark_rewind);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(reply_suite());
    int failed;

    srunner_run_all(sr, CK_ENV);   /* CK_VERBOSITY, default normal */
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
