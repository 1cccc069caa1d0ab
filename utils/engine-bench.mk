# utils/engine-bench.mk: db_bench-style benchmark of liblsm (not a test);
# utils/bench/vs-rocksdb.sh runs it next to RocksDB's db_bench.
noinst_PROGRAMS += utils/engine-bench
utils_engine_bench_SOURCES = utils/engine-bench.c
utils_engine_bench_LDADD = $(ENGINE_LIBS)
