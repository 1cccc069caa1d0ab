/* resp: the request parser (see resp.h for the contract). */
#include "server/resp.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "util/strconv.h"
#include "util/zmalloc.h"

enum {
    RESP_ST_IDLE = 0,   /* at the first byte of a command */
    RESP_ST_INLINE,     /* looking for the '\n' of an inline line */
    RESP_ST_COUNT,      /* looking for the '\r' of "*<count>" */
    RESP_ST_BULK_HDR,   /* looking for the '\r' of "$<len>" */
    RESP_ST_BULK_DATA,  /* waiting for <len> bytes + 2 */
    RESP_ST_ERROR       /* sticky protocol error */
};

#define RESP_ARGV_INIT 16
#define RESP_ARGV_KEEP 1024   /* shrink back to this after a huge command */

/* Error texts, one row each (Redis 7 networking.c, with the "ERR " that
 * addReplyError prepends). */
static const char ERR_MBULK_LEN[] = "ERR Protocol error: invalid multibulk length";
static const char ERR_BULK_LEN[] = "ERR Protocol error: invalid bulk length";
static const char ERR_INLINE_BIG[] = "ERR Protocol error: too big inline request";
static const char ERR_MBULK_BIG[] = "ERR Protocol error: too big mbulk count string";
static const char ERR_BULK_BIG[] = "ERR Protocol error: too big bulk count string";
static const char ERR_QUOTES[] = "ERR Protocol error: unbalanced quotes in request";
static const char ERR_UNAUTH_MBULK[] = "ERR Protocol error: unauthenticated multibulk length";
static const char ERR_UNAUTH_BULK[] = "ERR Protocol error: unauthenticated bulk length";

static const struct resp_limits resp_default_limits = {
    RESP_MAX_BULK_DEFAULT, RESP_MAX_MULTIBULK_DEFAULT, RESP_INLINE_MAX_DEFAULT
};

void resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->bulklen = -1;
    buf_init(&p->scratch);
}

static void resp_set_cap(struct resp_parser *p, int cap)
{
    p->off = zrealloc(p->off, (size_t)cap * sizeof(*p->off));
    p->len = zrealloc(p->len, (size_t)cap * sizeof(*p->len));
    p->argv = zrealloc(p->argv, (size_t)cap * sizeof(*p->argv));
    p->cap = cap;
}

static void resp_begin(struct resp_parser *p)
{
    p->state = RESP_ST_IDLE;
    p->argc = 0;
    p->multibulk = 0;
    p->bulklen = -1;
    p->cur = p->scan = 0;
    p->pending = 0;
}

void resp_parser_reset(struct resp_parser *p)
{
    resp_begin(p);
    p->err = NULL;
}

void resp_parser_free(struct resp_parser *p)
{
    zfree(p->off);
    zfree(p->len);
    zfree(p->argv);
    buf_free(&p->scratch);
    memset(p, 0, sizeof(*p));
    p->bulklen = -1;
}

const char *resp_parser_error(const struct resp_parser *p)
{
    return p->state == RESP_ST_ERROR ? p->err : NULL;
}

size_t resp_parser_pending_bulk(const struct resp_parser *p)
{
    return p->state == RESP_ST_BULK_DATA ? p->pending : 0;
}

int resp_parser_in_progress(const struct resp_parser *p)
{
    return p->state != RESP_ST_IDLE && p->state != RESP_ST_ERROR;
}

static int resp_fail(struct resp_parser *p, const char *err)
{
    p->state = RESP_ST_ERROR;
    p->err = err;
    p->pending = 0;
    return RESP_ERROR;
}

/* Find ch in s[from..n) the way strchr() finds it in Redis' NUL terminated
 * query buffer: a NUL byte ends the search. Returns its index, or n when it
 * is absent; *stop is where a later search must resume (a NUL stays put:
 * the line can never end for Redis either). */
static size_t resp_find(const char *s, size_t from, size_t n, char ch, size_t *stop)
{
    size_t i;
    for (i = from; i < n; i++) {
        if (s[i] == ch) {
            *stop = i;
            return i;
        }
        if (s[i] == '\0') {
            *stop = i;
            return n;
        }
    }
    *stop = n;
    return n;
}

