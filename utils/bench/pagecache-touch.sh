#!/bin/sh
# pagecache-touch.sh: what a buffered write of 4 KB costs when the page
# cache must take a page it has not used before, against one it holds
# already. On a VM whose host backs guest memory lazily (or takes freed
# pages back), the first case pays the host's page fault; a value-log
# append is that first case, a Redis SET is not (it writes nothing).
#
# Usage: utils/bench/pagecache-touch.sh [MB=1024] [DIR=$TMPDIR or /tmp]
# Writes MB MiB three times with dd (64 KiB writes, no sync): to a new file,
# over the same file (its pages cached), and to a second new file; prints
# the time per 4 KiB of each. Removes its files.
set -eu
MB=1024
DIR=${TMPDIR:-/tmp}
for arg in "$@"; do
    case "$arg" in
    MB=* | DIR=*) eval "${arg%%=*}=\${arg#*=}" ;;
    -h | --help) sed -n '2,/^[^#]/{/^#/p;}' "$0"; exit 0 ;;
    *) echo "pagecache-touch.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
    esac
done
d=$(mktemp -d "$DIR/lsmdb-pagecache-XXXXXX")
trap 'rm -rf "$d"' EXIT
count=$((MB * 16))
pages=$((MB * 256))
run() { # label file [dd flags]
    label=$1; f=$2; shift 2
    t0=$(date +%s%N)
    dd if=/dev/zero of="$f" bs=64k count=$count "$@" status=none
    t1=$(date +%s%N)
    awk -v l="$label" -v ns=$((t1 - t0)) -v n=$pages 'BEGIN { printf "%-28s %6.2f us per 4 KiB\n", l, ns / 1000 / n }'
}
echo "# $MB MiB in 64 KiB writes, $(nproc) CPUs, $(uname -r)"
run "new file (fresh pages)" "$d/a"
run "same file (cached pages)" "$d/a" conv=notrunc
run "second new file" "$d/b"
