# src/server/strings.mk: the string commands (GET, SET, INCR, APPEND, ...),
# the bitmap commands over strings (GETBIT, SETBIT, BITCOUNT, BITFIELD, ...),
# the HyperLogLog commands and format (PFADD, PFCOUNT, PFMERGE; hll.c)
# and the argument helpers they share with the key commands (cmdarg).
src_server_libserver_la_SOURCES += src/server/cmd_string.c src/server/cmd_string.h
src_server_libserver_la_SOURCES += src/server/cmd_bitmap.c src/server/cmd_bitmap.h
src_server_libserver_la_SOURCES += src/server/cmd_hll.c src/server/cmd_hll.h
src_server_libserver_la_SOURCES += src/server/hll.c src/server/hll.h
src_server_libserver_la_SOURCES += src/server/cmdarg.c src/server/cmdarg.h
