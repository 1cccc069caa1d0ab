/* fuzz_server: command streams through the whole server, in process.
 *
 * The server starts once per process (a temp data dir, no TCP listener: a
 * unix socket nobody connects to; proto-max-bulk-len 1mb so that
 * SETRANGE/APPEND stay small). Each input is a list of commands, one per
 * line, arguments separated by spaces (a byte 0x01 inside an argument
 * stands for a space, 0x02 for a newline, so that any byte can be sent); it
 * is sent as RESP multibulk over a socketpair client, which the loop serves
 * exactly as a TCP client, until every reply is out (or the server closes
 * the client). Checks, besides memory safety:
 *  - the output is a sequence of complete, well-formed RESP2/RESP3 replies,
 *    at most one per command;
 *  - the connection ends (no command leaves the client or the loop stuck);
 *  - afterwards, in every db, DBSIZE agrees with the number of keys KEYS *
 *    lists (the exact counts the keyspace promises, through expiry, MULTI,
 *    SWAPDB, MOVE, COPY, RENAME and FLUSHDB), allowing only for keys that
 *    expire between the two calls.
 * Between inputs a FLUSHALL empties the keyspace. SHUTDOWN only marks the
 * server for shutdown; the harness clears the mark. CONFIG SET is not sent
 * (it could open listeners or change the data dir), nor MONITOR (its lines
 * break "at most one reply per command"), nor MIGRATE (it would connect to
 * whatever host and port the input names): the harness replaces the
 * command name of such a line by ECHO. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "server/ae.h"
#include "server/client.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/log.h"
#include "util/slice.h"

#define MAX_ARGS 64
#define NDBS 16

static int started;

static void cleanup(void)
{
    if (!started)
        return;
    server_shutdown();
    server_destroy();
    config_free();
}

static void start(void)
{
    /* The scratch dir is made first, so that its removal is registered
     * before cleanup: atexit runs cleanup (server shutdown) first. */
    const char *tmp = fuzz_scratch_dir();
    char dir[4200], sock[4200];
    snprintf(dir, sizeof(dir), "%s/data", tmp);
    snprintf(sock, sizeof(sock), "%s/sock", tmp);
    char *argv[64] = {
        "fuzz_server", "--port", "0", "--unixsocket", sock, "--dir", dir, "--loglevel", "warning",
        "--appendfsync", "no", "--proto-max-bulk-len", "1mb",
    };
    int argc = 13;
    /* FUZZ_SERVER_ARGS: more options, e.g. "--value-separation-threshold 64
     * --write-buffer-size 64kb" so that flushes, compactions and the value
     * log are reached with small inputs. */
    char extra[1024] = "";
    const char *env = getenv("FUZZ_SERVER_ARGS");
    if (env)
        snprintf(extra, sizeof(extra), "%s", env);
    for (char *save = NULL, *t = strtok_r(extra, " ", &save); t && argc < 63;
         t = strtok_r(NULL, " ", &save))
        argv[argc++] = t;
    argv[argc] = NULL;
    char err[512];
    config_init_defaults();
    if (config_load_args(argc, argv, err, sizeof(err)) < 0)
        fuzz_fail("config: %s", err);
    log_set_level(LOG_WARNING);
    signal(SIGPIPE, SIG_IGN);
    if (server_init() < 0)
        fuzz_fail("server_init failed");
    started = 1;
    atexit(cleanup);
}

/* Length of the complete reply at p[0..n), 0 if incomplete, -1 if malformed. */
static long reply_len(const char *p, size_t n, int depth)
{
    if (n == 0)
        return 0;
    if (depth > 64)
        return -1;
    const char *eol = memchr(p, '\r', n);
    if (!eol || (size_t)(eol - p) + 1 >= n)
        return 0;
    if (eol[1] != '\n')
        return -1;
    size_t head = (size_t)(eol - p) + 2;
    char line[64];
    size_t ll = (size_t)(eol - p) - 1;
    if (ll >= sizeof(line))
        ll = sizeof(line) - 1;
    memcpy(line, p + 1, ll);
    line[ll] = '\0';
    switch (p[0]) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        return (long)head;
    case '$': case '!': case '=': {
        char *end;
        long long len = strtoll(line, &end, 10);
        if (*end != '\0' || len < -1)
            return -1;
        if (len == -1)
            return (long)head;
        if ((size_t)len + 2 > n - head)
            return 0;
        if (p[head + len] != '\r' || p[head + len + 1] != '\n')
            return -1;
        return (long)(head + (size_t)len + 2);
    }
    case '*': case '~': case '>': case '%': case '|': {
        char *end;
        long long cnt = strtoll(line, &end, 10);
        if (*end != '\0' || cnt < -1)
            return -1;
        if (p[0] == '%' || p[0] == '|')
            cnt *= 2;
        size_t at = head;
        for (long long i = 0; i < cnt; i++) {
            long r = reply_len(p + at, n - at, depth + 1);
            if (r <= 0)
                return r;
            at += (size_t)r;
        }
        return (long)at;
    }
    default:
        return -1;
    }
}

