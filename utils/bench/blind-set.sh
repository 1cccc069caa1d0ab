#!/bin/sh
# blind-set.sh: what deferred counting (blind SETs, src/server/ks_defer.h)
# gains and what it costs. For each of ROUNDS rounds, starts lsmdb-server
# twice on a free 127.0.0.1 port with a fresh data directory: once as is,
# once with --deferred-key-counting no (every SET reads its key first). Each time
# it runs redis-benchmark SETs (-c 50 -P 16, random keys in 1M) and a
# DBSIZE every 50 ms meanwhile. It prints, per run: SET/s, the benchmark's
# max latency, and from INFO persistence the number of blind SETs and the
# longest time a DBSIZE waited for outstanding counts. At the end it checks
# that DBSIZE equals the number of keys KEYS * returns.
#
# Usage: utils/bench/blind-set.sh [LSMDB_SERVER=path] [N=2000000] [SIZE=100]
#        [ROUNDS=2] [BENCH_DIR=dir]
set -eu
N=2000000 SIZE=100 ROUNDS=2
for arg in "$@"; do
    case "$arg" in
    LSMDB_SERVER=* | N=* | SIZE=* | ROUNDS=* | BENCH_DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "blind-set.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
prog=blind-set.sh
. "$here/common.sh"
find_lsmdb_server
need_tools
tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lsmdb-blindset-XXXXXX")
pid= poller=
cleanup() {
    [ -n "$poller" ] && kill "$poller" 2>/dev/null || true
    [ -n "$pid" ] && stop_pids 300 $pid
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

info_field() { redis-cli -h 127.0.0.1 -p "$1" INFO persistence | tr -d '\r' | sed -n "s/^$2://p"; }

# run label [server args...]: one server, one benchmark, one line of figures.
run() {
    port=$(free_port)
    rm -rf "$tmp/data"
    mkdir "$tmp/data"
    label=$1
    shift
    "$LSMDB_SERVER" --port "$port" --bind 127.0.0.1 --dir "$tmp/data" \
        --appendfsync everysec --daemonize no "$@" >"$tmp/lsmdb.out" 2>&1 &
    pid=$!
    wait_ping "$port" "$pid" lsmdb 10
    (while :; do redis-cli -h 127.0.0.1 -p "$port" DBSIZE >/dev/null 2>&1; sleep 0.05; done) &
    poller=$!
    line=$(redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$N" -r 1000000 -P 16 -d "$SIZE" \
        -t set --csv 2>/dev/null | tail -1)
    kill "$poller" 2>/dev/null || true
    wait "$poller" 2>/dev/null || true
    poller=
    rps=$(echo "$line" | cut -d, -f2 | tr -d '"')
    maxms=$(echo "$line" | cut -d, -f8 | tr -d '"')
    blind=$(info_field "$port" keyspace_deferred_writes)
    waitmax=$(info_field "$port" keyspace_deferred_wait_max_us)
    dbsize=$(redis-cli -h 127.0.0.1 -p "$port" DBSIZE)
    scanned=$(redis-cli -h 127.0.0.1 -p "$port" --raw KEYS "*" | wc -l)
    printf '%-9s %10s SET/s  max %7s ms  blind %8s  DBSIZE wait max %6s us  DBSIZE %s KEYS %s %s\n' \
        "$label" "$rps" "$maxms" "$blind" "$waitmax" "$dbsize" "$scanned" \
        "$([ "$dbsize" = "$scanned" ] && echo ok || echo MISMATCH)"
    redis-cli -h 127.0.0.1 -p "$port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
    stop_pids 300 $pid
    pid=
}

print_header
echo "# redis-benchmark -c 50 -n $N -r 1000000 -P 16 -d $SIZE -t set, DBSIZE every 50 ms"
round=0                         # not i: stop_pids uses that one
while [ $round -lt "$ROUNDS" ]; do
    run blind
    run read --deferred-key-counting no
    round=$((round + 1))
done
