# tests/unit/util.mk
