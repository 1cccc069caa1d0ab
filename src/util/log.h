/* log: the process log, in Redis' line format.
 *
 * A line is "pid:role dd Mon yyyy hh:mm:ss.mmm <c> message\n" where <c> is
 * '.' debug, '-' verbose, '*' notice, '#' warning, and role is 'M' (main) or
 * 'B' (a background thread). Lines below the configured level are dropped.
 * Each line is written with one write(2) so lines from different threads never
 * interleave. Default sink: stdout. log_open_file("") means stdout.
 * Thread rules: log_write() is safe from any thread; configuration calls are
 * made by the loop thread. */
#ifndef LSM_UTIL_LOG_H
#define LSM_UTIL_LOG_H

enum log_level { LOG_DEBUG = 0, LOG_VERBOSE, LOG_NOTICE, LOG_WARNING };

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Open (append, create 0644) the log file; "" or NULL = stdout. Returns 0 or
 * -errno; on failure the previous sink stays. */
int log_open_file(const char *path);
void log_set_role(char role);                   /* per thread: 'M', 'B', ... */
void log_write(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The message is written even when syslog-style level filtering would drop it
 * (same line prefix; msg is not a format). log_write/log_raw keep errno. */
void log_raw(enum log_level level, const char *msg);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_verbose(...) log_write(LOG_VERBOSE, __VA_ARGS__)
#define log_notice(...) log_write(LOG_NOTICE, __VA_ARGS__)
#define log_warning(...) log_write(LOG_WARNING, __VA_ARGS__)

#endif
