# src/engine/db.mk: engine core (keys, iterators, versions, compaction, db)
src_engine_liblsm_la_SOURCES += \
	src/engine/dbformat.c src/engine/iter.c \
	src/engine/version.c src/engine/version.h \
	src/engine/compaction.c src/engine/compaction.h \
	src/engine/dbiter.c src/engine/dbiter.h \
	src/engine/db.c src/engine/db_bg.c src/engine/db_impl.h
