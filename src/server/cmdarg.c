#include "server/cmdarg.h"

#include <string.h>
#include <strings.h>

#include "engine/lsm.h"
#include "server/client.h"
#include "server/config.h"
#include "server/keyspace.h"
#include "server/reply.h"
#include "server/server.h"
#include "util/strconv.h"

size_t cmdarg_clen(const struct client *c, int i)
{
    const char *z = memchr(c->argv[i], '\0', c->argvlen[i]);
    return z ? (size_t)(z - c->argv[i]) : c->argvlen[i];
}

int cmdarg_word_is(const char *arg, size_t len, const char *word)
{
    const char *z = memchr(arg, '\0', len);
    size_t n = z ? (size_t)(z - arg) : len;
    return n == strlen(word) && strncasecmp(arg, word, n) == 0;
}

int cmdarg_opt_is(const struct client *c, int i, const char *word)
{
    return cmdarg_word_is(c->argv[i], c->argvlen[i], word);
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
    const char *detail = lsm_last_error(), *what = lsm_strerror(rc);
    size_t wlen = strlen(what);
    if (ks_write_error(msg, sizeof(msg)))
        reply_error(&c->obuf, msg);
    else if ((rc == LSM_ECORRUPT || rc == LSM_EIO) && strncmp(detail, what, wlen) == 0 &&
             detail[wlen] == ':')
        /* "corruption: <file>: offset ...". The engine keeps the last error
         * of the thread until the next one: a message of another kind is
         * an older error's, not this one's. */
        reply_errorf(&c->obuf, "ERR %s", detail);
    else
        reply_errorf(&c->obuf, "ERR %s", lsm_strerror(rc));
}

static int lookup_string(struct client *c, int argi, struct ks_value *v, int read, int range,
                         uint64_t off, uint64_t len)
{
    int rc = range ? ks_lookup_range(c->db, c->argv[argi], c->argvlen[argi], off, len, v)
                   : ks_lookup(c->db, c->argv[argi], c->argvlen[argi], v);
    if (read)
        server_count_lookup(rc);
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return -1;
    }
    if (rc == 0)
        return 0;
    if (v->type != KS_TYPE_STRING) {
        ks_value_free(v);
        reply_error(&c->obuf, CMDARG_ERR_WRONGTYPE);
        return -1;
    }
    return 1;
}

int cmdarg_lookup_string(struct client *c, int argi, struct ks_value *v)
{
    return lookup_string(c, argi, v, 0, 0, 0, 0);
}

int cmdarg_read_string(struct client *c, int argi, struct ks_value *v)
{
    return lookup_string(c, argi, v, 1, 0, 0, 0);
}

int cmdarg_string_range(struct client *c, int argi, uint64_t off, uint64_t len,
                        struct ks_value *v, int read)
{
    return lookup_string(c, argi, v, read, 1, off, len);
}

int cmdarg_read_string_len(struct client *c, int argi, uint64_t *len)
{
    return cmdarg_string_len(c, argi, len, 1);
}

int cmdarg_string_len(struct client *c, int argi, uint64_t *len, int read)
{
    int type = KS_TYPE_STRING;
    int rc = ks_lookup_len(c->db, c->argv[argi], c->argvlen[argi], &type, len);
    if (read)
        server_count_lookup(rc);
    if (rc <= 0)
        *len = 0;
    if (rc < 0) {
        cmdarg_reply_ks_error(c, rc);
        return -1;
    }
    if (rc > 0 && type != KS_TYPE_STRING) {
        reply_error(&c->obuf, CMDARG_ERR_WRONGTYPE);
        return -1;
    }
    return rc;
}

int cmdarg_check_length(struct client *c, unsigned long long size, unsigned long long append)
{
    unsigned long long max = (unsigned long long)server_cfg.proto_max_bulk_len;
    if (size > max || append > max - size) {
        reply_error(&c->obuf, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return 0;
    }
    return 1;
}
