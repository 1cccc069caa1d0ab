/* test_net: the accept-time protected-mode decision (Redis 7: with
 * protected-mode yes and no password, only 127.0.0.1, ::1 and unix-socket
 * peers get in), the refusal text, address formatting, and the listener
 * rules for optional ('-') bind addresses. Tests talk over loopback only, so
 * the refusal of a remote peer is checked here on the pure function. */
#include <check.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "server/config.h"
#include "server/net.h"
#include "util/zmalloc.h"

static struct sockaddr_storage v4(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *s = (struct sockaddr_in *)&ss;
    s->sin_family = AF_INET;
    s->sin_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET, ip, &s->sin_addr), 1);
    return ss;
}

static struct sockaddr_storage v6(const char *ip, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    ck_assert_int_eq(inet_pton(AF_INET6, ip, &s->sin6_addr), 1);
    return ss;
}

static int refuses(const struct sockaddr_storage *ss, int is_unix)
{
    return net_protected_mode_refuses((const struct sockaddr *)ss, is_unix, &server_cfg);
}

static void setup(void)
{
    config_init_defaults();
    server_cfg.protected_mode = 1;
}

static void set_pass(const char *p)
{
    char err[CONFIG_ERR_LEN];
    const char *argv[] = { "requirepass", p };
    ck_assert_msg(config_set(1, argv, err, sizeof(err)) == 0, "%s", err);
}

START_TEST(test_remote_refused_without_password)
{
    struct sockaddr_storage a = v4("10.1.2.3", 4000);
    ck_assert_int_eq(refuses(&a, 0), 1);
    a = v4("192.168.1.20", 1);
    ck_assert_int_eq(refuses(&a, 0), 1);
    a = v6("2001:db8::7", 5);
    ck_assert_int_eq(refuses(&a, 0), 1);
    /* Redis 7 accepts exactly 127.0.0.1 and ::1, not the rest of 127/8. */
    a = v4("127.0.0.2", 5);
    ck_assert_int_eq(refuses(&a, 0), 1);
}
END_TEST

START_TEST(test_loopback_and_unix_accepted)
{
    struct sockaddr_storage a = v4("127.0.0.1", 50000);
    ck_assert_int_eq(refuses(&a, 0), 0);
    a = v6("::1", 50000);
    ck_assert_int_eq(refuses(&a, 0), 0);
    struct sockaddr_storage u;
    memset(&u, 0, sizeof(u));
    u.ss_family = AF_UNIX;
    ck_assert_int_eq(refuses(&u, 1), 0);
    ck_assert_int_eq(net_protected_mode_refuses(NULL, 1, &server_cfg), 0);
}
END_TEST

START_TEST(test_password_or_mode_off_accepts_everyone)
{
    struct sockaddr_storage a = v4("10.1.2.3", 4000);
    set_pass("secret");
    ck_assert_int_eq(refuses(&a, 0), 0);
    set_pass("");
    ck_assert_int_eq(refuses(&a, 0), 1);
    server_cfg.protected_mode = 0;
    ck_assert_int_eq(refuses(&a, 0), 0);
    a = v6("2001:db8::7", 5);
    ck_assert_int_eq(refuses(&a, 0), 0);
}
END_TEST

START_TEST(test_denied_message)
{
    const char *m = net_protected_mode_msg;
    size_t n = strlen(m);
    ck_assert(strncmp(m, "-DENIED ", 8) == 0);
    ck_assert(n > 2 && m[n - 2] == '\r' && m[n - 1] == '\n');
    /* One RESP error line: no CR/LF before the end. */
    ck_assert_ptr_eq(strpbrk(m, "\r\n"), m + n - 2);
    ck_assert_ptr_nonnull(strstr(m, "running in protected mode because protected "
                                    "mode is enabled and no password is set for "
                                    "the default user."));
    ck_assert_ptr_nonnull(strstr(m, "'CONFIG SET protected-mode no'"));
    ck_assert_ptr_nonnull(strstr(m, "'--protected-mode no'"));
}
END_TEST

START_TEST(test_format_addr)
{
    char buf[NET_ADDR_STR_LEN];
    struct sockaddr_storage a = v4("10.0.0.1", 6379);
    net_format_addr((struct sockaddr *)&a, buf, sizeof(buf));
    ck_assert_str_eq(buf, "10.0.0.1:6379");
    a = v6("::1", 7);
    net_format_addr((struct sockaddr *)&a, buf, sizeof(buf));
    ck_assert_str_eq(buf, "[::1]:7");
}
END_TEST

/* A port on 127.0.0.1 that is free right now. */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_storage ss = v4("127.0.0.1", 0);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&ss, sizeof(struct sockaddr_in)), 0);
    socklen_t len = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &len);
    close(fd);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

START_TEST(test_listen_optional_bind)
{
    char err[256];
    struct net_listeners l;
    memset(&l, 0, sizeof(l));
    l.unix_fd = -1;
    server_cfg.port = free_port();
    /* 192.0.2.1 (TEST-NET-1) is not an address of this host. */
    for (int i = 0; i < server_cfg.bind_count; i++)
        zfree(server_cfg.bind_addrs[i]);
    server_cfg.bind_addrs[0] = zstrdup("127.0.0.1");
    server_cfg.bind_addrs[1] = zstrdup("-192.0.2.1");
    server_cfg.bind_count = 2;
    ck_assert_int_eq(net_listen_tcp(&server_cfg, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.tcp_count, 1);
    net_close_listeners(&l, NULL);

    zfree(server_cfg.bind_addrs[1]);
    server_cfg.bind_addrs[1] = zstrdup("192.0.2.1");   /* not optional: must fail */
    ck_assert_int_lt(net_listen_tcp(&server_cfg, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.tcp_count, 0);
    ck_assert_ptr_nonnull(strstr(err, "192.0.2.1"));

    server_cfg.port = 0;   /* no TCP at all */
    ck_assert_int_eq(net_listen_tcp(&server_cfg, &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.tcp_count, 0);
}
END_TEST

START_TEST(test_listen_unix_perm)
{
    char path[] = "/tmp/lsmdb-test-net-XXXXXX";
    char *dir = mkdtemp(path);
    ck_assert_ptr_nonnull(dir);
    char sock[128], err[256];
    snprintf(sock, sizeof(sock), "%s/s.sock", dir);
    int fd = net_listen_unix(sock, 0700, 16, err, sizeof(err));
    ck_assert_int_ge(fd, 0);
    struct stat st;
    ck_assert_int_eq(stat(sock, &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0700);
    struct net_listeners l = { .tcp_count = 0, .unix_fd = fd };
    net_close_listeners(&l, sock);
    ck_assert_int_ne(access(sock, F_OK), 0);
    rmdir(dir);
}
END_TEST

static Suite *net_suite(void)
{
    Suite *s = suite_create("net");
    TCase *tc = tcase_create("net");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_remote_refused_without_password);
    tcase_add_test(tc, test_loopback_and_unix_accepted);
    tcase_add_test(tc, test_password_or_mode_off_accepts_everyone);
    tcase_add_test(tc, test_denied_message);
    tcase_add_test(tc, test_format_addr);
    tcase_add_test(tc, test_listen_optional_bind);
    tcase_add_test(tc, test_listen_unix_perm);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(net_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
