#!/bin/sh
# vs-redis.sh: PING throughput of lsmdb-server against redis-server 7, in the
# same run, on the same machine.
#
# Starts lsmdb-server and redis-server (--save '' --appendonly no) on free
# 127.0.0.1 ports with fresh temp dirs, runs
#   redis-benchmark -c 50 -n N -P 16 -t ping --csv
#   redis-benchmark -c 50 -n N -P 1  -t ping --csv
# against each (alternating servers, REPEAT times, best run kept), prints the
# requests per second of each server and the ratio lsmdb/redis for
# PING_INLINE and PING_MBULK at both pipeline depths, then stops both servers
# by PID. Loopback only.
# Then runs vs-redis-keys.sh (next to this script) with the same N, CLIENTS,
# REPEAT and binaries: SET/GET against redis, SET EX against redis (ttl, not
# in the default), the larger-than-cache GET run and the group-commit check
# (see its --help). PARTS selects what runs (default "ping setget large
# groupcommit").
#
# Usage: utils/bench/vs-redis.sh [N=1000000] [CLIENTS=50] [REPEAT=1]
#        [LSMDB_SERVER=path] [REDIS_SERVER=path] [PARTS=...]
#        [TTL_KEYS=100000] [LARGE_N=20000000] [LARGE_GETS=N] [GC_N=200000] [GC_PIPELINE="1 16"] [FSYNC_SECS=3]
# (also read from the environment). LSMDB_SERVER defaults to
# $LSMDB_BUILDDIR/src/lsmdb-server, else src/lsmdb-server under the current
# directory, else next to this script's source tree.
set -eu

for arg in "$@"; do
    case "$arg" in
    N=* | CLIENTS=* | REPEAT=* | LSMDB_SERVER=* | REDIS_SERVER=*) eval "${arg%%=*}=\${arg#*=}" ;;
    PARTS=* | TTL_KEYS=* | LARGE_N=* | LARGE_GETS=* | GC_N=* | GC_PIPELINE=* | FSYNC_SECS=* | BENCH_DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "vs-redis.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
N=${N:-1000000}
CLIENTS=${CLIENTS:-50}
REPEAT=${REPEAT:-1}
PARTS=${PARTS:-ping setget large groupcommit}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
here=$(cd "$(dirname "$0")" && pwd)
prog=vs-redis.sh
. "$here/common.sh"
find_lsmdb_server
need_tools
need_redis_server

run_keys() {
    keyparts=$(echo " $PARTS " | sed 's/ ping / /g')
    [ -n "$(echo "$keyparts" | tr -d ' ')" ] || return 0
    for v in TTL_KEYS LARGE_N LARGE_GETS GC_N GC_PIPELINE FSYNC_SECS BENCH_DIR; do
        eval "[ -n \"\${$v:-}\" ] && export $v" || true
    done
    "$here/vs-redis-keys.sh" N="$N" CLIENTS="$CLIENTS" REPEAT="$REPEAT" PARTS="$keyparts" \
        LSMDB_SERVER="$LSMDB_SERVER" REDIS_SERVER="$REDIS_SERVER"
}
case " $PARTS " in
*" ping "*) ;;
*) run_keys; exit $? ;;
esac

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lsmdb-bench-XXXXXX")
lsmdb_pid=
redis_pid=
cleanup() {
    stop_pids 100 $lsmdb_pid $redis_pid
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

lsmdb_port=$(free_port)
mkdir -p "$tmp/lsmdb-data" "$tmp/redis-data"
"$LSMDB_SERVER" --port "$lsmdb_port" --bind 127.0.0.1 --dir "$tmp/lsmdb-data" \
    --logfile "$tmp/lsmdb.log" --daemonize no >"$tmp/lsmdb.out" 2>&1 &
lsmdb_pid=$!
wait_ping "$lsmdb_port" "$lsmdb_pid" lsmdb 10

redis_port=$(free_port)
"$REDIS_SERVER" --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis-data" \
    --logfile "$tmp/redis.log" --daemonize no --save '' --appendonly no >"$tmp/redis.out" 2>&1 &
redis_pid=$!
wait_ping "$redis_port" "$redis_pid" redis 10

# bench port pipeline -> "inline_rps mbulk_rps"
bench() {
    redis-benchmark -h 127.0.0.1 -p "$1" -c "$CLIENTS" -n "$N" -P "$2" -t ping --csv 2>/dev/null |
        awk -F'","' '/PING_INLINE/ {i=$2} /PING_MBULK/ {m=$2} END {gsub(/"/,"",i); gsub(/"/,"",m); print i+0, m+0}'
}

print_header
echo "# lsmdb: $LSMDB_SERVER (pid $lsmdb_pid, port $lsmdb_port)"
echo "# redis: $REDIS_SERVER ($("$REDIS_SERVER" --version | sed 's/ sha=.*//'), pid $redis_pid, port $redis_port)"
echo "# redis-benchmark -c $CLIENTS -n $N -P {16,1} -t ping --csv, best of $REPEAT"
printf '%-4s %-12s %14s %14s %8s\n' P test lsmdb_rps redis_rps ratio
status=0
for P in 16 1; do
    li=0 lm=0 ri=0 rm=0
    r=0
    while [ $r -lt "$REPEAT" ]; do
        set -- $(bench "$lsmdb_port" "$P")
        li=$(max "$li" "$1"); lm=$(max "$lm" "$2")
        set -- $(bench "$redis_port" "$P")
        ri=$(max "$ri" "$1"); rm=$(max "$rm" "$2")
        r=$((r + 1))
    done
    for t in INLINE MBULK; do
        if [ $t = INLINE ]; then l=$li; x=$ri; else l=$lm; x=$rm; fi
        printf '%-4s %-12s %14.0f %14.0f %8s\n' "$P" "PING_$t" "$l" "$x" "$(ratio "$l" "$x")"
        [ "$l" = 0 ] && status=1
    done
done
kill -0 "$lsmdb_pid" 2>/dev/null || { echo "vs-redis.sh: lsmdb-server died during the run" >&2; status=1; }
cleanup
lsmdb_pid= redis_pid=
run_keys || status=1
exit $status
