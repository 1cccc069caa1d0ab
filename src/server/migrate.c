/* migrate: MIGRATE and its connection cache (see migrate.h). */
#include "server/migrate.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/cmdarg.h"
#include "server/dump.h"
#include "server/keyspace.h"
#include "server/net.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/slice.h"
#include "util/zmalloc.h"

#define CACHE_MAX 64            /* cached connections */
#define CACHE_TTL_S 10          /* closed after this long unused */
#define WRITE_CHUNK (64 * 1024) /* each write waits at most the timeout */
#define LINE_CAP 1024           /* a reply line keeps this much, as Redis */

struct msock {
    char *name;                 /* "host:port" as given */
    int fd;
    long long last_db;          /* the db last selected there; -1 unknown */
    int64_t last_use_s;
};

static struct msock cache[CACHE_MAX];
static int ncache;

static int64_t now_s(void)
{
    return clock_mono_ms() / 1000;
}

static void cache_drop(int i)
{
    close(cache[i].fd);
    zfree(cache[i].name);
    cache[i] = cache[--ncache];
}

void migrate_cron(void)
{
    int64_t now = now_s();
    for (int i = 0; i < ncache;)
        if (now - cache[i].last_use_s > CACHE_TTL_S)
            cache_drop(i);
        else
            i++;
}

void migrate_close_all(void)
{
    while (ncache)
        cache_drop(ncache - 1);
}

static int cache_find(const char *name)
{
    for (int i = 0; i < ncache; i++)
        if (strcmp(cache[i].name, name) == 0)
            return i;
    return -1;
}

/* ---- blocking I/O with a deadline ---- */

/* Waits until fd is ready for events or ms pass: 1 ready, 0 timed out
 * (errno ETIMEDOUT), -1 error. */
static int wait_fd(int fd, short events, long long ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    int64_t end = clock_mono_ms() + ms;
    for (;;) {
        int64_t left = end - clock_mono_ms();
        if (left < 0)
            left = 0;
        int rc = poll(&p, 1, (int)(left > 0x7fffffff ? 0x7fffffff : left));
        if (rc > 0)
            return 1;
        if (rc == 0) {
            errno = ETIMEDOUT;
            return 0;
        }
        if (errno != EINTR)
            return -1;
    }
}

/* A non-blocking TCP connection to host:port: the fd, or -1 when the name
 * does not resolve or no address takes a connect. As Redis 7.0's blocking
 * connect, a connect in progress is waited for (at most ms) and then taken
 * whatever its outcome: a refused or unfinished one fails at the first
 * write ("error or timeout writing to target instance"). */
static int connect_to(const char *host, const char *port, long long ms)
{
    char service[16];
    snprintf(service, sizeof service, "%d", atoi(port));   /* Redis reads it so */
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    struct addrinfo *res = NULL;
    if (getaddrinfo(host, service, &hints, &res) != 0)
        return -1;
    int fd = -1;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0)
            break;
        if (errno == EINPROGRESS) {
            (void)wait_fd(fd, POLLOUT, ms);
            break;
        }
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0)
        net_set_nodelay(fd);
    return fd;
}

/* Writes all n bytes, each WRITE_CHUNK within ms: 0, or -1. */
static int write_all(int fd, const char *p, size_t n, long long ms)
{
    while (n) {
        size_t chunk = n > WRITE_CHUNK ? WRITE_CHUNK : n;
        int64_t end = clock_mono_ms() + ms;
        while (chunk) {
            ssize_t w = send(fd, p, chunk, MSG_NOSIGNAL);
            if (w > 0) {
                p += w;
                n -= (size_t)w;
                chunk -= (size_t)w;
                continue;
            }
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                return -1;
            if (wait_fd(fd, POLLOUT, end - clock_mono_ms()) <= 0)
                return -1;
        }
    }
    return 0;
}

/* Reads one line (up to "\n", "\r\n" dropped; LINE_CAP - 1 bytes kept)
 * within ms: its length (> 0), or -1 (error, timeout, closed, or empty). */
