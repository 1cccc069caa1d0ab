# tests/unit/db.mk
