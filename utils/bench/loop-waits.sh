#!/bin/sh
# loop-waits.sh: where the event-loop thread of lsmdb-server sleeps during a
# write benchmark. Starts a server on a free 127.0.0.1 port with a fresh data
# directory, warms it up, then records the scheduler switches of its main
# thread for SECS seconds with user stacks (perf, DWARF unwinding) while
# redis-benchmark runs, and prints the longest sleeps (switch-out to the next
# switch-in of that thread) with their stacks. A loop that only waits in
# epoll_wait and for the CPU is what we want; fsyncs, block allocation or
# locks held across I/O show up here.
#
# Usage: utils/bench/loop-waits.sh [LSMDB_SERVER=path] [SIZE=4096] [N=500000]
#        [SECS=4] [TOP=6] [FSYNC=everysec] [BENCH_DIR=dir]
# Needs perf (linux-perf) and python3; run as root (or with perf allowed).
set -eu
SIZE=4096 N=500000 SECS=4 TOP=6 FSYNC=everysec
for arg in "$@"; do
    case "$arg" in
    LSMDB_SERVER=* | SIZE=* | N=* | SECS=* | TOP=* | FSYNC=* | BENCH_DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "loop-waits.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
here=$(cd "$(dirname "$0")" && pwd)
prog=loop-waits.sh
. "$here/common.sh"
find_lsmdb_server
need_tools
command -v perf >/dev/null || { echo "$prog: perf not found" >&2; exit 2; }
tmp=$(mktemp -d "${BENCH_DIR:-${TMPDIR:-/tmp}}/lsmdb-loopwaits-XXXXXX")
pid=
cleanup() { [ -n "$pid" ] && stop_pids 300 $pid; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$(free_port)
mkdir "$tmp/data"
"$LSMDB_SERVER" --port "$port" --bind 127.0.0.1 --dir "$tmp/data" --appendfsync "$FSYNC" \
    --daemonize no >"$tmp/lsmdb.out" 2>&1 &
pid=$!
wait_ping "$port" "$pid" lsmdb 10
redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n $((N / 5)) -r 1000000 -P 16 -d "$SIZE" -t set -q >/dev/null 2>&1
perf record -a -e sched:sched_switch --filter "prev_pid == $pid || next_pid == $pid" \
    --call-graph dwarf,32768 -o "$tmp/perf.data" -- sleep "$SECS" >/dev/null 2>&1 &
rec=$!
redis-benchmark -h 127.0.0.1 -p "$port" -c 50 -n "$N" -r 1000000 -P 16 -d "$SIZE" -t set --csv 2>/dev/null | tail -1
wait $rec
perf script -i "$tmp/perf.data" -F tid,time,event,trace,ip,sym 2>/dev/null >"$tmp/switches.txt"
python3 - "$pid" "$TOP" "$tmp/switches.txt" <<'PY'
import re, sys
pid, top, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out, waits = None, []
for ev in open(path).read().split('\n\n'):
    lines = ev.strip().split('\n')
    m = re.search(r'([\d.]+):\s+sched:sched_switch:.* prev_pid=(\d+) .*prev_state=(\S+) ==> .* next_pid=(\d+)', lines[0])
    if not m:
        continue
    t = float(m.group(1))
    if m.group(2) == pid:
        out = (t, m.group(3), [l.split()[-1] for l in lines[1:]])
    elif m.group(4) == pid and out:
        waits.append((t - out[0], out[1], out[2]))
        out = None
waits.sort(key=lambda w: -w[0])
print("# %d sleeps of the loop thread, %.1f ms in all" % (len(waits), sum(w[0] for w in waits) * 1e3))
for d, state, stack in waits[:top]:
    frames = [s for s in stack if not s.startswith('[') and 'entry_SYSCALL' not in s]
    print("%7.1f ms %-2s %s" % (d * 1e3, state, " <- ".join(frames[:30])))
PY
