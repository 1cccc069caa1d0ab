/* commands: the command table and its COMMAND INFO / DOCS encoders (see
 * commands.h). Summaries are our own words; names, arities, flags, argument
 * names and tokens follow Redis 7 so that clients and redis-cli's hints see
 * the same interface. */
#include "server/commands.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/cmd_bitmap.h"
#include "server/cmd_hll.h"
#include "server/cmd_keys.h"
#include "server/cmd_multi.h"
#include "server/cmd_string.h"
#include "server/config.h"
#include "server/lathist.h"
#include "server/migrate.h"
#include "server/reply.h"
#include "util/clock.h"

/* ---- argument docs ---- */

#define ARGS_END { NULL, 0, NULL, NULL, NULL, 0, NULL }

static const struct cmd_arg ping_args[] = {
    { "message", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_arg echo_args[] = {
    { "message", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg hello_userpass[] = {
    { "username", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "password", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg hello_block[] = {
    { "protover", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "username_password", ARG_BLOCK, "AUTH", NULL, NULL, ARG_OPTIONAL, hello_userpass },
    { "clientname", ARG_STRING, "SETNAME", NULL, NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_arg hello_args[] = {
    { "arguments", ARG_BLOCK, NULL, NULL, NULL, ARG_OPTIONAL, hello_block },
    ARGS_END,
};
static const struct cmd_arg auth_args[] = {
    { "username", ARG_STRING, NULL, "6.0.0", NULL, ARG_OPTIONAL, NULL },
    { "password", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg select_args[] = {
    { "index", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg shutdown_nosave_save[] = {
    { "nosave", ARG_PURE_TOKEN, "NOSAVE", NULL, NULL, 0, NULL },
    { "save", ARG_PURE_TOKEN, "SAVE", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg shutdown_args[] = {
    { "nosave_save", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, shutdown_nosave_save },
    { "now", ARG_PURE_TOKEN, "NOW", "7.0.0", NULL, ARG_OPTIONAL, NULL },
    { "force", ARG_PURE_TOKEN, "FORCE", "7.0.0", NULL, ARG_OPTIONAL, NULL },
    { "abort", ARG_PURE_TOKEN, "ABORT", "7.0.0", NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_history bgsave_history[] = {
    { "3.2.2", "Added the `SCHEDULE` option." },
    { NULL, NULL },
};
static const struct cmd_arg bgsave_args[] = {
    { "schedule", ARG_PURE_TOKEN, "SCHEDULE", "3.2.2", NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_arg info_args[] = {
    { "section", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    ARGS_END,
};

/* CLIENT */
static const struct cmd_arg client_setname_args[] = {
    { "connection-name", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_list_types[] = {
    { "normal", ARG_PURE_TOKEN, "NORMAL", NULL, NULL, 0, NULL },
    { "master", ARG_PURE_TOKEN, "MASTER", NULL, NULL, 0, NULL },
    { "replica", ARG_PURE_TOKEN, "REPLICA", NULL, NULL, 0, NULL },
    { "pubsub", ARG_PURE_TOKEN, "PUBSUB", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_list_ids[] = {
    { "client-id", ARG_INTEGER, NULL, NULL, NULL, ARG_MULTIPLE, NULL },
    ARGS_END,
};
static const struct cmd_arg client_list_args[] = {
    { "normal_master_replica_pubsub", ARG_ONEOF, "TYPE", "5.0.0", NULL, ARG_OPTIONAL,
      client_list_types },
    { "id", ARG_BLOCK, "ID", "6.2.0", NULL, ARG_OPTIONAL, client_list_ids },
    ARGS_END,
};
static const struct cmd_arg client_kill_types[] = {
    { "normal", ARG_PURE_TOKEN, "NORMAL", NULL, NULL, 0, NULL },
    { "master", ARG_PURE_TOKEN, "MASTER", "3.2.0", NULL, 0, NULL },
    { "slave", ARG_PURE_TOKEN, "SLAVE", NULL, NULL, 0, NULL },
    { "replica", ARG_PURE_TOKEN, "REPLICA", "5.0.0", NULL, 0, NULL },
    { "pubsub", ARG_PURE_TOKEN, "PUBSUB", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_kill_new[] = {
    { "client-id", ARG_INTEGER, "ID", "2.8.12", NULL, ARG_OPTIONAL, NULL },
    { "normal_master_slave_pubsub", ARG_ONEOF, "TYPE", "2.8.12", NULL, ARG_OPTIONAL,
      client_kill_types },
    { "username", ARG_STRING, "USER", NULL, NULL, ARG_OPTIONAL, NULL },
    { "ip:port", ARG_STRING, "ADDR", NULL, NULL, ARG_OPTIONAL, NULL },
    { "ip:port", ARG_STRING, "LADDR", "6.2.0", NULL, ARG_OPTIONAL, NULL },
    { "yes/no", ARG_STRING, "SKIPME", NULL, NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_arg client_kill_filter[] = {
    { "ip:port", ARG_STRING, NULL, NULL, "2.8.12", 0, NULL },
    { "new-format", ARG_ONEOF, NULL, NULL, NULL, ARG_MULTIPLE, client_kill_new },
    ARGS_END,
};
static const struct cmd_arg client_kill_args[] = {
    { "filter", ARG_ONEOF, NULL, NULL, NULL, 0, client_kill_filter },
    ARGS_END,
};
static const struct cmd_arg client_reply_modes[] = {
    { "on", ARG_PURE_TOKEN, "ON", NULL, NULL, 0, NULL },
    { "off", ARG_PURE_TOKEN, "OFF", NULL, NULL, 0, NULL },
    { "skip", ARG_PURE_TOKEN, "SKIP", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_reply_args[] = {
    { "on_off_skip", ARG_ONEOF, NULL, NULL, NULL, 0, client_reply_modes },
    ARGS_END,
};

/* COMMAND */
static const struct cmd_arg command_names_args[] = {
    { "command-name", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    ARGS_END,
};
static const struct cmd_arg command_list_filters[] = {
    { "module-name", ARG_STRING, "MODULE", NULL, NULL, 0, NULL },
    { "category", ARG_STRING, "ACLCAT", NULL, NULL, 0, NULL },
    { "pattern", ARG_PATTERN, "PATTERN", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg command_list_args[] = {
    { "filterby", ARG_ONEOF, "FILTERBY", NULL, NULL, ARG_OPTIONAL, command_list_filters },
    ARGS_END,
};

/* CONFIG */
static const struct cmd_arg config_get_param[] = {
    { "parameter", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg config_get_args[] = {
    { "parameter", ARG_BLOCK, NULL, NULL, NULL, ARG_MULTIPLE, config_get_param },
    ARGS_END,
};
static const struct cmd_arg config_set_pair[] = {
    { "parameter", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    { "value", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg config_set_args[] = {
    { "parameter_value", ARG_BLOCK, NULL, NULL, NULL, ARG_MULTIPLE, config_set_pair },
    ARGS_END,
};

/* ---- tips ---- */
static const char *const tips_ping[] = { "request_policy:all_shards",
                                         "response_policy:all_succeeded", NULL };
static const char *const tips_nondet[] = { "nondeterministic_output", NULL };
static const char *const tips_nondet_order[] = { "nondeterministic_output_order", NULL };
static const char *const tips_info[] = { "nondeterministic_output",
                                         "request_policy:all_shards",
                                         "response_policy:special", NULL };
static const char *const tips_config_set[] = { "request_policy:all_nodes",
                                               "response_policy:all_succeeded", NULL };

/* ---- rows ---- */

#define CONN_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)
#define ADMIN_CONN (CMD_ADMIN | CONN_FLAGS)

#define SUB(n, summ, cplx, since_, grp, tips_, proc_, ar, fl, acl_, args_)            \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_, .group = grp,  \
      .tips = tips_, .proc = proc_, .arity = ar, .flags = fl, .acl = acl_,            \
      .args = args_ }
#define SUB_END { .name = NULL }

static const struct cmd_arg client_no_evict_modes[] = {
    { "on", ARG_PURE_TOKEN, "ON", NULL, NULL, 0, NULL },
    { "off", ARG_PURE_TOKEN, "OFF", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_no_evict_args[] = {
    { "enabled", ARG_ONEOF, NULL, NULL, NULL, 0, client_no_evict_modes },
    ARGS_END,
};
static const struct cmd_arg client_caching_modes[] = {
    { "yes", ARG_PURE_TOKEN, "YES", NULL, NULL, 0, NULL },
    { "no", ARG_PURE_TOKEN, "NO", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_caching_args[] = {
    { "mode", ARG_ONEOF, NULL, NULL, NULL, 0, client_caching_modes },
    ARGS_END,
};
static const struct cmd_arg client_unblock_reasons[] = {
    { "timeout", ARG_PURE_TOKEN, "TIMEOUT", NULL, NULL, 0, NULL },
    { "error", ARG_PURE_TOKEN, "ERROR", NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg client_unblock_args[] = {
    { "client-id", ARG_INTEGER, NULL, NULL, NULL, 0, NULL },
    { "timeout_error", ARG_ONEOF, NULL, NULL, NULL, ARG_OPTIONAL, client_unblock_reasons },
    ARGS_END,
};

static struct command client_subcommands[] = {
    SUB("caching", "Tell client-side caching whether to track the next command's keys",
        "O(1)", "6.0.0", "connection", NULL, cmd_client_caching, 3, CONN_FLAGS,
        ACL_CONNECTION, client_caching_args),
    SUB("getname", "Return the name of the current connection", "O(1)", "2.6.9",
        "connection", NULL, cmd_client_getname, 2, CONN_FLAGS, ACL_CONNECTION, NULL),
    SUB("getredir", "Return the client ID that tracking notifications go to, if any",
        "O(1)", "6.0.0", "connection", NULL, cmd_client_getredir, 2, CONN_FLAGS,
        ACL_CONNECTION, NULL),
    SUB("help", "Show a description of the CLIENT subcommands", "O(1)", "5.0.0",
        "connection", NULL, cmd_client_help, 2, CMD_LOADING | CMD_STALE, ACL_CONNECTION,
        NULL),
    SUB("id", "Return the id of the current connection", "O(1)", "5.0.0",
        "connection", NULL, cmd_client_id, 2, CONN_FLAGS, ACL_CONNECTION, NULL),
    SUB("info", "Describe the current connection", "O(1)", "6.2.0", "connection",
        tips_nondet, cmd_client_info, 2, CONN_FLAGS, ACL_CONNECTION, NULL),
    SUB("kill", "Close client connections that match a filter",
        "O(N) where N is the number of client connections", "2.4.0", "connection",
        NULL, cmd_client_kill, -3, ADMIN_CONN, ACL_CONNECTION, client_kill_args),
    SUB("list", "List the client connections",
        "O(N) where N is the number of client connections", "2.4.0", "connection",
        tips_nondet, cmd_client_list, -2, ADMIN_CONN, ACL_CONNECTION, client_list_args),
    SUB("no-evict", "Mark this connection as one never evicted for memory", "O(1)",
        "7.0.0", "connection", NULL, cmd_client_no_evict, 3, ADMIN_CONN, ACL_CONNECTION,
        client_no_evict_args),
    SUB("reply", "Turn the replies to this connection on or off", "O(1)", "3.2.0",
        "connection", NULL, cmd_client_reply, 3, CONN_FLAGS, ACL_CONNECTION,
        client_reply_args),
    SUB("setname", "Name the current connection", "O(1)", "2.6.9", "connection",
        NULL, cmd_client_setname, 3, CONN_FLAGS, ACL_CONNECTION, client_setname_args),
    SUB("trackinginfo", "Describe client-side caching for this connection", "O(1)",
        "6.2.0", "connection", NULL, cmd_client_trackinginfo, 2, CONN_FLAGS, ACL_CONNECTION,
        NULL),
    SUB("unblock", "Unblock a client blocked in a blocking command",
        "O(log N) where N is the number of client connections", "5.0.0", "connection",
        NULL, cmd_client_unblock, -3, ADMIN_CONN, ACL_CONNECTION, client_unblock_args),
    SUB("unpause", "Resume the clients that CLIENT PAUSE paused",
        "O(N) Where N is the number of paused clients", "6.2.0", "connection", NULL,
        cmd_client_unpause, 2, ADMIN_CONN, ACL_CONNECTION, NULL),
    SUB_END,
};

static struct command command_subcommands[] = {
    SUB("count", "Return the number of commands", "O(1)", "2.8.13", "server", NULL,
        cmd_command_count, 2, CMD_LOADING | CMD_STALE, ACL_CONNECTION, NULL),
    SUB("docs", "Return the documentation of commands",
        "O(N) where N is the number of commands to look up", "7.0.0", "server",
        tips_nondet_order, cmd_command_docs, -2, CMD_LOADING | CMD_STALE,
        ACL_CONNECTION, command_names_args),
    SUB("getkeys", "Extract the keys of a full command",
        "O(N) where N is the number of arguments to the command", "2.8.13", "server",
        NULL, cmd_command_getkeys, -4, CMD_LOADING | CMD_STALE, ACL_CONNECTION, NULL),
    SUB("getkeysandflags", "Extract the keys and their access flags of a full command",
        "O(N) where N is the number of arguments to the command", "7.0.0", "server",
        NULL, cmd_command_getkeys, -4, CMD_LOADING | CMD_STALE, ACL_CONNECTION, NULL),
    SUB("help", "Show a description of the COMMAND subcommands", "O(1)", "5.0.0",
        "server", NULL, cmd_command_help, 2, CMD_LOADING | CMD_STALE, ACL_CONNECTION,
        NULL),
    SUB("info", "Return the details of commands, or of all when none is named",
        "O(N) where N is the number of commands to look up", "2.8.13", "server",
        tips_nondet_order, cmd_command_info, -2, CMD_LOADING | CMD_STALE,
        ACL_CONNECTION, command_names_args),
    SUB("list", "Return the names of the commands", "O(N) where N is the total number of commands",
        "7.0.0", "server", tips_nondet_order, cmd_command_list, -2,
        CMD_LOADING | CMD_STALE, ACL_CONNECTION, command_list_args),
    SUB_END,
};

static struct command config_subcommands[] = {
    SUB("get", "Return the values of configuration parameters",
        "O(N) when N is the number of configuration parameters provided", "2.0.0",
        "server", NULL, cmd_config_get, -3, ADMIN_CONN, 0, config_get_args),
    SUB("help", "Show a description of the CONFIG subcommands", "O(1)", "5.0.0",
        "server", NULL, cmd_config_help, 2, CMD_LOADING | CMD_STALE, 0, NULL),
    SUB("resetstat", "Reset the statistics that INFO reports", "O(1)", "2.0.0",
        "server", NULL, cmd_config_resetstat, 2, ADMIN_CONN, 0, NULL),
    SUB("rewrite", "Write the running configuration back to the configuration file",
        "O(1)", "2.8.0", "server", NULL, cmd_config_rewrite, 2,
        ADMIN_CONN, 0, NULL),
    SUB("set", "Change configuration parameters at run time",
        "O(N) when N is the number of configuration parameters provided", "2.0.0",
        "server", tips_config_set, cmd_config_set, -4, ADMIN_CONN, 0, config_set_args),
    SUB_END,
};

static const struct cmd_history slowlog_get_history[] = {
    { "4.0.0", "Added client IP address, port and name to the reply." },
    { NULL, NULL },
};
static const struct cmd_arg slowlog_get_args[] = {
    { "count", ARG_INTEGER, NULL, NULL, NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const char *const tips_slowlog_get[] = { "request_policy:all_nodes",
                                                "nondeterministic_output", NULL };
static const char *const tips_slowlog_len[] = { "request_policy:all_nodes",
                                                "response_policy:agg_sum",
                                                "nondeterministic_output", NULL };
static const char *const tips_slowlog_reset[] = { "request_policy:all_nodes",
                                                  "response_policy:all_succeeded", NULL };

static struct command slowlog_subcommands[] = {
    { .name = "get", .summary = "Return the newest entries of the slow log",
      .complexity = "O(N) where N is the number of entries returned", .since = "2.2.12",
      .group = "server", .history = slowlog_get_history, .tips = tips_slowlog_get,
      .proc = cmd_slowlog_get, .arity = -2, .flags = CMD_ADMIN | CMD_LOADING | CMD_STALE,
      .args = slowlog_get_args },
    SUB("help", "Show a description of the SLOWLOG subcommands", "O(1)", "6.2.0", "server",
        NULL, cmd_slowlog_help, 2, CMD_LOADING | CMD_STALE, 0, NULL),
    SUB("len", "Return the number of entries in the slow log", "O(1)", "2.2.12", "server",
        tips_slowlog_len, cmd_slowlog_len, 2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, NULL),
    SUB("reset", "Remove every entry of the slow log",
        "O(N) where N is the number of entries in the slowlog", "2.2.12", "server",
        tips_slowlog_reset, cmd_slowlog_reset, 2, CMD_ADMIN | CMD_LOADING | CMD_STALE, 0, NULL),
    SUB_END,
};

static const struct cmd_arg latency_event_args[] = {
    { "event", ARG_STRING, NULL, NULL, NULL, 0, NULL },
    ARGS_END,
};
static const struct cmd_arg latency_reset_args[] = {
    { "event", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    ARGS_END,
};
static const struct cmd_arg latency_histogram_args[] = {
    { "command", ARG_STRING, NULL, NULL, NULL, ARG_OPTIONAL | ARG_MULTIPLE, NULL },
    ARGS_END,
};
static const char *const tips_latency_report[] = { "nondeterministic_output",
                                                   "request_policy:all_nodes",
                                                   "response_policy:special", NULL };
static const char *const tips_latency_reset[] = { "request_policy:all_nodes",
                                                  "response_policy:all_succeeded", NULL };
#define LATENCY_FLAGS (CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE)

static struct command latency_subcommands[] = {
    SUB("doctor", "Return a report of the recorded latency spikes", "O(1)", "2.8.13",
        "server", tips_latency_report, cmd_latency_doctor, 2, LATENCY_FLAGS, 0, NULL),
    SUB("graph", "Return an ASCII chart of an event's latency samples", "O(1)", "2.8.13",
        "server", tips_latency_report, cmd_latency_graph, 3, LATENCY_FLAGS, 0,
        latency_event_args),
    SUB("help", "Show a description of the LATENCY subcommands", "O(1)", "2.8.13",
        "server", NULL, cmd_latency_help, 2, CMD_LOADING | CMD_STALE, 0, NULL),
    SUB("histogram", "Return the cumulative latency distribution of commands",
        "O(N) where N is the number of commands with latency information being retrieved.",
        "7.0.0", "server", tips_latency_report, cmd_latency_histogram, -2, LATENCY_FLAGS, 0,
        latency_histogram_args),
    SUB("history", "Return an event's latency samples", "O(1)", "2.8.13", "server",
        tips_latency_report, cmd_latency_history, 3, LATENCY_FLAGS, 0, latency_event_args),
    SUB("latest", "Return each event's newest latency sample", "O(1)", "2.8.13", "server",
        tips_latency_report, cmd_latency_latest, 2, LATENCY_FLAGS, 0, NULL),
    SUB("reset", "Forget the latency samples of some events, or of all", "O(1)", "2.8.13",
        "server", tips_latency_reset, cmd_latency_reset, -2, LATENCY_FLAGS, 0,
        latency_reset_args),
    SUB_END,
};

static const struct cmd_arg memory_usage_args[] = {
    { "key", ARG_KEY, NULL, NULL, NULL, 0, NULL },
    { "count", ARG_INTEGER, "SAMPLES", NULL, NULL, ARG_OPTIONAL, NULL },
    ARGS_END,
};
static const struct cmd_key_spec memory_usage_keys[] = {
    { NULL, KSPEC_RO, 2, 0, 1, 0 },
    { NULL, 0, 0, 0, 0, 0 },
};

static struct command memory_subcommands[] = {
    SUB("help", "Show a description of the MEMORY subcommands", "O(1)", "4.0.0", "server",
        NULL, cmd_memory_help, 2, CMD_LOADING | CMD_STALE, 0, NULL),
    { .name = "usage", .summary = "Return the bytes a key and its value take in the engine",
      .complexity = "O(1)", .since = "4.0.0", .group = "server", .proc = cmd_memory_usage,
      .arity = -3, .flags = CMD_READONLY, .args = memory_usage_args,
      .key_specs = memory_usage_keys },
    SUB_END,
};

#define TOP(n, summ, cplx, since_, grp, tips_, proc_, ar, fl, acl_, args_, subs)      \
    { .name = n, .summary = summ, .complexity = cplx, .since = since_, .group = grp,  \
      .tips = tips_, .proc = proc_, .arity = ar, .flags = fl, .acl = acl_,            \
      .args = args_, .subcommands = subs }

#define AUTH_FLAGS (CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST | CMD_NO_AUTH | \
                    CMD_ALLOW_BUSY)

static struct command command_table[] = {
    TOP("auth", "Authenticate the connection",
        "O(N) where N is the number of passwords defined for the user", "1.0.0",
        "connection", NULL, cmd_auth, -2, AUTH_FLAGS, ACL_CONNECTION, auth_args, NULL),
    { .name = "bgsave", .summary = "Make every write durable now, in the background",
      .complexity = "O(1)", .since = "1.0.0", .group = "server", .history = bgsave_history,
      .proc = cmd_bgsave, .arity = -1, .flags = CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING,
      .args = bgsave_args },
    TOP("client", "Container for the commands about client connections",
        "Depends on subcommand.", "2.4.0", "connection", NULL, NULL, -2, 0, 0, NULL,
        client_subcommands),
    TOP("command", "Return the details of every command",
        "O(N) where N is the total number of commands", "2.8.13", "server",
        tips_nondet_order, cmd_command, -1, CMD_LOADING | CMD_STALE, ACL_CONNECTION,
        NULL, command_subcommands),
    TOP("config", "Container for the configuration commands", "Depends on subcommand.",
        "2.0.0", "server", NULL, NULL, -2, 0, 0, NULL, config_subcommands),
    TOP("echo", "Return the given string", "O(1)", "1.0.0", "connection", NULL,
        cmd_echo, 2, CMD_LOADING | CMD_STALE | CMD_FAST, ACL_CONNECTION, echo_args, NULL),
    TOP("hello", "Handshake: choose the protocol version, authenticate, name the connection",
        "O(1)", "6.0.0", "connection", NULL, cmd_hello, -1, AUTH_FLAGS, ACL_CONNECTION,
        hello_args, NULL),
    TOP("info", "Return information and statistics about the server", "O(1)", "1.0.0",
        "server", tips_info, cmd_info, -1, CMD_LOADING | CMD_STALE, ACL_DANGEROUS,
        info_args, NULL),
    TOP("lastsave", "Return the UNIX time of the last successful sync to disk", "O(1)",
        "1.0.0", "server", tips_nondet, cmd_lastsave, 1, CMD_LOADING | CMD_STALE | CMD_FAST,
        ACL_ADMIN | ACL_DANGEROUS, NULL, NULL),
    TOP("latency", "Container for the latency monitor commands", "Depends on subcommand.",
        "2.8.13", "server", NULL, NULL, -2, 0, 0, NULL, latency_subcommands),
    TOP("memory", "Container for the memory commands", "Depends on subcommand.", "4.0.0",
        "server", NULL, NULL, -2, 0, 0, NULL, memory_subcommands),
    TOP("monitor", "Stream every command the server runs to this connection", NULL, "1.0.0",
        "server", NULL, cmd_monitor, 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, 0,
        NULL, NULL),
    TOP("ping", "Test the connection", "O(1)", "1.0.0", "connection", tips_ping,
        cmd_ping, -1, CMD_FAST, ACL_CONNECTION, ping_args, NULL),
    TOP("quit", "Close the connection", "O(1)", "1.0.0", "connection", NULL, cmd_quit,
        -1, AUTH_FLAGS, ACL_CONNECTION, NULL, NULL),
    TOP("reset", "Return the connection to the state of a new one", "O(1)", "6.2.0",
        "connection", NULL, cmd_reset, 1, AUTH_FLAGS, ACL_CONNECTION, NULL, NULL),
    TOP("role", "Return the replication role of the server", "O(1)", "2.8.12", "server",
        NULL, cmd_role, 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_FAST,
        ACL_ADMIN | ACL_DANGEROUS, NULL, NULL),
    TOP("save", "Make every write durable now", "O(N) where N is the total number of keys in all databases",
        "1.0.0", "server", NULL, cmd_save, 1,
        CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_ASYNC_LOADING | CMD_NO_MULTI, 0, NULL, NULL),
    TOP("select", "Change the database of the current connection", "O(1)", "1.0.0",
        "connection", NULL, cmd_select, 2, CMD_LOADING | CMD_STALE | CMD_FAST,
        ACL_CONNECTION, select_args, NULL),
    TOP("shutdown", "Stop the server", "O(1)", "1.0.0", "server", NULL, cmd_shutdown,
        -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_MULTI |
        CMD_ALLOW_BUSY, 0, shutdown_args, NULL),
    TOP("slowlog", "Container for the slow log commands", "Depends on subcommand.",
        "2.2.12", "server", NULL, NULL, -2, 0, 0, NULL, slowlog_subcommands),
    TOP("time", "Return the server's current time", "O(1)", "2.6.0", "server",
        tips_nondet, cmd_time, 1, CMD_LOADING | CMD_STALE | CMD_FAST, 0, NULL, NULL),
};

#define NBUILTIN ((int)(sizeof(command_table) / sizeof(command_table[0])))

/* Command families whose rows live in their own files (each array ends with
 * a row whose name is NULL). A new family adds one line here. */
static struct command *const family_tables[] = {
    string_commands,
    bitmap_commands,  /* cmd_bitmap.h: GETBIT, SETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD */
    hll_commands,     /* cmd_hll.h: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST */
    migrate_commands, /* migrate.h: MIGRATE */
    keys_commands,    /* cmd_keys.h: DEL, EXPIRE, SCAN, KEYS, FLUSHDB, SWAPDB, ... */
    multi_commands,   /* cmd_multi.h: MULTI, EXEC, DISCARD, WATCH, UNWATCH */
};

#define MAX_COMMANDS 256
static struct command *all_commands[MAX_COMMANDS];   /* built-ins, then families */
static int ncommands;

/* ---- names ---- */

static const struct {
    uint32_t bit;
    const char *name;
} flag_names[] = {
    { CMD_WRITE, "write" },
    { CMD_READONLY, "readonly" },
    { CMD_DENYOOM, "denyoom" },
    { CMD_ADMIN, "admin" },
    { CMD_PUBSUB, "pubsub" },
    { CMD_NOSCRIPT, "noscript" },
    { CMD_BLOCKING, "blocking" },
    { CMD_LOADING, "loading" },
    { CMD_STALE, "stale" },
    { CMD_SKIP_MONITOR, "skip_monitor" },
    { CMD_SKIP_SLOWLOG, "skip_slowlog" },
    { CMD_ASKING, "asking" },
    { CMD_FAST, "fast" },
    { CMD_NO_AUTH, "no_auth" },
    { CMD_NO_MANDATORY_KEYS, "no_mandatory_keys" },
    { CMD_NO_ASYNC_LOADING, "no_async_loading" },
    { CMD_NO_MULTI, "no_multi" },
    { CMD_MOVABLE_KEYS, "movablekeys" },
    { CMD_ALLOW_BUSY, "allow_busy" },
};

static const char *const acl_names[] = {
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
    "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
    "blocking", "dangerous", "connection", "transaction", "scripting",
};
#define NACL ((int)(sizeof(acl_names) / sizeof(acl_names[0])))

static const char *const arg_type_names[] = {
    "string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
    "oneof", "block",
};

const char *commands_acl_name(uint32_t bit)
{
    for (int i = 0; i < NACL; i++)
        if (bit == (1u << i))
            return acl_names[i];
    return NULL;
}

uint32_t commands_acl_by_name(const char *name, size_t len)
{
    for (int i = 0; i < NACL; i++)
        if (strlen(acl_names[i]) == len && !strncasecmp(acl_names[i], name, len))
            return 1u << i;
    return 0;
}

/* ---- lookup ---- */

#define HT_SIZE 512   /* power of two, > 2 * MAX_COMMANDS */

static struct command *ht[HT_SIZE];
static int initialized;

static uint32_t name_hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;   /* FNV-1a over lower-cased bytes */
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        h = (h ^ ch) * 16777619u;
    }
    return h;
}

static int name_equal(const char *lower, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (lower[i] == '\0')
            return 0;   /* s is longer (a NUL in s must not match the end) */
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch + 32);
        if ((unsigned char)lower[i] != ch)
            return 0;
    }
    return lower[n] == '\0';
}

/* Implicit categories from flags, as Redis' setImplicitACLCategories. */
static uint32_t implicit_acl(uint32_t flags, uint32_t acl)
{
    if (flags & CMD_WRITE)
        acl |= ACL_WRITE;
    if ((flags & CMD_READONLY) && !(acl & ACL_SCRIPTING))
        acl |= ACL_READ;
    if (flags & CMD_ADMIN)
        acl |= ACL_ADMIN | ACL_DANGEROUS;
    if (flags & CMD_PUBSUB)
        acl |= ACL_PUBSUB;
    if (flags & CMD_FAST)
        acl |= ACL_FAST;
    if (flags & CMD_BLOCKING)
        acl |= ACL_BLOCKING;
    if (!(acl & ACL_FAST))
        acl |= ACL_SLOW;
    return acl;
}

void commands_init(void)
{
    if (initialized)
        return;
    initialized = 1;
    for (int i = 0; i < NBUILTIN; i++)
        all_commands[ncommands++] = &command_table[i];
    for (size_t t = 0; t < sizeof(family_tables) / sizeof(family_tables[0]); t++)
        for (struct command *c = family_tables[t]; c->name; c++) {
            if (ncommands == MAX_COMMANDS) {
                /* A build-time table overflow: never serve a partial table. */
                fprintf(stderr, "commands_init: more than %d commands; raise MAX_COMMANDS "
                        "(and HT_SIZE)\n", MAX_COMMANDS);
                abort();
            }
            all_commands[ncommands++] = c;
        }
    for (int i = 0; i < ncommands; i++) {
        struct command *c = all_commands[i];
        snprintf(c->fullname, sizeof(c->fullname), "%s", c->name);
        c->acl = implicit_acl(c->flags, c->acl);
        c->nsub = 0;
        for (struct command *s = c->subcommands; s && s->name; s++) {
            snprintf(s->fullname, sizeof(s->fullname), "%s|%s", c->name, s->name);
            s->parent = c;
            s->acl = implicit_acl(s->flags, s->acl);
            c->nsub++;
        }
        uint32_t h = name_hash(c->name, strlen(c->name)) & (HT_SIZE - 1);
        while (ht[h])
            h = (h + 1) & (HT_SIZE - 1);
        ht[h] = c;
    }
}

struct command *commands_lookup(const char *name, size_t len)
{
    uint32_t h = name_hash(name, len) & (HT_SIZE - 1);
    while (ht[h]) {
        if (name_equal(ht[h]->name, name, len))
            return ht[h];
        h = (h + 1) & (HT_SIZE - 1);
    }
    return NULL;
}

struct command *commands_lookup_sub(const struct command *parent, const char *name,
                                    size_t len)
{
    for (struct command *s = parent->subcommands; s && s->name; s++)
        if (name_equal(s->name, name, len))
            return s;
    return NULL;
}

struct command *commands_lookup_argv(int argc, const char *const *argv,
                                     const size_t *argvlen, struct command **container)
{
    *container = NULL;
    struct command *c = commands_lookup(argv[0], argvlen[0]);
    if (!c || !c->subcommands || argc < 2)
        return c;
    struct command *s = commands_lookup_sub(c, argv[1], argvlen[1]);
    if (!s)
        *container = c;
    return s;
}

struct command *commands_lookup_fullname(const char *name, size_t len)
{
    const char *bar = memchr(name, '|', len);
    if (!bar)
        return commands_lookup(name, len);
    struct command *c = commands_lookup(name, (size_t)(bar - name));
    if (!c || !c->subcommands)
        return NULL;
    size_t sublen = len - (size_t)(bar - name) - 1;
    if (memchr(bar + 1, '|', sublen))
        return NULL;
    return commands_lookup_sub(c, bar + 1, sublen);
}

int commands_count(void)
{
    return ncommands;
}

struct command *commands_at(int i)
{
    return (i >= 0 && i < ncommands) ? all_commands[i] : NULL;
}

/* ---- keys of a full command ---- */

int commands_has_keys(const struct command *cmd)
{
    if (cmd->getkeys)
        return 1;
    for (const struct cmd_key_spec *ks = cmd->key_specs; ks && ks->index; ks++)
        if (!(ks->flags & KSPEC_NOT_KEY))
            return 1;
    return 0;
}

/* 1 when a keyword spec's word is among the arguments it searches: from
 * argv[startfrom] (from the end when negative) towards the command name,
 * or towards the end when startfrom is positive (Redis' keyword search). */
static int keyword_at(const struct cmd_key_spec *ks, int argc, const char *const *argv,
                      const size_t *argvlen)
{
    int start = ks->index > 0 ? ks->index : argc + ks->index;
    int end = ks->index > 0 ? argc - 1 : 0;
    for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
        if (i >= argc || i < 1)
            break;
        if (argvlen[i] == strlen(ks->notes) && strncasecmp(argv[i], ks->notes, argvlen[i]) == 0)
            return 1;
    }
    return 0;
}

int commands_get_keys(const struct command *cmd, int argc, const char *const *argv,
                      const size_t *argvlen, struct cmd_key_ref *keys)
{
    /* As Redis 7.0: the key specs, unless their flags vary or a keyword
     * spec's word is there (then the command's own finder). */
    int ownkeys = 0;
    for (const struct cmd_key_spec *ks = cmd->key_specs; ks && ks->index; ks++)
        ownkeys |= (ks->flags & KSPEC_VARIABLE_FLAGS) ||
                   ((ks->flags & KSPEC_BS_KEYWORD) && keyword_at(ks, argc, argv, argvlen));
    if (cmd->getkeys && (ownkeys || !cmd->key_specs))
        return cmd->getkeys(argc, argv, argvlen, keys, argc);
    int n = 0;
    for (const struct cmd_key_spec *ks = cmd->key_specs; ks && ks->index; ks++) {
        if (ks->flags & KSPEC_BS_KEYWORD)
            continue;          /* its word is absent: it names no key */
        int first = ks->index;
        int last = ks->lastkey >= 0 ? first + ks->lastkey
                   : ks->limit ? first + ((argc - first) / ks->limit + ks->lastkey)
                               : argc + ks->lastkey;
        if (last >= argc || last < first || first >= argc)
            return -1;   /* out of bounds: a syntax error in the command */
        for (int i = first; i <= last && n < argc; i += ks->keystep) {
            keys[n].pos = i;
            keys[n].flags = ks->flags;
            n++;
        }
    }
    return n;
}

/* ---- COMMAND INFO ---- */

/* A map entry name -> value of COMMAND INFO or DOCS; nothing when value is
 * NULL (the map lengths count the entry only when it is set). */
static void reply_doc_field(struct obuf *o, const char *name, const char *value)
{
    if (!value)
        return;
    reply_bulk_cstr(o, name);
    reply_bulk_cstr(o, value);
}

static void reply_flags(struct obuf *o, uint32_t flags)
{
    int n = 0;
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (flags & flag_names[i].bit)
            n++;
    reply_set_len(o, n);
    for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
        if (flags & flag_names[i].bit)
            reply_status(o, flag_names[i].name);
}

static void reply_categories(struct obuf *o, uint32_t acl)
{
    int n = 0;
    for (int i = 0; i < NACL; i++)
        if (acl & (1u << i))
            n++;
    reply_set_len(o, n);
    char buf[32];
    for (int i = 0; i < NACL; i++) {
        if (acl & (1u << i)) {
            snprintf(buf, sizeof(buf), "@%s", acl_names[i]);
            reply_status(o, buf);
        }
    }
}

static void reply_tips(struct obuf *o, const char *const *tips)
{
    int n = 0;
    while (tips && tips[n])
        n++;
    reply_set_len(o, n);
    for (int i = 0; i < n; i++)
        reply_bulk_cstr(o, tips[i]);
}

static const char *const kspec_flag_names[] = {
    "RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
    "incomplete", "variable_flags",
};

static void reply_key_specs(struct obuf *o, const struct cmd_key_spec *ks)
{
    int n = 0;
    while (ks && ks[n].index)
        n++;
    reply_set_len(o, n);
    for (int i = 0; i < n; i++) {
        int keyword = (ks[i].flags & KSPEC_BS_KEYWORD) != 0;
        reply_map_len(o, 3 + (!keyword && ks[i].notes != NULL));
        if (!keyword)
            reply_doc_field(o, "notes", ks[i].notes);
        reply_bulk_cstr(o, "flags");
        int nf = 0;
        for (int b = 0; b < 11; b++)
            nf += (ks[i].flags >> b) & 1;
        reply_set_len(o, nf);
        for (int b = 0; b < 11; b++)
            if (ks[i].flags & (1u << b))
                reply_status(o, kspec_flag_names[b]);
        reply_bulk_cstr(o, "begin_search");
        reply_map_len(o, 2);
        reply_bulk_cstr(o, "type");
        if (keyword) {
            reply_bulk_cstr(o, "keyword");
            reply_bulk_cstr(o, "spec");
            reply_map_len(o, 2);
            reply_bulk_cstr(o, "keyword");
            reply_bulk_cstr(o, ks[i].notes);
            reply_bulk_cstr(o, "startfrom");
            reply_long(o, ks[i].index);
        } else {
            reply_bulk_cstr(o, "index");
            reply_bulk_cstr(o, "spec");
            reply_map_len(o, 1);
            reply_bulk_cstr(o, "index");
            reply_long(o, ks[i].index);
        }
        reply_bulk_cstr(o, "find_keys");
        reply_map_len(o, 2);
        reply_bulk_cstr(o, "type");
        reply_bulk_cstr(o, "range");
        reply_bulk_cstr(o, "spec");
        reply_map_len(o, 3);
        reply_bulk_cstr(o, "lastkey");
        reply_long(o, ks[i].lastkey);
        reply_bulk_cstr(o, "keystep");
        reply_long(o, ks[i].keystep);
        reply_bulk_cstr(o, "limit");
        reply_long(o, ks[i].limit);
    }
}

/* Redis' populateCommandLegacyRangeSpec: first/last/step for COMMAND INFO
 * from the key specs (one plain range, or consecutive step-1 ranges). */
static void legacy_range(const struct command *cmd, long long *first, long long *last,
                         long long *step)
{
    *first = *last = *step = 0;
    const struct cmd_key_spec *ks = cmd->key_specs;
    if (!ks || !ks[0].index)
        return;
    if (!ks[1].index) {
        *first = ks[0].index;
        *last = ks[0].lastkey >= 0 ? ks[0].index + ks[0].lastkey : ks[0].lastkey;
        *step = ks[0].keystep;
        return;
    }
    int firstkey = INT_MAX, lastkey = 0, prev_last = 0;
    for (int i = 0; ks[i].index; i++) {
        if ((ks[i].flags & KSPEC_BS_KEYWORD) || ks[i].keystep != 1 ||
            (prev_last && prev_last != ks[i].index - 1))
            continue;          /* a keyword spec, or keys not in one range */
        if (ks[i].index < firstkey)
            firstkey = ks[i].index;
        int abs_last = ks[i].lastkey >= 0 ? ks[i].lastkey + ks[i].index : ks[i].lastkey;
        if ((unsigned)abs_last > (unsigned)lastkey)   /* unsigned: -1 is the largest */
            lastkey = abs_last;
        prev_last = lastkey;
    }
    if (firstkey == INT_MAX)
        return;
    *first = firstkey;
    *last = lastkey;
    *step = 1;
}

void commands_reply_info(struct obuf *o, const struct command *cmd)
{
    if (!cmd) {
        reply_null(o);   /* Redis' addReplyNull: $-1 in RESP2 */
        return;
    }
    long long first, last, step;
    legacy_range(cmd, &first, &last, &step);
    reply_array_len(o, 10);
    reply_bulk_cstr(o, cmd->fullname);
    reply_long(o, cmd->arity);
    reply_flags(o, cmd->flags);
    reply_long(o, first);
    reply_long(o, last);
    reply_long(o, step);
    reply_categories(o, cmd->acl);
    reply_tips(o, cmd->tips);
    reply_key_specs(o, cmd->key_specs);
    if (cmd->subcommands) {
        reply_array_len(o, cmd->nsub);
        for (int i = 0; i < cmd->nsub; i++)
            commands_reply_info(o, &cmd->subcommands[i]);
    } else {
        reply_set_len(o, 0);
    }
}

/* ---- COMMAND DOCS ---- */

static int count_args(const struct cmd_arg *a)
{
    int n = 0;
    while (a && a[n].name)
        n++;
    return n;
}

static void reply_arg_flags(struct obuf *o, int flags)
{
    int n = !!(flags & ARG_OPTIONAL) + !!(flags & ARG_MULTIPLE) +
            !!(flags & ARG_MULTIPLE_TOKEN);
    reply_set_len(o, n);
    if (flags & ARG_OPTIONAL)
        reply_status(o, "optional");
    if (flags & ARG_MULTIPLE)
        reply_status(o, "multiple");
    if (flags & ARG_MULTIPLE_TOKEN)
        reply_status(o, "multiple_token");
}

/* key_spec_index of a key argument: key arguments are numbered in the order
 * they are documented, which is the order of the command's key specs; one
 * with same_spec shares the previous key argument's (LCS's key2). */
static void reply_args(struct obuf *o, const struct cmd_arg *args, int *next_key)
{
    int n = count_args(args);
    reply_array_len(o, n);
    for (int i = 0; i < n; i++) {
        const struct cmd_arg *a = &args[i];
        int nested = a->type == ARG_ONEOF || a->type == ARG_BLOCK;
        int is_key = a->type == ARG_KEY;
        long long maplen = 2 + is_key + !!a->token + !!a->since + !!a->deprecated_since +
                           !!(a->flags & ARG_DOC_FLAGS) + nested;
        reply_map_len(o, maplen);
        reply_bulk_cstr(o, "name");
        reply_bulk_cstr(o, a->name);
        reply_bulk_cstr(o, "type");
        reply_bulk_cstr(o, arg_type_names[a->type]);
        if (is_key) {
            if ((a->flags & ARG_SAME_SPEC) && *next_key > 0)
                --*next_key;
            reply_bulk_cstr(o, "key_spec_index");
            reply_long(o, (*next_key)++);
        }
        reply_doc_field(o, "token", a->token);
        reply_doc_field(o, "since", a->since);
        reply_doc_field(o, "deprecated_since", a->deprecated_since);
        if (a->flags & ARG_DOC_FLAGS) {
            reply_bulk_cstr(o, "flags");
            reply_arg_flags(o, a->flags);
        }
        if (nested) {
            reply_bulk_cstr(o, "arguments");
            reply_args(o, a->subargs, next_key);
        }
    }
}

void commands_reply_docs(struct obuf *o, const struct command *cmd)
{
    int nhist = 0;
    while (cmd->history && cmd->history[nhist].since)
        nhist++;
    long long maplen = 1 + !!cmd->summary + !!cmd->since + !!cmd->complexity +
                       !!cmd->doc_flags + !!cmd->deprecated_since + !!cmd->replaced_by +
                       (nhist > 0) + (cmd->args != NULL) + (cmd->subcommands != NULL);
    reply_map_len(o, maplen);
    reply_doc_field(o, "summary", cmd->summary);
    reply_doc_field(o, "since", cmd->since);
    reply_bulk_cstr(o, "group");
    reply_bulk_cstr(o, cmd->group);
    reply_doc_field(o, "complexity", cmd->complexity);
    if (cmd->doc_flags) {
        reply_bulk_cstr(o, "doc_flags");
        reply_set_len(o, !!(cmd->doc_flags & CMD_DOC_DEPRECATED) +
                             !!(cmd->doc_flags & CMD_DOC_SYSCMD));
        if (cmd->doc_flags & CMD_DOC_DEPRECATED)
            reply_status(o, "deprecated");
        if (cmd->doc_flags & CMD_DOC_SYSCMD)
            reply_status(o, "syscmd");
    }
    reply_doc_field(o, "deprecated_since", cmd->deprecated_since);
    reply_doc_field(o, "replaced_by", cmd->replaced_by);
    if (nhist > 0) {
        reply_bulk_cstr(o, "history");
        reply_set_len(o, nhist);
        for (int i = 0; i < nhist; i++) {
            reply_array_len(o, 2);
            reply_bulk_cstr(o, cmd->history[i].since);
            reply_bulk_cstr(o, cmd->history[i].changes);
        }
    }
    if (cmd->args) {
        reply_bulk_cstr(o, "arguments");
        int next_key = 0;
        reply_args(o, cmd->args, &next_key);
    }
    if (cmd->subcommands) {
        reply_bulk_cstr(o, "subcommands");
        reply_map_len(o, cmd->nsub);
        for (int i = 0; i < cmd->nsub; i++) {
            reply_bulk_cstr(o, cmd->subcommands[i].fullname);
            commands_reply_docs(o, &cmd->subcommands[i]);
        }
    }
}

void commands_record_latency(struct command *cmd, uint64_t ticks)
{
    static double ns_per_tick;
    if (!server_cfg.latency_tracking)
        return;
    if (ns_per_tick == 0)
        ns_per_tick = 1000.0 / clock_ticks_per_us();
    lathist_record(&cmd->latency, (uint64_t)((double)ticks * ns_per_tick));
}

static void reset_one(struct command *c)
{
    c->calls = c->ticks = c->rejected_calls = c->failed_calls = 0;
    lathist_free(&c->latency);
}

void commands_reset_stats(void)
{
    for (int i = 0; i < commands_count(); i++) {
        struct command *c = commands_at(i);
        reset_one(c);
        for (int j = 0; j < c->nsub; j++)
            reset_one(&c->subcommands[j]);
    }
}