/* The line at p->cur ends with '\r' plus one more byte (Redis skips it
 * unchecked). Returns RESP_DONE with *cr = index of the '\r' relative to the
 * command start, RESP_MORE, or RESP_ERROR (too big, with err). */
static int resp_line(struct resp_parser *p, const char *cmd, size_t avail,
                     size_t max, const char *err, size_t *cr)
{
    size_t r = resp_find(cmd, p->scan, avail, '\r', &p->scan);

    if (r == avail) {
        if (avail - p->cur > max)
            return resp_fail(p, err);
        return RESP_MORE;
    }
    if (r + 2 > avail)
        return RESP_MORE;  /* the byte after '\r' is not here yet */
    *cr = r;
    return RESP_DONE;
}

static void resp_push(struct resp_parser *p, size_t off, size_t len)
{
    if (p->argc == p->cap)
        resp_set_cap(p, p->cap ? p->cap * 2 : RESP_ARGV_INIT);
    p->off[p->argc] = off;
    p->len[p->argc] = len;
    p->argc++;
}

static int resp_count(struct resp_parser *p, const char *cmd, size_t avail,
                      int authenticated, const struct resp_limits *lim)
{
    size_t cr;
    long long ll;
    int rc = resp_line(p, cmd, avail, lim->max_inline, ERR_MBULK_BIG, &cr);

    if (rc != RESP_DONE)
        return rc;
    if (!str_to_ll(cmd + 1, cr - 1, &ll) || ll > lim->max_multibulk_len)
        return resp_fail(p, ERR_MBULK_LEN);
    if (ll > RESP_UNAUTH_MAX_MULTIBULK && !authenticated)
        return resp_fail(p, ERR_UNAUTH_MBULK);
    p->cur = p->scan = cr + 2;
    p->multibulk = ll > 0 ? ll : 0;
    p->state = RESP_ST_BULK_HDR;
    return RESP_DONE;
}

static int resp_bad_type(struct resp_parser *p, char c)
{
    /* addReplyErrorFormat maps CR and LF to spaces. */
    if (c == '\r' || c == '\n')
        c = ' ';
    snprintf(p->errbuf, sizeof(p->errbuf),
             "ERR Protocol error: expected '$', got '%c'", c);
    return resp_fail(p, p->errbuf);
}

static int resp_bulk_hdr(struct resp_parser *p, const char *cmd, size_t avail,
                         int authenticated, const struct resp_limits *lim)
{
    size_t cr;
    long long ll;
    int rc = resp_line(p, cmd, avail, lim->max_inline, ERR_BULK_BIG, &cr);

    if (rc != RESP_DONE)
        return rc;
    if (cmd[p->cur] != '$')
        return resp_bad_type(p, cmd[p->cur]);
    if (!str_to_ll(cmd + p->cur + 1, cr - p->cur - 1, &ll) || ll < 0 ||
        ll > lim->max_bulk_len)
        return resp_fail(p, ERR_BULK_LEN);
    if (ll > RESP_UNAUTH_MAX_BULK && !authenticated)
        return resp_fail(p, ERR_UNAUTH_BULK);
    p->cur = p->scan = cr + 2;
    p->bulklen = ll;
    p->state = RESP_ST_BULK_DATA;
    return RESP_DONE;
}

/* Arguments of a multibulk command, as many as are buffered. */
static int resp_multibulk(struct resp_parser *p, const char *cmd, size_t avail,
                          int authenticated, const struct resp_limits *lim)
{
    while (p->multibulk > 0) {
        size_t need;

        if (p->state == RESP_ST_BULK_HDR) {
            int rc = resp_bulk_hdr(p, cmd, avail, authenticated, lim);
            if (rc != RESP_DONE)
                return rc;
        }
        need = (size_t)p->bulklen + 2;
        if (avail - p->cur < need) {
            p->pending = need - (avail - p->cur);
            return RESP_MORE;
        }
        resp_push(p, p->cur, (size_t)p->bulklen);
        p->cur += need;
        p->scan = p->cur;
        p->bulklen = -1;
        p->multibulk--;
        p->state = RESP_ST_BULK_HDR;
    }
    return RESP_DONE;
}

