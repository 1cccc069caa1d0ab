# tests/integration/bitmap.mk: the bitmap commands (GETBIT SETBIT BITCOUNT
# BITPOS BITOP BITFIELD BITFIELD_RO) against a real server (test_bitmap).
BITMAP_ITESTS = tests/integration/test_bitmap
check_PROGRAMS += $(BITMAP_ITESTS)
TESTS += $(BITMAP_ITESTS)

tests_integration_test_bitmap_SOURCES = tests/integration/test_bitmap.c
tests_integration_test_bitmap_CFLAGS = $(TEST_CFLAGS)
tests_integration_test_bitmap_LDADD = $(ITEST_LIBS)
