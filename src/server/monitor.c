/* monitor: MONITOR clients and their lines (see monitor.h). */
#include "server/monitor.h"

#include <stdio.h>
#include <string.h>
#include <sys/time.h>

#include "server/client.h"
#include "server/commands.h"
#include "server/config.h"
#include "server/reply.h"
#include "server/slowlog.h"
#include "util/slice.h"
#include "util/zmalloc.h"

static struct client **monitors;
static int nmonitors, cap;

int monitor_add(struct client *c)
{
    if (c->flags & CLIENT_MONITOR)
        return -1;
    if (nmonitors == cap) {
        cap = cap ? cap * 2 : 4;
        monitors = zrealloc(monitors, sizeof(*monitors) * (size_t)cap);
    }
    monitors[nmonitors++] = c;
    c->flags |= CLIENT_MONITOR;
    return 0;
}

void monitor_remove(struct client *c)
{
    if (!(c->flags & CLIENT_MONITOR))
        return;
    c->flags &= ~CLIENT_MONITOR;
    for (int i = 0; i < nmonitors; i++) {
        if (monitors[i] == c) {
            memmove(&monitors[i], &monitors[i + 1],
                    sizeof(*monitors) * (size_t)(nmonitors - i - 1));
            nmonitors--;
            return;
        }
    }
}

void monitor_feed(const struct client *c, const struct command *cmd)
{
    if (nmonitors == 0 || (cmd->flags & (CMD_ADMIN | CMD_SKIP_MONITOR)))
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char head[64 + NET_ADDR_STR_LEN];
    struct buf b = BUF_INIT;
    int n;
    if (c->flags & CLIENT_UNIX_SOCKET)
        n = snprintf(head, sizeof head, "%ld.%06ld [%d unix:", (long)tv.tv_sec,
                     (long)tv.tv_usec, c->db);
    else
        n = snprintf(head, sizeof head, "%ld.%06ld [%d %s] ", (long)tv.tv_sec,
                     (long)tv.tv_usec, c->db, c->addr);
    buf_append(&b, head, (size_t)n < sizeof head ? (size_t)n : sizeof head - 1);
    if (c->flags & CLIENT_UNIX_SOCKET) {
        const char *path = server_cfg.unixsocket ? server_cfg.unixsocket : "";
        buf_append(&b, path, strlen(path));
        buf_append(&b, "] ", 2);
    }
    for (int i = 0; i < c->argc; i++) {
        if (i)
            buf_append_byte(&b, ' ');
        if (slowlog_redacted(cmd, c->argc, c->argv, c->argvlen, i))
            buf_append(&b, "\"(redacted)\"", 12);
        else
            buf_append_repr(&b, c->argv[i], c->argvlen[i]);
    }
    for (int i = 0; i < nmonitors; i++) {
        struct client *m = monitors[i];
        if (m->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))
            continue;
        reply_status_len(&m->obuf, b.data, b.len);
        client_output_added(m);
    }
    buf_free(&b);
}
