#!/bin/sh
# thread-cpu.sh: where a benchmark's CPU goes, per server thread and per
# request, for one or more lsmdb-server builds side by side. For each of
# ROUNDS rounds and each binary in turn, starts it on a free 127.0.0.1
# port with a fresh data directory (appendfsync everysec, plus ARGS), runs
# WARM (redis-benchmark arguments, optional) and then BENCH, and prints the
# requests per second of BENCH and, from /proc, the CPU time (user + system)
# each thread used during BENCH, in microseconds per request, summed by
# thread name (the loop thread is "loop"; pool threads are summed into
# "pool"), and redis-benchmark's own. A thread started during BENCH is
# counted from its start; threads that ended during BENCH (a mapped log's
# populator, "lsm-map", ends with its file) show only in "exited", and
# "server" is the whole process. At the end, the mean of each figure per binary.
# Alternating the binaries round by round keeps the machine's drift out of
# the comparison (these machines are shared and noisy).
#
# Usage: utils/bench/thread-cpu.sh [BINS="path1 path2 ..."] [ROUNDS=3]
#        [BENCH="-n 1000000 -r 1000000 -P 16 -d 100 -t set"] [WARM=...]
#        [ARGS="--deferred-key-counting no"] [BENCH_DIR=dir]
# BINS defaults to LSMDB_SERVER (or the build's src/lsmdb-server). The
# request count is BENCH's -n. BENCH may end with a command of its own
# (redis-benchmark's options must come first: "-n 1000000 -r 100000 -P 16
# SET key:__rand_int__ v EX 3600"). Loopback only; every server is stopped
# by PID.
set -eu
ROUNDS=3
BENCH="-n 1000000 -r 1000000 -P 16 -d 100 -t set"
WARM= ARGS= BINS=
for arg in "$@"; do
    case "$arg" in
    BINS=* | ROUNDS=* | BENCH=* | WARM=* | ARGS=* | LSMDB_SERVER=* | BENCH_DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "thread-cpu.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
prog=thread-cpu.sh
. "$here/common.sh"
find_lsmdb_server
need_tools
[ -n "$BINS" ] || BINS=$LSMDB_SERVER
n=$(echo " $BENCH " | sed -n 's/.* -n \([0-9][0-9]*\) .*/\1/p')
[ -n "$n" ] || { echo "$prog: BENCH needs -n N" >&2; exit 2; }
tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lsmdb-threadcpu-XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && stop_pids 300 $pid
    rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

# tid name ticks, one line per thread of $1 (ticks: utime + stime, fields
# 14 and 15 of /proc/PID/task/TID/stat).
snap() {
    for t in /proc/"$1"/task/*; do
        [ -r "$t/stat" ] || continue
        # The name is in parentheses and may hold spaces: take what follows.
        sed 's/^\([0-9]*\) (\(.*\)) [A-Za-z] \(.*\)$/\1 \2|\3/' "$t/stat" |
            awk -F'|' -v main="$1" '{split($1, a, " "); name = substr($1, length(a[1]) + 2);
                gsub(/ /, "_", name); split($2, f, " ");
                if (a[1] == main) name = "loop"; else if (name ~ /^lsm-bg/) name = "pool";
                print a[1], name, f[11] + f[12]}'
    done
    # The whole process, threads that have exited included (the mapped
    # logs' populator threads end with their file, every vlog-file-size).
    sed 's/^.*) [A-Za-z] //' /proc/"$1"/stat | awk '{print "process", "process", $11 + $12}'
}

hz=$(getconf CLK_TCK)
print_header
echo "# BENCH: redis-benchmark -c 50 $BENCH; WARM: ${WARM:-none}; server args: --appendfsync everysec $ARGS"
echo "# figures: SET or GET/s, then CPU us per request by thread (user + system)"
r=0
while [ $r -lt "$ROUNDS" ]; do
    b=0
    for bin in $BINS; do
        b=$((b + 1))
        port=$(free_port)
        rm -rf "$tmp/data"
        mkdir -p "$tmp/data"
        # shellcheck disable=SC2086
        "$bin" --port "$port" --bind 127.0.0.1 --dir "$tmp/data" --appendfsync everysec \
            --daemonize no $ARGS >"$tmp/lsmdb.out" 2>&1 &
        pid=$!
        wait_ping "$port" "$pid" lsmdb 10
        # shellcheck disable=SC2086
        [ -z "$WARM" ] || redis-benchmark -h 127.0.0.1 -p "$port" -c 50 $WARM >/dev/null 2>&1
        snap "$pid" >"$tmp/s0"
        # shellcheck disable=SC2086
        /usr/bin/env time -f "%U %S" -o "$tmp/time" \
            redis-benchmark -h 127.0.0.1 -p "$port" -c 50 --csv $BENCH >"$tmp/out" 2>/dev/null
        snap "$pid" >"$tmp/s1"
        rps=$(tail -1 "$tmp/out" | cut -d, -f2 | tr -d '"')
        line=$(awk -v n="$n" -v hz="$hz" -v c="$(cat "$tmp/time")" '
            NR == FNR {t0[$1] = $3; next}
            {d = $3 - ($1 in t0 ? t0[$1] : 0); cpu[$2] += d; if ($2 != "process") live += d}
            END {
                split(c, u, " ");
                out = "";
                # exited: CPU of threads that ended during BENCH.
                cpu["exited"] = cpu["process"] - live;
                for (k in cpu) if (cpu[k] > 0 && k != "process")
                    out = out sprintf(" %s=%.2f", k, cpu[k] * 1e6 / hz / n);
                out = out sprintf(" server=%.2f", cpu["process"] * 1e6 / hz / n);
                printf "%s client=%.2f", out, (u[1] + u[2]) * 1e6 / n
            }' "$tmp/s0" "$tmp/s1")
        echo "bin$b $rps |$line"
        echo "bin$b $rps$line" >>"$tmp/all"
        stop_pids 300 "$pid"
        pid=
    done
    r=$((r + 1))
done
b=0
for bin in $BINS; do
    b=$((b + 1))
    echo "# bin$b = $bin"
done
awk '{lab = $1; n[lab]++; s[lab, "rps"] += $2; keys[lab, "rps"] = 1;
      for (f = 3; f <= NF; f++) {split($f, kv, "="); s[lab, kv[1]] += kv[2]; keys[lab, kv[1]] = 1}}
     END {for (k in keys) {split(k, p, SUBSEP); printf "mean %s %s %.2f\n", p[1], p[2], s[p[1], p[2]] / n[p[1]]}}' \
    "$tmp/all" | sort