/* 1 when the loop has nothing left to do for client id: every byte sent
 * was read and parsed, and every reply written. */
static int served(uint64_t id, int fd)
{
    struct client *c = client_by_id(id);
    int unread = 0;
    if (!c || ioctl(fd, FIONREAD, &unread) < 0)
        return 0;
    return unread == 0 && c->qpos == c->qlen && obuf_pending(&c->obuf) == 0 &&
           !(c->flags & CLIENT_PENDING_WRITE);
}

/* Sends req over a new socketpair client and serves it; the replies go to
 * *o. The client end closes only once the server has answered everything
 * (closing earlier would drop replies still queued, as Redis drops them
 * when a client goes), or when the server closed it (QUIT, errors). */
static void run(const char *req, size_t n, struct buf *o)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
        fuzz_fail("socketpair: %s", strerror(errno));
    struct client *c = client_create(sv[0], 1, NULL);
    if (!c)
        fuzz_fail("client_create failed");
    uint64_t id = c->id;
    size_t sent = 0;
    int idle = 0, spins = 0, mine = sv[1];
    char buf[65536];
    for (;;) {
        while (mine >= 0 && sent < n) {
            ssize_t w = write(mine, req + sent, n - sent);
            if (w <= 0)
                break;
            sent += (size_t)w;
        }
        ae_process_events(server.loop, AE_DONT_WAIT);
        ssize_t r = -1;
        int got = 0;
        while (mine >= 0 && (r = read(mine, buf, sizeof(buf))) > 0) {
            buf_append(o, buf, (size_t)r);
            got = 1;
        }
        if (client_by_id(id) == NULL && (mine < 0 || r == 0))
            break;                  /* closed by the server, or by us and freed */
        if (mine >= 0 && sent == n && !got && served(id, sv[0]) && ++idle >= 3) {
            close(mine);            /* answered: hang up */
            mine = -1;
        }
        if (++spins > 200000)
            fuzz_fail("the client was not served to its end (%zu of %zu bytes sent)", sent, n);
    }
    if (mine >= 0)
        close(mine);
    server.shutdown_asap = 0;
}

static void add_cmd(struct buf *req, int argc, const char **argv, const size_t *len)
{
    char h[32];
    buf_append(req, h, (size_t)snprintf(h, sizeof(h), "*%d\r\n", argc));
    for (int i = 0; i < argc; i++) {
        buf_append(req, h, (size_t)snprintf(h, sizeof(h), "$%zu\r\n", len[i]));
        buf_append(req, argv[i], len[i]);
        buf_append(req, "\r\n", 2);
    }
}

static void simple(const char *line, struct buf *o)
{
    const char *argv[4];
    size_t len[4];
    int argc = 0;
    char copy[128];
    snprintf(copy, sizeof(copy), "%s", line);
    for (char *save = NULL, *t = strtok_r(copy, " ", &save); t && argc < 4;
         t = strtok_r(NULL, " ", &save)) {
        argv[argc] = t;
        len[argc++] = strlen(t);
    }
    struct buf req = BUF_INIT;
    add_cmd(&req, argc, argv, len);
    run(req.data, req.len, o);
    buf_free(&req);
}

/* The integer of an integer reply, or the count of an array reply, at
 * o[*pos]; advances *pos past the reply. -1 if it is neither. */
static long long next_count(const struct buf *o, size_t *pos)
{
    long r = reply_len(o->data + *pos, o->len - *pos, 0);
    fuzz_check(r > 0, "bad reply to a check command");
    const char *p = o->data + *pos;
    *pos += (size_t)r;
    return p[0] == ':' || p[0] == '*' ? strtoll(p + 1, NULL, 10) : -1;
}

