/* cmd_multi: MULTI / EXEC / DISCARD / WATCH / UNWATCH (see cmd_multi.h).
 *
 * Watched keys sit in one hash table of (db, key) entries, each linked to
 * its client's state, so the touch hook costs one bucket walk per changed
 * key; a whole-db change (FLUSHDB, FLUSHALL, SWAPDB) walks the watchers. */
#include "server/cmd_multi.h"

#include <stdio.h>
#include <string.h>

#include "server/client.h"
#include "server/keyspace.h"
#include "server/keyspace_server.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/clock.h"
#include "util/hash.h"
#include "util/zmalloc.h"

enum {
    M_MULTI = 1 << 0,               /* between MULTI and EXEC/DISCARD */
    M_DIRTY_EXEC = 1 << 1,          /* a queue-time error: EXECABORT */
    M_DIRTY_CAS = 1 << 2,           /* a watched key changed: null reply */
};

struct qcmd {
    struct command *cmd;
    int argc;
    char **argv;                    /* copies, NUL-terminated */
    size_t *argvlen;
};

struct mstate;

struct wkey {
    int db;
    char *key;
    size_t klen;
    uint64_t h;
    int existed;                    /* the key was live at WATCH time */
    int64_t expire_at;              /* its expire then (-1 none) */
    struct mstate *owner;
    struct wkey *next_own;          /* the owner's list */
    struct wkey *next_bucket;
};

struct mstate {
    uint64_t id;                    /* client id */
    int flags;                      /* M_* */
    struct qcmd *q;
    int nq, capq;
    struct wkey *watched;
    struct mstate *next;
};

#define WBUCKETS 4096               /* power of two */
#define SBUCKETS 1024               /* power of two */

/* States by client id (chained through next); nstates = 0 keeps the
 * per-command check in multi_queue() to one compare. */
static struct mstate *sbuckets[SBUCKETS];
static long nstates;
static struct wkey *wtable[WBUCKETS];
static long long nwatched;
static int in_exec;                 /* EXEC is running its queue */

int multi_in_exec(void)
{
    return in_exec > 0;
}

static void cmd_watch(struct client *c);

/* ---- state table ---- */

