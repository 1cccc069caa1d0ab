/* latency: Redis' latency monitor (LATENCY LATEST, HISTORY, RESET, GRAPH,
 * DOCTOR). While latency-monitor-threshold (ms, server_cfg) is above 0,
 * whatever takes at least that long adds a sample to its event:
 *   "command"       a command not flagged fast, by its handler's run;
 *   "fast-command"  a command flagged fast (GET, SET, ...), likewise;
 *   "expire-cycle"  one run of the active expiry cycle;
 *   "aof-fsync-always"  the fsync of a group commit under appendfsync
 *                   always (Redis' name; here it syncs the WAL and the value
 *                   log, while the loop goes on and the group's clients wait).
 * An event keeps its newest LATENCY_SAMPLES samples (UNIX second, ms; two in
 * the same second keep the larger) and its all-time maximum, from its first
 * sample until a reset. Events are listed in the order they first appeared.
 * Loop thread only. */
#ifndef LSM_SERVER_LATENCY_H
#define LSM_SERVER_LATENCY_H

#include <stddef.h>
#include <stdint.h>

struct obuf;

#define LATENCY_SAMPLES 160

/* Adds a sample of ms to the event when the monitor is on and ms reaches
 * the threshold (Redis' latencyAddSampleIfNeeded). */
void latency_sample(const char *event, uint64_t ms);

/* LATENCY LATEST: [event, time of the newest sample, its ms, max ms] per
 * event. */
void latency_reply_latest(struct obuf *o);
/* LATENCY HISTORY: [time, ms] per sample, oldest first; an empty array for
 * an unknown event. */
void latency_reply_history(struct obuf *o, const char *event, size_t len);
/* LATENCY GRAPH: an ASCII chart of the event's samples (a bulk string); 0,
 * or -1 when the event has no sample (nothing replied). */
int latency_reply_graph(struct obuf *o, const char *event, size_t len);
/* LATENCY DOCTOR: a report of every event (a verbatim string). */
void latency_reply_doctor(struct obuf *o);
/* Forgets the event; 1 if it existed. */
int latency_reset_event(const char *event, size_t len);
/* Forgets every event; how many there were. */
int latency_reset_all(void);

#endif
