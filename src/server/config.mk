# src/server/config.mk
