/* commands: the command table — one row per command (and per subcommand of a
 * container command such as CLIENT), with Redis 7's metadata: arity (negative
 * = at least), flags, key positions, ACL categories, tips and the docs that
 * COMMAND INFO / DOCS / LIST report (redis-cli 7 builds its hints from DOCS).
 *
 * Lookup is case-insensitive through a hash table built by commands_init();
 * commands_lookup_argv() resolves "client list" to the client|list row.
 * The table is immutable after commands_init(). Dispatch (unknown command,
 * arity, NOAUTH) lives in client.c; handlers live in cmd_server.c.
 * Thread rules: loop thread only (the table itself is read-only). */
#ifndef LSM_SERVER_COMMANDS_H
#define LSM_SERVER_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

struct client;
struct obuf;

/* Command flags (Redis' CMD_*); COMMAND INFO prints the public ones. */
enum {
    CMD_WRITE = 1 << 0,
    CMD_READONLY = 1 << 1,
    CMD_DENYOOM = 1 << 2,
    CMD_ADMIN = 1 << 3,
    CMD_PUBSUB = 1 << 4,
    CMD_NOSCRIPT = 1 << 5,
    CMD_BLOCKING = 1 << 6,
    CMD_LOADING = 1 << 7,
    CMD_STALE = 1 << 8,
    CMD_SKIP_MONITOR = 1 << 9,
    CMD_SKIP_SLOWLOG = 1 << 10,
    CMD_ASKING = 1 << 11,
    CMD_FAST = 1 << 12,
    CMD_NO_AUTH = 1 << 13,
    CMD_NO_MANDATORY_KEYS = 1 << 14,
    CMD_NO_ASYNC_LOADING = 1 << 15,
    CMD_NO_MULTI = 1 << 16,
    CMD_MOVABLE_KEYS = 1 << 17,
    CMD_ALLOW_BUSY = 1 << 18,
};

/* ACL categories (Redis' order, which COMMAND INFO follows). */
enum {
    ACL_KEYSPACE = 1 << 0,
    ACL_READ = 1 << 1,
    ACL_WRITE = 1 << 2,
    ACL_SET = 1 << 3,
    ACL_SORTEDSET = 1 << 4,
    ACL_LIST = 1 << 5,
    ACL_HASH = 1 << 6,
    ACL_STRING = 1 << 7,
    ACL_BITMAP = 1 << 8,
    ACL_HYPERLOGLOG = 1 << 9,
    ACL_GEO = 1 << 10,
    ACL_STREAM = 1 << 11,
    ACL_PUBSUB = 1 << 12,
    ACL_ADMIN = 1 << 13,
    ACL_FAST = 1 << 14,
    ACL_SLOW = 1 << 15,
    ACL_BLOCKING = 1 << 16,
    ACL_DANGEROUS = 1 << 17,
    ACL_CONNECTION = 1 << 18,
    ACL_TRANSACTION = 1 << 19,
    ACL_SCRIPTING = 1 << 20,
};

enum cmd_arg_type {
    ARG_STRING, ARG_INTEGER, ARG_DOUBLE, ARG_KEY, ARG_PATTERN, ARG_UNIX_TIME,
    ARG_PURE_TOKEN, ARG_ONEOF, ARG_BLOCK,
};

enum { ARG_OPTIONAL = 1, ARG_MULTIPLE = 2, ARG_MULTIPLE_TOKEN = 4 };
/* Not a documented flag: a key argument described by the previous key
 * argument's key spec (LCS's key2), so it shares its key_spec_index. */
#define ARG_SAME_SPEC 0x100
#define ARG_DOC_FLAGS (ARG_OPTIONAL | ARG_MULTIPLE | ARG_MULTIPLE_TOKEN)

/* A documented argument; oneof/block have sub-arguments. Arrays of
 * arguments end with a row whose name is NULL. */
struct cmd_arg {
    const char *name;
    enum cmd_arg_type type;
    const char *token;
    const char *since;
    const char *deprecated_since;
    int flags;                       /* ARG_* */
    const struct cmd_arg *subargs;
};

struct cmd_history {
    const char *since;
    const char *changes;
};

