#!/bin/sh
# vs-redis-keys.sh: SET/GET throughput of lsmdb-server against redis-server 7,
# a larger-than-cache read run, and the group-commit check. Called by
# vs-redis.sh after its PING part (or run alone).
#
# Parts (PARTS="setget ttl large groupcommit", default all but ttl):
#  setget      lsmdb-server (appendfsync everysec) and redis-server
#              (--save '' --appendonly no) on free 127.0.0.1 ports, each
#              given, in turn (REPEAT times, best kept):
#                redis-benchmark -c 50 -n N -r 1000000 -P 16 -d 100 -t set,get
#                redis-benchmark -c 50 -n N -r 1000000 -P 1  -d 100 -t set,get
#                redis-benchmark -c 50 -n N -r 1000000 -P 16 -d 4096 -t set
#              prints rps of both and the ratio lsmdb/redis with the issue's
#              goals (P16 GET >= 0.8, SET >= 0.6; P1 >= 0.9; 4 KB SET >= 0.8).
#  ttl         the setget servers' setup, each given (REPEAT times, best kept)
#                redis-benchmark -c 50 -n N -r TTL_KEYS -P 16
#                  SET key:__rand_int__ <100 B> EX 3600
#              (TTL_KEYS default 100000: every key set again ~N/TTL_KEYS
#              times, each time with a new expire); prints rps of both and
#              the ratio (no goal), both servers' INFO keyspace, and
#              lsmdb's stale TTL entries deleted and write-table hits.
#  large       lsmdb-server with block-cache-size 64mb: loads LARGE_N keys
#              key:%012d (redis-benchmark's key format) x 100 B random,
#              incompressible values through redis-cli --pipe, waits for
#              compactions to settle (at most SETTLE_SECS, default 180), then
#                redis-benchmark -c 50 -n LARGE_GETS -r LARGE_N -P 1 -t get
#              and reports rps, p50 and p99 latency, block-cache hit rate.
#  groupcommit measures this disk's fsync rate (write 128 B + fdatasync on an
#              appended file in the data dir for FSYNC_SECS s), then, for
#              each P in GC_PIPELINE (default "1 16"), runs
#                redis-benchmark -c 50 -n GC_N -r 1000000 -P P -d 100 -t set
#              against lsmdb-server with appendfsync always and prints
#              SET rps / fsync rate (goal >= 20). With -P 1, 50 clients
#              put at most 50 writes behind one fsync; -P 16 shows what the
#              group commit does with more writes in flight.
#
# Usage: utils/bench/vs-redis-keys.sh [N=1000000] [CLIENTS=50] [REPEAT=1]
#        [PARTS=...] [TTL_KEYS=100000] [LARGE_N=20000000] [LARGE_GETS=N] [GC_N=200000] [GC_PIPELINE="1 16"]
#        [FSYNC_SECS=3] [SETTLE_SECS=180] [LSMDB_SERVER=path] [REDIS_SERVER=path]
#        [BENCH_DIR=dir (default $TMPDIR or /tmp; the data dirs go there)]
# Every server is started here and stopped by PID on exit. Loopback only.
set -eu

for arg in "$@"; do
    case "$arg" in
    N=* | CLIENTS=* | REPEAT=* | PARTS=* | TTL_KEYS=* | LARGE_N=* | LARGE_GETS=* | GC_N=* | GC_PIPELINE=* | FSYNC_SECS=* | SETTLE_SECS=* | \
        LSMDB_SERVER=* | REDIS_SERVER=* | BENCH_DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "vs-redis-keys.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
N=${N:-1000000}
CLIENTS=${CLIENTS:-50}
REPEAT=${REPEAT:-1}
PARTS=${PARTS:-setget large groupcommit}
TTL_KEYS=${TTL_KEYS:-100000}
LARGE_N=${LARGE_N:-20000000}
LARGE_GETS=${LARGE_GETS:-$N}
GC_N=${GC_N:-200000}
GC_PIPELINE=${GC_PIPELINE:-1 16}
FSYNC_SECS=${FSYNC_SECS:-3}
SETTLE_SECS=${SETTLE_SECS:-180}
REDIS_SERVER=${REDIS_SERVER:-$(command -v redis-server || true)}
here=$(cd "$(dirname "$0")" && pwd)
prog=vs-redis-keys.sh
. "$here/common.sh"
find_lsmdb_server
need_tools
case " $PARTS " in
*" setget "* | *" ttl "*) need_redis_server ;;
esac

tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lsmdb-bench-keys-XXXXXX")
pids=
cleanup() {
    stop_pids 300 $pids
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# start_lsmdb name extra-args... -> sets port, pid
start_lsmdb() {
    name=$1; shift
    port=$(free_port)
    mkdir -p "$tmp/$name"
    "$LSMDB_SERVER" --port "$port" --bind 127.0.0.1 --dir "$tmp/$name" \
        --logfile "$tmp/$name.log" --daemonize no "$@" >"$tmp/$name.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    wait_ping "$port" "$pid" "$name" 30
}

start_redis() {
    port=$(free_port)
    mkdir -p "$tmp/redis"
    "$REDIS_SERVER" --port "$port" --bind 127.0.0.1 --dir "$tmp/redis" \
        --logfile "$tmp/redis.log" --daemonize no --save '' --appendonly no >"$tmp/redis.out" 2>&1 &
    pid=$!
    pids="$pids $pid"
    wait_ping "$port" "$pid" redis 30
}

stop_pid() { # pid
    stop_pids 600 "$1"
    wait "$1" 2>/dev/null || true
}

# csv_field <csv text> <test> <column>: redis-benchmark --csv columns are
# test, rps, avg, min, p50, p95, p99, max (ms).
csv_field() {
    printf '%s\n' "$1" | awk -F'","' -v t="$2" -v c="$3" '
        { gsub(/^"|"$/, "") }
        $1 == t { print $c + 0; found = 1 }
        END { if (!found) print 0 }'
}

verdict() { # ratio goal
    awk -v r="$1" -v g="$2" 'BEGIN {if (r == "n/a") print "n/a"; else if (r + 0 >= g) print "met"; else print "MISSED"}'
}

info_field() { # port section field
    redis-cli -h 127.0.0.1 -p "$1" INFO "$2" 2>/dev/null | tr -d '\r' | awk -F: -v f="$3" '$1 == f {print $2}'
}

print_header
echo "# lsmdb: $LSMDB_SERVER"
status=0

# ---- setget ----------------------------------------------------------------
case " $PARTS " in
*" setget "*)
    start_lsmdb lsmdb --appendfsync everysec
    lport=$port lpid=$pid
    start_redis
    rport=$port rpid=$pid
    echo "# redis: $REDIS_SERVER ($("$REDIS_SERVER" --version | sed 's/ sha=.*//'))"
    echo "# redis-benchmark -h 127.0.0.1 -c $CLIENTS -n $N -r 1000000 {-P 16 -d 100 -t set,get | -P 1 -d 100 -t set,get | -P 16 -d 4096 -t set} --csv, best of $REPEAT"
    echo "# lsmdb: appendfsync everysec (defaults otherwise); redis: --save '' --appendonly no"
    echo "# paired: the median of the rounds' own ratios (each round runs lsmdb, then redis-server);"
    echo "#   less moved by one server's outlier than the ratio of the bests, which the verdict uses"
    printf '%-4s %-6s %-4s %14s %14s %8s %6s %-7s %s\n' P size test lsmdb_rps redis_rps ratio goal verdict paired
    setget_bench() { # port (P, D, T of the spec)
        redis-benchmark -h 127.0.0.1 -p "$1" -c "$CLIENTS" -n "$N" -r 1000000 -P "$P" -d "$D" -t "$T" --csv 2>/dev/null
    }
    for spec in "16 100 set,get" "1 100 set,get" "16 4096 set"; do
        set -- $spec
        P=$1 D=$2 T=$3
        lset=0 lget=0 rset=0 rget=0 pset="" pget=""
        r=0
        while [ $r -lt "$REPEAT" ]; do
            out=$(setget_bench "$lport")
            ls1=$(csv_field "$out" SET 2) lg1=$(csv_field "$out" GET 2)
            lset=$(max "$lset" "$ls1"); lget=$(max "$lget" "$lg1")
            out=$(setget_bench "$rport")
            rs1=$(csv_field "$out" SET 2) rg1=$(csv_field "$out" GET 2)
            rset=$(max "$rset" "$rs1"); rget=$(max "$rget" "$rg1")
            pset="$pset $(ratio "$ls1" "$rs1")" pget="$pget $(ratio "$lg1" "$rg1")"
            r=$((r + 1))
        done
        for t in SET GET; do
            case "$T" in *"$(echo $t | tr A-Z a-z)"*) ;; *) continue ;; esac
            if [ $t = SET ]; then l=$lset x=$rset p=$pset; else l=$lget x=$rget p=$pget; fi
            if [ "$P" = 1 ]; then goal=0.9; elif [ "$D" = 4096 ]; then goal=0.8; elif [ $t = GET ]; then goal=0.8; else goal=0.6; fi
            rt=$(ratio "$l" "$x")
            # shellcheck disable=SC2086
            printf '%-4s %-6s %-4s %14.0f %14.0f %8s %6s %-7s %s\n' "$P" "$D" "$t" "$l" "$x" "$rt" "$goal" "$(verdict "$rt" "$goal")" "$(median $p)"
            [ "$l" = 0 ] && status=1
        done
    done
    kill -0 "$lpid" 2>/dev/null || { echo "vs-redis-keys.sh: lsmdb-server died during the run" >&2; status=1; }
    echo "# lsmdb after the run: $(info_field "$lport" lsm stall_count) stalls, $(info_field "$lport" lsm stall_micros) us stalled, write_amplification $(info_field "$lport" lsm write_amplification)"
    stop_pid "$lpid"
    stop_pid "$rpid"
    rm -rf "$tmp/lsmdb" "$tmp/redis"
    ;;
