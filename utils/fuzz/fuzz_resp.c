/* fuzz_resp: the request parser on arbitrary client bytes.
 *
 * Input: byte 0 picks the mode (bit 0: authenticated; bits 1-2: limits),
 * byte 1 seeds the split points; the rest is the query stream.
 * Checks, besides memory safety:
 *  - every parsed argument lies inside the buffer (multibulk) and the
 *    command consumed what its arguments need;
 *  - the parser's contract that any byte split of a stream gives the same
 *    commands and the same error as parsing it whole: the stream is parsed
 *    once whole and once fed in pieces the way a client's query buffer is
 *    (unparsed bytes moved to the front of a new buffer every time), with
 *    limits large enough that the size-of-what-is-buffered rules do not
 *    apply; with the small limits only safety is checked. */
#include <string.h>

#include "fuzz.h"
#include "server/resp.h"
#include "util/slice.h"

struct transcript {
    struct buf cmds;                /* each command: argc, then len + bytes */
    const char *err;                /* static error text, or NULL */
    char errbuf[64];
    int complete;                   /* 0: stopped at RESP_MORE */
};

static void record(struct transcript *t, const struct resp_cmd *c, const char *buf,
                   size_t len, int inline_cmd)
{
    buf_append(&t->cmds, &c->argc, sizeof(c->argc));
    for (int i = 0; i < c->argc; i++) {
        const char *a = c->argv[i];
        size_t l = c->argvlen[i];
        if (!inline_cmd)
            fuzz_check(a >= buf && l <= len && (size_t)(a - buf) <= len - l,
                       "argument %d outside the buffer", i);
        buf_append(&t->cmds, &l, sizeof(l));
        buf_append(&t->cmds, a, l);
    }
}

static void set_error(struct transcript *t, const struct resp_parser *p)
{
    const char *e = resp_parser_error(p);
    fuzz_check(e != NULL && e[0] != '\0', "RESP_ERROR without an error text");
    snprintf(t->errbuf, sizeof(t->errbuf), "%s", e);
    t->err = t->errbuf;
}

/* Parses data[0..size) in pieces ending at cuts[] (ascending, last = size). */
static void parse_pieces(const uint8_t *data, size_t size, const size_t *cuts, int ncuts,
                         int auth, const struct resp_limits *lim, struct transcript *t)
{
    struct resp_parser p;
    resp_parser_init(&p);
    char *q = NULL;
    size_t qlen = 0, pos = 0, fed = 0;
    for (int c = 0; c < ncuts && !t->err; c++) {
        size_t add = cuts[c] - fed;
        /* A new buffer every time: a parser that kept a pointer into the old
         * one is caught by ASan. */
        char *nq = malloc(qlen + add ? qlen + add : 1);
        if (!nq)
            abort();
        if (qlen)
            memcpy(nq, q, qlen);
        memcpy(nq + qlen, data + fed, add);
        free(q);
        q = nq;
        qlen += add;
        fed += add;
        for (;;) {
            struct resp_cmd cmd;
            size_t before = pos;
            int inline_cmd = q[pos] != '*';
            int rc = resp_parse(&p, q, qlen, &pos, auth, lim, &cmd);
            if (rc == RESP_DONE) {
                fuzz_check(pos > before && pos <= qlen, "DONE without progress (%zu -> %zu)",
                           before, pos);
                record(t, &cmd, q, qlen, inline_cmd);
                if (pos == qlen)
                    break;
                continue;
            }
            if (rc == RESP_ERROR) {
                set_error(t, &p);
                fuzz_check(resp_parse(&p, q, qlen, &pos, auth, lim, &cmd) == RESP_ERROR,
                           "error not sticky");
                break;
            }
            fuzz_check(rc == RESP_MORE, "resp_parse returned %d", rc);
            fuzz_check(pos == before, "MORE moved pos");
            /* The caller drops what was parsed and moves the rest. */
            memmove(q, q + pos, qlen - pos);
            qlen -= pos;
            pos = 0;
            break;
        }
    }
    t->complete = t->err != NULL || !resp_parser_in_progress(&p);
    free(q);
    resp_parser_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int auth = data[0] & 1;
    int small = (data[0] >> 1) & 3;
    unsigned seed = data[1];
    data += 2;
    size -= 2;
    if (size == 0)
        return 0;

    struct resp_limits big = {
        .max_bulk_len = RESP_MAX_BULK_DEFAULT,
        .max_multibulk_len = RESP_MAX_MULTIBULK_DEFAULT,
        .max_inline = size + 1024,
    };
    struct resp_limits tiny = {
        .max_bulk_len = 1 + small * 7,
        .max_multibulk_len = 2 + small,
        .max_inline = 4 + small * 13,
    };

    /* Split points from the seed byte: 1 to 8 pieces. */
    size_t cuts[9];
    int ncuts = 0;
    uint32_t x = seed * 2654435761u + (uint32_t)size;
    int want = 1 + (int)(seed % 8);
    for (int i = 0; i < want - 1; i++) {
        x = x * 1103515245u + 12345u;
        size_t at = 1 + (x >> 8) % size;
        if (at < size && (ncuts == 0 || at > cuts[ncuts - 1]))
            cuts[ncuts++] = at;
    }
    cuts[ncuts++] = size;

    size_t whole_cut = size;
    struct transcript whole = { .cmds = BUF_INIT }, pieces = { .cmds = BUF_INIT };
    parse_pieces(data, size, &whole_cut, 1, auth, &big, &whole);
    parse_pieces(data, size, cuts, ncuts, auth, &big, &pieces);
    fuzz_check(slice_equal(buf_slice(&whole.cmds), buf_slice(&pieces.cmds)),
               "split into %d pieces, the commands differ", ncuts);
    fuzz_check((whole.err == NULL) == (pieces.err == NULL) &&
                   (!whole.err || strcmp(whole.err, pieces.err) == 0),
               "split into %d pieces, the error differs (%s / %s)", ncuts,
               whole.err ? whole.err : "none", pieces.err ? pieces.err : "none");
    fuzz_check(whole.complete == pieces.complete, "split changed whether a command is pending");
    buf_free(&whole.cmds);
    buf_free(&pieces.cmds);

    if (small) {
        struct transcript t = { .cmds = BUF_INIT };
        parse_pieces(data, size, cuts, ncuts, auth, &tiny, &t);
        buf_free(&t.cmds);
    }
    return 0;
}
