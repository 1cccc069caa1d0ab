# src/server/strings.mk: the string commands (GET, SET, INCR, APPEND, ...).
src_server_libserver_la_SOURCES += src/server/cmd_string.c src/server/cmd_string.h
