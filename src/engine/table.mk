# src/engine/table.mk: the table layer (blocks, bloom filters, SSTables,
# block cache, table cache). See docs/format-sst.md.
src_engine_liblsm_la_SOURCES += \
	src/engine/block.c src/engine/block.h \
	src/engine/bloom.c src/engine/bloom.h \
	src/engine/cache.c src/engine/cache.h \
	src/engine/sst.c src/engine/sst.h \
	src/engine/table_cache.c src/engine/table_cache.h
