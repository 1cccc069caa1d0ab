# src/server/core.mk: the event loop, listeners, clients, the command table
# and the connection/server commands (the daemon's main.c is in local.mk).
src_server_libserver_la_SOURCES += \
	src/server/ae.c src/server/ae.h \
	src/server/net.c src/server/net.h \
	src/server/client.c src/server/client.h \
	src/server/commands.c src/server/commands.h \
	src/server/cmd_server.c \
	src/server/slowlog.c src/server/slowlog.h \
	src/server/lathist.c src/server/lathist.h \
	src/server/latency.c src/server/latency.h \
	src/server/monitor.c src/server/monitor.h \
	src/server/server.c src/server/server.h
