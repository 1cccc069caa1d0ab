/* test_save_powerloss.c: SAVE and BGSAVE make every write answered before
 * them durable, as a Redis user relies on before a backup or a shutdown.
 *
 * The server runs under `appendfsync no` (it never fsyncs on its own) with
 * syncshim.so preloaded. After kill -9 and a simulated power loss (every
 * file put back to its content at its last fsync, powerloss.h) the keys written
 * before SAVE, before a finished BGSAVE, and inside a MULTI whose BGSAVE was
 * scheduled must all be there. The keys written after each save show that
 * the cut is real: no sync covered them, and they must be gone, else the
 * test could not tell a save from none. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../integration/harness.h"
#include "../tap.h"
#include "powerloss.h"
#include "util/zmalloc.h"

enum { NKEYS = 2000, NMULTI = 100 };

static long long persist_ll(struct conn *c, const char *field)
{
    return conn_info_ll(c, "persistence", field);
}

/* n pipelined SETs prefix<i> = prefix<i>; returns how many answered +OK. */
static int set_keys(struct conn *c, const char *prefix, int n)
{
    char k[64];
    int ok = 0;
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s%d", prefix, i);
        conn_sendv(c, "SET", k, k, NULL);
    }
    for (int i = 0; i < n; i++) {
        char *r = conn_reply(c, 5000, NULL);
        ok += r && strcmp(r, "+OK\r\n") == 0;
        zfree(r);
    }
    return ok;
}

/* How many of prefix<0..n-1> hold their own name. */
static int count_keys(struct conn *c, const char *prefix, int n)
{
    char k[64], want[96];
    int found = 0;
    for (int i = 0; i < n; i++) {
        snprintf(k, sizeof k, "%s%d", prefix, i);
        snprintf(want, sizeof want, "$%zu\r\n%s\r\n", strlen(k), k);
        char *r = conn_call(c, "GET", k, NULL);
        found += r && strcmp(r, want) == 0;
        zfree(r);
    }
    return found;
}

/* Until the BGSAVE asked for has run: no BGSAVE in progress and one more
 * successful sync than `before`. 1 when seen within timeout_ms. */
static int wait_bgsave(struct conn *c, long long before, int timeout_ms)
{
    long long end = now_ms() + timeout_ms;
    while (now_ms() < end) {
        if (persist_ll(c, "rdb_bgsave_in_progress") == 0 && persist_ll(c, "lsm_syncs") > before)
            return 1;
        usleep(20000);
    }
    return 0;
}

/* kill -9, power loss, restart on the same directory. */
static int crash(struct srv *s, const struct srv_opts *o, struct powerloss *pl,
                 const char *what)
{
    int files = 0;
    kill(s->pid, SIGKILL);
    srv_wait_exit(s, 10000);
    srv_stop_keep(s);
    long long cut = pl_cut(pl, &files);
    tap_diag("%s: power loss cut %lld unsynced bytes from %d files", what, cut, files);
    pl_before_start(pl);
    int rc = srv_start(s, o);
    pl_after_start(pl);
    return tap_ok(rc == 0, "%s: restart after kill -9 and power loss", what);
}

