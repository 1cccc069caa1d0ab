/* slowlog.c: the slow log (see slowlog.h): a doubly linked list, newest
 * first, of entries that own copies of what they show. */
#include "server/slowlog.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/reply.h"
#include "util/clock.h"
#include "util/zmalloc.h"

#define MAX_ARGC 32                 /* the last one says how many more */
#define MAX_STRING 128              /* bytes of an argument kept */

struct entry {
    struct entry *next, *prev;      /* newer -> older */
    long long id, time, duration;
    int argc;
    char **argv;
    size_t *argvlen;
    char *addr, *name;
};

static struct entry *newest, *oldest;
static long long count, next_id;

static void entry_free(struct entry *e)
{
    for (int i = 0; i < e->argc; i++)
        zfree(e->argv[i]);
    zfree(e->argv);
    zfree(e->argvlen);
    zfree(e->addr);
    zfree(e->name);
    zfree(e);
}

static int arg_is(const char *a, size_t len, const char *word)
{
    return len == strlen(word) && strncasecmp(a, word, len) == 0;
}

int slowlog_redacted(const struct command *cmd, int argc, const char *const *argv,
                     const size_t *argvlen, int i)
{
    if (strcmp(cmd->fullname, "auth") == 0)
        return i >= 1;
    if (strcmp(cmd->fullname, "hello") == 0) {
        for (int j = 2; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(argv[j], argvlen[j], "AUTH") && more >= 2) {
                if (i == j + 1 || i == j + 2)
                    return 1;
                j += 2;
            } else if (arg_is(argv[j], argvlen[j], "SETNAME") && more) {
                j++;
            } else {
                break;
            }
        }
        return 0;
    }
    if (strcmp(cmd->fullname, "migrate") == 0) {
        /* as MIGRATE's parser walks its options (Redis redacts them there) */
        for (int j = 6; j < argc; j++) {
            int more = argc - 1 - j;
            if (arg_is(argv[j], argvlen[j], "AUTH") && more) {
                if (i == j + 1)
                    return 1;
                j++;
            } else if (arg_is(argv[j], argvlen[j], "AUTH2") && more >= 2) {
                if (i == j + 1 || i == j + 2)
                    return 1;
                j += 2;
            } else if (!arg_is(argv[j], argvlen[j], "COPY") &&
                       !arg_is(argv[j], argvlen[j], "REPLACE")) {
                break;          /* KEYS, or a syntax error */
            }
        }
        return 0;
    }
    if (strcmp(cmd->fullname, "config|set") == 0 && i >= 3 && (i - 3) % 2 == 0) {
        char name[128];
        size_t n = argvlen[i - 1] < sizeof name - 1 ? argvlen[i - 1] : sizeof name - 1;
        memcpy(name, argv[i - 1], n);
        name[n] = '\0';
        return config_is_sensitive(name);
    }
    return 0;
}

static char *copy_text(const char *s, size_t n, size_t *outlen)
{
    char *p = zmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    *outlen = n;
    return p;
}

/* The threshold in ticks, for the one comparison every command pays. */
static long long limit_us = -2;
static double limit_ticks;

void slowlog_record(const struct client *c, const struct command *cmd, uint64_t ticks)
{
    int argc = c->argc;
    const char *const *argv = c->argv;
    const size_t *argvlen = c->argvlen;
    if (server_cfg.slowlog_log_slower_than != limit_us) {
        limit_us = server_cfg.slowlog_log_slower_than;
        limit_ticks = (double)limit_us * clock_ticks_per_us();
    }
    if (limit_us < 0 || (double)ticks < limit_ticks || (cmd->flags & CMD_SKIP_SLOWLOG))
        return;
    long long duration_us = (long long)((double)ticks / clock_ticks_per_us());
    if (duration_us < limit_us)             /* rounding */
        duration_us = limit_us;
    struct entry *e = zcalloc(sizeof *e);
    int n = argc < MAX_ARGC ? argc : MAX_ARGC;
    e->id = next_id++;
    e->time = (long long)time(NULL);
    e->duration = duration_us;
    e->argc = n;
    e->argv = zmalloc(sizeof(char *) * (size_t)(n ? n : 1));
    e->argvlen = zmalloc(sizeof(size_t) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        char text[MAX_STRING + 64];
        if (i == MAX_ARGC - 1 && argc > MAX_ARGC) {
            int k = snprintf(text, sizeof text, "... (%d more arguments)", argc - MAX_ARGC + 1);
            e->argv[i] = copy_text(text, (size_t)k, &e->argvlen[i]);
        } else if (slowlog_redacted(cmd, argc, argv, argvlen, i)) {
            e->argv[i] = copy_text("(redacted)", 10, &e->argvlen[i]);
        } else if (argvlen[i] > MAX_STRING) {
            memcpy(text, argv[i], MAX_STRING);
            int k = snprintf(text + MAX_STRING, sizeof text - MAX_STRING, "... (%zu more bytes)",
                             argvlen[i] - MAX_STRING);
            e->argv[i] = copy_text(text, MAX_STRING + (size_t)k, &e->argvlen[i]);
        } else {
            e->argv[i] = copy_text(argv[i], argvlen[i], &e->argvlen[i]);
        }
    }
    e->addr = zstrdup(c->addr);
    e->name = zstrdup(c->name ? c->name : "");
    e->next = newest;
    if (newest)
        newest->prev = e;
    newest = e;
    if (!oldest)
        oldest = e;
    count++;
    while (count > server_cfg.slowlog_max_len && oldest) {
        struct entry *old = oldest;
        oldest = old->prev;
        if (oldest)
            oldest->next = NULL;
        else
            newest = NULL;
        entry_free(old);
        count--;
    }
}

long long slowlog_len(void)
{
    return count;
}

void slowlog_reset(void)
{
    while (newest) {
        struct entry *e = newest;
        newest = e->next;
        entry_free(e);
    }
    oldest = NULL;
    count = 0;
}

void slowlog_reply(struct obuf *o, long long n)
{
    if (n < 0 || n > count)
        n = count;
    reply_array_len(o, n);
    struct entry *e = newest;
    for (long long i = 0; i < n; i++, e = e->next) {
        reply_array_len(o, 6);
        reply_long(o, e->id);
        reply_long(o, e->time);
        reply_long(o, e->duration);
        reply_array_len(o, e->argc);
        for (int j = 0; j < e->argc; j++)
            reply_bulk(o, e->argv[j], e->argvlen[j]);
        reply_bulk_cstr(o, e->addr);
        reply_bulk_cstr(o, e->name);
    }
}
