# src/server/keys.mk: the generic key and database commands (DEL, EXPIRE,
# SCAN, KEYS, FLUSHDB, SWAPDB, DUMP/RESTORE, MIGRATE, ...) and transactions
# (MULTI/EXEC/WATCH).
src_server_libserver_la_SOURCES += src/server/cmd_keys.c src/server/cmd_keys.h
src_server_libserver_la_SOURCES += src/server/dump.c src/server/dump.h
src_server_libserver_la_SOURCES += src/server/cmd_multi.c src/server/cmd_multi.h
src_server_libserver_la_SOURCES += src/server/migrate.c src/server/migrate.h
