# src/engine/vlog.mk: key/value separation (value log segments, pointers,
# discard accounting and garbage collection; issue 5).
src_engine_liblsm_la_SOURCES += \
	src/engine/vlog.c src/engine/vlog.h
src_engine_liblsm_la_SOURCES += \
	src/engine/vlog_gc.c src/engine/vlog_gc.h