static int read_line(int fd, char *line, long long ms)
{
    int64_t end = clock_mono_ms() + ms;
    size_t n = 0;
    for (;;) {
        char ch;
        ssize_t r = read(fd, &ch, 1);
        if (r == 1) {
            if (ch == '\n')
                break;
            if (n < LINE_CAP - 1)
                line[n++] = ch;
            continue;
        }
        if (r == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (errno != EAGAIN && errno != EINTR)
            return -1;
        if (wait_fd(fd, POLLIN, end - clock_mono_ms()) <= 0)
            return -1;
    }
    if (n && line[n - 1] == '\r')
        n--;
    line[n] = '\0';
    return n ? (int)n : -1;
}

/* ---- the command ---- */

/* The cached connection to host:port, or a new one: its slot, or -1 after
 * replying the connect error. */
static int get_socket(struct client *c, long long timeout)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s:%.*s", (int)cmdarg_clen(c, 1), c->argv[1],
             (int)cmdarg_clen(c, 2), c->argv[2]);
    int i = cache_find(name);
    if (i >= 0) {
        cache[i].last_use_s = now_s();
        return i;
    }
    if (ncache == CACHE_MAX)
        cache_drop((int)((uint64_t)clock_mono_us() % CACHE_MAX));   /* one at random */
    char host[256], port[32];
    int fd = -1;
    /* A name longer than any host name resolves to nothing (cutting it
     * could name another host). */
    if (cmdarg_clen(c, 1) < sizeof host && cmdarg_clen(c, 2) < sizeof port) {
        snprintf(host, sizeof host, "%.*s", (int)cmdarg_clen(c, 1), c->argv[1]);
        snprintf(port, sizeof port, "%.*s", (int)cmdarg_clen(c, 2), c->argv[2]);
        fd = connect_to(host, port, timeout);
    }
    if (fd < 0) {
        reply_error(&c->obuf, "IOERR error or timeout connecting to the client");
        return -1;
    }
    cache[ncache] = (struct msock){ zstrdup(name), fd, -1, now_s() };
    return ncache++;
}

static void close_socket(struct client *c)
{
    char name[512];
    snprintf(name, sizeof name, "%.*s:%.*s", (int)cmdarg_clen(c, 1), c->argv[1],
             (int)cmdarg_clen(c, 2), c->argv[2]);
    int i = cache_find(name);
    if (i >= 0)
        cache_drop(i);
}

static void bulk(struct buf *b, const char *p, size_t n)
{
    char hdr[32];
    int k = snprintf(hdr, sizeof hdr, "$%zu\r\n", n);
    buf_append(b, hdr, (size_t)k);
    buf_append(b, p, n);
    buf_append(b, "\r\n", 2);
}

static void bulk_ll(struct buf *b, long long v)
{
    char num[32];
    int k = snprintf(num, sizeof num, "%lld", v);
    bulk(b, num, (size_t)k);
}

static void array_len(struct buf *b, int n)
{
    char hdr[16];
    int k = snprintf(hdr, sizeof hdr, "*%d\r\n", n);
    buf_append(b, hdr, (size_t)k);
}

struct mig_args {
    int copy, replace;
    int auth;                   /* argv index of the password, 0 = none */
    int user;                   /* argv index of the AUTH2 username, 0 = none */
    int first_key, nkeys;
    long long timeout, db;
};

/* Redis 7.0's argument checks, in its order: 1, or 0 after replying. */
static int parse_args(struct client *c, struct mig_args *a)
{
    *a = (struct mig_args){ .first_key = 3, .nkeys = 1 };
    for (int j = 6; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (cmdarg_opt_is(c, j, "copy")) {
            a->copy = 1;
        } else if (cmdarg_opt_is(c, j, "replace")) {
            a->replace = 1;
        } else if (cmdarg_opt_is(c, j, "auth")) {
            if (!more) {
                reply_error(&c->obuf, "ERR syntax error");
                return 0;
            }
            a->auth = ++j;
            a->user = 0;
        } else if (cmdarg_opt_is(c, j, "auth2")) {
            if (more < 2) {
                reply_error(&c->obuf, "ERR syntax error");
                return 0;
            }
            a->user = ++j;
            a->auth = ++j;
        } else if (cmdarg_opt_is(c, j, "keys")) {
            if (c->argvlen[3] != 0) {
                reply_error(&c->obuf, "ERR When using MIGRATE KEYS option, the key argument "
                                      "must be set to the empty string");
                return 0;
            }
            a->first_key = j + 1;
            a->nkeys = c->argc - j - 1;
            break;
        } else {
            reply_error(&c->obuf, "ERR syntax error");
            return 0;
        }
    }
    if (!cmdarg_ll(c, 5, &a->timeout) || !cmdarg_ll(c, 4, &a->db))
        return 0;
    if (a->timeout <= 0)
        a->timeout = 1000;
    if (a->timeout > 0x7fffffff)
        a->timeout = 0x7fffffff;        /* ~24 days; keeps deadlines in range */
    return 1;
}

