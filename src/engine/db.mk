# src/engine/db.mk
