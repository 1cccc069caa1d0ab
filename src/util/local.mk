# src/util: libutil.la (owned by the util module authors)
noinst_LTLIBRARIES += src/util/libutil.la
src_util_libutil_la_SOURCES = \
	src/util/zmalloc.c src/util/zmalloc.h \
	src/util/slice.c src/util/slice.h \
	src/util/strconv.c src/util/strconv.h \
	src/util/coding.c src/util/coding.h \
	src/util/crc32c.c src/util/crc32c.h \
	src/util/crc64.c src/util/crc64.h \
	src/util/lzf.c src/util/lzf.h \
	src/util/arena.c src/util/arena.h \
	src/util/hash.c src/util/hash.h \
	src/util/idmap.c src/util/idmap.h \
	src/util/clock.c src/util/clock.h \
	src/util/log.c src/util/log.h \
	src/util/io.c src/util/io_fault.c src/util/io.h src/util/io_internal.h \
	src/util/tpool.c src/util/tpool.h
src_util_libutil_la_CFLAGS = $(AM_CFLAGS) $(JEMALLOC_CFLAGS)
