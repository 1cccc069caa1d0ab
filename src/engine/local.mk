# src/engine: liblsm.la. Each part of the engine lists its files in its own
# fragment so the parts can be worked on independently.
noinst_LTLIBRARIES += src/engine/liblsm.la
src_engine_liblsm_la_SOURCES = src/engine/lsm.h src/engine/iter.h src/engine/dbformat.h
src_engine_liblsm_la_CFLAGS = $(AM_CFLAGS) $(SNAPPY_CFLAGS)
include src/engine/log.mk
include src/engine/table.mk
include src/engine/db.mk
include src/engine/vlog.mk
