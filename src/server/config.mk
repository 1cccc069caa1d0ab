# src/server/config.mk: the configuration subsystem, and the glob matcher it
# uses (util layer; listed here so src/util/local.mk stays its owner's).
src_server_libserver_la_SOURCES += src/server/config.c src/server/config.h
src_util_libutil_la_SOURCES += src/util/glob.c src/util/glob.h
