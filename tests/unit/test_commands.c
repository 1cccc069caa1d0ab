/* test_commands: the command table is sane — every command and subcommand is
 * found in any letter case (and by its "parent|sub" full name), arities and
 * flags follow Redis' conventions, only AUTH/HELLO/QUIT skip authentication,
 * and the COMMAND INFO / DOCS data is present and encodes to the RESP shapes
 * redis-cli 7 reads. */
#include <check.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/commands.h"
#include "server/reply.h"

static void setup(void)
{
    commands_init();
}

/* Returns the name in a new buffer with letters transformed by mode:
 * 0 lower (as stored), 1 upper, 2 alternating. */
static char *recase(const char *s, int mode)
{
    size_t n = strlen(s);
    char *r = malloc(n + 1);
    for (size_t i = 0; i <= n; i++) {
        char c = s[i];
        if (mode == 1 || (mode == 2 && i % 2 == 0))
            c = (char)toupper((unsigned char)c);
        r[i] = c;
    }
    return r;
}

START_TEST(test_lookup_any_case)
{
    ck_assert_int_gt(commands_count(), 0);
    for (int i = 0; i < commands_count(); i++) {
        struct command *c = commands_at(i);
        for (int mode = 0; mode < 3; mode++) {
            char *n = recase(c->name, mode);
            ck_assert_ptr_eq(commands_lookup(n, strlen(n)), c);
            ck_assert_ptr_eq(commands_lookup_fullname(n, strlen(n)), c);
            for (int j = 0; j < c->nsub; j++) {
                struct command *s = &c->subcommands[j];
                char *sn = recase(s->name, mode);
                ck_assert_ptr_eq(commands_lookup_sub(c, sn, strlen(sn)), s);
                const char *argv[] = { n, sn };
                size_t lens[] = { strlen(n), strlen(sn) };
                struct command *container = (void *)1;
                ck_assert_ptr_eq(commands_lookup_argv(2, argv, lens, &container), s);
                ck_assert_ptr_null(container);
                char *fn = recase(s->fullname, mode);
                ck_assert_ptr_eq(commands_lookup_fullname(fn, strlen(fn)), s);
                free(fn);
                free(sn);
            }
            free(n);
        }
    }
}
END_TEST

START_TEST(test_lookup_misses)
{
    ck_assert_ptr_null(commands_lookup("nosuch", 6));
    ck_assert_ptr_null(commands_lookup("pin", 3));
    ck_assert_ptr_null(commands_lookup("pingx", 5));
    ck_assert_ptr_null(commands_lookup("ping\0", 5));
    ck_assert_ptr_null(commands_lookup_fullname("client|nosuch", 13));
    ck_assert_ptr_null(commands_lookup_fullname("ping|x", 6));
    ck_assert_ptr_null(commands_lookup_fullname("client|list|x", 13));
    /* A container with an unknown subcommand reports the container. */
    const char *argv[] = { "CLIENT", "nosuch" };
    size_t lens[] = { 6, 6 };
    struct command *container = NULL;
    ck_assert_ptr_null(commands_lookup_argv(2, argv, lens, &container));
    ck_assert_ptr_eq(container, commands_lookup("client", 6));
    /* A NUL inside a name matches no command (the table's names end there:
     * comparing on read past them; fuzz_server found it under ASan). */
    const char *nul[] = { "CLIENT", "REPLY\0SKIP" };
    size_t nullens[] = { 6, 10 };
    ck_assert_ptr_null(commands_lookup_argv(2, nul, nullens, &container));
    ck_assert_ptr_eq(container, commands_lookup("client", 6));
    ck_assert_ptr_null(commands_lookup_sub(commands_lookup("client", 6), "reply\0", 6));
    /* Alone, a container resolves to itself (arity then rejects it). */
    ck_assert_ptr_eq(commands_lookup_argv(1, argv, lens, &container),
                     commands_lookup("client", 6));
    ck_assert_ptr_null(container);
}
END_TEST

