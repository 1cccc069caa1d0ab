/* test_config: the configuration subsystem (server/config.h): defaults, every
 * directive type (good and bad values, bounds, memory units), every load
 * error with its exact "file:line: reason", include (nested, missing, loops),
 * the command line, quoting, CONFIG GET patterns, CONFIG SET atomicity and
 * hooks, CONFIG REWRITE round trips, and the shipped conf/lsmdb.conf. */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "server/config.h"
#include "util/log.h"
#include "util/zmalloc.h"

static char tmpdir[PATH_MAX];
static char start_cwd[PATH_MAX];   /* where the test was started */
static char err[CONFIG_ERR_LEN];

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/lsmdb-test-config-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    ck_assert_int_eq(chdir(tmpdir), 0);
    config_init_defaults();
    err[0] = '\0';
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    config_free();
    if (chdir("/") != 0)
        return;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "# could not remove %s\n", tmpdir);
}

/* Writes text to name (relative to the test's cwd, the temp dir). */
static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(name, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fputs(text, f) >= 0, 1);
    ck_assert_int_eq(fclose(f), 0);
}

static char *read_all(const char *name)
{
    FILE *f = fopen(name, "r");
    static char buf[65536];
    size_t n;

    ck_assert_ptr_nonnull(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Loads text as a string named "t.conf"; returns the load result. */
static int load(const char *text)
{
    err[0] = '\0';
    return config_load_string(text, "t.conf", err, sizeof(err));
}

static const char *get(const char *name)
{
    static char buf[1024];
    ck_assert_int_ge(config_get_value(name, buf, sizeof(buf)), 0);
    return buf;
}

/* Expects `text` to fail to load with exactly `want` as the error. */
#define LOAD_FAILS(text, want)                                              \
    do {                                                                    \
        ck_assert_int_eq(load(text), -1);                                   \
        ck_assert_str_eq(err, want);                                        \
    } while (0)

#define LOAD_OK(text)                                                       \
    do {                                                                    \
        int rc_ = load(text);                                               \
        ck_assert_msg(rc_ == 0, "load failed: %s", err);                    \
    } while (0)

/* ---- defaults ---- */

START_TEST(test_defaults)
{
    ck_assert_int_eq(server_cfg.bind_count, 2);
    ck_assert_str_eq(server_cfg.bind_addrs[0], "127.0.0.1");
    ck_assert_str_eq(server_cfg.bind_addrs[1], "-::1");
    ck_assert_int_eq(server_cfg.port, 6379);
    ck_assert_str_eq(server_cfg.unixsocket, "");
    ck_assert_int_eq(server_cfg.unixsocketperm, 0);
    ck_assert_int_eq(server_cfg.tcp_backlog, 511);
    ck_assert_int_eq(server_cfg.tcp_keepalive, 300);
    ck_assert_int_eq(server_cfg.timeout, 0);
    ck_assert_int_eq(server_cfg.maxclients, 10000);
    ck_assert_int_eq(server_cfg.proto_max_bulk_len, 512LL * 1024 * 1024);
    ck_assert_int_eq(server_cfg.client_query_buffer_limit, 1024LL * 1024 * 1024);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_NORMAL].hard_bytes, 0);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_NORMAL].soft_bytes, 0);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_NORMAL].soft_seconds, 0);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_REPLICA].hard_bytes, 256LL << 20);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_REPLICA].soft_bytes, 64LL << 20);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_REPLICA].soft_seconds, 60);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_PUBSUB].hard_bytes, 32LL << 20);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_PUBSUB].soft_bytes, 8LL << 20);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_PUBSUB].soft_seconds, 60);
    ck_assert_str_eq(server_cfg.requirepass, "");
    ck_assert_int_eq(server_cfg.protected_mode, 1);
    ck_assert_int_eq(server_cfg.databases, 16);
    ck_assert_int_eq(server_cfg.daemonize, 0);
    ck_assert_str_eq(server_cfg.pidfile, "");
    ck_assert_str_eq(server_cfg.logfile, "");
    ck_assert_int_eq(server_cfg.loglevel, LOG_NOTICE);
    ck_assert_str_eq(server_cfg.dir, "./data");
    ck_assert_int_eq(server_cfg.hz, 10);
    ck_assert_ptr_null(server_cfg.configfile);
}
END_TEST

START_TEST(test_defaults_reset)
{
    LOAD_OK("port 7000\nrequirepass x\nbind 1.2.3.4\n");
    config_init_defaults();
    ck_assert_int_eq(server_cfg.port, 6379);
    ck_assert_str_eq(server_cfg.requirepass, "");
    ck_assert_int_eq(server_cfg.bind_count, 2);
}
END_TEST

/* ---- types ---- */

START_TEST(test_bool)
{
    LOAD_OK("protected-mode no\n");
    ck_assert_int_eq(server_cfg.protected_mode, 0);
    LOAD_OK("protected-mode YES\n");
    ck_assert_int_eq(server_cfg.protected_mode, 1);
    LOAD_OK("daemonize Yes\n");
    ck_assert_int_eq(server_cfg.daemonize, 1);
    LOAD_FAILS("daemonize maybe\n", "t.conf:1: argument must be 'yes' or 'no'");
    LOAD_FAILS("daemonize 1\n", "t.conf:1: argument must be 'yes' or 'no'");
    LOAD_FAILS("daemonize\n", "t.conf:1: wrong number of arguments");
    LOAD_FAILS("daemonize yes no\n", "t.conf:1: wrong number of arguments");
    ck_assert_int_eq(server_cfg.daemonize, 1);
}
END_TEST

START_TEST(test_int_bounds)
{
    LOAD_OK("port 0\n");
    ck_assert_int_eq(server_cfg.port, 0);
    LOAD_OK("port 65535\n");
    ck_assert_int_eq(server_cfg.port, 65535);
    LOAD_FAILS("port 65536\n", "t.conf:1: argument must be between 0 and 65535 inclusive");
    LOAD_FAILS("port -1\n", "t.conf:1: argument must be between 0 and 65535 inclusive");
    LOAD_FAILS("port abc\n", "t.conf:1: argument couldn't be parsed into an integer");
    LOAD_FAILS("port 010\n", "t.conf:1: argument couldn't be parsed into an integer");
    LOAD_FAILS("port +1\n", "t.conf:1: argument couldn't be parsed into an integer");
    LOAD_FAILS("port 1x\n", "t.conf:1: argument couldn't be parsed into an integer");
    LOAD_FAILS("port \"\"\n", "t.conf:1: argument couldn't be parsed into an integer");
    LOAD_FAILS("port 99999999999999999999999\n",
               "t.conf:1: argument couldn't be parsed into an integer");
    ck_assert_int_eq(server_cfg.port, 65535);
    LOAD_OK("maxclients 1\ntimeout 2147483647\ndatabases 1\n");
    ck_assert_int_eq(server_cfg.maxclients, 1);
    ck_assert_int_eq(server_cfg.timeout, INT_MAX);
    ck_assert_int_eq(server_cfg.databases, 1);
    LOAD_FAILS("maxclients 0\n", "t.conf:1: argument must be between 1 and 4294967295 inclusive");
    LOAD_FAILS("timeout 2147483648\n",
               "t.conf:1: argument must be between 0 and 2147483647 inclusive");
    LOAD_FAILS("databases 0\n", "t.conf:1: argument must be between 1 and 2147483647 inclusive");
    LOAD_FAILS("tcp-keepalive -5\n",
               "t.conf:1: argument must be between 0 and 2147483647 inclusive");
    LOAD_OK("tcp-backlog 0\ntcp-keepalive 0\n");
    ck_assert_int_eq(server_cfg.tcp_backlog, 0);
    ck_assert_int_eq(server_cfg.tcp_keepalive, 0);
}
END_TEST