/* Key specs (Redis 7): where a command's keys are and how it uses them.
 * Only the kinds our commands need: begin_search by index, find_keys by
 * range. COMMAND INFO derives the legacy first/last/step from them. */
enum {
    KSPEC_RO = 1 << 0,
    KSPEC_RW = 1 << 1,
    KSPEC_OW = 1 << 2,
    KSPEC_RM = 1 << 3,
    KSPEC_ACCESS = 1 << 4,
    KSPEC_UPDATE = 1 << 5,
    KSPEC_INSERT = 1 << 6,
    KSPEC_DELETE = 1 << 7,
    KSPEC_NOT_KEY = 1 << 8,
    KSPEC_INCOMPLETE = 1 << 9,
    KSPEC_VARIABLE_FLAGS = 1 << 10,
    /* Not a Redis flag: the spec's begin_search is "keyword" (MIGRATE's
     * KEYS), not "index". Then `notes` holds the keyword (such a spec has
     * no notes) and `index` where the search starts (negative: from the
     * end, backwards); the command finds its keys with its getkeys. */
    KSPEC_BS_KEYWORD = 1 << 11,
};

/* Arrays of key specs end with a row whose index is 0. */
struct cmd_key_spec {
    const char *notes;               /* NULL = none */
    uint32_t flags;                  /* KSPEC_* */
    int index;                       /* begin_search: argv index of the first key */
    int lastkey;                     /* find_keys range: relative to index; -1 = last arg */
    int keystep;
    int limit;
};

/* A key of a full command (COMMAND GETKEYS): its argv index and KSPEC_*. */
struct cmd_key_ref {
    int pos;
    uint32_t flags;
};
/* A command's own key finder, for key specs with KSPEC_VARIABLE_FLAGS (SET:
 * the flags depend on GET). Fills up to max refs; returns the count. */
typedef int cmd_getkeys_fn(int argc, const char *const *argv, const size_t *argvlen,
                           struct cmd_key_ref *keys, int max);

/* Doc flags (COMMAND DOCS doc_flags). */
enum { CMD_DOC_DEPRECATED = 1 << 0, CMD_DOC_SYSCMD = 1 << 1 };

typedef void cmd_proc(struct client *c);

struct command {
    const char *name;                /* lower case: "ping", or "list" */
    const char *summary;
    const char *complexity;
    const char *since;
    const char *group;               /* "connection", "server", ... */
    const struct cmd_history *history; /* NULL-terminated, may be NULL */
    const char *const *tips;         /* NULL-terminated, may be NULL */
    cmd_proc *proc;
    int arity;
    uint32_t flags;                  /* CMD_* */
    uint32_t acl;                    /* ACL_* given in the row; implicit ones
                                      * are added by commands_init() */
    const struct cmd_arg *args;      /* NULL-terminated, may be NULL */
    struct command *subcommands;     /* NULL-terminated (name), may be NULL */
    const struct cmd_key_spec *key_specs; /* ended by index 0; NULL = no keys */
    cmd_getkeys_fn *getkeys;         /* NULL = the key specs say it all */
    uint32_t doc_flags;              /* CMD_DOC_* */
    const char *deprecated_since;    /* NULL = not deprecated */
    const char *replaced_by;

    /* Filled by commands_init(). */
    char fullname[48];               /* "ping" or "client|list" */
    struct command *parent;
    int nsub;
    uint64_t calls;                  /* executions (INFO commandstats) */
    uint64_t ticks;                  /* time spent executing (clock_ticks) */
    uint64_t rejected_calls;         /* refused before executing (arity, auth) */
    uint64_t failed_calls;           /* executed, replied with an error */
    struct lathist *latency;         /* INFO latencystats; NULL until called */
};

/* After cmd ran for `ticks` of clock_ticks(): counts it in its latency
 * histogram (INFO latencystats) when latency-tracking is on. */
void commands_record_latency(struct command *cmd, uint64_t ticks);
/* Zeroes every command's and subcommand's statistics and frees their
 * latency histograms (CONFIG RESETSTAT, exit). */
void commands_reset_stats(void);

/* Builds the lookup tables and fills the derived fields; idempotent. */
void commands_init(void);