static int resp_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* One quoted token body starting after the opening quote at s[*i]; appends
 * the unescaped bytes at *w. Returns 0, or -1 on unbalanced quotes / a
 * closing quote not followed by a blank or the end (sdssplitargs rules). */
static int resp_quoted(const char *s, size_t n, size_t *i, char **w, char q)
{
#define AT(k) ((k) < n ? s[k] : '\0')
    size_t k = *i;
    char *o = *w;

    for (;;) {
        char c = AT(k);
        if (c == '\0')
            return -1;
        if (q == '"' && c == '\\' && AT(k + 1) == 'x' &&
            str_hex_digit(AT(k + 2)) >= 0 && str_hex_digit(AT(k + 3)) >= 0) {
            *o++ = (char)(str_hex_digit(AT(k + 2)) * 16 + str_hex_digit(AT(k + 3)));
            k += 4;
        } else if (q == '"' && c == '\\' && AT(k + 1) != '\0') {
            char e = AT(k + 1);
            switch (e) {
            case 'n': e = '\n'; break;
            case 'r': e = '\r'; break;
            case 't': e = '\t'; break;
            case 'b': e = '\b'; break;
            case 'a': e = '\a'; break;
            default: break;
            }
            *o++ = e;
            k += 2;
        } else if (q == '\'' && c == '\\' && AT(k + 1) == '\'') {
            *o++ = '\'';
            k += 2;
        } else if (c == q) {
            if (AT(k + 1) != '\0' && !resp_isspace(AT(k + 1)))
                return -1;
            *i = k + 1;
            *w = o;
            return 0;
        } else {
            *o++ = c;
            k++;
        }
    }
#undef AT
}

/* Redis' sdssplitargs() over line[0..n) (which holds no NUL), writing the
 * arguments into p->scratch. Returns 0 or -1 (unbalanced quotes). */
static int resp_split_inline(struct resp_parser *p, const char *line, size_t n)
{
    size_t i = 0;
    char *base, *w;

    buf_clear(&p->scratch);
    buf_reserve(&p->scratch, n + 1);
    base = w = p->scratch.data;
    for (;;) {
        char *start;

        while (i < n && resp_isspace(line[i]))
            i++;
        if (i == n)
            return 0;
        start = w;
        for (;;) {   /* one token: unquoted runs and quoted parts */
            char c = i < n ? line[i] : '\0';
            if (c == '\0' || c == ' ' || c == '\n' || c == '\r' || c == '\t')
                break;
            if (c == '"' || c == '\'') {
                i++;
                if (resp_quoted(line, n, &i, &w, c) < 0)
                    return -1;
                break;   /* a closing quote ends the token */
            }
            *w++ = c;
            i++;
        }
        resp_push(p, (size_t)(start - base), (size_t)(w - start));
        if (i < n)
            i++;   /* the terminator (sdssplitargs steps over it) */
    }
}

static int resp_inline(struct resp_parser *p, const char *cmd, size_t avail,
                       const struct resp_limits *lim)
{
    size_t nl = resp_find(cmd, p->scan, avail, '\n', &p->scan);
    size_t linelen;

    if (nl == avail) {
        if (avail > lim->max_inline)
            return resp_fail(p, ERR_INLINE_BIG);
        return RESP_MORE;
    }
    linelen = nl;
    if (nl > 0 && cmd[nl - 1] == '\r')
        linelen--;
    if (resp_split_inline(p, cmd, linelen) < 0)
        return resp_fail(p, ERR_QUOTES);
    p->cur = nl + 1;
    return RESP_DONE;
}

static int resp_finish(struct resp_parser *p, const char *base, size_t *pos,
                       struct resp_cmd *out)
{
    int i;

