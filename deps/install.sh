#!/bin/sh
# Installs every build, test and benchmark dependency of lsmdb on Debian 12.
# Run as root. Idempotent: does nothing (quietly) when everything is present.
set -eu

PKGS="build-essential autoconf automake libtool pkg-config \
libhiredis-dev libsnappy-dev libjemalloc-dev check \
redis-tools redis-server python3 python3-redis"

# Benchmarks compare against RocksDB's db_bench; only needed for utils/bench.
if [ "${LSMDB_BENCH_DEPS:-0}" = 1 ]; then
    PKGS="$PKGS rocksdb-tools linux-perf"
fi

# Fuzzing (utils/fuzz, docs/fuzzing.md) needs clang and its libFuzzer.
if [ "${LSMDB_FUZZ_DEPS:-0}" = 1 ]; then
    PKGS="$PKGS clang libclang-rt-14-dev"
fi

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    echo "deps/install.sh: missing packages:$missing (run as root to install)" >&2
    exit 1
fi

echo "deps/install.sh: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Keep the redis-server package from starting its own daemon on port 6379:
# the tests start their own servers on free ports.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod +x "$policy"
    made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