static void check_args(const struct cmd_arg *a, const char *cmd)
{
    for (; a && a->name; a++) {
        ck_assert_msg(a->type <= ARG_BLOCK, "%s: bad type for %s", cmd, a->name);
        if (a->type == ARG_ONEOF || a->type == ARG_BLOCK) {
            ck_assert_msg(a->subargs && a->subargs[0].name, "%s: %s has no sub-arguments",
                          cmd, a->name);
            check_args(a->subargs, cmd);
        } else {
            ck_assert_msg(a->subargs == NULL, "%s: %s has stray sub-arguments", cmd, a->name);
        }
        if (a->type == ARG_PURE_TOKEN)
            ck_assert_msg(a->token != NULL, "%s: pure-token %s without token", cmd, a->name);
    }
}

static void check_row(const struct command *c)
{
    ck_assert_msg(c->arity != 0, "%s: arity 0", c->fullname);
    /* (Redis documents no complexity for MONITOR, and neither do we) */
    ck_assert_msg(c->summary && c->since && c->group &&
                      (c->complexity || strcmp(c->fullname, "monitor") == 0),
                  "%s: missing docs", c->fullname);
    ck_assert_msg(!((c->flags & CMD_WRITE) && (c->flags & CMD_READONLY)),
                  "%s: both write and readonly", c->fullname);
    ck_assert_msg(!!(c->acl & ACL_FAST) != !!(c->acl & ACL_SLOW),
                  "%s: must be exactly one of @fast/@slow", c->fullname);
    ck_assert_msg(!!(c->flags & CMD_FAST) == !!(c->acl & ACL_FAST),
                  "%s: fast flag and @fast disagree", c->fullname);
    if (c->flags & CMD_ADMIN)
        ck_assert_msg((c->acl & ACL_ADMIN) && (c->acl & ACL_DANGEROUS),
                      "%s: admin without @admin @dangerous", c->fullname);
    for (const char *p = c->name; *p; p++)
        ck_assert_msg(!isupper((unsigned char)*p), "%s: name not lower case", c->fullname);
    check_args(c->args, c->fullname);
}

START_TEST(test_rows_sane)
{
    for (int i = 0; i < commands_count(); i++) {
        struct command *c = commands_at(i);
        check_row(c);
        ck_assert_str_eq(c->fullname, c->name);
        if (c->subcommands) {
            /* Containers without a handler of their own (all but COMMAND)
             * take "at least 2" arguments, like Redis. */
            if (c->proc == NULL)
                ck_assert_int_eq(c->arity, -2);
            else
                ck_assert_int_lt(c->arity, 0);
            ck_assert_int_gt(c->nsub, 0);
            int has_help = 0;
            for (int j = 0; j < c->nsub; j++) {
                struct command *s = &c->subcommands[j];
                check_row(s);
                ck_assert_ptr_nonnull(s->proc);
                ck_assert_ptr_eq(s->parent, c);
                ck_assert_int_ne(s->arity, 1);   /* counts the container word */
                ck_assert(s->arity >= 2 || s->arity <= -2);
                has_help |= !strcmp(s->name, "help");
            }
            ck_assert_msg(has_help, "%s has no HELP", c->name);
        } else {
            ck_assert_ptr_nonnull(c->proc);
        }
    }
}
END_TEST

START_TEST(test_no_auth_only_handshake)
{
    for (int i = 0; i < commands_count(); i++) {
        struct command *c = commands_at(i);
        int expect = !strcmp(c->name, "auth") || !strcmp(c->name, "hello") ||
                     !strcmp(c->name, "quit") || !strcmp(c->name, "reset");
        ck_assert_msg(!!(c->flags & CMD_NO_AUTH) == expect, "%s no_auth", c->name);
        for (int j = 0; j < c->nsub; j++)
            ck_assert(!(c->subcommands[j].flags & CMD_NO_AUTH));
    }
}
END_TEST

