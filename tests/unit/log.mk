# tests/unit/log.mk
