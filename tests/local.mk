# tests: every test prints TAP. Fragments per area.
EXTRA_DIST += tests/tap.h
include tests/unit/util.mk
include tests/unit/log.mk
include tests/unit/table.mk
include tests/unit/db.mk
include tests/unit/engine_tests.mk
include tests/unit/server.mk
include tests/unit/server_core.mk
include tests/integration/local.mk
include tests/crash/local.mk
include tests/compat/local.mk
include tests/unit/keyspace.mk
include tests/integration/strings.mk
include tests/integration/bitmap.mk
include tests/integration/hll.mk
include tests/integration/migrate.mk
include tests/integration/keys.mk
include tests/integration/keyspace.mk
include tests/unit/vlog.mk
include tests/crash/daemon.mk
include tests/integration/restart.mk
include tests/unit/strings.mk
include tests/unit/stress.mk