    for (i = 0; i < p->argc; i++)
        p->argv[i] = base + p->off[i];
    out->argc = p->argc;
    out->argv = p->argv;
    out->argvlen = p->len;
    *pos += p->cur;
    resp_begin(p);
    return RESP_DONE;
}

/* A decimal number of at most 18 digits without leading zeros, ended by
 * '\r' plus one more byte, at s[*i]. Returns it, or -1 (not this shape or
 * not all there: the general parser decides). */
static inline long long resp_fast_num(const char *s, size_t *i, size_t avail)
{
    size_t k = *i, start = k;
    long long v = 0;

    while (k < avail && s[k] >= '0' && s[k] <= '9' && k - start < 18)
        v = v * 10 + (s[k++] - '0');
    if (k == start || k + 2 > avail || s[k] != '\r' ||
        (s[start] == '0' && k - start > 1))
        return -1;
    *i = k + 2;
    return v;
}

/* Fast path for a whole, well-formed multibulk command already in the
 * buffer (the common case): one pass, no state. Anything else — partial,
 * unusual or invalid — returns RESP_MORE so the general parser (which
 * gives the same result for every input this accepts) takes over. */
static int resp_fast(struct resp_parser *p, const char *cmd, size_t avail,
                     int authenticated, const struct resp_limits *lim,
                     size_t *pos, struct resp_cmd *out)
{
    size_t i = 1;
    long long count = resp_fast_num(cmd, &i, avail), k;

    if (count <= 0 || count > RESP_ARGV_KEEP || count > lim->max_multibulk_len ||
        (!authenticated && count > RESP_UNAUTH_MAX_MULTIBULK))
        return RESP_MORE;
    if (count > p->cap)
        resp_set_cap(p, (int)(count > RESP_ARGV_INIT ? count : RESP_ARGV_INIT));
    for (k = 0; k < count; k++) {
        long long n;
        if (i >= avail || cmd[i] != '$')
            return RESP_MORE;
        i++;
        n = resp_fast_num(cmd, &i, avail);
        if (n < 0 || n > lim->max_bulk_len ||
            (!authenticated && n > RESP_UNAUTH_MAX_BULK) ||
            (size_t)n + 2 > avail - i)
            return RESP_MORE;
        p->argv[k] = cmd + i;
        p->len[k] = (size_t)n;
        i += (size_t)n + 2;
    }
    out->argc = (int)count;
    out->argv = p->argv;
    out->argvlen = p->len;
    *pos += i;
    return RESP_DONE;
}

int resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *pos,
               int authenticated, const struct resp_limits *lim,
               struct resp_cmd *out)
{
    const char *cmd = buf + *pos;
    size_t avail = len - *pos;
    int rc;

    assert(*pos <= len);
    out->argc = 0;
    if (lim == NULL)
        lim = &resp_default_limits;
    switch (p->state) {
    case RESP_ST_ERROR:
        return RESP_ERROR;
    case RESP_ST_IDLE:
        if (avail == 0)
            return RESP_MORE;
        if (p->cap > RESP_ARGV_KEEP)
            resp_set_cap(p, RESP_ARGV_KEEP);
        p->argc = 0;
        if (cmd[0] == '*') {
            if (resp_fast(p, cmd, avail, authenticated, lim, pos, out) == RESP_DONE)
                return RESP_DONE;
            out->argc = 0;
            p->state = RESP_ST_COUNT;
        } else {
            p->state = RESP_ST_INLINE;
            break;
        }
        /* fall through */
    case RESP_ST_COUNT:
        rc = resp_count(p, cmd, avail, authenticated, lim);
        if (rc != RESP_DONE)
            return rc;
        break;
    default:
        break;
    }
    if (p->state == RESP_ST_INLINE) {
        rc = resp_inline(p, cmd, avail, lim);
        if (rc != RESP_DONE)
            return rc;
        return resp_finish(p, p->scratch.data, pos, out);
    }
    rc = resp_multibulk(p, cmd, avail, authenticated, lim);
    if (rc != RESP_DONE)
        return rc;
    return resp_finish(p, cmd, pos, out);
}