START_TEST(test_known_arities)
{
    static const struct { const char *name; int arity; } rows[] = {
        { "ping", -1 }, { "echo", 2 }, { "quit", -1 }, { "reset", 1 }, { "hello", -1 },
        { "auth", -2 }, { "select", 2 }, { "time", 1 }, { "shutdown", -1 },
        { "info", -1 }, { "command", -1 }, { "client|setname", 3 },
        { "client|getname", 2 }, { "client|id", 2 }, { "client|list", -2 },
        { "client|info", 2 }, { "client|kill", -3 }, { "client|reply", 3 },
        { "command|count", 2 }, { "command|info", -2 }, { "command|docs", -2 },
        { "command|list", -2 }, { "config|get", -3 }, { "config|set", -4 },
        { "config|resetstat", 2 }, { "config|rewrite", 2 },
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        struct command *c = commands_lookup_fullname(rows[i].name, strlen(rows[i].name));
        ck_assert_msg(c != NULL, "%s missing", rows[i].name);
        ck_assert_msg(c->arity == rows[i].arity, "%s arity %d", rows[i].name, c->arity);
    }
}
END_TEST

/* Encodes with fn into an obuf and returns the bytes (malloc'd). */
static char *encode(void (*fn)(struct obuf *, const struct command *),
                    const struct command *c, int resp, size_t *len)
{
    struct obuf *o = malloc(sizeof(*o));
    obuf_init(o);
    o->resp = resp;
    fn(o, c);
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    size_t cap = obuf_pending(o) + 1, n = 0;
    char *out = malloc(cap);
    while (obuf_pending(o) > 0) {
        ck_assert_int_gt(obuf_write(o, sv[0]), 0);
        ssize_t r;
        while ((r = recv(sv[1], out + n, cap - n, MSG_DONTWAIT)) > 0)
            n += (size_t)r;
    }
    ssize_t r;
    while ((r = recv(sv[1], out + n, cap - n, MSG_DONTWAIT)) > 0)
        n += (size_t)r;
    out[n] = '\0';
    close(sv[0]);
    close(sv[1]);
    obuf_free(o);
    free(o);
    *len = n;
    return out;
}

START_TEST(test_docs_and_info_encode)
{
    size_t n;
    for (int i = 0; i < commands_count(); i++) {
        struct command *c = commands_at(i);
        char *d = encode(commands_reply_docs, c, 3, &n);
        ck_assert_msg(d[0] == '%', "%s docs not a map", c->name);
        ck_assert_ptr_nonnull(strstr(d, "$7\r\nsummary\r\n"));
        ck_assert_ptr_nonnull(strstr(d, "$5\r\ngroup\r\n"));
        if (c->args)
            ck_assert_ptr_nonnull(strstr(d, "$9\r\narguments\r\n"));
        if (c->subcommands)
            ck_assert_ptr_nonnull(strstr(d, "$11\r\nsubcommands\r\n"));
        free(d);
        d = encode(commands_reply_docs, c, 2, &n);
        ck_assert(d[0] == '*');
        free(d);
        char *info = encode(commands_reply_info, c, 2, &n);
        ck_assert(strncmp(info, "*10\r\n", 5) == 0);
        free(info);
    }
    /* PING's docs carry the optional "message" argument redis-cli hints show. */
    struct command *ping = commands_lookup("ping", 4);
    char *d = encode(commands_reply_docs, ping, 3, &n);
    ck_assert_ptr_nonnull(strstr(d, "$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n"
                                    "$6\r\nstring\r\n$5\r\nflags\r\n~1\r\n+optional\r\n"));
    free(d);
    /* COMMAND INFO of an unknown name is a null, as Redis' addReplyNull. */
    d = encode(commands_reply_info, NULL, 2, &n);
    ck_assert_str_eq(d, "$-1\r\n");
    free(d);
}
END_TEST

START_TEST(test_acl_names)
{
    ck_assert_str_eq(commands_acl_name(ACL_CONNECTION), "connection");
    ck_assert_uint_eq(commands_acl_by_name("CONNECTION", 10), ACL_CONNECTION);
    ck_assert_uint_eq(commands_acl_by_name("nosuch", 6), 0);
}
END_TEST

static Suite *commands_suite(void)
{
    Suite *s = suite_create("commands");
    TCase *tc = tcase_create("commands");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_lookup_any_case);
    tcase_add_test(tc, test_lookup_misses);
    tcase_add_test(tc, test_rows_sane);
    tcase_add_test(tc, test_no_auth_only_handshake);
    tcase_add_test(tc, test_known_arities);
    tcase_add_test(tc, test_docs_and_info_encode);
    tcase_add_test(tc, test_acl_names);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(commands_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
