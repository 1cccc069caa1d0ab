# utils: benchmark tools, service file
EXTRA_DIST += utils/lsmdb.service utils/bench
include utils/engine-bench.mk
