# src/server: libserver.la and the lsmdb-server daemon. Each part lists its
# files in its own fragment.
noinst_LTLIBRARIES += src/server/libserver.la
src_server_libserver_la_SOURCES =
src_server_libserver_la_CFLAGS = $(AM_CFLAGS)
bin_PROGRAMS += src/lsmdb-server
src_lsmdb_server_SOURCES = src/server/main.c
src_lsmdb_server_LDADD = $(SERVER_LIBS)
include src/server/resp.mk
include src/server/config.mk
include src/server/core.mk
include src/server/keyspace.mk
include src/server/strings.mk
include src/server/keys.mk
