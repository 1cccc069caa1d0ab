/* reply: a client's output buffer and the RESP2/RESP3 reply encoders.
 *
 * Owns: the bytes queued for one client, in order. They go first to a static
 * OBUF_STATIC_SIZE array inside struct obuf, then to a list of heap chunks
 * (each >= OBUF_CHUNK_SIZE; a large bulk gets a chunk of its own size so its
 * payload is copied exactly once). obuf_write() sends them with writev.
 * Order is always preserved; any reply size and any pipelining depth work.
 *
 * Encoders write Redis 7's exact bytes for o->resp (2 or 3, set by the caller
 * on HELLO; default 2). When o->muted is set (CLIENT REPLY OFF/SKIP), every
 * encoder is a no-op.
 *
 * Deferred lengths (Redis' addReplyDeferredLen): h = reply_defer_len(o);
 * emit elements; reply_set_defer_len(o, h, n, kind). Several may be open at
 * once and set in any order. obuf_write() must not be called while one is
 * open (commands run to completion before the loop writes).
 *
 * Memory: no allocation on the hot path while replies fit the static array
 * and no allocation per reply after chunks exist beyond chunk refills.
 * Thread rules: loop thread only. */
#ifndef LSM_SERVER_REPLY_H
#define LSM_SERVER_REPLY_H

#include <stddef.h>
#include <sys/types.h>

#define OBUF_STATIC_SIZE (16 * 1024)   /* Redis' PROTO_REPLY_CHUNK_BYTES */
#define OBUF_CHUNK_SIZE (16 * 1024)

struct obuf_chunk;                  /* private to reply.c */
struct obuf_defer;                  /* private to reply.c */

/* Plain struct so a client can embed it; only resp and muted are public. */
struct obuf {
    int resp;                       /* public: 2 or 3 */
    int muted;                      /* public: 1 = drop every reply */
    size_t bufpos;                  /* bytes used in buf */
    size_t sentlen;                 /* bytes of the first region already sent */
    struct obuf_chunk *head, *tail; /* chunk list (after buf) */
    size_t chunk_bytes;             /* bytes allocated by chunks */
    size_t pending;                 /* bytes not yet written */
    struct obuf_defer *defer;       /* open deferred lengths */
    int ndefer, defer_cap;
    unsigned defer_seq;
    char buf[OBUF_STATIC_SIZE];
};

void obuf_init(struct obuf *o);     /* resp = 2, empty */
void obuf_free(struct obuf *o);     /* frees chunks; o may be re-inited */
/* Drop everything queued (unsent bytes too) and any open deferred length. */
void obuf_reset(struct obuf *o);
/* Bytes queued and not yet written. */
static inline size_t obuf_pending(const struct obuf *o) { return o->pending; }
/* Heap bytes held by chunks (the client-output-buffer-limit figure). */
static inline size_t obuf_chunk_bytes(const struct obuf *o) { return o->chunk_bytes; }
/* Write queued bytes to fd with writev (up to IOV_MAX regions per call,
 * looping while the kernel takes everything). Returns bytes written (> 0, or
 * 0 when nothing was pending) or -errno (-EAGAIN when the socket is full and
 * nothing was written). Written chunks are freed. */
ssize_t obuf_write(struct obuf *o, int fd);

/* Take back replies: obuf_mark() notes the end of the queue; obuf_rewind()
 * drops everything queued after it (chunks included, and deferred lengths
 * opened after it). Valid only while nothing was written (obuf_write) or
 * reset in between, and while deferred lengths open at the mark stay open. */
struct obuf_mark {
    struct obuf_chunk *tail;        /* NULL: the static buf was the tail */
    size_t used;                    /* bytes used in that region */
    size_t pending;
    int ndefer;
};
void obuf_mark(const struct obuf *o, struct obuf_mark *m);
void obuf_rewind(struct obuf *o, const struct obuf_mark *m);

/* ---- encoders ---- */
void reply_raw(struct obuf *o, const void *p, size_t n);   /* bytes as is */
void reply_status(struct obuf *o, const char *s);          /* +s */
void reply_status_len(struct obuf *o, const char *s, size_t n);
void reply_ok(struct obuf *o);                             /* +OK */
/* -msg: msg includes the code ("ERR bad", "NOAUTH ..."); a leading '-' is
 * kept, not doubled; CR/LF at the end are trimmed and inside become spaces. */
/* Called with every error reply's text (without the '-', CR/LF trimmed),
 * muted or not: the server's error statistics. NULL = none. */
void reply_set_error_hook(void (*fn)(const char *msg, size_t n));
void reply_error(struct obuf *o, const char *msg);
void reply_errorf(struct obuf *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void reply_bulk(struct obuf *o, const void *p, size_t n);  /* $n..., */
void reply_bulk_cstr(struct obuf *o, const char *s);       /* NULL = null */
void reply_bulk_long(struct obuf *o, long long v);         /* $ of "v" */
/* Writes "$n\r\n" and the trailing CRLF and returns n contiguous bytes
 * between them for the caller to fill (no intermediate copy); NULL when
 * muted (then fill nothing). */
char *reply_bulk_reserve(struct obuf *o, size_t n);
void reply_long(struct obuf *o, long long v);              /* :v */
/* RESP2: bulk "%.17g" ("inf", "-inf", "nan"); RESP3: ,%.17g / ,inf / ,-inf / ,nan */
void reply_double(struct obuf *o, double d);
void reply_null(struct obuf *o);                           /* $-1 / _ */
void reply_null_array(struct obuf *o);                     /* *-1 / _ */
void reply_array_len(struct obuf *o, long long n);         /* *n */
void reply_map_len(struct obuf *o, long long n);           /* *2n / %n */
void reply_set_len(struct obuf *o, long long n);           /* *n / ~n */
void reply_push_len(struct obuf *o, long long n);          /* *n / >n */
void reply_bool(struct obuf *o, int b);                    /* :1 :0 / #t #f */
/* RESP3 =len\r\nfmt:p (fmt is 3 chars, e.g. "txt"); RESP2 bulk of p. */
void reply_verbatim(struct obuf *o, const char *p, size_t n, const char *fmt);
void reply_empty_array(struct obuf *o);                    /* *0 */

enum reply_kind { REPLY_ARRAY = 0, REPLY_MAP, REPLY_SET, REPLY_PUSH };
/* Reserve the place of an aggregate header; returns a handle (never NULL). */
void *reply_defer_len(struct obuf *o);
/* Fill it: kind's header with n elements (pairs for REPLY_MAP). */
void reply_set_defer_len(struct obuf *o, void *handle, long long n,
                         enum reply_kind kind);

#endif