static struct mstate *state_find(uint64_t id)
{
    if (nstates == 0)
        return NULL;
    for (struct mstate *s = sbuckets[id & (SBUCKETS - 1)]; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* The state of client id when it is between MULTI and EXEC/DISCARD. */
static struct mstate *in_multi(uint64_t id)
{
    struct mstate *s = state_find(id);
    return s && (s->flags & M_MULTI) ? s : NULL;
}

static void queue_free(struct mstate *s)
{
    for (int i = 0; i < s->nq; i++) {
        for (int j = 0; j < s->q[i].argc; j++)
            zfree(s->q[i].argv[j]);
        zfree(s->q[i].argv);
        zfree(s->q[i].argvlen);
    }
    zfree(s->q);
    s->q = NULL;
    s->nq = s->capq = 0;
}

static void unwatch_all(struct mstate *s)
{
    struct wkey *w = s->watched;
    while (w) {
        struct wkey *next = w->next_own;
        struct wkey **pp = &wtable[w->h & (WBUCKETS - 1)];
        while (*pp != w)
            pp = &(*pp)->next_bucket;
        *pp = w->next_bucket;
        zfree(w->key);
        zfree(w);
        nwatched--;
        w = next;
    }
    s->watched = NULL;
}

static void state_free(struct mstate *s)
{
    struct mstate **pp = &sbuckets[s->id & (SBUCKETS - 1)];
    while (*pp != s)
        pp = &(*pp)->next;
    *pp = s->next;
    nstates--;
    queue_free(s);
    unwatch_all(s);
    zfree(s);
}

/* Drops the state when it holds nothing any more. */
static void state_release_if_idle(struct mstate *s)
{
    if (s->flags == 0 && s->nq == 0 && s->watched == NULL)
        state_free(s);
}

static struct mstate *state_get(uint64_t id)
{
    struct mstate *s = state_find(id);
    if (s)
        return s;
    s = zcalloc(sizeof(*s));
    s->id = id;
    s->next = sbuckets[id & (SBUCKETS - 1)];
    sbuckets[id & (SBUCKETS - 1)] = s;
    nstates++;
    return s;
}

void multi_client_gone(uint64_t id)
{
    struct mstate *s = state_find(id);
    if (s)
        state_free(s);
}

void multi_client_info(const struct client *c, int *queued, int *dirty, size_t *mem)
{
    struct mstate *s = state_find(c->id);
    *queued = (s && (s->flags & M_MULTI)) ? s->nq : -1;
    *dirty = s && (s->flags & M_DIRTY_CAS);
    size_t m = 0;
    for (int i = 0; s && i < s->nq; i++) {
        m += sizeof(s->q[i]) + (size_t)s->q[i].argc * (sizeof(char *) + sizeof(size_t));
        for (int j = 0; j < s->q[i].argc; j++)
            m += s->q[i].argvlen[j];
    }
    *mem = m;
}

/* ---- the touch hook ---- */

static uint64_t wkey_hash(int db, const char *key, size_t klen)
{
    return hash64(key, klen, (uint64_t)db * 0x9e3779b97f4a7c15ULL + 1);
}

static int wkey_is(const struct wkey *w, uint64_t h, int db, const char *key, size_t klen)
{
    return w->h == h && w->db == db && w->klen == klen && memcmp(w->key, key, klen) == 0;
}

/* Called by the keyspace after every commit for each changed key (key NULL:
 * the whole db). Lazy-expiry deletions made by WATCH itself are ignored: a
 * key already expired when it is watched is "absent" to the watcher, as in
 * Redis 7 (an expired key's deletion is no change for it). */
static void touch_hook(int db, const char *key, size_t klen)
{
    struct client *cur = server.current_client;
    if (nwatched == 0 || (cur && cur->cmd && cur->cmd->proc == cmd_watch))
        return;
    if (key == NULL) {
        /* Redis' touchAllWatchedKeysInDb: watchers of keys that existed
         * are dirty (a key that changed since its WATCH made its watcher
         * dirty then); keys that a SWAPDB brings in: multi_before_swapdb. */
        for (int b = 0; b < SBUCKETS; b++)
            for (struct mstate *s = sbuckets[b]; s; s = s->next)
                for (struct wkey *w = s->watched; w; w = w->next_own)
                    if (w->db == db && w->existed)
                        s->flags |= M_DIRTY_CAS;
        return;
    }
    uint64_t h = wkey_hash(db, key, klen);
    for (struct wkey *w = wtable[h & (WBUCKETS - 1)]; w; w = w->next_bucket)
        if (wkey_is(w, h, db, key, klen))
            w->owner->flags |= M_DIRTY_CAS;
}

/* ---- queueing ---- */

int multi_queue(struct client *c, struct command *cmd)
{
    struct mstate *s = in_multi(c->id);
    if (!s)
        return 0;
    if (!strcmp(cmd->fullname, "exec") || !strcmp(cmd->fullname, "discard") ||
        !strcmp(cmd->fullname, "multi") || !strcmp(cmd->fullname, "watch") ||
        !strcmp(cmd->fullname, "quit") || !strcmp(cmd->fullname, "reset"))
        return 0;
    if (cmd->flags & CMD_NO_MULTI) {
        reply_error(&c->obuf, "ERR Command not allowed inside a transaction");
        s->flags |= M_DIRTY_EXEC;
        return 1;
    }
    if (ks_server_deny(c, cmd)) {   /* -MISCONF at queue time, like Redis */
        s->flags |= M_DIRTY_EXEC;
        return 1;
    }
    if (s->flags & (M_DIRTY_EXEC | M_DIRTY_CAS)) {
        /* EXEC will fail anyway: like Redis, don't keep the command. */
        reply_status(&c->obuf, "QUEUED");
        return 1;
    }
    if (s->nq == s->capq) {
        s->capq = s->capq ? s->capq * 2 : 8;
        s->q = zrealloc(s->q, (size_t)s->capq * sizeof(*s->q));
    }
    struct qcmd *q = &s->q[s->nq++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = zmalloc((size_t)c->argc * sizeof(*q->argv));
    q->argvlen = zmalloc((size_t)c->argc * sizeof(*q->argvlen));
    for (int i = 0; i < c->argc; i++) {
        q->argv[i] = zmalloc(c->argvlen[i] + 1);
        memcpy(q->argv[i], c->argv[i], c->argvlen[i]);
        q->argv[i][c->argvlen[i]] = '\0';
        q->argvlen[i] = c->argvlen[i];
    }
    reply_status(&c->obuf, "QUEUED");
    return 1;
}

void multi_flag_error(struct client *c)
{
    struct mstate *s = in_multi(c->id);
    if (s)
        s->flags |= M_DIRTY_EXEC;
}

/* Ends the transaction: queue dropped, keys unwatched, flags cleared. */
static void discard_transaction(struct mstate *s)
{
    queue_free(s);
    unwatch_all(s);
    s->flags = 0;
    state_release_if_idle(s);
}

/* EXEC refused before it runs anything: the transaction (s, if any) is
 * discarded. */
static void abort_exec(struct client *c, struct mstate *s, const char *why)
{
    if (s)
        discard_transaction(s);
    reply_errorf(&c->obuf, "EXECABORT Transaction discarded because of: %s", why);
}

int multi_reject_exec(struct client *c, const struct command *cmd, const char *why)
{
    if (strcmp(cmd->fullname, "exec") != 0)
        return 0;
    /* In MULTI or not: Redis' execCommandAbort discards whatever there is,
     * so the client's WATCHes go too. */
    abort_exec(c, state_find(c->id), why);
    return 1;
}

/* ---- commands ---- */

static void cmd_multi(struct client *c)
{
    struct mstate *s = state_get(c->id);
    if (s->flags & M_MULTI) {
        reply_error(&c->obuf, "ERR MULTI calls can not be nested");
        return;
    }
    s->flags |= M_MULTI;
    reply_ok(&c->obuf);
}

static void cmd_discard(struct client *c)
{
    struct mstate *s = in_multi(c->id);
    if (!s) {
        reply_error(&c->obuf, "ERR DISCARD without MULTI");
        return;
    }
    discard_transaction(s);
    reply_ok(&c->obuf);
}

/* Redis 7's isWatchedKeyExpired: 1 when EXEC must fail. */
static int watched_changed(struct mstate *s)
{
    int64_t now = ks_now();
    for (struct wkey *w = s->watched; w; w = w->next_own)
        if (w->existed && w->expire_at != -1 && w->expire_at <= now)
            return 1;
    return 0;
}

void multi_before_swapdb(int a, int b)
{
    if (nwatched == 0 || a == b)
        return;
    for (int k = 0; k < SBUCKETS; k++)
        for (struct mstate *s = sbuckets[k]; s; s = s->next)
            for (struct wkey *w = s->watched; w && !(s->flags & M_DIRTY_CAS);
                 w = w->next_own) {
                if (w->existed || (w->db != a && w->db != b))
                    continue;
                /* Present in the db that takes w's place (an error counts
                 * as present: EXEC fails rather than run unwatched). */
                if (ks_exists(w->db == a ? b : a, w->key, w->klen) != 0)
                    s->flags |= M_DIRTY_CAS;
            }
}

static void cmd_exec(struct client *c)
{
    struct mstate *s = in_multi(c->id);
    if (!s) {
        reply_error(&c->obuf, "ERR EXEC without MULTI");
        return;
    }
    /* Redis' processCommand treats EXEC as a write when a queued command
     * writes: refused (and the transaction discarded) while writes fail. */
    char msg[320];
    for (int i = 0; i < s->nq; i++) {
        if ((s->q[i].cmd->flags & CMD_WRITE) && ks_write_error(msg, sizeof(msg))) {
            abort_exec(c, s, msg);
            return;
        }
    }
    int own = ks_txn_depth() == 0;   /* the dispatcher normally opened one */
    if (own)
        ks_txn_begin();
    if (!(s->flags & (M_DIRTY_EXEC | M_DIRTY_CAS)) && watched_changed(s))
        s->flags |= M_DIRTY_CAS;
    if (s->flags & (M_DIRTY_EXEC | M_DIRTY_CAS)) {
        if (s->flags & M_DIRTY_EXEC)
            reply_error(&c->obuf,
                        "EXECABORT Transaction discarded because of previous errors.");
        else
            reply_null_array(&c->obuf);
        discard_transaction(s);
        if (own)
            ks_txn_commit();
        return;
    }
    unwatch_all(s);
    /* Take the queue: the state may be freed (client gone) meanwhile. */
    struct qcmd *q = s->q;
    int nq = s->nq;
    s->q = NULL;
    s->nq = s->capq = 0;
    s->flags = 0;
    state_release_if_idle(s);

    int argc = c->argc;
    const char *const *argv = c->argv;
    const size_t *argvlen = c->argvlen;
    struct command *cmd = c->cmd;
    reply_array_len(&c->obuf, nq);
    in_exec++;
    for (int i = 0; i < nq; i++) {
        c->argc = q[i].argc;
        c->argv = (const char *const *)q[i].argv;
        c->argvlen = q[i].argvlen;
        c->cmd = q[i].cmd;
        if (ks_txn_depth() == 0)     /* a handler aborted the transaction */
            ks_txn_begin();
        uint64_t t0 = clock_ticks();
        ks_server_call(c, q[i].cmd);
        client_after_call(c, q[i].cmd, clock_ticks() - t0);   /* each, as Redis */
        q[i].cmd->calls++;
        server.stat_numcommands++;
    }
    in_exec--;
    c->argc = argc;
    c->argv = argv;
    c->argvlen = argvlen;
    c->cmd = cmd;
    struct mstate tmp = { .q = q, .nq = nq };
    queue_free(&tmp);
    if (own && ks_txn_depth() > 0)
        ks_txn_commit();
}

static void watch_key(struct mstate *s, int db, const char *key, size_t klen)
{
    uint64_t h = wkey_hash(db, key, klen);
    for (struct wkey *w = s->watched; w; w = w->next_own)
        if (wkey_is(w, h, db, key, klen))
            return;
    int64_t exp = -1;
    int rc = ks_lookup_meta(db, key, klen, NULL, &exp);
    struct wkey *w = zcalloc(sizeof(*w));
    w->db = db;
    w->key = zmalloc(klen ? klen : 1);
    memcpy(w->key, key, klen);
    w->klen = klen;
    w->h = h;
    w->existed = rc > 0;
    w->expire_at = rc > 0 ? exp : -1;
    w->owner = s;
    w->next_own = s->watched;
    s->watched = w;
    w->next_bucket = wtable[h & (WBUCKETS - 1)];
    wtable[h & (WBUCKETS - 1)] = w;
    nwatched++;
}

static void cmd_watch(struct client *c)
{
    struct mstate *s = state_get(c->id);
    if (s->flags & M_MULTI) {
        reply_error(&c->obuf, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    ks_set_touch_hook(touch_hook);
    if (!(s->flags & M_DIRTY_CAS)) {
        int own = ks_txn_depth() == 0;
        if (own)
            ks_txn_begin();
        for (int i = 1; i < c->argc; i++)
            watch_key(s, c->db, c->argv[i], c->argvlen[i]);
        if (own)
            ks_txn_commit();
    }
    reply_ok(&c->obuf);
}

static void cmd_unwatch(struct client *c)
{
    struct mstate *s = state_find(c->id);
    if (s) {
        unwatch_all(s);
        s->flags &= ~M_DIRTY_CAS;
        state_release_if_idle(s);
    }
    reply_ok(&c->obuf);
}

/* ---- the table rows ---- */

static const struct cmd_arg watch_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    { NULL, 0, NULL, NULL, NULL, 0, NULL },
};

static const struct cmd_key_spec watch_key_specs[] = {
    { NULL, KSPEC_RO, 1, -1, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};

#define TX_ROW(n, summ, cplx, since_, proc_, ar, fl, args_, ks)                        \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_,                \
      .group = "transactions", .proc = proc_, .arity = ar, .flags = fl,               \
      .acl = ACL_TRANSACTION, .args = args_, .key_specs = ks }
#define TX_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define TX_FAST (TX_FLAGS | CMD_FAST | CMD_ALLOW_BUSY)

struct command multi_commands[] = {
    TX_ROW("discard", "Drop the commands queued since MULTI",
           "O(N), when N is the number of queued commands", "2.0.0", cmd_discard, 1,
           TX_FAST, NULL, NULL),
    TX_ROW("exec", "Run the commands queued since MULTI, atomically",
           "Depends on commands in the transaction", "1.2.0", cmd_exec, 1,
           TX_FLAGS | CMD_SKIP_SLOWLOG, NULL, NULL),
    TX_ROW("multi", "Start a transaction: queue the following commands", "O(1)", "1.2.0",
           cmd_multi, 1, TX_FAST, NULL, NULL),
    TX_ROW("unwatch", "Forget every watched key", "O(1)", "2.2.0", cmd_unwatch, 1, TX_FAST,
           NULL, NULL),
    TX_ROW("watch", "Make the next EXEC conditional on keys staying unchanged",
           "O(1) for every key.", "2.2.0", cmd_watch, -2, TX_FAST, watch_args, watch_key_specs),
    { .name = NULL },
};