/* The value log's directives; vlog-gc-ratio is a decimal number. */
START_TEST(test_vlog_directives)
{
    LOAD_OK("value-separation-threshold 4kb\nvlog-file-size 64mb\nvlog-gc-ratio 0.25\n"
            "vlog-gc-max-mbps 0\n");
    ck_assert_int_eq(server_cfg.value_separation_threshold, 4096);
    ck_assert_int_eq(server_cfg.vlog_file_size, 64LL << 20);
    ck_assert(server_cfg.vlog_gc_ratio == 0.25);
    ck_assert_int_eq(server_cfg.vlog_gc_max_mbps, 0);
    ck_assert_str_eq(get("vlog-gc-ratio"), "0.25");
    LOAD_OK("value-separation-threshold 0\nvlog-gc-ratio 2\n");   /* off; no auto GC */
    ck_assert_int_eq(server_cfg.value_separation_threshold, 0);
    ck_assert(server_cfg.vlog_gc_ratio == 2.0);
    ck_assert_str_eq(get("vlog-gc-ratio"), "2");
    /* CONFIG GET (and so REWRITE) shows every stored digit, not %g's six. */
    LOAD_OK("vlog-gc-ratio 1.234566\n");
    ck_assert_str_eq(get("vlog-gc-ratio"), "1.234566");
    LOAD_OK("vlog-gc-ratio 999.000001\n");
    ck_assert_str_eq(get("vlog-gc-ratio"), "999.000001");
    LOAD_OK("vlog-gc-ratio 0.000001\n");
    ck_assert_str_eq(get("vlog-gc-ratio"), "0.000001");
    LOAD_FAILS("vlog-gc-ratio 0\n", "t.conf:1: argument must be between 1e-06 and 1000 inclusive");
    LOAD_FAILS("vlog-gc-ratio -0.5\n", "t.conf:1: argument must be between 1e-06 and 1000 inclusive");
    LOAD_FAILS("vlog-gc-ratio abc\n", "t.conf:1: argument couldn't be parsed into a number");
    LOAD_FAILS("vlog-gc-ratio 0.5x\n", "t.conf:1: argument couldn't be parsed into a number");
    LOAD_FAILS("vlog-gc-ratio nan\n", "t.conf:1: argument couldn't be parsed into a number");
    LOAD_FAILS("vlog-gc-ratio 1e300\n", "t.conf:1: argument must be between 1e-06 and 1000 inclusive");
    LOAD_FAILS("vlog-gc-ratio inf\n", "t.conf:1: argument must be between 1e-06 and 1000 inclusive");
    LOAD_FAILS("vlog-file-size 100\n",
               "t.conf:1: argument must be between 4096 and 9223372036854775807 inclusive");
    LOAD_FAILS("vlog-gc-max-mbps -1\n",
               "t.conf:1: argument must be between 0 and 2147483647 inclusive");
    ck_assert_int_eq(server_cfg.mapped_logs, 1);          /* the default */
    LOAD_OK("mapped-logs no\n");
    ck_assert_int_eq(server_cfg.mapped_logs, 0);
    ck_assert_str_eq(get("mapped-logs"), "no");
    LOAD_FAILS("mapped-logs maybe\n", "t.conf:1: argument must be 'yes' or 'no'");
    LOAD_OK("write-table-size 1gb\n");
    ck_assert_int_eq(server_cfg.write_table_size, 1LL << 30);
    LOAD_FAILS("write-table-size 16kb\n",
               "t.conf:1: argument must be between 32768 and 68719476736 inclusive");
    LOAD_FAILS("write-table-size 65gb\n",
               "t.conf:1: argument must be between 32768 and 68719476736 inclusive");
    LOAD_FAILS("write-table-size lots\n", "t.conf:1: argument must be a memory value");
}
END_TEST

START_TEST(test_hz_clamped)
{
    LOAD_OK("hz 0\n");
    ck_assert_int_eq(server_cfg.hz, 1);
    LOAD_OK("hz 100000\n");
    ck_assert_int_eq(server_cfg.hz, 500);
    LOAD_OK("hz 50\n");
    ck_assert_int_eq(server_cfg.hz, 50);
    LOAD_FAILS("hz -1\n", "t.conf:1: argument must be between 0 and 2147483647 inclusive");
}
END_TEST

