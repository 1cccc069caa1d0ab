#!/bin/sh
# expire-large.sh: what a new expire costs on a large string, lsmdb-server
# against redis-server 7. For each size in SIZES, both servers get
#   SET big:SIZE <SIZE random bytes>            (redis-cli -x)
#   redis-benchmark -c 1 -n ROUNDS PEXPIREAT big:SIZE 9__rand_int__
# (each call a new absolute expire, about the year 2255) and the script
# prints both servers' calls per second, the mean latency (1 client: 1/rps)
# and, for lsmdb, how much the value log grew over the ROUNDS calls (a new
# expire that rewrote the value would add ROUNDS x SIZE).
#
# Usage: utils/bench/expire-large.sh [SIZES="4096 1048576 104857600"]
#        [ROUNDS=200] [LSMDB_SERVER=path] [REDIS_SERVER=path]
#        [BENCH_DIR=dir (default $TMPDIR or /tmp)]
# Both servers are started here on free 127.0.0.1 ports and stopped by PID.
set -eu

SIZES="4096 1048576 104857600"
ROUNDS=200
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
for arg in "$@"; do
    case "$arg" in
    SIZES=* | ROUNDS=* | LSMDB_SERVER=* | REDIS_SERVER=* | BENCH_DIR=*)
        eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "expire-large.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
prog=expire-large.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_lsmdb_server
need_tools
need_redis_server

bench_tmp expire

start_server lsmdb "$LSMDB_SERVER" --appendfsync everysec
lport=$port
start_server redis "$REDIS_SERVER" --save '' --appendonly no
rport=$port

vlog_bytes() {
    redis-cli -p "$lport" INFO lsm | tr -d '\r' | sed -n 's/^vlog_bytes://p'
}

# pexpire_rps port key: calls per second of ROUNDS PEXPIREATs of key, one
# client.
pexpire_rps() {
    rps "$1" -c 1 -n "$ROUNDS" -r 1000000000 PEXPIREAT "$2" 9__rand_int__
}

print_header
echo "# lsmdb: $LSMDB_SERVER; redis: $REDIS_SERVER; $ROUNDS PEXPIREATs per size, 1 client"
printf '%-10s %12s %12s %12s %12s %16s\n' size lsmdb_rps lsmdb_ms redis_rps redis_ms lsmdb_vlog_grew
for size in $SIZES; do
    head -c "$size" /dev/urandom >"$tmp/value"
    for port in "$lport" "$rport"; do
        redis-cli -p "$port" -x SET "big:$size" <"$tmp/value" >/dev/null
    done
    before=$(vlog_bytes)
    l=$(pexpire_rps "$lport" "big:$size")
    after=$(vlog_bytes)
    r=$(pexpire_rps "$rport" "big:$size")
    printf '%-10s %12s %12s %12s %12s %16s\n' "$size" "$l" \
        "$(awk -v x="$l" 'BEGIN {if (x > 0) printf "%.3f", 1000 / x; else print "n/a"}')" "$r" \
        "$(awk -v x="$r" 'BEGIN {if (x > 0) printf "%.3f", 1000 / x; else print "n/a"}')" \
        $((after - before))
    for port in "$lport" "$rport"; do
        redis-cli -p "$port" DEL "big:$size" >/dev/null
    done
done