struct mig_key {
    int argi;                   /* the key's argv index */
    long long ttl;              /* ms to restore it with; 0 = none */
    struct ks_value v;
};

/* Appends AUTH, SELECT (when needed) and a RESTORE per key to b. */
static void build_request(struct client *c, const struct mig_args *a, int select,
                          const struct mig_key *ks, int n, struct buf *b)
{
    if (a->auth) {
        array_len(b, a->user ? 3 : 2);
        bulk(b, "AUTH", 4);
        if (a->user)
            bulk(b, c->argv[a->user], c->argvlen[a->user]);
        bulk(b, c->argv[a->auth], c->argvlen[a->auth]);
    }
    if (select) {
        array_len(b, 2);
        bulk(b, "SELECT", 6);
        bulk_ll(b, a->db);
    }
    struct buf payload = BUF_INIT;
    for (int j = 0; j < n; j++) {
        array_len(b, a->replace ? 5 : 4);
        bulk(b, "RESTORE", 7);
        bulk(b, c->argv[ks[j].argi], c->argvlen[ks[j].argi]);
        bulk_ll(b, ks[j].ttl);
        buf_clear(&payload);
        dump_string(ks[j].v.data, ks[j].v.len, &payload);
        bulk(b, payload.data, payload.len);
        if (a->replace)
            bulk(b, "REPLACE", 7);
    }
    buf_free(&payload);
}

/* One attempt over the connection in slot: 1 done (the reply is out); 0 a
 * socket error before the target's first RESTORE reply (nothing changed
 * here: a retry is possible; *wrote says whether writing failed, *err is
 * errno); -1 a socket error after some keys moved (not replied yet). */
static int attempt(struct client *c, const struct mig_args *a, const struct mig_key *ks,
                   int n, int slot, int *wrote, int *err)
{
    struct msock *s = &cache[slot];
    int select = s->last_db != a->db;
    struct buf req = BUF_INIT;
    build_request(c, a, select, ks, n, &req);
    *wrote = write_all(s->fd, req.data, req.len, a->timeout) < 0;
    *err = errno;               /* before free() may change it */
    buf_free(&req);
    char auth_line[LINE_CAP] = "", select_line[LINE_CAP] = "", line[LINE_CAP];
    if (*wrote)
        return 0;
    if ((a->auth && read_line(s->fd, auth_line, a->timeout) < 0) ||
        (select && read_line(s->fd, select_line, a->timeout) < 0)) {
        *err = errno;
        return 0;
    }
    int error_from_target = 0, j;
    for (j = 0; j < n; j++) {
        if (read_line(s->fd, line, a->timeout) < 0)
            break;
        const char *e = auth_line[0] == '-' ? auth_line
                        : select_line[0] == '-' ? select_line
                        : line[0] == '-' ? line : NULL;
        if (e) {
            if (!error_from_target) {
                s->last_db = -1;
                error_from_target = 1;
                reply_errorf(&c->obuf, "ERR Target instance replied with error: %s", e + 1);
            }
        } else if (!a->copy) {
            int k = ks[j].argi;
            int rc = ks_delete(c->db, c->argv[k], c->argvlen[k]);
            if (rc < 0)
                log_warning("MIGRATE: deleting a migrated key failed (%s)", lsm_strerror(rc));
        }
    }
    *err = errno;
    if (j == n) {
        if (!error_from_target) {
            s->last_db = a->db;
            reply_ok(&c->obuf);
        }
        return 1;
    }
    if (!error_from_target && j == 0)
        return 0;               /* nothing happened yet: the caller may retry */
    close_socket(c);
    return error_from_target ? 1 : -1;
}

