# src/server/keyspace.mk: the keyspace layer (databases, keys and TTLs over
# the engine; transactions, SCAN cursors, durability).
src_server_libserver_la_SOURCES += src/server/keyspace.c src/server/keyspace.h
src_server_libserver_la_SOURCES += src/server/ks_defer.c src/server/ks_defer.h \
	src/server/ks_wtab.c src/server/ks_wtab.h
src_server_libserver_la_SOURCES += src/server/keyspace_server.c src/server/keyspace_server.h
