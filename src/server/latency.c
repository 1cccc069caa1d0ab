/* latency: the latency monitor's events (see latency.h). */
#include "server/latency.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "server/config.h"
#include "server/reply.h"
#include "util/slice.h"
#include "util/zmalloc.h"

struct sample {
    int64_t time;                   /* UNIX seconds; 0 = an empty slot */
    uint64_t ms;
};

struct event {
    char *name;
    uint64_t max;
    int next;                       /* the slot the next sample takes */
    struct sample s[LATENCY_SAMPLES];
};

/* Few events exist (three kinds): a small array in order of appearance. */
static struct event **events;
static int nevents;

static struct event *find(const char *name, size_t len)
{
    for (int i = 0; i < nevents; i++)
        if (strlen(events[i]->name) == len && memcmp(events[i]->name, name, len) == 0)
            return events[i];
    return NULL;
}

void latency_sample(const char *event, uint64_t ms)
{
    long long threshold = server_cfg.latency_monitor_threshold;
    if (threshold <= 0 || ms < (uint64_t)threshold)
        return;
    struct event *e = find(event, strlen(event));
    if (!e) {
        e = zcalloc(sizeof(*e));
        e->name = zstrdup(event);
        events = zrealloc(events, sizeof(*events) * (size_t)(nevents + 1));
        events[nevents++] = e;
    }
    if (ms > e->max)
        e->max = ms;
    int64_t now = (int64_t)time(NULL);
    struct sample *prev = &e->s[(e->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
    if (prev->time == now) {        /* one sample per second: the largest */
        if (ms > prev->ms)
            prev->ms = ms;
        return;
    }
    e->s[e->next].time = now;
    e->s[e->next].ms = ms;
    e->next = (e->next + 1) % LATENCY_SAMPLES;
}

/* The event's samples, oldest first, into out; their number. */
static int samples(const struct event *e, struct sample *out)
{
    int n = 0;
    for (int i = 0; i < LATENCY_SAMPLES; i++) {
        const struct sample *s = &e->s[(e->next + i) % LATENCY_SAMPLES];
        if (s->time)
            out[n++] = *s;
    }
    return n;
}

void latency_reply_latest(struct obuf *o)
{
    reply_array_len(o, nevents);
    for (int i = 0; i < nevents; i++) {
        const struct event *e = events[i];
        const struct sample *last = &e->s[(e->next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES];
        reply_array_len(o, 4);
        reply_bulk_cstr(o, e->name);
        reply_long(o, last->time);
        reply_long(o, (long long)last->ms);
        reply_long(o, (long long)e->max);
    }
}

void latency_reply_history(struct obuf *o, const char *event, size_t len)
{
    struct sample s[LATENCY_SAMPLES];
    const struct event *e = find(event, len);
    int n = e ? samples(e, s) : 0;
    reply_array_len(o, n);
    for (int i = 0; i < n; i++) {
        reply_array_len(o, 2);
        reply_long(o, s[i].time);
        reply_long(o, (long long)s[i].ms);
    }
}

static void appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void appendf(struct buf *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n > 0)
        buf_append(b, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* How long ago t was, in a few characters: "12s", "5m", "3h", "2d". */
static void age(char *out, size_t cap, int64_t now, int64_t t)
{
    int64_t a = now > t ? now - t : 0;
    if (a < 60)
        snprintf(out, cap, "%" PRId64 "s", a);
    else if (a < 3600)
        snprintf(out, cap, "%" PRId64 "m", a / 60);
    else if (a < 86400)
        snprintf(out, cap, "%" PRId64 "h", a / 3600);
    else
        snprintf(out, cap, "%" PRId64 "d", a / 86400);
}

/* GRAPH: a header, then one column per sample (oldest on the left), four
 * rows high between the lowest and the highest sample, then each column's
 * age written downwards. */
int latency_reply_graph(struct obuf *o, const char *event, size_t len)
{
    enum { ROWS = 4, AGE = 4 };
    struct sample s[LATENCY_SAMPLES];
    const struct event *e = find(event, len);
    int n = e ? samples(e, s) : 0;
    if (n == 0)
        return -1;
    uint64_t lo = s[0].ms, hi = s[0].ms;
    for (int i = 1; i < n; i++) {
        if (s[i].ms < lo)
            lo = s[i].ms;
        if (s[i].ms > hi)
            hi = s[i].ms;
    }
    struct buf b = BUF_INIT;
    appendf(&b, "%s - high %" PRIu64 " ms, low %" PRIu64 " ms (all time high %" PRIu64
                " ms)\n", e->name, hi, lo, e->max);
    for (int i = 0; i < 80; i++)
        buf_append_byte(&b, '-');
    buf_append_byte(&b, '\n');
    int level[LATENCY_SAMPLES];     /* 1..ROWS: the row of the column's top */
    for (int i = 0; i < n; i++)
        level[i] = hi == lo ? ROWS : 1 + (int)((s[i].ms - lo) * (ROWS - 1) / (hi - lo));
    for (int row = ROWS; row >= 1; row--) {
        for (int i = 0; i < n; i++)
            buf_append_byte(&b, level[i] == row ? '#' : level[i] > row ? '|' : ' ');
        buf_append_byte(&b, '\n');
    }
    buf_append_byte(&b, '\n');
    int64_t now = (int64_t)time(NULL);
    char ages[LATENCY_SAMPLES][24];
    for (int i = 0; i < n; i++)
        age(ages[i], sizeof ages[i], now, s[i].time);
    for (int row = 0; row < AGE; row++) {
        for (int i = 0; i < n; i++) {
            char ch = (size_t)row < strlen(ages[i]) ? ages[i][row] : ' ';
            buf_append_byte(&b, ch);
        }
        buf_append_byte(&b, '\n');
    }
    reply_bulk(o, b.data, b.len);
    buf_free(&b);
    return 0;
}

void latency_reply_doctor(struct obuf *o)
{
    struct buf b = BUF_INIT;
    struct sample s[LATENCY_SAMPLES];
    long long threshold = server_cfg.latency_monitor_threshold;
    if (threshold <= 0)
        appendf(&b, "The latency monitor is off: CONFIG SET latency-monitor-threshold "
                    "<milliseconds> turns it on, and then everything that takes at least "
                    "that long is recorded.\n");
    else
        appendf(&b, "The latency monitor records what takes %lld ms or more.\n", threshold);
    if (nevents == 0) {
        appendf(&b, "No latency spike has been recorded.\n");
    } else {
        appendf(&b, "%d event%s recorded latency spikes:\n", nevents, nevents == 1 ? "" : "s");
        for (int i = 0; i < nevents; i++) {
            const struct event *e = events[i];
            int n = samples(e, s);
            uint64_t sum = 0, hi = 0;
            int64_t now = (int64_t)time(NULL);
            for (int j = 0; j < n; j++) {
                sum += s[j].ms;
                if (s[j].ms > hi)
                    hi = s[j].ms;
            }
            appendf(&b, "- %s: %d sample%s kept, average %" PRIu64 " ms, highest %" PRIu64
                        " ms (all time %" PRIu64 " ms), the oldest %" PRId64
                        " s and the newest %" PRId64 " s ago.\n",
                    e->name, n, n == 1 ? "" : "s", n ? sum / (uint64_t)n : 0, hi, e->max,
                    n ? now - s[0].time : 0, n ? now - s[n - 1].time : 0);
        }
        if (find("command", 7) || find("fast-command", 12))
            appendf(&b, "Slow commands: SLOWLOG GET lists them with their arguments; "
                        "INFO latencystats and LATENCY HISTOGRAM show each command's "
                        "latencies.\n");
        if (find("expire-cycle", 12))
            appendf(&b, "Expire cycles: many keys expiring at the same moment make the "
                        "active expiry work longer (it is bounded by hz).\n");
    }
    reply_verbatim(o, b.data, b.len, "txt");
    buf_free(&b);
}

int latency_reset_event(const char *event, size_t len)
{
    for (int i = 0; i < nevents; i++) {
        if (strlen(events[i]->name) == len && memcmp(events[i]->name, event, len) == 0) {
            zfree(events[i]->name);
            zfree(events[i]);
            memmove(&events[i], &events[i + 1], sizeof(*events) * (size_t)(nevents - i - 1));
            nevents--;
            return 1;
        }
    }
    return 0;
}

int latency_reset_all(void)
{
    int n = nevents;
    for (int i = 0; i < nevents; i++) {
        zfree(events[i]->name);
        zfree(events[i]);
    }
    zfree(events);
    events = NULL;
    nevents = 0;
    return n;
}
