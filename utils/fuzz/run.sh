#!/bin/sh
# utils/fuzz/run.sh: runs libFuzzer targets for a while, each from a copy of
# its corpus, and keeps what they find (docs/fuzzing.md).
#
#   CC=clang ./configure --enable-fuzzing && make -j2 fuzz-targets
#   utils/fuzz/run.sh [SECONDS] [TARGET...]     (default 300 s, every target)
#
# Run from the build directory. Work goes to ${FUZZ_WORK:-/tmp/lsmdb-fuzz}:
# <target>/ is the growing corpus, <target>-crash-* the inputs that broke a
# target. Copy a crasher into utils/fuzz/corpus/<target>/ once it is fixed,
# so that `make check` replays it from then on. MERGE=1 merges the grown
# corpus back into utils/fuzz/corpus/<target>/ (libFuzzer -merge=1 keeps only
# inputs that add coverage).
set -eu
secs=${1:-300}
[ $# -gt 0 ] && shift
src=$(cd "$(dirname "$0")/../.." && pwd)
work=${FUZZ_WORK:-/tmp/lsmdb-fuzz}
targets=$*
if [ -z "$targets" ]; then
    for f in utils/fuzz/fuzz_*; do
        [ -x "$f" ] && targets="$targets ${f##*/fuzz_}"
    done
fi
[ -n "$targets" ] || { echo "run.sh: no fuzz targets built (configure --enable-fuzzing)" >&2; exit 2; }
status=0
for t in $targets; do
    mkdir -p "$work/$t"
    cp "$src/utils/fuzz/corpus/$t/"* "$work/$t/" 2>/dev/null || true
    echo "== $t: ${secs}s"
    dict=""
    [ -f "$src/utils/fuzz/$t.dict" ] && dict="-dict=$src/utils/fuzz/$t.dict"
    # shellcheck disable=SC2086
    if ! "utils/fuzz/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$work/$t-" $dict "$work/$t" \
        >"$work/$t.log" 2>&1; then
        echo "== $t: FAILED, see $work/$t.log and $work/$t-crash-*"
        status=1
    fi
    grep -E "^stat::number_of_executed_units|^stat::peak_rss_mb" "$work/$t.log" || true
    if [ "${MERGE:-0}" = 1 ]; then
        "utils/fuzz/fuzz_$t" -merge=1 "$src/utils/fuzz/corpus/$t" "$work/$t" >/dev/null 2>&1
    fi
done
exit $status
