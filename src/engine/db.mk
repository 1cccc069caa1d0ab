# src/engine/db.mk: engine core (keys, iterators, versions, compaction, db)
src_engine_liblsm_la_SOURCES += \
	src/engine/dbformat.c src/engine/iter.c
