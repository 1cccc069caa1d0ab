# utils/bench/common.sh: shell functions shared by the scripts in
# utils/bench (sourced, not run). The sourcing script sets `prog` (its
# name, for messages) and `here` (its directory) first, and `tmp` (its
# temp dir, where a server's NAME.out and NAME.log go) before wait_ping.

# LSMDB_SERVER, unless set: $LSMDB_BUILDDIR/src/lsmdb-server, else
# src/lsmdb-server under the current directory, else next to this source tree.
find_lsmdb_server() {
    [ -z "${LSMDB_SERVER:-}" ] || return 0
    for c in "${LSMDB_BUILDDIR:-/nonexistent}/src/lsmdb-server" "$PWD/src/lsmdb-server" "$here/../../src/lsmdb-server"; do
        if [ -x "$c" ]; then LSMDB_SERVER=$c; break; fi
    done
}

# Exits unless redis-benchmark, redis-cli, python3 and lsmdb-server are there.
need_tools() {
    for tool in redis-benchmark redis-cli python3; do
        command -v "$tool" >/dev/null || { echo "$prog: $tool not found" >&2; exit 1; }
    done
    [ -n "${LSMDB_SERVER:-}" ] && [ -x "$LSMDB_SERVER" ] || { echo "$prog: lsmdb-server not found (set LSMDB_SERVER=)" >&2; exit 1; }
}

need_redis_server() {
    [ -n "$REDIS_SERVER" ] && [ -x "$REDIS_SERVER" ] || { echo "$prog: redis-server not found (set REDIS_SERVER=)" >&2; exit 1; }
}

# stop_pids tries pid...: SIGTERM to all, then each gets up to tries x 0.1 s
# before SIGKILL.
stop_pids() {
    tries=$1; shift
    for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "$@"; do
        i=0
        while kill -0 "$p" 2>/dev/null && [ $i -lt "$tries" ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$p" 2>/dev/null || true
    done
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bench_tmp name: a new temp dir in $tmp (under BENCH_DIR or TMPDIR) for
# servers started with start_server; an exit trap stops them (by PID) and
# removes the dir.
bench_tmp() {
    tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lsmdb-$1-XXXXXX")
    pids=""
    trap bench_cleanup EXIT INT TERM
}
bench_cleanup() {
    # shellcheck disable=SC2086
    [ -z "$pids" ] || stop_pids 50 $pids
    rm -rf "$tmp"
}

# rps port args...: requests per second of one redis-benchmark run (args
# are redis-benchmark's, after -p port).
rps() {
    rps_port=$1
    shift
    redis-benchmark -p "$rps_port" "$@" 2>/dev/null | tr '\r' '\n' |
        sed -n 's/.*throughput summary: \([0-9.]*\) requests per second.*/\1/p' | tail -1
}

# start_server name cmd...: runs cmd with --port, --bind 127.0.0.1 and
# --dir $tmp/name on a free port (output in $tmp/name.out), adds its PID to
# $pids (for the caller's exit trap), waits for PING and sets $port. Call
# it in the script's own shell, not in $(...): a subshell's $pids is lost.
start_server() {
    name=$1
    shift
    port=$(free_port)
    mkdir -p "$tmp/$name"
    "$@" --port "$port" --bind 127.0.0.1 --dir "$tmp/$name" >"$tmp/$name.out" 2>&1 &
    pids="$pids $!"
    wait_ping "$port" "$!" "$name" 30
}

# wait_ping port pid name secs: until the server answers PING; exits when it
# died (printing its output) or did not answer within secs.
wait_ping() {
    i=0
    while [ $i -lt $(($4 * 20)) ]; do
        if ! kill -0 "$2" 2>/dev/null; then
            echo "$prog: $3 exited during start-up; its output:" >&2
            cat "$tmp/$3.out" "$tmp/$3.log" >&2 2>/dev/null || true
            exit 1
        fi
        [ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" = PONG ] && return 0
        sleep 0.05
        i=$((i + 1))
    done
    echo "$prog: $3 did not answer PING within $4 s" >&2
    exit 1
}

max() { awk -v a="$1" -v b="$2" 'BEGIN {print (a > b ? a : b)}'; }
ratio() { awk -v l="$1" -v x="$2" 'BEGIN {if (x > 0) printf "%.3f", l / x; else print "n/a"}'; }
# The median of its arguments (numbers; "n/a" when there are none).
median() { printf '%s\n' "$@" | grep -Ev '^(n/a)?$' | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "n/a"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

# rounds_vs_redis "test names" lport rport: ROUNDS rounds of `run port`
# (the sourcing script's function: one line of figures, space separated,
# one per test name) against lsmdb, then redis-server; prints a row per
# round and test: the round, the test, both figures and lsmdb/redis.
rounds_vs_redis() {
    printf '%-6s %-14s %12s %12s %8s\n' round test lsmdb redis ratio
    rv_r=1
    while [ "$rv_r" -le "$ROUNDS" ]; do
        rv_l=$(run "$2")
        rv_x=$(run "$3")
        rv_i=1
        for rv_t in $1; do
            rv_lv=$(echo "$rv_l" | cut -d' ' -f$rv_i)
            rv_xv=$(echo "$rv_x" | cut -d' ' -f$rv_i)
            printf '%-6s %-14s %12s %12s %8s\n' "$rv_r" "$rv_t" "$rv_lv" "$rv_xv" \
                "$(ratio "$rv_lv" "$rv_xv")"
            rv_i=$((rv_i + 1))
        done
        rv_r=$((rv_r + 1))
    done
}

# The first two lines of a report: the script and date, the host.
print_header() {
    echo "# $prog $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "# host: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
