# src/engine/log.mk
