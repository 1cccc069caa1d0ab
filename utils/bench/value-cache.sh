#!/bin/sh
# value-cache.sh: what the engine's value cache (value-cache-size) does for
# reads of large values: lsmdb-server with the default cache (64mb), with
# --value-cache-size 0, and redis-server 7, in the same run. For each of
# the three (50 clients unless noted):
#   get4k-R   redis-benchmark -n 200000 -r R -P 16 -d 4096 -t set, then
#             -n N -r R -P 16 -d 4096 -t get   (R in RANGES: keys read)
#   getbit    10 clients, -n N/50 GETBIT bm 4000000 on a 1 MiB string
#   setbit    10 clients, -n N/100 SETBIT bm 4000000 1 (a bit already set:
#             no write, a read of the whole string)
# and prints requests per second and the ratios to redis.
#
# Usage: utils/bench/value-cache.sh [N=1000000] [RANGES="10000 100000"]
#        [LSMDB_SERVER=path] [REDIS_SERVER=path] [BENCH_DIR=dir]
# The servers are started here on free 127.0.0.1 ports and stopped by PID.
set -eu

N=1000000
RANGES="10000 100000"
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
for arg in "$@"; do
    case "$arg" in
    N=* | RANGES=* | LSMDB_SERVER=* | REDIS_SERVER=* | BENCH_DIR=*)
        eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "value-cache.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
prog=value-cache.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_lsmdb_server
need_tools
need_redis_server

bench_tmp vcache


# run port: the figures of one server, one per line as "test rps".
run() {
    for r in $RANGES; do
        redis-cli -p "$1" FLUSHALL >/dev/null
        rps "$1" -c 50 -n 200000 -r "$r" -P 16 -d 4096 -t set >/dev/null
        echo "get4k-$r $(rps "$1" -c 50 -n "$N" -r "$r" -P 16 -d 4096 -t get)"
    done
    redis-cli -p "$1" SETBIT bm 8388607 1 >/dev/null
    redis-cli -p "$1" SETBIT bm 4000000 1 >/dev/null
    echo "getbit $(rps "$1" -c 10 -n $((N / 50)) GETBIT bm 4000000)"
    echo "setbit $(rps "$1" -c 10 -n $((N / 100)) SETBIT bm 4000000 1)"
}

start_server cached "$LSMDB_SERVER" --appendfsync everysec
cached=$port
start_server nocache "$LSMDB_SERVER" --appendfsync everysec --value-cache-size 0
nocache=$port
start_server redis "$REDIS_SERVER" --save '' --appendonly no
redis=$port

print_header
echo "# lsmdb: $LSMDB_SERVER; redis: $REDIS_SERVER; N=$N"
run "$cached" >"$tmp/a"
run "$nocache" >"$tmp/b"
run "$redis" >"$tmp/c"
printf '%-14s %12s %12s %12s %10s %10s\n' test cached no_cache redis cached/r nocache/r
while read -r t a; do
    b=$(sed -n "s/^$t //p" "$tmp/b")
    c=$(sed -n "s/^$t //p" "$tmp/c")
    printf '%-14s %12s %12s %12s %10s %10s\n' "$t" "$a" "$b" "$c" "$(ratio "$a" "$c")" "$(ratio "$b" "$c")"
done <"$tmp/a"
echo "# cached server: $(redis-cli -p "$cached" INFO lsm | tr -d '\r' | grep '^value_cache_hit_rate')"