int main(void)
{
    harness_init(180);
    if (srv_is_redis())
        tap_skip_all("lsmdb-only: kill -9 and recovery of lsmdb-server");
    const char *tmpdir = getenv("TMPDIR");
    char dir[256], shadows[300];
    snprintf(dir, sizeof dir, "%s/lsmdb-save-XXXXXX",
             tmpdir && *tmpdir && strlen(tmpdir) < 120 ? tmpdir : "/tmp");
    if (!mkdtemp(dir))
        tap_bail("mkdtemp failed");
    snprintf(shadows, sizeof shadows, "%s.shadows", dir);
    struct powerloss pl;
    pl_init(&pl, dir, shadows);
    if (!pl.enabled)
        tap_skip_all("tests/crash/syncshim.so not found (set LSMDB_SYNCSHIM)");
    /* The logs are mapped (the default); value-log segments of 1 MiB, as
     * the shim compares a mapped segment's whole file at every sync. */
    static const char *const args[] = { "--appendfsync", "no", "--vlog-file-size", "1mb", NULL };
    struct srv_opts o = { .dir = dir, .args = args };
    struct srv s;
    pl_before_start(&pl);
    int rc = srv_start(&s, &o);
    pl_after_start(&pl);
    if (!tap_ok(rc == 0, "server starts under appendfsync no"))
        tap_bail("the server does not start");

    /* SAVE */
    struct conn *c = conn_tcp(s.port);
    long long t0 = (long long)time(NULL);
    tap_ok(set_keys(c, "save:", NKEYS) == NKEYS, "SAVE: %d keys written", NKEYS);
    tap_ok(reply_is(conn_call(c, "SAVE", NULL), "+OK\r\n"), "SAVE answers +OK");
    char *r = conn_call(c, "LASTSAVE", NULL);
    long long last = r && r[0] == ':' ? atoll(r + 1) : -1;
    zfree(r);
    /* time() may be a tick behind the server's precise clock. */
    tap_ok(last >= t0 && last <= (long long)time(NULL) + 1, "LASTSAVE is the time of that SAVE (%lld)",
           last);
    tap_ok(persist_ll(c, "rdb_last_save_time") == last, "INFO rdb_last_save_time = LASTSAVE");
    tap_ok(set_keys(c, "after-save:", NKEYS) == NKEYS, "SAVE: %d more keys after it", NKEYS);
    conn_close(c);
    if (!crash(&s, &o, &pl, "SAVE"))
        tap_bail("no restart");
    c = conn_tcp(s.port);
    int kept = count_keys(c, "save:", NKEYS), lost = NKEYS - count_keys(c, "after-save:", NKEYS);
    tap_ok(kept == NKEYS, "SAVE: all %d keys written before it survive (%d found)", NKEYS, kept);
    tap_ok(lost > 0, "SAVE: keys written after it were not synced and are lost (%d of %d)", lost,
           NKEYS);

    /* BGSAVE */
    tap_ok(set_keys(c, "bgsave:", NKEYS) == NKEYS, "BGSAVE: %d keys written", NKEYS);
    long long syncs = persist_ll(c, "lsm_syncs");
    tap_ok(reply_is(conn_call(c, "BGSAVE", NULL), "+Background saving started\r\n"),
           "BGSAVE answers +Background saving started");
    tap_ok(wait_bgsave(c, syncs, 5000), "BGSAVE: its sync ran within 5 s");
    tap_ok(persist_ll(c, "rdb_bgsave_in_progress") == 0, "INFO rdb_bgsave_in_progress:0 after it");
    tap_ok(set_keys(c, "after-bgsave:", NKEYS) == NKEYS, "BGSAVE: %d more keys after it", NKEYS);
    conn_close(c);
    if (!crash(&s, &o, &pl, "BGSAVE"))
        tap_bail("no restart");
    c = conn_tcp(s.port);
    kept = count_keys(c, "bgsave:", NKEYS);
    lost = NKEYS - count_keys(c, "after-bgsave:", NKEYS);
    tap_ok(kept == NKEYS, "BGSAVE: all %d keys written before it survive (%d found)", NKEYS,
           kept);
    tap_ok(lost > 0, "BGSAVE: keys written after it are lost (%d of %d)", lost, NKEYS);
    tap_ok(count_keys(c, "save:", NKEYS) == NKEYS, "BGSAVE: the SAVEd keys are still there");

    /* BGSAVE inside MULTI: scheduled, and it covers the transaction. */
    syncs = persist_ll(c, "lsm_syncs");
    tap_ok(reply_is(conn_call(c, "MULTI", NULL), "+OK\r\n"), "MULTI");
    char k[64];
    int queued = 0;
    for (int i = 0; i < NMULTI; i++) {
        snprintf(k, sizeof k, "multi:%d", i);
        queued += reply_is(conn_call(c, "SET", k, k, NULL), "+QUEUED\r\n");
    }
    queued += reply_is(conn_call(c, "BGSAVE", NULL), "+QUEUED\r\n");
    tap_ok(queued == NMULTI + 1, "MULTI: %d SETs and BGSAVE queued", NMULTI);
    r = conn_call(c, "EXEC", NULL);
    size_t rl = r ? strlen(r) : 0;
    const char *tail = "+Background saving scheduled\r\n";
    tap_ok(rl > strlen(tail) && strcmp(r + rl - strlen(tail), tail) == 0,
           "EXEC: BGSAVE inside the transaction answers +Background saving scheduled");
    zfree(r);
    tap_ok(wait_bgsave(c, syncs, 5000), "the scheduled BGSAVE ran within 5 s");
    conn_close(c);
    if (!crash(&s, &o, &pl, "MULTI BGSAVE"))
        tap_bail("no restart");
    c = conn_tcp(s.port);
    kept = count_keys(c, "multi:", NMULTI);
    tap_ok(kept == NMULTI, "MULTI BGSAVE: the transaction's %d keys survive (%d found)", NMULTI,
           kept);
    conn_close(c);
    srv_stop(&s);
    pl_free(&pl);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
    return tap_done();
}
