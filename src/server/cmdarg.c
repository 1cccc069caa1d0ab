#include "server/cmdarg.h"

#include <string.h>
#include <strings.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "util/strconv.h"

size_t cmdarg_clen(const struct client *c, int i)
{
    const char *z = memchr(c->argv[i], '\0', c->argvlen[i]);
    return z ? (size_t)(z - c->argv[i]) : c->argvlen[i];
}

int cmdarg_opt_is(const struct client *c, int i, const char *word)
{
    size_t n = strlen(word);
    return cmdarg_clen(c, i) == n && strncasecmp(c->argv[i], word, n) == 0;
}

int cmdarg_ll(struct client *c, int i, long long *out)
{
    if (str_to_ll(c->argv[i], c->argvlen[i], out))
        return 1;
    reply_error(&c->obuf, CMDARG_ERR_NOT_INT);
    return 0;
}

void cmdarg_reply_ks_error(struct client *c, int rc)
{
    char msg[256];
    if (ks_write_error(msg, sizeof(msg)))
        reply_error(&c->obuf, msg);
    else
        reply_errorf(&c->obuf, "ERR %s", lsm_strerror(rc));
}
