/* crash_writer: the child of test_crash. Opens the database in DIR and
 * writes the workload of crash_common.h from operation FIRST on, in batches
 * of 1..8 operations, each with sync = 1, until it is killed. Before each
 * lsm_write it tells the parent the batch's operation numbers (ATTEMPT);
 * after the write returned 0 it reports them as acknowledged (ACK). A
 * failure is reported (ERROR) and ends the process with status 2.
 *
 * Usage: crash_writer DIR FIRST SEED FD [LOG]   (FD: the pipe's write end;
 * LOG: the engine's log file, default stdout). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/lsm.h"
#include "util/log.h"
#include "crash_common.h"

static int out_fd;

static void send_msg(uint32_t type, int rc, uint64_t first, uint64_t last)
{
    struct crash_msg m;
    ssize_t n;
    memset(&m, 0, sizeof m);
    m.type = type;
    m.rc = rc;
    m.first = first;
    m.last = last;
    do
        n = write(out_fd, &m, sizeof m);
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof m)
        _exit(3);
}

/* Options shared with the checker (test_crash.c opens with the same). */
static void crash_options(struct lsm_options *o)
{
    lsm_options_init(o);
    o->write_buffer_size = 64 << 10;
    o->target_file_size = 64 << 10;
    o->block_size = 1024;
    o->max_bytes_for_level_base = 256 << 10;
    o->l0_compaction_trigger = 2;
    o->block_cache_size = 1 << 20;
    o->bg_threads = 2;
}

int main(int argc, char **argv)
{
    struct lsm_options o;
    struct lsm_db *db;
    struct lsm_batch *b;
    struct lsm_write_options wo = { .sync = 1 };
    uint64_t c, seed, rs;
    char key[CRASH_KEY_LEN], val[CRASH_MAX_VALUE];
    int rc;

    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: crash_writer DIR FIRST SEED FD [LOG]\n");
        return 1;
    }
    c = strtoull(argv[2], NULL, 10);
    seed = strtoull(argv[3], NULL, 10);
    out_fd = atoi(argv[4]);
    rs = seed;
    if (argc == 6 && log_open_file(argv[5]) != 0)
        fprintf(stderr, "crash_writer: cannot open %s\n", argv[5]);

    crash_options(&o);
    rc = lsm_open(argv[1], &o, &db);
    if (rc != 0) {
        fprintf(stderr, "crash_writer: lsm_open: %s\n", lsm_last_error());
        send_msg(CRASH_MSG_ERROR, rc, 0, 0);
        return 2;
    }
    send_msg(CRASH_MSG_OPENED, 0, c, c);
    b = lsm_batch_create();
    for (;;) {
        uint64_t n, first = c, i;
        rs = hash_mix64(rs);
        n = 1 + rs % 8;
        lsm_batch_clear(b);
        for (i = 0; i < n; i++, c++) {
            struct crash_op op = crash_op(c);
            crash_key(op.idx, key);
            if (op.is_delete)
                lsm_batch_delete(b, key, CRASH_KEY_LEN);
            else
                lsm_batch_put(b, key, CRASH_KEY_LEN, val, crash_value(op.idx, c, val));
        }
        send_msg(CRASH_MSG_ATTEMPT, 0, first, c - 1);
        rc = lsm_write(db, &wo, b);
        if (rc != 0) {
            fprintf(stderr, "crash_writer: lsm_write: %s\n", lsm_last_error());
            send_msg(CRASH_MSG_ERROR, rc, first, c - 1);
            return 2;
        }
        send_msg(CRASH_MSG_ACK, 0, first, c - 1);
        /* Now and then ask for a flush or a manual compaction of a random
         * range, so kills land in those too. */
        if ((rs >> 32) % 64 == 0)
            lsm_flush(db, 0);
        if ((rs >> 40) % 256 == 0) {
            char lo[CRASH_KEY_LEN], hi[CRASH_KEY_LEN];
            uint64_t a = 1 + (rs >> 8) % c;
            crash_key(a, lo);
            crash_key(a + 2000, hi);
            lsm_compact_range(db, lo, CRASH_KEY_LEN, hi, CRASH_KEY_LEN);
        }
    }
}