START_TEST(test_memory_units)
{
    static const struct {
        const char *text;
        long long bytes;
    } ok[] = {
        { "1048576", 1048576 }, { "1mb", 1LL << 20 }, { "1MB", 1LL << 20 },
        { "1Mb", 1LL << 20 }, { "2m", 2000000 }, { "1049k", 1049000 },
        { "1024kb", 1LL << 20 }, { "1g", 1000000000LL }, { "2gb", 2LL << 30 },
        { "2GB", 2LL << 30 }, { "3000000b", 3000000 }, { "8796093022208kb", 1LL << 53 },
    };
    char line[128];

    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        snprintf(line, sizeof(line), "proto-max-bulk-len %s\n", ok[i].text);
        LOAD_OK(line);
        ck_assert_int_eq(server_cfg.proto_max_bulk_len, ok[i].bytes);
        long long v;
        ck_assert_int_eq(config_parse_memory(ok[i].text, &v), 0);
        ck_assert_int_eq(v, ok[i].bytes);
    }
    LOAD_FAILS("proto-max-bulk-len 1048575\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    LOAD_FAILS("client-query-buffer-limit 1023kb\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    LOAD_FAILS("proto-max-bulk-len abc\n", "t.conf:1: argument must be a memory value");
    LOAD_FAILS("proto-max-bulk-len -5\n", "t.conf:1: argument must be a memory value");
    LOAD_FAILS("proto-max-bulk-len 1tb\n", "t.conf:1: argument must be a memory value");
    /* As redis-server 7.0.15: a unit without digits is 0, and a size
     * above LLONG_MAX is out of range (not "not a memory value"). */
    LOAD_FAILS("proto-max-bulk-len mb\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    LOAD_FAILS("proto-max-bulk-len 1 mb\n", "t.conf:1: wrong number of arguments");
    LOAD_FAILS("proto-max-bulk-len 99999999999gb\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    LOAD_FAILS("proto-max-bulk-len 8589934592gb\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    LOAD_FAILS("proto-max-bulk-len 99999999999999999999\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    /* Redis' product wraps around 2^64 here and it takes 1gb; not us. */
    LOAD_FAILS("proto-max-bulk-len 17179869185gb\n",
               "t.conf:1: argument must be between 1048576 and 9223372036854775807 inclusive");
    long long v = -1;
    ck_assert_int_eq(config_parse_memory("", &v), 0);
    ck_assert_int_eq(v, 0);
    v = -1;
    ck_assert_int_eq(config_parse_memory("KB", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(config_parse_memory("0", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(config_parse_memory("9223372036854775807", &v), 0);
    ck_assert_int_eq(v, LLONG_MAX);
    ck_assert_int_eq(config_parse_memory("9223372036854775808", &v), -2);
    ck_assert_int_eq(config_parse_memory("8589934592gb", &v), -2);
    ck_assert_int_eq(config_parse_memory("1tb", &v), -1);
    ck_assert_int_eq(config_parse_memory("-1", &v), -1);
    ck_assert_int_eq(config_parse_memory("1.5mb", &v), -1);
}
END_TEST

START_TEST(test_enum)
{
    static const struct {
        const char *name;
        int level;
    } levels[] = {
        { "debug", LOG_DEBUG }, { "verbose", LOG_VERBOSE },
        { "NOTICE", LOG_NOTICE }, { "Warning", LOG_WARNING },
    };
    char line[64];

    for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
        snprintf(line, sizeof(line), "loglevel %s\n", levels[i].name);
        LOAD_OK(line);
        ck_assert_int_eq(server_cfg.loglevel, levels[i].level);
    }
    LOAD_FAILS("loglevel loud\n",
               "t.conf:1: argument(s) must be one of the following: debug, verbose, notice, warning");
}
END_TEST

START_TEST(test_strings)
{
    LOAD_OK("logfile /tmp/x.log\npidfile \"/tmp/my pid\"\ndir ''\nunixsocket /tmp/s.sock\n");
    ck_assert_str_eq(server_cfg.logfile, "/tmp/x.log");
    ck_assert_str_eq(server_cfg.pidfile, "/tmp/my pid");
    ck_assert_str_eq(server_cfg.dir, "");
    ck_assert_str_eq(server_cfg.unixsocket, "/tmp/s.sock");
    LOAD_OK("logfile \"\"\n");
    ck_assert_str_eq(server_cfg.logfile, "");
    LOAD_FAILS("logfile a b\n", "t.conf:1: wrong number of arguments");
    LOAD_FAILS("requirepass\n", "t.conf:1: wrong number of arguments");
}
END_TEST

START_TEST(test_octal)
{
    LOAD_OK("unixsocketperm 700\n");
    ck_assert_int_eq(server_cfg.unixsocketperm, 0700);
    LOAD_OK("unixsocketperm 0777\n");
    ck_assert_int_eq(server_cfg.unixsocketperm, 0777);
    ck_assert_str_eq(get("unixsocketperm"), "777");
    LOAD_FAILS("unixsocketperm 800\n", "t.conf:1: argument couldn't be parsed as an octal number");
    LOAD_FAILS("unixsocketperm 7x\n", "t.conf:1: argument couldn't be parsed as an octal number");
    LOAD_FAILS("unixsocketperm 1777\n", "t.conf:1: argument must be between 0 and 777 inclusive");
    LOAD_FAILS("unixsocketperm -1\n", "t.conf:1: argument must be between 0 and 777 inclusive");
}
END_TEST

START_TEST(test_bind)
{
    LOAD_OK("bind 10.0.0.1\n");
    ck_assert_int_eq(server_cfg.bind_count, 1);
    ck_assert_str_eq(server_cfg.bind_addrs[0], "10.0.0.1");
    /* A later line replaces the list. */
    LOAD_OK("bind * -::*\n");
    ck_assert_int_eq(server_cfg.bind_count, 2);
    ck_assert_str_eq(server_cfg.bind_addrs[0], "*");
    ck_assert_str_eq(server_cfg.bind_addrs[1], "-::*");
    ck_assert_str_eq(get("bind"), "* -::*");
    LOAD_OK("bind\n");
    ck_assert_int_eq(server_cfg.bind_count, 0);
    ck_assert_str_eq(get("bind"), "");
    LOAD_OK("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
    ck_assert_int_eq(server_cfg.bind_count, 16);
    ck_assert_str_eq(server_cfg.bind_addrs[15], "16");
    LOAD_FAILS("bind 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
               "t.conf:1: Too many bind addresses specified.");
    ck_assert_int_eq(server_cfg.bind_count, 16);
}
END_TEST

START_TEST(test_obuf)
{
    struct config_obuf_limit *l = server_cfg.obuf_limits;

    LOAD_OK("client-output-buffer-limit normal 1mb 512kb 30\n");
    ck_assert_int_eq(l[CONFIG_OBUF_NORMAL].hard_bytes, 1LL << 20);
    ck_assert_int_eq(l[CONFIG_OBUF_NORMAL].soft_bytes, 512LL << 10);
    ck_assert_int_eq(l[CONFIG_OBUF_NORMAL].soft_seconds, 30);
    /* Other classes untouched. */
    ck_assert_int_eq(l[CONFIG_OBUF_PUBSUB].hard_bytes, 32LL << 20);
    LOAD_OK("client-output-buffer-limit slave 1 2 3 PUBSUB 4 5 6\n");
    ck_assert_int_eq(l[CONFIG_OBUF_REPLICA].hard_bytes, 1);
    ck_assert_int_eq(l[CONFIG_OBUF_REPLICA].soft_seconds, 3);
    ck_assert_int_eq(l[CONFIG_OBUF_PUBSUB].soft_bytes, 5);
    LOAD_OK("client-output-buffer-limit replica 7 8 9\n");
    ck_assert_int_eq(l[CONFIG_OBUF_REPLICA].soft_bytes, 8);
    ck_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 1048576 524288 30 slave 7 8 9 pubsub 4 5 6");
    LOAD_FAILS("client-output-buffer-limit normal 0 0\n",
               "t.conf:1: Wrong number of arguments in buffer limit configuration.");
    LOAD_FAILS("client-output-buffer-limit master 0 0 0\n",
               "t.conf:1: Invalid client class specified in buffer limit configuration.");
    LOAD_FAILS("client-output-buffer-limit normal 1x 0 0\n",
               "t.conf:1: Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    LOAD_FAILS("client-output-buffer-limit normal 1 2 -1\n",
               "t.conf:1: Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    /* A bad second class leaves the first unchanged too. */
    LOAD_FAILS("client-output-buffer-limit normal 9 9 9 pubsub 1 1 x\n",
               "t.conf:1: Error in hard, soft or soft_seconds setting in buffer limit configuration.");
    ck_assert_int_eq(l[CONFIG_OBUF_NORMAL].hard_bytes, 1LL << 20);
}
END_TEST

/* ---- file syntax and errors ---- */

START_TEST(test_syntax)
{
    LOAD_OK("# comment\n\n   \n\t# indented comment\n  PORT 7001  \r\nTimeout\t5\n");
    ck_assert_int_eq(server_cfg.port, 7001);
    ck_assert_int_eq(server_cfg.timeout, 5);
    /* No final newline; the last value of a directive wins. */
    LOAD_OK("port 1\nport 2");
    ck_assert_int_eq(server_cfg.port, 2);
}
END_TEST

START_TEST(test_quoting)
{
    LOAD_OK("requirepass \"a b\\tc\\n\\\"q\\\"\\x41\\x4a\\\\\"\n");
    ck_assert_str_eq(server_cfg.requirepass, "a b\tc\n\"q\"AJ\\");
    LOAD_OK("requirepass 'it\\'s \"raw\" \\n'\n");
    ck_assert_str_eq(server_cfg.requirepass, "it's \"raw\" \\n");
    /* A quote inside a word opens a quoted part, like sdssplitargs. */
    LOAD_OK("requirepass ab\"c d\"\n");
    ck_assert_str_eq(server_cfg.requirepass, "abc d");
    /* \x without two hex digits is a plain escaped 'x'. */
    LOAD_OK("requirepass \"\\xZ1\"\n");
    ck_assert_str_eq(server_cfg.requirepass, "xZ1");
    LOAD_OK("requirepass \"\"\n");
    ck_assert_str_eq(server_cfg.requirepass, "");
    LOAD_FAILS("port 1\nloglevel \"warning\n", "t.conf:2: Unbalanced quotes in configuration line");
    LOAD_FAILS("port \"1\"x\n", "t.conf:1: Unbalanced quotes in configuration line");
    LOAD_FAILS("port '1'x\n", "t.conf:1: Unbalanced quotes in configuration line");
    LOAD_FAILS("requirepass 'abc\n", "t.conf:1: Unbalanced quotes in configuration line");
}
END_TEST

START_TEST(test_error_lines)
{
    LOAD_FAILS("# ok\nport 1\n\nfoo bar\nport 2\n",
               "t.conf:4: Bad directive or wrong number of arguments");
    /* Loading stops at the first error: line 5 never ran. */
    ck_assert_int_eq(server_cfg.port, 1);
    LOAD_FAILS("include\n", "t.conf:1: Bad directive or wrong number of arguments");
    LOAD_FAILS("include a b\n", "t.conf:1: Bad directive or wrong number of arguments");
    LOAD_FAILS("\n\n\nport\n", "t.conf:4: wrong number of arguments");
}
END_TEST

START_TEST(test_load_file)
{
    char real[PATH_MAX];

    write_file("main.conf", "port 7002\n# c\ndaemonize maybe\n");
    ck_assert_int_eq(config_load_file("main.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "main.conf:3: argument must be 'yes' or 'no'");
    ck_assert_ptr_null(server_cfg.configfile);

    write_file("main.conf", "port 7002\n");
    ck_assert_int_eq(config_load_file("main.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.port, 7002);
    ck_assert_ptr_nonnull(realpath("main.conf", real));
    ck_assert_str_eq(server_cfg.configfile, real);

    ck_assert_int_eq(config_load_file("missing.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "missing.conf:0: can't open config file 'missing.conf': "
                          "No such file or directory");
}
END_TEST

START_TEST(test_include)
{
    write_file("a.conf", "port 1\ninclude b.conf\ntimeout 3\n");
    write_file("b.conf", "port 2\ninclude sub/c.conf\n");
    ck_assert_int_eq(mkdir("sub", 0755), 0);
    /* Paths are relative to the cwd, not to the including file. */
    write_file("sub/c.conf", "maxclients 77\n");
    ck_assert_int_eq(config_load_file("a.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.port, 2);
    ck_assert_int_eq(server_cfg.maxclients, 77);
    ck_assert_int_eq(server_cfg.timeout, 3);

    /* Errors inside an included file name that file and its line. */
    write_file("sub/c.conf", "\nmaxclients 0\n");
    ck_assert_int_eq(config_load_file("a.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "sub/c.conf:2: argument must be between 1 and 4294967295 inclusive");

    write_file("b.conf", "include nope.conf\n");
    ck_assert_int_eq(config_load_file("a.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "b.conf:1: can't open config file 'nope.conf': No such file or directory");
}
END_TEST

START_TEST(test_include_loops)
{
    write_file("self.conf", "port 5\ninclude self.conf\n");
    ck_assert_int_eq(config_load_file("self.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "self.conf:2: include loop: 'self.conf' is already being loaded");

    write_file("x.conf", "include y.conf\n");
    write_file("y.conf", "\ninclude ./x.conf\n");
    ck_assert_int_eq(config_load_file("x.conf", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "y.conf:2: include loop: './x.conf' is already being loaded");

    /* The same file twice in a row (not nested) is fine. */
    write_file("p.conf", "timeout 9\n");
    write_file("q.conf", "include p.conf\ninclude p.conf\n");
    ck_assert_int_eq(config_load_file("q.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.timeout, 9);

    /* A chain deeper than CONFIG_INCLUDE_DEPTH is refused. */
    char name[32], text[64];
    for (int i = 0; i <= CONFIG_INCLUDE_DEPTH + 1; i++) {
        snprintf(name, sizeof(name), "d%d.conf", i);
        snprintf(text, sizeof(text), "include d%d.conf\n", i + 1);
        write_file(name, text);
    }
    ck_assert_int_eq(config_load_file("d0.conf", err, sizeof(err)), -1);
    snprintf(text, sizeof(text), "d%d.conf:1: too many nested includes (max %d)",
             CONFIG_INCLUDE_DEPTH - 1, CONFIG_INCLUDE_DEPTH);
    ck_assert_str_eq(err, text);
}
END_TEST

/* ---- command line ---- */

START_TEST(test_args)
{
    write_file("f.conf", "port 7003\ntimeout 10\nloglevel debug\n");
    char *argv[] = { "lsmdb-server", "f.conf", "--port", "7004", "--bind", "10.0.0.1",
                     "-::1", "--requirepass", "with space\"quote", "--loglevel", "warning",
                     NULL };
    ck_assert_int_eq(config_load_args(11, argv, err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.port, 7004);           /* overridden */
    ck_assert_int_eq(server_cfg.timeout, 10);          /* from the file */
    ck_assert_int_eq(server_cfg.loglevel, LOG_WARNING);
    ck_assert_int_eq(server_cfg.bind_count, 2);
    ck_assert_str_eq(server_cfg.bind_addrs[1], "-::1");
    ck_assert_str_eq(server_cfg.requirepass, "with space\"quote");
    ck_assert_ptr_nonnull(server_cfg.configfile);

    /* Without a file. */
    config_init_defaults();
    char *argv2[] = { "lsmdb-server", "--port", "7005", "--daemonize", "no", NULL };
    ck_assert_int_eq(config_load_args(5, argv2, err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.port, 7005);
    ck_assert_ptr_null(server_cfg.configfile);

    /* "--name value" in one argument, like redis-server. */
    char *argv3[] = { "lsmdb-server", "--timeout 42", NULL };
    ck_assert_int_eq(config_load_args(2, argv3, err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.timeout, 42);

    /* Nothing at all. */
    char *argv4[] = { "lsmdb-server", NULL };
    ck_assert_int_eq(config_load_args(1, argv4, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_args_errors)
{
    char *a1[] = { "lsmdb-server", "--port", "7000", "--port", "70000", NULL };
    ck_assert_int_eq(config_load_args(5, a1, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "(command line):2: argument must be between 0 and 65535 inclusive");

    char *a2[] = { "lsmdb-server", "--nosuch", "1", NULL };
    ck_assert_int_eq(config_load_args(3, a2, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "(command line):1: Bad directive or wrong number of arguments");

    char *a3[] = { "lsmdb-server", "--daemonize", "--port", "1", NULL };
    ck_assert_int_eq(config_load_args(4, a3, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "(command line):1: wrong number of arguments");

    char *a4[] = { "lsmdb-server", "nofile.conf", "--port", "1", NULL };
    ck_assert_int_eq(config_load_args(4, a4, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "nofile.conf:0: can't open config file 'nofile.conf': "
                          "No such file or directory");

    write_file("bad.conf", "port 1\nport x\n");
    char *a5[] = { "lsmdb-server", "bad.conf", "--port", "2", NULL };
    ck_assert_int_eq(config_load_args(4, a5, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "bad.conf:2: argument couldn't be parsed into an integer");
}
END_TEST

/* ---- CONFIG GET ---- */

static void collect(const char *name, const char *value, void *arg)
{
    char *out = arg;
    size_t n = strlen(out);
    snprintf(out + n, 4096 - n, "%s=%s\n", name, value);
}

static const char *get_patterns(int n, const char *const *pats)
{
    static char out[4096];
    out[0] = '\0';
    config_get(n, pats, collect, out);
    return out;
}

START_TEST(test_get_patterns)
{
    const char *p1[] = { "*port*" };
    ck_assert_str_eq(get_patterns(1, p1), "port=6379\n");
    const char *p2[] = { "port", "PORT", "p*" };
    ck_assert_str_eq(get_patterns(3, p2), "port=6379\nproto-max-bulk-len=536870912\nprotected-mode=yes\n"
                                          "pidfile=\n");
    const char *p3[] = { "nosuch" };
    ck_assert_str_eq(get_patterns(1, p3), "");
    ck_assert_int_eq(config_get(1, p3, collect, (char[4096]){ 0 }), 0);
    const char *p4[] = { "client-*" };
    ck_assert_str_eq(get_patterns(1, p4),
                     "client-query-buffer-limit=1073741824\n"
                     "client-output-buffer-limit=normal 0 0 0 slave 268435456 67108864 60 "
                     "pubsub 33554432 8388608 60\n");
    const char *p5[] = { "*" };
    static char all[4096];
    all[0] = '\0';
    ck_assert_int_eq(config_get(1, p5, collect, all), 47);
    ck_assert_ptr_nonnull(strstr(all, "bind=127.0.0.1 -::1\n"));
    ck_assert_ptr_nonnull(strstr(all, "daemonize=no\n"));
    ck_assert_ptr_nonnull(strstr(all, "loglevel=notice\n"));
    ck_assert_ptr_nonnull(strstr(all, "unixsocketperm=0\n"));
    ck_assert_ptr_nonnull(strstr(all, "requirepass=\n"));
    ck_assert_ptr_nonnull(strstr(all, "dir=./data\n"));
    ck_assert_ptr_nonnull(strstr(all, "hz=10\n"));
    ck_assert_ptr_nonnull(strstr(all, "hll-sparse-max-bytes=3000\n"));
    ck_assert_ptr_nonnull(strstr(all, "string-chunk-size=65536\n"));
    ck_assert_ptr_nonnull(strstr(all, "value-cache-size=67108864\n"));
    ck_assert_ptr_nonnull(strstr(all, "appendfsync=everysec\n"));
    ck_assert_ptr_nonnull(strstr(all, "appendonly=yes\n"));
    ck_assert_ptr_nonnull(strstr(all, "save=\n"));
    ck_assert_ptr_nonnull(strstr(all, "maxmemory=0\n"));
    ck_assert_ptr_nonnull(strstr(all, "maxmemory-policy=noeviction\n"));
    ck_assert_ptr_nonnull(strstr(all, "slowlog-log-slower-than=10000\n"));
    ck_assert_ptr_nonnull(strstr(all, "slowlog-max-len=128\n"));
    ck_assert_ptr_nonnull(strstr(all, "latency-tracking=yes\n"));
    ck_assert_ptr_nonnull(strstr(all, "latency-monitor-threshold=0\n"));
    ck_assert_ptr_nonnull(strstr(all, "latency-tracking-info-percentiles=50 99 99.9\n"));
    ck_assert_ptr_nonnull(strstr(all, "block-cache-size=268435456\n"));
    ck_assert_ptr_nonnull(strstr(all, "compression=snappy\n"));
    ck_assert_ptr_nonnull(strstr(all, "value-separation-threshold=1024\n"));
    ck_assert_ptr_nonnull(strstr(all, "vlog-file-size=268435456\n"));
    ck_assert_ptr_nonnull(strstr(all, "vlog-gc-ratio=0.5\n"));
    ck_assert_ptr_nonnull(strstr(all, "vlog-gc-max-mbps=64\n"));
    ck_assert_ptr_nonnull(strstr(all, "mapped-logs=yes\n"));
    ck_assert_ptr_nonnull(strstr(all, "deferred-key-counting=yes\n"));
    ck_assert_ptr_nonnull(strstr(all, "write-table-size=33554432\n"));
    const char *p6[] = { "[mt]*" };
    ck_assert_str_eq(get_patterns(1, p6), "tcp-backlog=511\ntcp-keepalive=300\ntimeout=0\n"
                                          "maxclients=10000\nmaxmemory=0\nmaxmemory-policy=noeviction\n"
                                          "max-open-files=1000\nmapped-logs=yes\n");
    ck_assert_int_eq(config_get_value("nosuch", NULL, 0), -1);
    char small[4];
    ck_assert_int_eq(config_get_value("maxclients", small, sizeof(small)), 5);
    ck_assert_str_eq(small, "100");
}
END_TEST

START_TEST(test_sensitive)
{
    ck_assert_int_eq(config_is_sensitive("requirepass"), 1);
    ck_assert_int_eq(config_is_sensitive("REQUIREPASS"), 1);
    ck_assert_int_eq(config_is_sensitive("port"), 0);
    ck_assert_int_eq(config_is_sensitive("nosuch"), 0);
    /* Like Redis, CONFIG GET still shows the password. */
    LOAD_OK("requirepass s3cret\n");
    ck_assert_str_eq(get("requirepass"), "s3cret");
}
END_TEST

/* ---- CONFIG SET ---- */

static int set2(const char *n1, const char *v1, const char *n2, const char *v2)
{
    const char *argv[] = { n1, v1, n2, v2 };
    err[0] = '\0';
    return config_set(n2 ? 2 : 1, argv, err, sizeof(err));
}

#define SET_FAILS(n1, v1, n2, v2, want)                                     \
    do {                                                                    \
        ck_assert_int_eq(set2(n1, v1, n2, v2), -1);                         \
        ck_assert_str_eq(err, want);                                        \
    } while (0)

START_TEST(test_set)
{
    ck_assert_int_eq(set2("timeout", "30", "MaxClients", "50"), 0);
    ck_assert_int_eq(server_cfg.timeout, 30);
    ck_assert_int_eq(server_cfg.maxclients, 50);
    ck_assert_int_eq(set2("requirepass", "pw with space", NULL, NULL), 0);
    ck_assert_str_eq(server_cfg.requirepass, "pw with space");
    ck_assert_int_eq(set2("client-output-buffer-limit", "normal 1mb 2kb 3 slave 1 2 3", NULL, NULL), 0);
    ck_assert_str_eq(get("client-output-buffer-limit"),
                     "normal 1048576 2048 3 slave 1 2 3 pubsub 33554432 8388608 60");
    /* An empty multi-argument value changes nothing, like Redis. */
    ck_assert_int_eq(set2("client-output-buffer-limit", "", NULL, NULL), 0);
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_NORMAL].hard_bytes, 1LL << 20);
    ck_assert_int_eq(set2("proto-max-bulk-len", "1gb", "hz", "1000"), 0);
    ck_assert_int_eq(server_cfg.proto_max_bulk_len, 1LL << 30);
    ck_assert_int_eq(server_cfg.hz, 500);
    ck_assert_int_eq(set2("protected-mode", "NO", NULL, NULL), 0);
    ck_assert_int_eq(server_cfg.protected_mode, 0);
    ck_assert_int_eq(config_set(0, NULL, err, sizeof(err)), 0);
    /* Multi-argument values split on single spaces, without quoting (Redis 7). */
    SET_FAILS("client-output-buffer-limit", "normal 1 1 1 'x", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.");
    SET_FAILS("client-output-buffer-limit", "normal  1 1 1", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.");
}
END_TEST

START_TEST(test_set_errors)
{
    SET_FAILS("port", "99999", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
    SET_FAILS("foo", "bar", NULL, NULL, "Unknown option or number of arguments for CONFIG SET - 'foo'");
    SET_FAILS("daemonize", "yes", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
    SET_FAILS("timeout", "1", "TIMEOUT", "2",
              "CONFIG SET failed (possibly related to argument 'TIMEOUT') - duplicate parameter");
    SET_FAILS("timeout", "abc", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer");
    SET_FAILS("timeout", "-1", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive");
    SET_FAILS("protected-mode", "maybe", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or 'no'");
    SET_FAILS("proto-max-bulk-len", "1", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be between 1048576 and 9223372036854775807 inclusive");
    SET_FAILS("proto-max-bulk-len", "abc", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'proto-max-bulk-len') - argument must be a memory value");
    SET_FAILS("loglevel", "foo", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the following: debug, verbose, notice, warning");
    SET_FAILS("client-output-buffer-limit", "normal 0 0", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Wrong number of arguments in buffer limit configuration.");
    SET_FAILS("client-output-buffer-limit", "foo 0 0 0", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - Invalid client class specified in buffer limit configuration.");
    SET_FAILS("unixsocketperm", "700", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'unixsocketperm') - can't set immutable config");
    SET_FAILS("dir", "/tmp", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'dir') - can't set immutable config");
    SET_FAILS("maxclients", "0", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 4294967295 inclusive");
}
END_TEST

/* save and appendonly: what tools such as redis-benchmark ask for, and what
 * deployment scripts set. lsmdb takes no RDB snapshots and always logs, so
 * only `save ""` and `appendonly yes` are accepted. */
START_TEST(test_redis_persistence_directives)
{
    static const char *no_rdb = "lsmdb takes no RDB snapshots: every write goes to its log "
                                "and tables on disk (appendfsync sets how often the log is "
                                "fsynced)";
    static const char *always_log = "lsmdb always logs every write (appendfsync sets how "
                                    "often the log is fsynced)";
    char want[512];

    ck_assert_str_eq(get("save"), "");
    ck_assert_str_eq(get("appendonly"), "yes");
    LOAD_OK("save \"\"\nappendonly yes\nappendonly YES\n");
    snprintf(want, sizeof want, "t.conf:1: %s", no_rdb);
    LOAD_FAILS("save 900 1\n", want);
    LOAD_FAILS("save 3600\n", want);
    snprintf(want, sizeof want, "t.conf:2: %s", always_log);
    LOAD_FAILS("save \"\"\nappendonly no\n", want);
    ck_assert_int_eq(set2("save", "", "appendonly", "yes"), 0);
    snprintf(want, sizeof want,
             "CONFIG SET failed (possibly related to argument 'save') - %s", no_rdb);
    SET_FAILS("save", "3600 1 300 100", NULL, NULL, want);
    snprintf(want, sizeof want,
             "CONFIG SET failed (possibly related to argument 'appendonly') - %s", always_log);
    SET_FAILS("appendonly", "no", NULL, NULL, want);
    SET_FAILS("appendonly", "maybe", NULL, NULL, want);
    ck_assert_str_eq(get("save"), "");
    ck_assert_str_eq(get("appendonly"), "yes");
}
END_TEST

/* maxmemory and maxmemory-policy: lsmdb keeps its data on disk and evicts
 * nothing, so only `maxmemory 0` and `maxmemory-policy noeviction`. */
START_TEST(test_maxmemory_directives)
{
    static const char *no_evict = "lsmdb keeps its data on disk and evicts no key "
                                  "(block-cache-size, value-cache-size and write-buffer-size "
                                  "bound the memory it uses)";
    char want[512];

    ck_assert_str_eq(get("maxmemory"), "0");
    ck_assert_str_eq(get("maxmemory-policy"), "noeviction");
    LOAD_OK("maxmemory 0\nmaxmemory-policy noeviction\nmaxmemory-policy NOEVICTION\n");
    snprintf(want, sizeof want, "t.conf:1: %s", no_evict);
    LOAD_FAILS("maxmemory 2gb\n", want);
    LOAD_FAILS("maxmemory-policy allkeys-lru\n", want);
    ck_assert_int_eq(set2("maxmemory-policy", "noeviction", "maxmemory", "0"), 0);
    snprintf(want, sizeof want,
             "CONFIG SET failed (possibly related to argument 'maxmemory-policy') - %s", no_evict);
    SET_FAILS("maxmemory-policy", "volatile-lru", NULL, NULL, want);
    snprintf(want, sizeof want,
             "CONFIG SET failed (possibly related to argument 'maxmemory') - %s", no_evict);
    SET_FAILS("maxmemory", "100mb", NULL, NULL, want);
    ck_assert_str_eq(get("maxmemory"), "0");
    ck_assert_str_eq(get("maxmemory-policy"), "noeviction");
}
END_TEST

/* slowlog-*: long long values without units, Redis' bounds. */
START_TEST(test_slowlog_directives)
{
    LOAD_OK("slowlog-log-slower-than -1\nslowlog-max-len 9223372036854775807\n");
    ck_assert_int_eq(server_cfg.slowlog_log_slower_than, -1);
    ck_assert(server_cfg.slowlog_max_len == 9223372036854775807LL);
    LOAD_FAILS("slowlog-log-slower-than -2\n",
               "t.conf:1: argument must be between -1 and 9223372036854775807 inclusive");
    LOAD_FAILS("slowlog-max-len -1\n",
               "t.conf:1: argument must be between 0 and 9223372036854775807 inclusive");
    LOAD_FAILS("slowlog-max-len 1k\n", "t.conf:1: argument couldn't be parsed into an integer");
    ck_assert_int_eq(set2("slowlog-log-slower-than", "0", "slowlog-max-len", "5"), 0);
    ck_assert_str_eq(get("slowlog-log-slower-than"), "0");
    ck_assert_str_eq(get("slowlog-max-len"), "5");
}
END_TEST

/* latency-tracking-info-percentiles: a list of numbers in [0, 100], shown
 * as Redis prints them ("%f" without trailing zeros). */
START_TEST(test_latency_percentiles)
{
    LOAD_OK("latency-tracking-info-percentiles 0 12.5 99.990 100\nlatency-tracking no\n");
    ck_assert_int_eq(server_cfg.latency_npct, 4);
    ck_assert(server_cfg.latency_pct[1] == 12.5);
    ck_assert_int_eq(server_cfg.latency_tracking, 0);
    ck_assert_str_eq(get("latency-tracking-info-percentiles"), "0 12.5 99.99 100");
    LOAD_OK("latency-tracking-info-percentiles\n");
    ck_assert_int_eq(server_cfg.latency_npct, 0);
    ck_assert_str_eq(get("latency-tracking-info-percentiles"), "");
    LOAD_FAILS("latency-tracking-info-percentiles 50 100.5\n",
               "t.conf:1: latency-tracking-info-percentiles parameters should sit between "
               "[0.0,100.0]");
    LOAD_FAILS("latency-tracking-info-percentiles 5x\n",
               "t.conf:1: Invalid latency-tracking-info-percentiles parameters");
    LOAD_FAILS("latency-tracking-info-percentiles nan\n",
               "t.conf:1: Invalid latency-tracking-info-percentiles parameters");
    LOAD_FAILS("latency-tracking-info-percentiles 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n",
               "t.conf:1: at most 16 percentiles");
    ck_assert_int_eq(set2("latency-tracking-info-percentiles", "99 50", NULL, NULL), 0);
    ck_assert_str_eq(get("latency-tracking-info-percentiles"), "99 50");
}
END_TEST

START_TEST(test_set_atomic)
{
    /* The second pair is bad: the first must not be stored. */
    SET_FAILS("timeout", "77", "tcp-keepalive", "x",
              "CONFIG SET failed (possibly related to argument 'tcp-keepalive') - argument couldn't be parsed into an integer");
    ck_assert_int_eq(server_cfg.timeout, 0);
    ck_assert_int_eq(server_cfg.tcp_keepalive, 300);
    SET_FAILS("requirepass", "new", "nosuch", "1",
              "Unknown option or number of arguments for CONFIG SET - 'nosuch'");
    ck_assert_str_eq(server_cfg.requirepass, "");
    SET_FAILS("client-output-buffer-limit", "normal 5 5 5", "daemonize", "no",
              "CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
    ck_assert_int_eq(server_cfg.obuf_limits[CONFIG_OBUF_NORMAL].hard_bytes, 0);
}
END_TEST

static int hook_calls;
static int hook_fail;
static int hook_seen_port[4];

static int port_hook(char *e, size_t elen)
{
    if (hook_calls < 4)
        hook_seen_port[hook_calls] = server_cfg.port;
    hook_calls++;
    if (hook_fail && server_cfg.port != 6379) {
        snprintf(e, elen, "Unable to listen on this port: Address already in use");
        return -1;
    }
    return 0;
}

START_TEST(test_set_hooks)
{
    ck_assert_int_eq(config_register_apply("nosuch", port_hook), -1);
    ck_assert_int_eq(config_register_apply("port", port_hook), 0);
    hook_calls = 0;
    hook_fail = 0;
    ck_assert_int_eq(set2("port", "7010", NULL, NULL), 0);
    ck_assert_int_eq(server_cfg.port, 7010);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(hook_seen_port[0], 7010);
    /* Unchanged value: no hook call. */
    ck_assert_int_eq(set2("port", "7010", NULL, NULL), 0);
    ck_assert_int_eq(hook_calls, 1);
    ck_assert_int_eq(set2("port", "6379", NULL, NULL), 0);

    /* A failing hook rolls every pair back and re-applies the old values. */
    hook_calls = 0;
    hook_fail = 1;
    SET_FAILS("timeout", "99", "port", "7011",
              "CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port: Address already in use");
    ck_assert_int_eq(server_cfg.port, 6379);
    ck_assert_int_eq(server_cfg.timeout, 0);
    ck_assert_int_eq(hook_calls, 2);
    ck_assert_int_eq(hook_seen_port[0], 7011);
    ck_assert_int_eq(hook_seen_port[1], 6379);
    config_register_apply("port", NULL);

    /* bind becomes settable once a hook exists; its value splits on spaces. */
    SET_FAILS("bind", "10.0.0.1", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'bind') - can't set immutable config");
    ck_assert_int_eq(config_register_apply("bind", port_hook), 0);
    hook_fail = 0;
    ck_assert_int_eq(set2("bind", "'-::1' 127.0.0.1", NULL, NULL), 0);
    ck_assert_int_eq(server_cfg.bind_count, 2);
    ck_assert_str_eq(server_cfg.bind_addrs[0], "'-::1'");
    ck_assert_int_eq(set2("bind", "", NULL, NULL), 0);
    ck_assert_int_eq(server_cfg.bind_count, 0);
    SET_FAILS("bind", "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'bind') - Too many bind addresses specified.");
    config_register_apply("bind", NULL);
    SET_FAILS("port", "1", NULL, NULL,
              "CONFIG SET failed (possibly related to argument 'port') - can't set immutable config");
}
END_TEST

START_TEST(test_set_loglevel_applies)
{
    log_set_level(LOG_NOTICE);
    ck_assert_int_eq(set2("loglevel", "warning", NULL, NULL), 0);
    ck_assert_int_eq(log_get_level(), LOG_WARNING);
    ck_assert_int_eq(set2("loglevel", "debug", "timeout", "bad"), -1);
    ck_assert_int_eq(log_get_level(), LOG_WARNING);
    ck_assert_int_eq(server_cfg.loglevel, LOG_WARNING);
    log_set_level(LOG_NOTICE);
}
END_TEST

/* ---- CONFIG REWRITE ---- */

/* Every directive's value, as CONFIG GET "*" shows them. */
static void snapshot(char *out)
{
    const char *all[] = { "*" };
    out[0] = '\0';
    config_get(1, all, collect, out);
}

START_TEST(test_rewrite_without_file)
{
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), -1);
    ck_assert_str_eq(err, "The server is running without a config file");
}
END_TEST

START_TEST(test_rewrite_round_trip)
{
    static char before[4096], after[4096];

    write_file("r.conf",
               "# my settings\n"
               "port 7020\n"
               "\n"
               "# the timeout\n"
               "timeout 5\n"
               "timeout 6\n"
               "dir ./data\n"
               "proto-max-bulk-len 536870912\n"
               "client-output-buffer-limit normal 0 0 0\n"
               "include inc.conf\n"
               "# end\n");
    write_file("inc.conf", "tcp-keepalive 60\n");
    ck_assert_int_eq(config_load_file("r.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(server_cfg.timeout, 6);
    ck_assert_int_eq(set2("timeout", "10", "requirepass", "p w\"x"), 0);
    ck_assert_int_eq(set2("client-output-buffer-limit", "pubsub 1mb 1kb 5", "loglevel", "verbose"), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    snapshot(before);

    const char *text = read_all("r.conf");
    ck_assert_str_eq(text,
                     "# my settings\n"
                     "port 7020\n"
                     "\n"
                     "# the timeout\n"
                     "timeout 10\n"
                     "dir ./data\n"
                     "proto-max-bulk-len 536870912\n"
                     "client-output-buffer-limit normal 0 0 0\n"
                     "include inc.conf\n"
                     "# end\n"
                     "\n"
                     "# Generated by CONFIG REWRITE\n"
                     "tcp-keepalive 60\n"
                     "client-output-buffer-limit pubsub 1mb 1kb 5\n"
                     "requirepass \"p w\\\"x\"\n"
                     "loglevel verbose\n");

    /* The rewritten file loads to the same values. */
    config_init_defaults();
    ck_assert_int_eq(config_load_file("r.conf", err, sizeof(err)), 0);
    snapshot(after);
    ck_assert_str_eq(before, after);

    /* A second rewrite with nothing changed leaves the file as it is. */
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    ck_assert_str_eq(read_all("r.conf"), text);

    /* Back to a default value: the line in the file is rewritten, not
     * removed; appended lines stay under the one marker. */
    ck_assert_int_eq(set2("loglevel", "notice", "maxclients", "42"), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    text = read_all("r.conf");
    ck_assert_ptr_nonnull(strstr(text, "\nloglevel notice\nmaxclients 42\n"));
    ck_assert_ptr_null(strstr(strstr(text, "# Generated") + 1, "# Generated"));
    snapshot(before);
    config_init_defaults();
    ck_assert_int_eq(config_load_file("r.conf", err, sizeof(err)), 0);
    snapshot(after);
    ck_assert_str_eq(before, after);
}
END_TEST

/* vlog-gc-ratio survives a rewrite to the digit: with a %g value the
 * first line, 1.2345674, read as the current 1.23457 and stayed, while the
 * second, the one in use, was dropped (found by fuzz_config). */
START_TEST(test_rewrite_double)
{
    write_file("d.conf", "vlog-gc-ratio 1.2345674\nvlog-gc-ratio 1.234566\n");
    ck_assert_int_eq(config_load_file("d.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    config_init_defaults();
    ck_assert_int_eq(config_load_file("d.conf", err, sizeof(err)), 0);
    ck_assert(server_cfg.vlog_gc_ratio == 1.234566);
    ck_assert_str_eq(read_all("d.conf"), "vlog-gc-ratio 1.234566\n");
}
END_TEST

START_TEST(test_rewrite_formats)
{
    static char before[4096], after[4096];
    struct stat st;

    write_file("w.conf", "Port 7030\nbind 127.0.0.1\nbind 10.0.0.1\nunixsocketperm 0700\n");
    ck_assert_int_eq(chmod("w.conf", 0600), 0);
    ck_assert_int_eq(config_load_file("w.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(set2("client-query-buffer-limit", "1536kb", "proto-max-bulk-len", "3000000"), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    ck_assert_str_eq(read_all("w.conf"),
                     "Port 7030\n"
                     "bind 10.0.0.1\n"
                     "unixsocketperm 0700\n"
                     "\n"
                     "# Generated by CONFIG REWRITE\n"
                     "proto-max-bulk-len 3000000\n"
                     "client-query-buffer-limit 1536kb\n");
    /* The file keeps its permissions; no temp file is left. */
    ck_assert_int_eq(stat("w.conf", &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(system("test $(ls -A | grep -c rewrite) -eq 0"), 0);
    snapshot(before);
    config_init_defaults();
    ck_assert_int_eq(config_load_file("w.conf", err, sizeof(err)), 0);
    snapshot(after);
    ck_assert_str_eq(before, after);

    /* An empty bind list and odd strings survive the round trip. */
    ck_assert_int_eq(set2("requirepass", "tab\there\nnl \\ \x01", NULL, NULL), 0);
    ck_assert_int_eq(config_load_string("bind\n", "x", err, sizeof(err)), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    snapshot(before);
    config_init_defaults();
    ck_assert_int_eq(config_load_file("w.conf", err, sizeof(err)), 0);
    snapshot(after);
    ck_assert_str_eq(before, after);
    ck_assert_int_eq(server_cfg.bind_count, 0);
    ck_assert_str_eq(server_cfg.requirepass, "tab\there\nnl \\ \x01");
}
END_TEST

START_TEST(test_rewrite_missing_file)
{
    write_file("gone.conf", "port 7040\n");
    ck_assert_int_eq(config_load_file("gone.conf", err, sizeof(err)), 0);
    ck_assert_int_eq(unlink("gone.conf"), 0);
    ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
    ck_assert_str_eq(read_all("gone.conf"), "# Generated by CONFIG REWRITE\nport 7040\n");
}
END_TEST

/* ---- the shipped file ---- */

START_TEST(test_shipped_conf)
{
    static char defaults[4096], loaded[4096];
    char path[PATH_MAX + 128];
    const char *srcdir = getenv("LSMDB_SRCDIR");

    if (srcdir && *srcdir) {
        snprintf(path, sizeof(path), "%s/conf/lsmdb.conf", srcdir);
    } else {
        /* __FILE__ is relative to the build directory the test runs from. */
        char file[PATH_MAX + 64];
        snprintf(file, sizeof(file), "%s%s%s", __FILE__[0] == '/' ? "" : start_cwd,
                 __FILE__[0] == '/' ? "" : "/", __FILE__);
        *strrchr(file, '/') = '\0';
        snprintf(path, sizeof(path), "%s/../../conf/lsmdb.conf", file);
    }
    snapshot(defaults);
    ck_assert_msg(config_load_file(path, err, sizeof(err)) == 0, "%s: %s", path, err);
    /* It documents the defaults: loading it changes nothing. */
    snapshot(loaded);
    ck_assert_str_eq(defaults, loaded);
}
END_TEST

/* ---- randomized ---- */

static unsigned long long rnd_state;

static unsigned rnd(unsigned n)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return (unsigned)(rnd_state % n);
}

static unsigned long long seed_from_env(void)
{
    const char *env = getenv("SEED");
    unsigned long long seed = env && *env ? strtoull(env, NULL, 0)
                                          : (unsigned long long)time(NULL) ^ (unsigned long long)getpid();
    fprintf(stderr, "# test_config SEED=%llu\n", seed);
    return seed | 1;
}

/* Random lines of directive names, values and quoting never crash the
 * loader, and a failure always names the line. */
START_TEST(test_random_lines)
{
    static const char *const words[] = {
        "port", "bind", "timeout", "loglevel", "client-output-buffer-limit", "requirepass",
        "include", "daemonize", "unixsocketperm", "proto-max-bulk-len", "hz", "normal", "slave",
        "save", "appendonly", "slowlog-log-slower-than", "slowlog-max-len",
        "latency-tracking", "latency-tracking-info-percentiles", "99.9", "100.5",
        "1", "0", "-1", "65536", "1mb", "1gb", "abc", "yes", "no", "notice", "\"", "'", "\"a b\"",
        "'c\\'d'", "\\x41", "\"\\x4\"", "#", "\t", "", "777", "9999999999999999999999",
    };
    unsigned long long seed = seed_from_env();
    char text[512];

    rnd_state = seed;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 0;
        int lines = 1 + (int)rnd(3);
        text[0] = '\0';
        for (int l = 0; l < lines; l++) {
            int nw = (int)rnd(6);
            for (int w = 0; w < nw && n < sizeof(text) - 64; w++)
                n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", w ? " " : "",
                                      words[rnd(sizeof(words) / sizeof(words[0]))]);
            n += (size_t)snprintf(text + n, sizeof(text) - n, "\n");
        }
        if (load(text) != 0)
            ck_assert_msg(strncmp(err, "t.conf:", 7) == 0 || strstr(err, "can't open config file"),
                          "SEED=%llu text '%s' err '%s'", seed, text, err);
    }
}
END_TEST

/* Random CONFIG SETs, each followed by REWRITE: the file always loads back
 * to exactly the values in memory. */
START_TEST(test_random_rewrite_round_trip)
{
    static const struct {
        const char *name;
        const char *values[4];
    } sets[] = {
        { "timeout", { "0", "5", "300", "2147483647" } },
        { "tcp-keepalive", { "0", "60", "300", "7" } },
        { "maxclients", { "1", "10000", "64", "100000" } },
        { "loglevel", { "debug", "verbose", "notice", "warning" } },
        { "protected-mode", { "yes", "no", "yes", "no" } },
        { "requirepass", { "", "pw", "a b \"c\" \\d", "\x01\t" } },
        { "proto-max-bulk-len", { "512mb", "1048577", "2gb", "1000000k" } },
        { "client-query-buffer-limit", { "1gb", "3mb", "1048576", "5000000" } },
        { "client-output-buffer-limit", { "normal 0 0 0", "normal 1mb 2kb 3", "pubsub 1 2 3",
                                          "slave 256mb 64mb 60 pubsub 32mb 8mb 60" } },
        { "hz", { "10", "1", "500", "77" } },
    };
    static char before[4096], after[4096];
    unsigned long long seed = seed_from_env();

    rnd_state = seed;
    write_file("rt.conf", "# start\nport 7050\ntimeout 1\ntimeout 2\n"
                          "client-output-buffer-limit pubsub 1 1 1\n# end\n");
    ck_assert_int_eq(config_load_file("rt.conf", err, sizeof(err)), 0);
    for (int iter = 0; iter < 300; iter++) {
        int k = (int)rnd(sizeof(sets) / sizeof(sets[0]));
        const char *v = sets[k].values[rnd(4)];
        ck_assert_msg(set2(sets[k].name, v, NULL, NULL) == 0, "SEED=%llu %s %s: %s", seed,
                      sets[k].name, v, err);
        if (rnd(3) != 0)
            continue;
        ck_assert_int_eq(config_rewrite(err, sizeof(err)), 0);
        snapshot(before);
        config_init_defaults();
        ck_assert_int_eq(config_load_file("rt.conf", err, sizeof(err)), 0);
        snapshot(after);
        ck_assert_msg(strcmp(before, after) == 0, "SEED=%llu iter %d:\n%s\nvs\n%s\nfile:\n%s",
                      seed, iter, before, after, read_all("rt.conf"));
        /* Comments stay; the marker appears at most once. */
        const char *text = read_all("rt.conf");
        ck_assert_int_eq(strncmp(text, "# start\nport 7050\n", 18), 0);
        ck_assert_ptr_nonnull(strstr(text, "\n# end\n"));
        const char *m = strstr(text, "# Generated by CONFIG REWRITE");
        ck_assert(m == NULL || strstr(m + 1, "# Generated by CONFIG REWRITE") == NULL);
    }
}
END_TEST

static Suite *config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_defaults);
    tcase_add_test(tc, test_defaults_reset);
    tcase_add_test(tc, test_bool);
    tcase_add_test(tc, test_int_bounds);
    tcase_add_test(tc, test_hz_clamped);
    tcase_add_test(tc, test_vlog_directives);
    tcase_add_test(tc, test_memory_units);
    tcase_add_test(tc, test_enum);
    tcase_add_test(tc, test_strings);
    tcase_add_test(tc, test_octal);
    tcase_add_test(tc, test_bind);
    tcase_add_test(tc, test_obuf);
    tcase_add_test(tc, test_syntax);
    tcase_add_test(tc, test_quoting);
    tcase_add_test(tc, test_error_lines);
    tcase_add_test(tc, test_load_file);
    tcase_add_test(tc, test_include);
    tcase_add_test(tc, test_include_loops);
    tcase_add_test(tc, test_args);
    tcase_add_test(tc, test_args_errors);
    tcase_add_test(tc, test_get_patterns);
    tcase_add_test(tc, test_sensitive);
    tcase_add_test(tc, test_set);
    tcase_add_test(tc, test_set_errors);
    tcase_add_test(tc, test_redis_persistence_directives);
    tcase_add_test(tc, test_maxmemory_directives);
    tcase_add_test(tc, test_slowlog_directives);
    tcase_add_test(tc, test_latency_percentiles);
    tcase_add_test(tc, test_set_atomic);
    tcase_add_test(tc, test_set_hooks);
    tcase_add_test(tc, test_set_loglevel_applies);
    tcase_add_test(tc, test_rewrite_without_file);
    tcase_add_test(tc, test_rewrite_round_trip);
    tcase_add_test(tc, test_rewrite_double);
    tcase_add_test(tc, test_rewrite_formats);
    tcase_add_test(tc, test_rewrite_missing_file);
    tcase_add_test(tc, test_shipped_conf);
    tcase_add_test(tc, test_random_lines);
    tcase_add_test(tc, test_random_rewrite_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(config_suite());
    int failed;

    if (!getcwd(start_cwd, sizeof(start_cwd)))
        start_cwd[0] = '\0';
    srunner_run_all(sr, CK_ENV);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