esac

# ---- ttl ------------------------------------------------------------------
case " $PARTS " in
*" ttl "*)
    start_lsmdb lsmdb --appendfsync everysec
    lport=$port lpid=$pid
    start_redis
    rport=$port rpid=$pid
    val=$(printf '%0100d' 0)
    echo "# redis-benchmark -h 127.0.0.1 -c $CLIENTS -n $N -r $TTL_KEYS -P 16 --csv SET key:__rand_int__ <100 B> EX 3600, best of $REPEAT"
    ttl_bench() { # port
        redis-benchmark -h 127.0.0.1 -p "$1" -c "$CLIENTS" -n "$N" -r "$TTL_KEYS" -P 16 --csv \
            SET key:__rand_int__ "$val" EX 3600 2>/dev/null | tail -1 | cut -d, -f2 | tr -d '"'
    }
    l=0 x=0 r=0
    while [ $r -lt "$REPEAT" ]; do
        l=$(max "$l" "$(ttl_bench "$lport")")
        x=$(max "$x" "$(ttl_bench "$rport")")
        r=$((r + 1))
    done
    printf '%-4s %-6s %-8s %14s %14s %8s\n' P size test lsmdb_rps redis_rps ratio
    printf '%-4s %-6s %-8s %14.0f %14.0f %8s\n' 16 100 "SET EX" "$l" "$x" "$(ratio "$l" "$x")"
    [ "$l" = 0 ] && status=1
    kill -0 "$lpid" 2>/dev/null || { echo "vs-redis-keys.sh: lsmdb-server died during the run" >&2; status=1; }
    echo "# lsmdb: $(redis-cli -h 127.0.0.1 -p "$lport" info keyspace | grep '^db0' | tr -d '\r'); redis: $(redis-cli -h 127.0.0.1 -p "$rport" info keyspace | grep '^db0' | tr -d '\r')"
    echo "# lsmdb: keyspace_stale_ttl_deleted $(info_field "$lport" persistence keyspace_stale_ttl_deleted), keyspace_write_table_hits $(info_field "$lport" persistence keyspace_write_table_hits), keyspace_deferred_writes $(info_field "$lport" persistence keyspace_deferred_writes)"
    stop_pid "$lpid"
    stop_pid "$rpid"
    rm -rf "$tmp/lsmdb" "$tmp/redis"
    ;;
esac

# ---- large ----------------------------------------------------------------
case " $PARTS " in
*" large "*)
    start_lsmdb large --appendfsync everysec --block-cache-size 64mb
    gport=$port gpid=$pid
    echo "# large: $LARGE_N keys (key:%012d) x 100 B random values via redis-cli --pipe, block-cache-size 64mb"
    t0=$(date +%s.%N)
    python3 - "$LARGE_N" <<'EOF' | redis-cli -h 127.0.0.1 -p "$gport" --pipe >"$tmp/pipe.out" 2>&1
import os, sys
n = int(sys.argv[1])
pool = os.urandom(1 << 24)
span = len(pool) - 100
out = sys.stdout.buffer
chunk = 20000
hdr = b"*3\r\n$3\r\nSET\r\n$16\r\n"
for base in range(0, n, chunk):
    parts = []
    for i in range(base, min(n, base + chunk)):
        off = (i * 2654435761) % span
        parts.append(hdr + b"key:%012d" % i + b"\r\n$100\r\n" + pool[off:off + 100] + b"\r\n")
    out.write(b"".join(parts))