/* Top-level command by name (any case), or NULL. */
struct command *commands_lookup(const char *name, size_t len);
/* Subcommand of a container, or NULL. */
struct command *commands_lookup_sub(const struct command *parent,
                                    const char *name, size_t len);
/* Redis' lookupCommand on a request: a container with argc >= 2 resolves to
 * its subcommand (NULL when unknown, with *container set to the parent);
 * otherwise the top-level row. *container is NULL unless argv[0] was a
 * container whose subcommand is unknown. */
struct command *commands_lookup_argv(int argc, const char *const *argv,
                                     const size_t *argvlen,
                                     struct command **container);
/* "client|list" or "ping" (any case), like Redis' lookupCommandBySds. */
struct command *commands_lookup_fullname(const char *name, size_t len);

/* Iteration over top-level commands in table order. */
int commands_count(void);
struct command *commands_at(int i);

/* 1 if the command takes key arguments (key specs or a key finder). */
int commands_has_keys(const struct command *cmd);
/* Redis' getKeysFromCommandWithSpecs for a full command (argv[0] is the
 * command name): fills keys (room for argc refs) and returns the count, or
 * -1 when a key spec points outside the arguments. */
int commands_get_keys(const struct command *cmd, int argc, const char *const *argv,
                      const size_t *argvlen, struct cmd_key_ref *keys);

/* Reply encoders used by COMMAND (RESP2/RESP3 exact shapes of Redis 7). */
void commands_reply_info(struct obuf *o, const struct command *cmd);
void commands_reply_docs(struct obuf *o, const struct command *cmd);

/* Names of flags / categories (for tests and COMMAND INFO). */
const char *commands_acl_name(uint32_t bit);
uint32_t commands_acl_by_name(const char *name, size_t len);

/* ---- handlers (cmd_server.c) ---- */
void cmd_ping(struct client *c);
void cmd_echo(struct client *c);
void cmd_quit(struct client *c);
void cmd_reset(struct client *c);
void cmd_hello(struct client *c);
void cmd_auth(struct client *c);
void cmd_select(struct client *c);
void cmd_time(struct client *c);
void cmd_save(struct client *c);
void cmd_bgsave(struct client *c);
void cmd_lastsave(struct client *c);
void cmd_role(struct client *c);
void cmd_memory_usage(struct client *c);
void cmd_memory_help(struct client *c);
void cmd_slowlog_get(struct client *c);
void cmd_slowlog_len(struct client *c);
void cmd_slowlog_reset(struct client *c);
void cmd_slowlog_help(struct client *c);
void cmd_latency_latest(struct client *c);
void cmd_latency_history(struct client *c);
void cmd_latency_graph(struct client *c);
void cmd_latency_doctor(struct client *c);
void cmd_latency_reset(struct client *c);
void cmd_latency_histogram(struct client *c);
void cmd_latency_help(struct client *c);
void cmd_monitor(struct client *c);
void cmd_client_no_evict(struct client *c);
void cmd_client_getredir(struct client *c);
void cmd_client_trackinginfo(struct client *c);
void cmd_client_caching(struct client *c);
void cmd_client_unblock(struct client *c);
void cmd_client_unpause(struct client *c);
void cmd_shutdown(struct client *c);
void cmd_info(struct client *c);
void cmd_client_setname(struct client *c);
void cmd_client_getname(struct client *c);
void cmd_client_id(struct client *c);
void cmd_client_list(struct client *c);
void cmd_client_info(struct client *c);
void cmd_client_kill(struct client *c);
void cmd_client_reply(struct client *c);
void cmd_client_help(struct client *c);
void cmd_command(struct client *c);
void cmd_command_count(struct client *c);
void cmd_command_info(struct client *c);
void cmd_command_docs(struct client *c);
void cmd_command_list(struct client *c);
void cmd_command_getkeys(struct client *c);
void cmd_command_help(struct client *c);
void cmd_config_get(struct client *c);
void cmd_config_set(struct client *c);
void cmd_config_resetstat(struct client *c);
void cmd_config_rewrite(struct client *c);
void cmd_config_help(struct client *c);

#endif