static void cmd_migrate(struct client *c)
{
    struct mig_args a;
    if (!parse_args(c, &a))
        return;
    struct mig_key *ks = zcalloc(sizeof(*ks) * (size_t)(a.nkeys ? a.nkeys : 1));
    int n = 0;
    for (int j = 0; j < a.nkeys; j++) {
        int k = a.first_key + j;
        int rc = ks_lookup(c->db, c->argv[k], c->argvlen[k], &ks[n].v);
        server_count_lookup(rc);
        if (rc < 0) {
            cmdarg_reply_ks_error(c, rc);
            goto out;
        }
        if (rc == 0)
            continue;
        /* The TTL to restore with: what is left, at least 1 ms. */
        ks[n].ttl = 0;
        if (ks[n].v.expire_at >= 0) {
            ks[n].ttl = ks[n].v.expire_at - ks_now();
            if (ks[n].ttl < 1)
                ks[n].ttl = 1;
        }
        ks[n++].argi = k;
    }
    if (n == 0) {
        reply_status(&c->obuf, "NOKEY");
        goto out;
    }
    for (int tries = 0; tries < 2; tries++) {
        int slot = get_socket(c, a.timeout);
        if (slot < 0)
            goto out;
        int wrote = 0, err = 0;
        int rc = attempt(c, &a, ks, n, slot, &wrote, &err);
        if (rc > 0)
            goto out;
        if (rc == 0) {
            close_socket(c);
            if (err != ETIMEDOUT && tries == 0)
                continue;       /* a stale cached connection: once more */
        }
        reply_errorf(&c->obuf, "IOERR error or timeout %s to target instance",
                     rc == 0 && wrote ? "writing" : "reading");
        goto out;
    }
out:
    for (int j = 0; j < n; j++)
        ks_value_free(&ks[j].v);
    zfree(ks);
}

/* Redis' migrateGetKeys: the key, or with KEYS (and an empty key) every
 * argument after it; AUTH and AUTH2 arguments are skipped on the way. */
static int migrate_getkeys(int argc, const char *const *argv, const size_t *argvlen,
                           struct cmd_key_ref *keys, int max)
{
    int first = 3, num = 1;
    for (int i = 6; i < argc; i++) {
        if (cmdarg_word_is(argv[i], argvlen[i], "keys")) {
            if (argvlen[3] != 0)
                return 0;
            first = i + 1;
            num = argc - first;
            break;
        }
        if (cmdarg_word_is(argv[i], argvlen[i], "auth"))
            i += 1;
        else if (cmdarg_word_is(argv[i], argvlen[i], "auth2"))
            i += 2;
    }
    int n = 0;
    for (int i = 0; i < num && n < max && first + i < argc; i++) {
        keys[n].pos = first + i;
        keys[n].flags = KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE;
        n++;
    }
    return n;
}

/* ---- the table row ---- */

static const struct cmd_arg key_or_empty[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "empty_string", ARG_PURE_TOKEN, "", NULL, NULL, 0, NULL },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};
static const struct cmd_arg auth2_args[] = {
    { "username", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "password", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};
static const struct cmd_arg auth_args[] = {
    { "password", ARG_STRING, "AUTH", "4.0.7", NULL, ARG_OPTIONAL, NULL },
    { "username_password", ARG_BLOCK, "AUTH2", "6.0.0", NULL, ARG_OPTIONAL, auth2_args },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};
static const struct cmd_arg migrate_args[] = {
    { "host", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "port", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "key_or_empty_string", ARG_ONEOF, NULL, NULL, NULL, 0, key_or_empty },
    { "destination-db", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "timeout", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "copy", ARG_PURE_TOKEN, "COPY", "3.0.0", NULL, ARG_OPTIONAL, NULL },
    { "replace", ARG_PURE_TOKEN, "REPLACE", "3.0.0", NULL, ARG_OPTIONAL, NULL },
    { "authentication", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, auth_args },
    { "key", ARG_KEY, "KEYS", "3.0.6", NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};
static const struct cmd_history migrate_history[] = {
    { "3.0.0", "Added the `COPY` and `REPLACE` options." },
    { "3.0.6", "Added the `KEYS` option." },
    { "4.0.7", "Added the `AUTH` option." },
    { "6.0.0", "Added the `AUTH2` option." },
    { NULL, NULL },
};
static const struct cmd_key_spec migrate_specs[] = {
    { NULL, KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE, 3, 0, 1, 0 },
    { "KEYS", KSPEC_RW | KSPEC_ACCESS | KSPEC_DELETE | KSPEC_INCOMPLETE | KSPEC_BS_KEYWORD, -2,
      -1, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};
static const char *const migrate_tips[] = { "nondeterministic_output", NULL };

struct command migrate_commands[] = {
    { .name = "migrate", .summary = "Move or copy keys to another server, with their TTLs",
      .complexity = "O(N) in the size of the keys sent: a DUMP and a DEL here, a RESTORE "
                    "there",
      .since = "2.6.0", .group = "generic", .history = migrate_history, .tips = migrate_tips,
      .proc = cmd_migrate, .arity = -6, .flags = CMD_WRITE | CMD_MOVABLE_KEYS,
      .acl = ACL_KEYSPACE | ACL_DANGEROUS, .args = migrate_args, .key_specs = migrate_specs,
      .getkeys = migrate_getkeys },
    { .name = NULL },
};
