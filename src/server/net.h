/* net: listening sockets, accepting, socket options, and the accept-time
 * decisions (protected mode).
 *
 * Owns: the TCP listeners (one per `bind` address on `port`; a '-' prefix
 * marks an optional address that is skipped when it is not available on this
 * host, like Redis 7; no `bind` = every IPv4 and IPv6 interface) and the unix
 * socket listener (`unixsocket`, `unixsocketperm`). Every socket is
 * non-blocking and close-on-exec. IPv6 listeners are IPV6_V6ONLY so an IPv4
 * and an IPv6 wildcard can share a port.
 * Errors: functions return 0 / an fd, or -errno; the ones taking (err, errlen)
 * also write a human-readable reason there.
 * Thread rules: loop thread only, except the pure functions at the end. */
#ifndef LSM_SERVER_NET_H
#define LSM_SERVER_NET_H

#include <stddef.h>
#include <sys/socket.h>

#include "server/config.h"

#define NET_MAX_LISTENERS (CONFIG_BIND_MAX + 2)
#define NET_ADDR_STR_LEN 128   /* room for "[ipv6]:port" and a unix path + ":0" */

struct net_listeners {
    int tcp_fds[NET_MAX_LISTENERS];
    int tcp_count;
    int unix_fd;                /* -1 when no unix socket */
};

/* Opens every TCP listener of cfg (bind addresses on cfg->port; nothing when
 * port is 0). On failure closes what it opened and returns -errno with
 * "Could not create server TCP listening socket addr:port: reason" in err. */
int net_listen_tcp(const struct server_config *cfg, struct net_listeners *out,
                   char *err, size_t errlen);
/* Opens the unix socket listener at path (unlinking a stale file first) and
 * chmods it to perm when perm != 0. Returns the fd or -errno with err. */
int net_listen_unix(const char *path, int perm, int backlog, char *err,
                    size_t errlen);
/* Closes every listener (and unlinks the unix socket file when unix_path is
 * not NULL and a unix listener was open). */
void net_close_listeners(struct net_listeners *l, const char *unix_path);

/* Accepts one connection from a listening socket; returns the new fd (non
 * blocking, close-on-exec), -EAGAIN when there is none, or -errno. The
 * peer address is stored in *peer (may be NULL). */
int net_accept(int lfd, struct sockaddr_storage *peer);

int net_set_nodelay(int fd);
/* TCP keepalive: probes after `interval` seconds of idleness (Linux: idle =
 * interval, intvl = interval/3, 3 probes, like Redis). Returns 0 or -errno. */
int net_set_keepalive(int fd, int interval);

/* Formats "ip:port" ("[ip]:port" for IPv6, "path:0" for unix) of the peer
 * (remote = 1) or of the local end of fd into buf. Returns 0 or -errno. */
int net_format_fd_addr(int fd, int remote, const char *unix_path, char *buf,
                       size_t len);
/* Formats a socket address like net_format_fd_addr. */
void net_format_addr(const struct sockaddr *sa, char *buf, size_t len);

/* The protected-mode refusal reply (a full RESP error line with CRLF). */
extern const char net_protected_mode_msg[];

/* Redis 7's accept decision: with protected-mode yes and no requirepass, a
 * TCP peer other than 127.0.0.1 or ::1 is refused (unix sockets never are).
 * Returns 1 when the connection must be refused with net_protected_mode_msg.
 * Pure function. */
int net_protected_mode_refuses(const struct sockaddr *peer, int is_unix,
                               const struct server_config *cfg);

#endif
