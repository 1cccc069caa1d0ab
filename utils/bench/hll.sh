#!/bin/sh
# hll.sh: the HyperLogLog commands, lsmdb-server against redis-server 7, in
# the same run. Both servers start empty; for each of ROUNDS rounds and each
# server (lsmdb first) the script FLUSHALLs and runs, with 50 clients:
#   pfadd-hot      -n N   -r 100000000 PFADD hll __rand_int__
#                  (one key: sparse, then dense from a few thousand elements)
#   pfadd-many     -n N   -r 100000    PFADD hll:__rand_int__ a b c
#                  (100,000 small sparse keys)
#   pfcount        -n N                PFCOUNT hll   (the cached estimate)
#   pfcount-union  -n N/3 -r 100000    PFCOUNT hll hll:__rand_int__
#   pfadd-hot-p16  -n 3N  -P 16 -r 100000000 PFADD hll2 __rand_int__
# and prints requests per second per server and the ratio lsmdb/redis.
#
# Usage: utils/bench/hll.sh [N=300000] [ROUNDS=2] [LSMDB_SERVER=path]
#        [REDIS_SERVER=path] [BENCH_DIR=dir (default $TMPDIR or /tmp)]
# Both servers are started here on free 127.0.0.1 ports and stopped by PID.
set -eu

N=300000
ROUNDS=2
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
for arg in "$@"; do
    case "$arg" in
    N=* | ROUNDS=* | LSMDB_SERVER=* | REDIS_SERVER=* | BENCH_DIR=*)
        eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "hll.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
prog=hll.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_lsmdb_server
need_tools
need_redis_server

bench_tmp hll

start_server lsmdb "$LSMDB_SERVER" --appendfsync everysec
lport=$port
start_server redis "$REDIS_SERVER" --save '' --appendonly no
rport=$port

# run port: the five figures of one round, space separated.
run() {
    redis-cli -p "$1" FLUSHALL >/dev/null
    printf '%s %s %s %s %s\n' \
        "$(rps "$1" -c 50 -n "$N" -r 100000000 PFADD hll __rand_int__)" \
        "$(rps "$1" -c 50 -n "$N" -r 100000 PFADD hll:__rand_int__ a b c)" \
        "$(rps "$1" -c 50 -n "$N" PFCOUNT hll)" \
        "$(rps "$1" -c 50 -n $((N / 3)) -r 100000 PFCOUNT hll hll:__rand_int__)" \
        "$(rps "$1" -c 50 -n $((N * 3)) -P 16 -r 100000000 PFADD hll2 __rand_int__)"
}

print_header
echo "# lsmdb: $LSMDB_SERVER; redis: $REDIS_SERVER; N=$N, 50 clients"
rounds_vs_redis "pfadd-hot pfadd-many pfcount pfcount-union pfadd-hot-p16" "$lport" "$rport"
