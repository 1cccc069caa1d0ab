# src/server/resp.mk — the protocol layer: request parser and reply encoding.
src_server_libserver_la_SOURCES += src/server/resp.c src/server/resp.h \
	src/server/reply.c src/server/reply.h
