/* lsmdb-server: process start-up and exit — command line and configuration,
 * logging, daemonizing, the data directory and its LOCK, signals, the
 * pidfile; then the server loop (server.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "server/config.h"
#include "server/server.h"
#include "util/io.h"
#include "util/log.h"
#include "util/zmalloc.h"

static void usage(void)
{
    fprintf(stderr,
            "Usage: ./lsmdb-server [/path/to/lsmdb.conf] [options] [-]\n"
            "       ./lsmdb-server - (read config from stdin)\n"
            "       ./lsmdb-server -v or --version\n"
            "       ./lsmdb-server -h or --help\n\n"
            "Examples:\n"
            "       ./lsmdb-server (run the server with default conf)\n"
            "       ./lsmdb-server /etc/lsmdb/lsmdb.conf\n"
            "       ./lsmdb-server --port 7777\n"
            "       ./lsmdb-server /etc/mylsmdb.conf --loglevel verbose\n");
    exit(1);
}

static void version(void)
{
    printf("lsmdb server v=%s redis-compat=%s malloc=%s bits=%d\n", PACKAGE_VERSION,
           SERVER_REDIS_COMPAT_VERSION, zmalloc_lib(), (int)sizeof(long) * 8);
    exit(0);
}

static void on_shutdown_signal(int sig)
{
    server.shutdown_signal = sig;
}

static void setup_signals(void)
{
    struct sigaction act;
    memset(&act, 0, sizeof(act));
    sigemptyset(&act.sa_mask);
    act.sa_handler = on_shutdown_signal;   /* no SA_RESTART: epoll_wait wakes */
    sigaction(SIGTERM, &act, NULL);
    sigaction(SIGINT, &act, NULL);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

/* Double fork + setsid. Returns in the daemon with the write end of a pipe
 * on which it reports readiness; the original process exits with 0 once the
 * daemon says it is serving, 1 if it failed first. */
static int daemonize_start(void)
{
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        fprintf(stderr, "daemonize: pipe: %s\n", strerror(errno));
        exit(1);
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "daemonize: fork: %s\n", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        close(pfd[1]);
        char status = '1';
        ssize_t n;
        do {
            n = read(pfd[0], &status, 1);
        } while (n < 0 && errno == EINTR);
        _exit(n == 1 && status == '0' ? 0 : 1);
    }
    close(pfd[0]);
    setsid();
    pid = fork();
    if (pid < 0)
        _exit(1);
    if (pid > 0)
        _exit(0);   /* the daemon can never reacquire a terminal */
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO)
            close(fd);
    }
    return pfd[1];
}

static void daemonize_ready(int fd, int ok)
{
    if (fd < 0)
        return;
    char status = ok ? '0' : '1';
    ssize_t w = write(fd, &status, 1);
    (void)w;
    close(fd);
}

static void find_executable(void)
{
    ssize_t n = readlink("/proc/self/exe", server.executable,
                         sizeof(server.executable) - 1);
    server.executable[n > 0 ? n : 0] = '\0';
}

/* Creates `dir` if missing and takes its server.lock. Returns 0 or -1 (logged). */
static int lock_data_dir(struct io_lock **out)
{
    struct io_env *env = io_env_posix();
    const char *dir = server_cfg.dir;
    int rc = io_mkdir(env, dir);
    if (rc < 0) {
        log_warning("Can't create the data directory '%s': %s", dir, strerror(-rc));
        return -1;
    }
    /* keyspace: dir/LOCK is the engine's own lock (lsm_open takes it), so
     * the server's lock is a file of its own. */
    size_t len = strlen(dir) + sizeof("/server.lock");
    char *path = zmalloc(len);
    snprintf(path, len, "%s/server.lock", dir);
    rc = io_lock(env, path, out);
    if (rc == -EWOULDBLOCK || rc == -EAGAIN) {
        log_warning("The data directory '%s' is in use by another lsmdb-server "
                    "(%s is locked). Exiting.", dir, path);
    } else if (rc < 0) {
        log_warning("Can't lock '%s': %s", path, strerror(-rc));
    }
    zfree(path);
    return rc < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")))
        version();
    if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
        usage();

    char err[CONFIG_ERR_LEN];
    config_init_defaults();
    if (config_load_args(argc, argv, err, sizeof(err)) < 0) {
        fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (lsmdb %s) ***\n%s\n",
                PACKAGE_VERSION, err);
        return 1;
    }
    log_set_level((enum log_level)server_cfg.loglevel);
    int rc = log_open_file(server_cfg.logfile);
    if (rc < 0) {
        fprintf(stderr, "Can't open the log file: %s\n", strerror(-rc));
        return 1;
    }

    int ready_fd = server_cfg.daemonize ? daemonize_start() : -1;
    find_executable();
    log_set_role('C');
    log_warning("oO0OoO0OoO0Oo lsmdb is starting oO0OoO0OoO0Oo");
    log_warning("lsmdb version=%s, redis-compat=%s, bits=%d, pid=%d, just started",
                PACKAGE_VERSION, SERVER_REDIS_COMPAT_VERSION, (int)sizeof(long) * 8,
                (int)getpid());
    if (server_cfg.configfile)
        log_warning("Configuration loaded");
    else
        log_warning("Warning: no config file specified, using the default config. "
                    "In order to specify a config file use %s /path/to/lsmdb.conf",
                    argv[0]);
    log_set_role('M');

    setup_signals();
    if (lock_data_dir(&server.dir_lock) < 0 || server_init() < 0) {
        daemonize_ready(ready_fd, 0);
        return 1;
    }
    log_notice("monotonic clock: POSIX clock_gettime");
    log_notice("Running mode=standalone, port=%d.", server_cfg.port);
    rc = server_write_pidfile();
    if (rc < 0)
        log_warning("Failed to write PID file: %s", strerror(-rc));
    log_warning("Server initialized");
    if (server.listeners.tcp_count > 0)
        log_notice("Ready to accept connections tcp");
    if (server.listeners.unix_fd >= 0)
        log_notice("The server is now ready to accept connections at %s",
                   server_cfg.unixsocket);
    daemonize_ready(ready_fd, 1);

    int status = server_run();
    server_destroy();
    io_unlock(server.dir_lock);
    log_warning("lsmdb is now ready to exit, bye bye...");
    config_free();
    return status;
}
