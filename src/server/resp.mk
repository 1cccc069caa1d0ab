# src/server/resp.mk
