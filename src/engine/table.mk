# src/engine/table.mk
