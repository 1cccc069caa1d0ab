#!/bin/sh
# large-rmw.sh: commands that change part of a large string, lsmdb-server
# against redis-server 7, in the same run. For each of ROUNDS rounds and
# each server (lsmdb first) the script FLUSHALLs and runs, from one client
# with pipelines of PIPE commands (redis-py; the same seeded offsets for
# both servers):
#   setbit     N   SETBIT bm <random offset> <0|1>   on a 1 MiB string
#   getbit     4N  GETBIT bm <random offset>         on that string
#   setrange   N   SETRANGE sr <random offset> <8 bytes> on a 1 MiB string
#   append     N   APPEND log <4 KiB>                a string growing from
#                  0 to N x 4 KiB
# and prints commands per second per server and the ratio lsmdb/redis.
# lsmdb keeps such a string in chunks once a write like these leaves it
# at 2 x string-chunk-size or more, and rewrites only the chunks a write
# touches (docs/format-keyspace.md, "Strings in chunks"); Redis changes it
# in memory. This measures what that still costs.
#
# Usage: utils/bench/large-rmw.sh [N=2000] [PIPE=16] [ROUNDS=2]
#        [LSMDB_SERVER=path] [REDIS_SERVER=path]
#        [BENCH_DIR=dir (default $TMPDIR or /tmp)]
# Both servers are started here on free 127.0.0.1 ports and stopped by PID.
set -eu

N=2000
PIPE=16
ROUNDS=2
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
for arg in "$@"; do
    case "$arg" in
    N=* | PIPE=* | ROUNDS=* | LSMDB_SERVER=* | REDIS_SERVER=* | BENCH_DIR=*)
        eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "large-rmw.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
prog=large-rmw.sh
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"
find_lsmdb_server
need_tools
need_redis_server
# A python3 with redis-py (Debian's python3-redis, deps/install.sh).
PY=
for c in python3 /usr/bin/python3; do
    if "$c" -c 'import redis' 2>/dev/null; then PY=$c; break; fi
done
[ -n "$PY" ] || { echo "$prog: no python3 with redis-py (python3-redis)" >&2; exit 1; }

bench_tmp large-rmw

start_server lsmdb "$LSMDB_SERVER" --appendfsync everysec
lport=$port
start_server redis "$REDIS_SERVER" --save '' --appendonly no
rport=$port

# run port: the four figures of one round, space separated.
run() {
    "$PY" - "$1" "$N" "$PIPE" <<'EOF'
import random, sys, time
import redis
port, n, pipe = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
r = redis.Redis(host="127.0.0.1", port=port)
r.flushall()
bits = 8 << 20
r.setbit("bm", bits - 1, 1)
r.setrange("sr", (1 << 20) - 1, b"x")

def rate(count, make):
    rnd = random.Random(42)
    t = time.perf_counter()
    done = 0
    while done < count:
        p = r.pipeline(transaction=False)
        for _ in range(min(pipe, count - done)):
            make(p, rnd)
        p.execute()
        done += pipe
    return int(count / (time.perf_counter() - t))

out = [
    rate(n, lambda p, g: p.setbit("bm", g.randrange(bits), g.randrange(2))),
    rate(4 * n, lambda p, g: p.getbit("bm", g.randrange(bits))),
    rate(n, lambda p, g: p.setrange("sr", g.randrange((1 << 20) - 8), b"%08d" % g.randrange(10**8))),
    rate(n, lambda p, g: p.append("log", b"a" * 4096)),
]
assert r.strlen("log") == 4096 * n
print(" ".join(str(x) for x in out))
EOF
}

print_header
echo "# lsmdb: $LSMDB_SERVER; redis: $REDIS_SERVER; N=$N, pipelines of $PIPE, one client"
rounds_vs_redis "setbit getbit setrange append" "$lport" "$rport"