EOF
    t1=$(date +%s.%N)
    load_rps=$(awk -v n="$LARGE_N" -v a="$t0" -v b="$t1" 'BEGIN {printf "%.0f", n / (b - a)}')
    echo "# load: $(tail -1 "$tmp/pipe.out" | tr -d '\r')"
    echo "large: load $LARGE_N SETs in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') s = $load_rps SET/s (redis-cli --pipe)"
    # Let flushes and compactions settle (bounded by SETTLE_SECS).
    i=0
    while [ $i -lt "$SETTLE_SECS" ]; do
        rc=$(info_field "$gport" lsm running_compactions)
        rf=$(info_field "$gport" lsm running_flushes)
        pc=$(info_field "$gport" lsm pending_compaction_bytes)
        [ "${rc:-0}" = 0 ] && [ "${rf:-0}" = 0 ] && [ "${pc:-0}" = 0 ] && break
        sleep 1
        i=$((i + 1))
    done
    echo "# settled after ${i} s: dbsize $(redis-cli -h 127.0.0.1 -p "$gport" DBSIZE), live_sst_bytes $(info_field "$gport" lsm live_sst_bytes), $(redis-cli -h 127.0.0.1 -p "$gport" INFO lsm | tr -d '\r' | grep '^level' | tr '\n' ' ')"
    h0=$(info_field "$gport" lsm block_cache_hits); m0=$(info_field "$gport" lsm block_cache_misses)
    for P in 1 16; do
        out=$(redis-benchmark -h 127.0.0.1 -p "$gport" -c "$CLIENTS" -n "$LARGE_GETS" -r "$LARGE_N" -P "$P" -t get --csv 2>/dev/null)
        printf 'large: GET -P %-2s %10.0f rps  p50 %s ms  p99 %s ms  max %s ms\n' "$P" \
            "$(csv_field "$out" GET 2)" "$(csv_field "$out" GET 5)" "$(csv_field "$out" GET 7)" "$(csv_field "$out" GET 8)"
    done
    h1=$(info_field "$gport" lsm block_cache_hits); m1=$(info_field "$gport" lsm block_cache_misses)
    echo "large: block cache hit rate during the GETs $(awk -v h=$((h1 - h0)) -v m=$((m1 - m0)) 'BEGIN {if (h + m > 0) printf "%.3f", h / (h + m); else print "n/a"}') (capacity $(info_field "$gport" lsm block_cache_capacity) B); memory RSS $(ps -o rss= -p "$gpid" | tr -d ' ') KB"
    kill -0 "$gpid" 2>/dev/null || { echo "vs-redis-keys.sh: lsmdb-server died during the large run" >&2; status=1; }
    stop_pid "$gpid"
    rm -rf "$tmp/large"
    ;;
esac

# ---- groupcommit -----------------------------------------------------------
case " $PARTS " in
*" groupcommit "*)
    start_lsmdb always --appendfsync always
    aport=$port apid=$pid
    fsr=$(python3 - "$tmp/always/fsync-rate.test" "$FSYNC_SECS" <<'EOF'
import os, sys, time
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
b = b"x" * 128
n, t0 = 0, time.time()
while time.time() - t0 < float(sys.argv[2]):
    os.write(fd, b); os.fdatasync(fd); n += 1
print("%.0f" % (n / (time.time() - t0)))
os.close(fd); os.unlink(sys.argv[1])
EOF
)
    echo "# fsync rate: write 128 B + fdatasync on an appended file in the data dir, $FSYNC_SECS s"
    for gp in $GC_PIPELINE; do
        s0=$(info_field "$aport" persistence lsm_syncs)
        out=$(redis-benchmark -h 127.0.0.1 -p "$aport" -c "$CLIENTS" -n "$GC_N" -r 1000000 -P "$gp" -d 100 -t set --csv 2>/dev/null)
        s1=$(info_field "$aport" persistence lsm_syncs)
        rps=$(csv_field "$out" SET 2)
        rt=$(ratio "$rps" "$fsr")
        echo "# redis-benchmark -c $CLIENTS -n $GC_N -r 1000000 -P $gp -d 100 -t set against appendfsync always"
        echo "groupcommit -P $gp: fsync rate $fsr/s; SET $(printf '%.0f' "$rps") rps (p50 $(csv_field "$out" SET 5) ms, p99 $(csv_field "$out" SET 7) ms); $((s1 - s0)) lsm_syncs = $(awk -v a="$GC_N" -v b=$((s1 - s0)) 'BEGIN {if (b > 0) printf "%.1f", a / b; else print "n/a"}') writes per fsync; ratio $rt (goal >= 20: $(verdict "$rt" 20))"
    done
    kill -0 "$apid" 2>/dev/null || { echo "vs-redis-keys.sh: lsmdb-server died during the group-commit run" >&2; status=1; }
    stop_pid "$apid"
    ;;
esac
exit $status
