/* net: listeners, accept, socket options, protected mode (see net.h). */
#include "server/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Redis 7's text, naming this product instead of Redis. */
const char net_protected_mode_msg[] =
    "-DENIED lsmdb is running in protected mode because protected "
    "mode is enabled and no password is set for the default user. "
    "In this mode connections are only accepted from the loopback interface. "
    "If you want to connect from external computers to lsmdb you "
    "may adopt one of the following solutions: "
    "1) Just disable protected mode sending the command "
    "'CONFIG SET protected-mode no' from the loopback interface "
    "by connecting to lsmdb from the same host the server is "
    "running, however MAKE SURE lsmdb is not publicly accessible "
    "from internet if you do so. Use CONFIG REWRITE to make this "
    "change permanent. "
    "2) Alternatively you can just disable the protected mode by "
    "editing the lsmdb configuration file, and setting the protected "
    "mode option to 'no', and then restarting the server. "
    "3) If you started the server manually just for testing, restart "
    "it with the '--protected-mode no' option. "
    "4) Setup a an authentication password for the default user. "
    "NOTE: You only need to do one of the above things in order for "
    "the server to start accepting connections from the outside.\r\n";

int net_protected_mode_refuses(const struct sockaddr *peer, int is_unix,
                               const struct server_config *cfg)
{
    if (!cfg->protected_mode || (cfg->requirepass && cfg->requirepass[0]))
        return 0;
    if (is_unix || peer == NULL || peer->sa_family == AF_UNIX)
        return 0;
    if (peer->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)peer;
        return ntohl(s->sin_addr.s_addr) != INADDR_LOOPBACK;
    }
    if (peer->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)peer;
        return !IN6_IS_ADDR_LOOPBACK(&s->sin6_addr);
    }
    return 1;
}

static void set_err(char *err, size_t errlen, const char *fmt, const char *addr,
                    int port, int e)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, addr, port, strerror(e));
}

/* Binds and listens on one address ("*" / "::*" = wildcard); returns the fd
 * or -errno. */
static int listen_one(const char *addr, int port, int backlog)
{
    int v6 = strchr(addr, ':') != NULL;
    const char *host = addr;
    if (!strcmp(addr, "*") || !strcmp(addr, "::*"))
        host = NULL;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = v6 ? AF_INET6 : AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    int rv = getaddrinfo(host, portstr, &hints, &res);
    if (rv != 0)
        return rv == EAI_SYSTEM ? -errno : -EADDRNOTAVAIL;
    int fd = -1, e = EADDRNOTAVAIL;
    for (struct addrinfo *p = res; p; p = p->ai_next) {
        fd = socket(p->ai_family, p->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    p->ai_protocol);
        if (fd < 0) {
            e = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (p->ai_family == AF_INET6)
            setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, p->ai_addr, p->ai_addrlen) == 0 && listen(fd, backlog) == 0)
            break;
        e = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    return fd >= 0 ? fd : -e;
}

static int unsupported_family(int e)
{
    return e == ENOPROTOOPT || e == EPROTONOSUPPORT || e == ESOCKTNOSUPPORT ||
           e == EPFNOSUPPORT || e == EAFNOSUPPORT;
}

int net_listen_tcp(const struct server_config *cfg, struct net_listeners *out,
                   char *err, size_t errlen)
{
    static const char *const wildcard[] = { "*", "-::*" };
    const char *const *addrs = (const char *const *)cfg->bind_addrs;
    int count = cfg->bind_count;
    out->tcp_count = 0;
    if (cfg->port == 0)
        return 0;
    if (count == 0) {
        addrs = wildcard;
        count = 2;
    }
    for (int i = 0; i < count && out->tcp_count < NET_MAX_LISTENERS; i++) {
        const char *addr = addrs[i];
        int optional = addr[0] == '-';
        if (optional)
            addr++;
        int fd = listen_one(addr, cfg->port, cfg->tcp_backlog);
        if (fd >= 0) {
            out->tcp_fds[out->tcp_count++] = fd;
            continue;
        }
        /* An optional address missing on this host, or a family (IPv6) the
         * kernel lacks, is skipped, like Redis. */
        if ((optional && -fd == EADDRNOTAVAIL) || unsupported_family(-fd))
            continue;
        set_err(err, errlen, "Could not create server TCP listening socket %s:%d: %s",
                addr, cfg->port, -fd);
        for (int j = 0; j < out->tcp_count; j++)
            close(out->tcp_fds[j]);
        out->tcp_count = 0;
        return fd;
    }
    return 0;
}

static void unix_err(char *err, size_t errlen, const char *path, int e)
{
    if (err && errlen)
        snprintf(err, errlen, "Failed opening Unix socket %s: %s", path, strerror(e));
}

int net_listen_unix(const char *path, int perm, int backlog, char *err,
                    size_t errlen)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    if (strlen(path) >= sizeof(sa.sun_path)) {
        unix_err(err, errlen, path, ENAMETOOLONG);
        return -ENAMETOOLONG;
    }
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        int e = errno;
        unix_err(err, errlen, path, e);
        return -e;
    }
    unlink(path);   /* a stale socket file from a previous run */
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0 ||
        (perm && chmod(path, (mode_t)perm) < 0)) {
        int e = errno;
        close(fd);
        unix_err(err, errlen, path, e);
        return -e;
    }
    return fd;
}

void net_close_listeners(struct net_listeners *l, const char *unix_path)
{
    for (int i = 0; i < l->tcp_count; i++)
        close(l->tcp_fds[i]);
    l->tcp_count = 0;
    if (l->unix_fd >= 0) {
        close(l->unix_fd);
        l->unix_fd = -1;
        if (unix_path && unix_path[0])
            unlink(unix_path);
    }
}

int net_accept(int lfd, struct sockaddr_storage *peer)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    for (;;) {
        int fd = accept4(lfd, (struct sockaddr *)&ss, &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            if (peer)
                *peer = ss;
            return fd;
        }
        if (errno == EINTR)
            continue;
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    }
}

int net_set_nodelay(int fd)
{
    int one = 1;
    return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0 ? -errno : 0;
}

int net_set_keepalive(int fd, int interval)
{
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one)) < 0)
        return -errno;
    int idle = interval, intvl = interval / 3, cnt = 3;
    if (intvl == 0)
        intvl = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)) < 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)) < 0)
        return -errno;
    return 0;
}

void net_format_addr(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        snprintf(buf, len, "%s:%d", ip, ntohs(s->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        snprintf(buf, len, "[%s]:%d", ip, ntohs(s->sin6_port));
    } else {
        snprintf(buf, len, "?:0");
    }
}

int net_format_fd_addr(int fd, int remote, const char *unix_path, char *buf,
                       size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int rc = remote ? getpeername(fd, (struct sockaddr *)&ss, &sl)
                    : getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (rc < 0) {
        snprintf(buf, len, "?:0");
        return -errno;
    }
    if (ss.ss_family == AF_UNIX)
        snprintf(buf, len, "%s:0", unix_path ? unix_path : "");
    else
        net_format_addr((struct sockaddr *)&ss, buf, len);
    return 0;
}
