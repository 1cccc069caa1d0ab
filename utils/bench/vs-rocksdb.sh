#!/bin/sh
# vs-rocksdb.sh: runs liblsm's engine-bench and RocksDB's db_bench (Debian
# package rocksdb-tools) one after the other, in the same run, with the same
# flags, and prints both figures and the ratio liblsm / RocksDB.
#
# Usage (from a build directory, after `make utils/engine-bench`):
#   ../utils/bench/vs-rocksdb.sh
#   NUM=1000000 VALUE_SIZE=100 ../utils/bench/vs-rocksdb.sh
# Environment:
#   NUM (100000) VALUE_SIZE (4096) BENCHMARKS (fillrandom,readrandom,overwrite,seekrandom)
#   SEEK_NEXTS (0) BLOOM_BITS (10) CACHE_SIZE (8388608) SEED (42)
#   ENGINE_BENCH (./utils/engine-bench) DB_BENCH (db_bench) BENCH_DIR (a new temp dir)
#   EXTRA_FLAGS (more flags for both programs)
#   DB_BENCH_FLAGS (flags for db_bench only, e.g. BlobDB's:
#     "--enable_blob_files=true --min_blob_size=512 --blob_compression_type=snappy")
# Fixed: 16-byte keys, snappy, compression ratio 0.5, one thread, sync off,
# 64 MB write buffer, fresh databases. The raw outputs stay in BENCH_DIR.
set -eu

NUM=${NUM:-100000}
VALUE_SIZE=${VALUE_SIZE:-4096}
BENCHMARKS=${BENCHMARKS:-fillrandom,readrandom,overwrite,seekrandom}
SEEK_NEXTS=${SEEK_NEXTS:-0}
BLOOM_BITS=${BLOOM_BITS:-10}
CACHE_SIZE=${CACHE_SIZE:-8388608}
SEED=${SEED:-42}
ENGINE_BENCH=${ENGINE_BENCH:-./utils/engine-bench}
DB_BENCH=${DB_BENCH:-db_bench}
EXTRA_FLAGS=${EXTRA_FLAGS:-}
DB_BENCH_FLAGS=${DB_BENCH_FLAGS:-}

if [ ! -x "$ENGINE_BENCH" ]; then
    echo "vs-rocksdb: $ENGINE_BENCH not found (run from a build directory after" \
         "'make utils/engine-bench', or set ENGINE_BENCH)" >&2
    exit 2
fi
if ! command -v "$DB_BENCH" >/dev/null 2>&1; then
    echo "vs-rocksdb: $DB_BENCH not found (apt-get install rocksdb-tools, or set DB_BENCH)" >&2
    exit 2
fi
BENCH_DIR=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/vs-rocksdb.XXXXXX")}
mkdir -p "$BENCH_DIR"

FLAGS="--benchmarks=$BENCHMARKS --num=$NUM --reads=$NUM --value_size=$VALUE_SIZE --key_size=16"
FLAGS="$FLAGS --compression_type=snappy --compression_ratio=0.5 --threads=1"
FLAGS="$FLAGS --bloom_bits=$BLOOM_BITS --cache_size=$CACHE_SIZE --write_buffer_size=67108864"
FLAGS="$FLAGS --seek_nexts=$SEEK_NEXTS --use_existing_db=0 --sync=0 --seed=$SEED $EXTRA_FLAGS"

echo "# $(date -u '+%Y-%m-%d %H:%M UTC') on $(uname -n): $(nproc) cores," \
     "$(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | sed 's/.*: //')"
echo "# $("$DB_BENCH" --version 2>/dev/null | head -1)"
echo "# flags (both): $FLAGS"
[ -z "$DB_BENCH_FLAGS" ] || echo "# db_bench only: $DB_BENCH_FLAGS"
echo "# outputs in $BENCH_DIR"

# Each program starts with no dirty page cache left by the one before (or
# by an earlier run): writeback of it would compete with its writes.
sync
# shellcheck disable=SC2086
"$ENGINE_BENCH" --db="$BENCH_DIR/lsm" $FLAGS >"$BENCH_DIR/engine-bench.out" 2>"$BENCH_DIR/engine-bench.err"
LSM_DISK=$(du -sk "$BENCH_DIR/lsm" | cut -f1)
rm -rf "$BENCH_DIR/lsm"
sync
# shellcheck disable=SC2086
"$DB_BENCH" --db="$BENCH_DIR/rocksdb" $FLAGS $DB_BENCH_FLAGS >"$BENCH_DIR/db_bench.out" 2>&1
ROCKS_DISK=$(du -sk "$BENCH_DIR/rocksdb" | cut -f1)
rm -rf "$BENCH_DIR/rocksdb"

# "name : X micros/op Y ops/sec ...; Z MB/s" -> "name ops_per_sec mb_per_sec"
extract() {
    tr '\r' '\n' <"$1" | awk '$2 == ":" && $4 == "micros/op" {
        mb = "-"; for (i = 5; i <= NF; i++) if ($(i) == "MB/s") mb = $(i - 1);
        print $1, $5, mb }'
}
extract "$BENCH_DIR/engine-bench.out" >"$BENCH_DIR/lsm.tab"
extract "$BENCH_DIR/db_bench.out" >"$BENCH_DIR/rocksdb.tab"

printf '%-12s %14s %14s %8s   %10s %10s\n' benchmark "liblsm ops/s" "rocksdb ops/s" ratio \
    "lsm MB/s" "rdb MB/s"
echo "$BENCHMARKS" | tr ',' '\n' | while read -r b; do
    l=$(awk -v b="$b" '$1 == b { print $2; exit }' "$BENCH_DIR/lsm.tab")
    r=$(awk -v b="$b" '$1 == b { print $2; exit }' "$BENCH_DIR/rocksdb.tab")
    lm=$(awk -v b="$b" '$1 == b { print $3; exit }' "$BENCH_DIR/lsm.tab")
    rm=$(awk -v b="$b" '$1 == b { print $3; exit }' "$BENCH_DIR/rocksdb.tab")
    ratio=$(awk -v l="${l:-0}" -v r="${r:-0}" 'BEGIN { if (r > 0) printf "%.2fx", l / r; else print "-" }')
    printf '%-12s %14s %14s %8s   %10s %10s\n' "$b" "${l:--}" "${r:--}" "$ratio" "${lm:--}" "${rm:--}"
done
echo "# space on disk at the end: liblsm $((LSM_DISK / 1024)) MB, rocksdb $((ROCKS_DISK / 1024)) MB"
echo "# liblsm write amplification and levels after each write benchmark:"
grep -E '^[a-z]+ +:|write amp|space  ' "$BENCH_DIR/engine-bench.out" | sed 's/^/#   /'
