# tests/unit/server.mk
