# src/util: libutil.la (owned by the util module authors)
noinst_LTLIBRARIES += src/util/libutil.la
src_util_libutil_la_SOURCES = \
	src/util/zmalloc.c src/util/zmalloc.h \
	src/util/slice.c src/util/slice.h
src_util_libutil_la_CFLAGS = $(AM_CFLAGS) $(JEMALLOC_CFLAGS)