/* In every db: DBSIZE, KEYS *, DBSIZE again. Nothing writes meanwhile, and
 * keys only expire, so the counts can only fall: a key that expires between
 * the calls is allowed for, a wrong count is not. */
static void check_counts(void)
{
    for (int db = 0; db < NDBS; db++) {
        char num[16];
        snprintf(num, sizeof(num), "%d", db);
        const char *sel[2] = { "SELECT", num }, *dbsize[1] = { "DBSIZE" },
                   *keys[2] = { "KEYS", "*" };
        size_t sellen[2] = { 6, strlen(num) }, dbsizelen[1] = { 6 }, keyslen[2] = { 4, 1 };
        struct buf req = BUF_INIT, o = BUF_INIT;
        add_cmd(&req, 2, sel, sellen);
        add_cmd(&req, 1, dbsize, dbsizelen);
        add_cmd(&req, 2, keys, keyslen);
        add_cmd(&req, 1, dbsize, dbsizelen);
        run(req.data, req.len, &o);
        fuzz_check(o.len > 5 && memcmp(o.data, "+OK\r\n", 5) == 0, "SELECT %d failed", db);
        size_t pos = 5;
        long long n1 = next_count(&o, &pos), k = next_count(&o, &pos), n2 = next_count(&o, &pos);
        fuzz_check(n1 >= 0 && k >= 0 && n2 >= 0 && n1 >= k && k >= n2,
                   "db %d: DBSIZE %lld, then KEYS * lists %lld, then DBSIZE %lld", db, n1, k, n2);
        buf_free(&req);
        buf_free(&o);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!started)
        start();
    if (size > 8192)
        return 0;
    struct buf req = BUF_INIT;
    int ncmds = 0;
    size_t at = 0;
    char *args = malloc(size + 1);
    if (!args)
        abort();
    while (at < size) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t end = nl ? (size_t)(nl - data) : size;
        /* Split the line into arguments; decode 0x01 / 0x02. */
        const char *argv[MAX_ARGS];
        size_t len[MAX_ARGS];
        int argc = 0;
        size_t i = at;
        while (i < end && argc < MAX_ARGS) {
            while (i < end && data[i] == ' ')
                i++;
            if (i >= end)
                break;
            char *a = args + i;
            size_t l = 0;
            while (i < end && data[i] != ' ') {
                a[l++] = data[i] == 1 ? ' ' : data[i] == 2 ? '\n' : (char)data[i];
                i++;
            }
            argv[argc] = a;
            len[argc++] = l;
        }
        if (argc > 0) {
            if (len[0] == 6 && strncasecmp(argv[0], "config", 6) == 0 && argc > 1 &&
                len[1] == 3 && strncasecmp(argv[1], "set", 3) == 0) {
                argv[0] = "ECHO";
                len[0] = 4;
                argc = 2;
            }
            if ((len[0] == 7 && strncasecmp(argv[0], "monitor", 7) == 0) ||
                (len[0] == 7 && strncasecmp(argv[0], "migrate", 7) == 0)) {
                argv[0] = "ECHO";  /* MONITOR's lines are more than one reply a
                                    * command; MIGRATE would connect out */
                len[0] = 4;
            }
            add_cmd(&req, argc, argv, len);
            ncmds++;
        }
        at = end + 1;
    }
    struct buf o = BUF_INIT;
    if (ncmds > 0)
        run(req.data, req.len, &o);
    size_t pos = 0;
    int replies = 0;
    while (pos < o.len) {
        long r = reply_len(o.data + pos, o.len - pos, 0);
        fuzz_check(r > 0, "%s reply at offset %zu of %zu", r == 0 ? "incomplete" : "malformed",
                   pos, o.len);
        pos += (size_t)r;
        replies++;
    }
    fuzz_check(replies <= ncmds, "%d replies to %d commands", replies, ncmds);
    buf_free(&o);
    buf_free(&req);
    free(args);

    check_counts();
    struct buf f = BUF_INIT;
    simple("FLUSHALL SYNC", &f);
    fuzz_check(f.len == 5 && memcmp(f.data, "+OK\r\n", 5) == 0, "FLUSHALL failed");
    buf_free(&f);
    return 0;
}
