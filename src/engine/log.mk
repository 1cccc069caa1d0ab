# src/engine/log.mk: the engine's log and memory parts (WAL, write batch,
# skiplist, memtable).
src_engine_liblsm_la_SOURCES += \
	src/engine/wal.c src/engine/wal.h \
	src/engine/batch.c src/engine/batch.h \
	src/engine/skiplist.c src/engine/skiplist.h \
	src/engine/memtable.c src/engine/memtable.h
