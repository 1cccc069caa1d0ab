# src/server/core.mk
